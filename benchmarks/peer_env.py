"""The peer's environment: NeuralForecast and CPU PyTorch in a virtual environment of their own.

NeuralForecast is never a swets dependency; the benchmarks that compare with it run its side in a
separate interpreter, this environment's. Where it lives: ``SWETS_PEER_ENV`` when set, else
``benchmarks/.peer-venv`` (ignored by git). When it is missing, or cannot import both libraries,
:func:`peer_python` builds it:

1. ``python -m venv DIR`` (with the interpreter running the benchmark);
2. ``DIR/bin/python -m pip install torch==2.13.0`` alone first, with
   ``--extra-index-url $SWETS_PEER_TORCH_INDEX`` when that is set (e.g. PyTorch's CPU wheel
   index, so that pip does not pull a CUDA build on a machine where the package index offers one);
3. ``DIR/bin/python -m pip install neuralforecast==3.3.0``.

By hand, the same three commands build it; ``SWETS_PEER_ENV=DIR`` then points the benchmarks at it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV_VAR = "SWETS_PEER_ENV"
DEFAULT_ENV = ROOT / "benchmarks" / ".peer-venv"
TORCH = "torch==2.13.0"
NEURALFORECAST = "neuralforecast==3.3.0"
TORCH_INDEX_VAR = "SWETS_PEER_TORCH_INDEX"

_checked: dict[Path, Path] = {}


def peer_env() -> Path:
    """The directory of the peer's environment (``SWETS_PEER_ENV`` or ``benchmarks/.peer-venv``)."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_ENV).resolve()


def _python(env: Path) -> Path:
    return env / ("Scripts" if os.name == "nt" else "bin") / "python"


def _ready(env: Path) -> bool:
    py = _python(env)
    if not py.exists():
        return False
    probe = subprocess.run(
        [str(py), "-c", "import neuralforecast, torch"], capture_output=True, text=True
    )
    return probe.returncode == 0


def peer_python() -> Path:
    """The peer environment's interpreter, building the environment first when it is missing or
    cannot import NeuralForecast and PyTorch (see the module docstring)."""
    env = peer_env()
    if env in _checked:
        return _checked[env]
    if not _ready(env):
        print(
            f"building the peer environment in {env} (PyTorch, then NeuralForecast)",
            file=sys.stderr,
        )
        if not _python(env).exists():
            subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
        pip = [str(_python(env)), "-m", "pip", "install"]
        index = os.environ.get(TORCH_INDEX_VAR)
        subprocess.run([*pip, TORCH, *(["--extra-index-url", index] if index else [])], check=True)
        subprocess.run([*pip, NEURALFORECAST], check=True)
        if not _ready(env):
            raise RuntimeError(f"the peer environment {env} still cannot import neuralforecast")
    _checked[env] = _python(env)
    return _checked[env]


def peer_versions() -> str:
    """``NeuralForecast X, PyTorch Y`` of the peer environment."""
    out = subprocess.run(
        [
            str(peer_python()),
            "-c",
            "import neuralforecast, torch; print(neuralforecast.__version__, torch.__version__)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    nf, torch = out.stdout.split()
    return f"NeuralForecast {nf}, PyTorch {torch}"
