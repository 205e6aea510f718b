"""Side-by-side benchmark harness: every framework in its own process, interleaved and repeated.

A case module ``benchmarks/cases_<area>.py`` defines ``CASES: list[Case]``. For each case the runner
starts one worker process per framework; each worker runs its setup once (imports included), warms up,
then answers timing requests. The parent asks the workers in turn, round after round, so slow drifts of
the machine hit every framework alike, and reports the median milliseconds per call and the ratio
swets/torch.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

Setup = Callable[[], Callable[[], object]]


@dataclass
class Case:
    """One comparison.

    Args:
        name: unique, dotted (``ops.mul_64x64_taped``).
        group: table section.
        setups: framework label ("swets", "torch", "numpy") -> setup returning the callable to time.
        number: calls per timing sample (the reported time is per call).
        note: shown under the table.
        kind: "time" (milliseconds per call) or "memory" (the callable returns peak RSS in MiB).
    """

    name: str
    group: str
    setups: dict[str, Setup]
    number: int = 1
    note: str = ""
    kind: str = "time"
    extra: dict = field(default_factory=dict)


def discover(only: str | None = None) -> list[tuple[str, Case]]:
    """All cases of ``benchmarks/cases_*.py`` (module name, case), filtered by a name substring."""
    found = []
    for path in sorted((ROOT / "benchmarks").glob("cases_*.py")):
        mod = importlib.import_module(f"benchmarks.{path.stem}")
        for case in getattr(mod, "CASES", []):
            if only is None or any(o in case.name for o in only.split(",")):
                found.append((path.stem, case))
    return found


def _worker(module: str, case_name: str, framework: str) -> None:
    mod = importlib.import_module(f"benchmarks.{module}")
    case = next(c for c in mod.CASES if c.name == case_name)
    fn = case.setups[framework]()
    out = sys.stdout
    if case.kind == "memory":
        value = fn()
        out.write(json.dumps({"value": value}) + "\n")
        out.flush()
        return
    for _ in range(3):  # warm-up
        fn()
    out.write("ready\n")
    out.flush()
    for line in sys.stdin:
        if line.strip() != "run":
            break
        t0 = time.perf_counter()
        for _ in range(case.number):
            fn()
        dt = (time.perf_counter() - t0) / case.number
        out.write(json.dumps({"value": dt * 1e3}) + "\n")
        out.flush()


def _spawn(module: str, case: Case, framework: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "benchmarks.run", "--worker", f"{module}:{case.name}:{framework}"]
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )


def run_case(module: str, case: Case, rounds: int) -> dict[str, float]:
    """Median per framework (ms per call, or MiB for memory cases)."""
    frameworks = list(case.setups)
    if case.kind == "memory":
        result = {}
        for fw in frameworks:
            proc = _spawn(module, case, fw)
            out, _ = proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError(f"{case.name} [{fw}] failed")
            result[fw] = json.loads(out.strip().splitlines()[-1])["value"]
        return result
    procs = {fw: _spawn(module, case, fw) for fw in frameworks}
    try:
        for fw, p in procs.items():
            line = p.stdout.readline()
            if line.strip() != "ready":
                raise RuntimeError(f"{case.name} [{fw}] failed during setup")
        samples: dict[str, list[float]] = {fw: [] for fw in frameworks}
        for r in range(rounds):
            order = frameworks if r % 2 == 0 else frameworks[::-1]
            for fw in order:
                p = procs[fw]
                p.stdin.write("run\n")
                p.stdin.flush()
                samples[fw].append(json.loads(p.stdout.readline())["value"])
        return {fw: statistics.median(v) for fw, v in samples.items()}
    finally:
        for p in procs.values():
            with contextlib.suppress(OSError):
                p.stdin.close()
            p.wait(timeout=60)
