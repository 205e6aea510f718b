"""Helpers of the CLI tests: run the real ``swets`` console script in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SWETS = Path(sys.executable).parent / "swets"

# a small, fast job: a tiny N-BEATS on the bundled electricity data
TINY = [
    "--lookback",
    "96",
    "--horizon",
    "24",
    "--max-steps",
    "12",
    "--set",
    "model.num_blocks=1",
    "--set",
    "model.num_layers=2",
    "--set",
    "model.layer_width=32",
    "--no-progress",
]


# a smaller job for a CSV of a few hundred hourly rows (write_hourly_csv): lookback 24, horizon 6
SMALL = [
    "--lookback",
    "24",
    "--horizon",
    "6",
    "--max-steps",
    "2",
    "--set",
    "model.layer_width=8",
    "--set",
    "model.num_blocks=1",
    "--no-progress",
]


def swets(*args: object, cwd: Path, env: dict | None = None, rc: int | None = 0):
    """Run ``swets ARGS`` in ``cwd``; check the exit code when ``rc`` is not None."""
    full_env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", **(env or {})}
    proc = subprocess.run(
        [str(SWETS), *map(str, args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if rc is not None and proc.returncode != rc:
        raise AssertionError(
            f"swets {' '.join(map(str, args))} exited {proc.returncode}, expected {rc}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


def one_error_line(proc) -> str:
    """The single ``swets: error: ...`` line a failing command prints (no traceback)."""
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("swets: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def write_hourly_csv(path: Path, n: int = 400, seed: int = 0) -> Path:
    """An hourly CSV with a daily season: ``timestamp, load, temp`` (temp drives load a little)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    temp = 15 + 5 * np.sin(2 * np.pi * t / 24 + 1.0) + rng.normal(0, 0.5, n)
    load = 100 + 20 * np.sin(2 * np.pi * t / 24) + 0.5 * temp + rng.normal(0, 1.0, n)
    stamps = np.datetime64("2024-03-01T00:00") + t.astype("timedelta64[h]")
    lines = ["timestamp,load,temp"]
    lines += [
        f"{np.datetime_as_string(s, unit='m')}Z,{a:.4f},{b:.4f}"
        for s, a, b in zip(stamps, load, temp)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """``(directory, checkpoint, stdout)`` of one tiny ``swets train`` run on the bundled data."""
    work = tmp_path_factory.mktemp("trained")
    proc = swets("train", *TINY, "--output", "ckpt/tiny.swets", cwd=work)
    return work, work / "ckpt" / "tiny.swets", proc.stdout


def fake_distribution(
    root: Path, name: str, module: str, source: str, entry_points: dict[str, dict[str, str]]
) -> dict[str, str]:
    """An installed distribution without pip: ``module.py`` and a ``.dist-info`` directory under
    ``root``, found by ``importlib.metadata`` through PYTHONPATH. Returns the environment that sees it
    (call again with the same ``root`` for more distributions)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(source)
    info = root / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = []
    for group, entries in entry_points.items():
        lines.append(f"[{group}]")
        lines += [f"{k} = {v}" for k, v in entries.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return {"PYTHONPATH": str(root)}
