"""Shared fixtures: a wheelhouse of every distribution and helpers for throwaway virtual environments.

Property-based tests (hypothesis) are derandomized: each test draws the same examples on every run
and every machine, so the suite passes or fails the same way everywhere. To search for new failing
examples, run ``scripts/test --hypothesis-profile=explore``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("swets", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile("swets")


def fuzz_examples(n: int) -> int:
    """``n`` examples in the suite, 20 times as many under ``--hypothesis-profile=explore`` (the
    fuzz tests of checkpoints scale their example counts with it)."""
    return n if settings.default.derandomize else 20 * n


ROOT = Path(__file__).resolve().parent.parent


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    """Run a command, capturing text output; raise with the output when it fails."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    check = kw.pop("check", True)
    proc = subprocess.run([str(c) for c in cmd], **kw)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


def make_venv(path: Path, see_dev_env: bool = False) -> Path:
    """Create a virtual environment; with ``see_dev_env`` it also sees this environment's packages.

    Returns the path of its python executable.
    """
    run([sys.executable, "-m", "venv", "--without-pip", path]) if see_dev_env else run(
        [sys.executable, "-m", "venv", path]
    )
    py = path / "bin" / "python"
    if see_dev_env:
        site = run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout
        dev_site = sysconfig.get_paths()["purelib"]
        Path(site.strip(), "_swets_dev_env.pth").write_text(
            f"import site; site.addsitedir({dev_site!r})\n"
        )
    return py


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory) -> Path:
    """Wheels of every swets distribution and their third-party dependencies (built once)."""
    out = tmp_path_factory.mktemp("wheelhouse")
    env = {**os.environ, "PY": sys.executable}
    run(["bash", ROOT / "scripts" / "build-wheels", out], env=env, cwd=ROOT)
    return out
