"""Side-by-side benchmark harness: every framework in its own process, interleaved and repeated.

A case module ``benchmarks/cases_<area>.py`` defines ``CASES: list[Case]``. For each case the runner
starts one worker process per framework; each worker runs its setup once (imports included), warms up,
then answers timing requests. The parent asks the workers in turn, round after round, so slow drifts of
the machine hit every framework alike, and reports the median milliseconds per call and the ratio
swets/torch.

Memory cases (``kind="memory"``) run their callable once in a fresh worker process, several times
over (``memory_repeats``), and report the median of what it returns: MiB as a number, or a dict of
named MiB figures (e.g. :func:`peak_memory` returns the whole process's peak resident set and its
increase over the resident set before the run).

Thread settings: :data:`THREADS_ENV` names the environment variable the runner sets for its workers
(``"default"`` or a thread count); :func:`apply_thread_setting` applies it in a worker (the BLAS and
OpenMP variables are set by the runner before the worker starts, since they are read when the
libraries load; PyTorch's intra-op pool is also set with ``torch.set_num_threads``).

Allocator setting: :data:`MALLOC_ENV` (``default`` or ``reuse``); with ``reuse`` every worker, whatever
its framework, calls :func:`swets_core.allocator.reuse_freed_memory` before its setup, so both
frameworks allocate under the same C allocator settings.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

Setup = Callable[[], Callable[[], object]]

THREADS_ENV = "SWETS_BENCH_THREADS"
"""Set by the runner for its workers: ``default`` (leave every library alone) or a thread count."""

MALLOC_ENV = "SWETS_BENCH_MALLOC"
"""Set by the runner for its workers: ``default`` (glibc's defaults) or ``reuse``
(:func:`swets_core.allocator.reuse_freed_memory`, applied alike in every framework's worker)."""

_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass
class Case:
    """One comparison.

    Args:
        name: unique, dotted (``ops.mul_64x64_taped``).
        group: table section.
        setups: framework label ("swets", "torch", "numpy", "peer") -> setup returning the callable
            to time. ``peer`` runs in the peer's own environment (NeuralForecast and PyTorch,
            :mod:`benchmarks.peer_env`), so its setup imports no swets module.
        number: calls per timing sample (the reported time is per call).
        note: shown under the table.
        kind: "time" (milliseconds per call) or "memory" (the callable returns MiB: a number, or a
            dict of named figures, each reported on its own row as ``name.key``; it runs once per
            fresh process, so other figures of a fresh process fit too).
        extra: ``target`` (the ratio of swets to the reference, torch or the peer, to stay under,
            or one per named figure; a string ``">=2"`` is a ratio to reach instead, for figures
            where more is better such as steps per second), ``units`` (named figure -> unit
            shown, for figures that are not MiB) and ``repeats`` (fresh processes per framework
            of a memory case, instead of ``--memory-repeats``), ``rounds`` (timing rounds of a time
            case, instead of ``--rounds``), ``versus`` (the reference framework of the ratio:
            default the peer when the case has one, else torch), ``also`` (``{framework: target}``:
            ratios to other frameworks, printed under the row) and ``limit_ms`` (an absolute
            bound on the swets figure, printed under the row as met or not) and ``clock``
            (``"cpu"``: time cases measure the process's CPU time, all threads, instead of the
            wall clock, so that a loaded machine does not inflate them), ``threads`` (the thread
            setting of the case's workers, instead of ``--threads``).
    """

    name: str
    group: str
    setups: dict[str, Setup]
    number: int = 1
    note: str = ""
    kind: str = "time"
    extra: dict = field(default_factory=dict)


def discover(only: str | None = None, suite: str | None = None) -> list[tuple[str, Case]]:
    """All cases of ``benchmarks/cases_*.py`` (module name, case), of the modules
    ``cases_<suite>.py`` and ``cases_<suite>_*.py`` when ``suite`` is given, filtered by name
    substrings (comma-separated ``only``)."""
    found = []
    for path in sorted((ROOT / "benchmarks").glob("cases_*.py")):
        if suite is not None and not (
            path.stem == f"cases_{suite}" or path.stem.startswith(f"cases_{suite}_")
        ):
            continue
        mod = importlib.import_module(f"benchmarks.{path.stem}")
        for case in getattr(mod, "CASES", []):
            if only is None or any(o in case.name for o in only.split(",")):
                found.append((path.stem, case))
    return found


# ------------------------------------------------------------------------------------------------
# threads
# ------------------------------------------------------------------------------------------------


def thread_env(setting: str, malloc: str = "default") -> dict[str, str]:
    """The environment of a worker for a thread ``setting`` ("default" or a count) and an allocator
    setting (``default`` or ``reuse``)."""
    env = os.environ.copy()
    env[THREADS_ENV] = setting
    env[MALLOC_ENV] = malloc
    if setting != "default":
        for var in _THREAD_VARS:
            env[var] = setting
    return env


def apply_malloc_setting() -> str:
    """In a worker: apply the runner's allocator setting; returns what was applied."""
    if os.environ.get(MALLOC_ENV, "default") != "reuse":
        return "glibc defaults"
    try:
        from swets_core.allocator import reuse_freed_memory
    except ImportError:  # a baseline checkout from before the helper: the same two settings
        return "freed memory reused" if _mallopt_reuse() else "glibc defaults (not glibc)"
    return "freed memory reused" if reuse_freed_memory() else "glibc defaults (not glibc)"


def _mallopt_reuse(block: int = 256 * 1024 * 1024) -> bool:
    import ctypes
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL("libc.so.6")
    return bool(libc.mallopt(-3, block) and libc.mallopt(-1, 2 * block))


BASELINE_ENV = "SWETS_BENCH_BASELINE"
"""A source checkout of an earlier swets (``git worktree add DIR COMMIT``): the runner's
``--baseline DIR`` adds a framework ``before`` to every case with a ``swets`` setup, run from DIR."""


def baseline_path(root: str) -> str:
    """``PYTHONPATH`` entries for the distributions' sources of the checkout ``root``."""
    base = Path(root)
    dirs = [
        base / "swets_core" / "src",
        base / "swets_timeseries" / "src",
        base / "swets_models" / "src",
    ]
    dirs += sorted(p / "src" for p in (base / "plugins").iterdir() if (p / "src").is_dir())
    return os.pathsep.join(str(d) for d in dirs if d.is_dir())


def apply_thread_setting(framework: str) -> None:
    """In a worker: apply the runner's thread setting to PyTorch (numpy's OpenBLAS reads the
    environment when it loads)."""
    setting = os.environ.get(THREADS_ENV, "default")
    if setting != "default" and framework in ("torch", "peer"):
        import torch

        torch.set_num_threads(int(setting))


def thread_report(framework: str) -> str:
    """What the worker's libraries use: OpenBLAS threads (numpy) or PyTorch's intra-op threads."""
    if framework in ("torch", "peer"):
        import torch

        return f"torch {torch.get_num_threads()} threads"
    count = openblas_threads()
    blas = "OpenBLAS ? threads" if count is None else f"OpenBLAS {count} threads"
    try:
        from swets_ops import jit
    except ImportError:  # a baseline checkout from before the jit extra
        return blas
    # whether the kernels would be used, without importing numba (which would add its own memory)
    usable = jit.enabled() and importlib.util.find_spec("numba") is not None
    return f"{blas}, compiled kernels {'on' if usable else 'off'}"


def openblas_threads() -> int | None:
    """The thread count of the OpenBLAS numpy is linked with (None when it cannot be asked)."""
    import ctypes

    import numpy as np

    libs = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for lib in sorted(libs.glob("*openblas*.so*")):
        try:
            handle = ctypes.CDLL(str(lib))
        except OSError:
            continue
        for fn in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_"):
            f = getattr(handle, fn, None)
            if f is not None:
                return int(f())
    return None


# ------------------------------------------------------------------------------------------------
# memory
# ------------------------------------------------------------------------------------------------


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])
    raise OSError(f"{key} not in /proc/self/status")


def peak_memory(run: Callable[[], object]) -> dict[str, float]:
    """Run ``run()`` once and return ``{"peak": MiB, "increase": MiB}``.

    ``peak`` is the process's peak resident set size during the run (VmHWM, reset just before it, so
    it includes the interpreter, the imported libraries, the model and the data); ``increase`` is
    that peak minus the resident set size just before the run (what the run itself needed:
    activations, gradients, optimizer state, workspaces, allocator caches). Linux only.
    """
    gc.collect()
    base = _status_kib("VmRSS:")
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the peak resident set (VmHWM) to the current one
    except OSError:
        pass
    run()
    peak = _status_kib("VmHWM:")
    return {"peak": peak / 1024.0, "increase": (peak - base) / 1024.0}


# ------------------------------------------------------------------------------------------------
# workers
# ------------------------------------------------------------------------------------------------


def _worker(module: str, case_name: str, framework: str) -> None:
    mod = importlib.import_module(f"benchmarks.{module}")
    case = next(c for c in mod.CASES if c.name == case_name)
    malloc = apply_malloc_setting()
    apply_thread_setting(framework)
    fn = case.setups["swets" if framework == "before" else framework]()
    out = sys.stdout
    report = f"{thread_report(framework)}, {malloc}"
    if case.kind == "memory":
        value = fn()
        out.write(json.dumps({"value": value, "threads": report}) + "\n")
        out.flush()
        return
    for _ in range(3):  # warm-up
        fn()
    out.write("ready " + json.dumps({"threads": report}) + "\n")
    out.flush()
    # "cpu": the process's CPU time (all its threads), which other processes on a loaded
    # machine do not inflate; default the wall clock
    clock = time.process_time if case.extra.get("clock") == "cpu" else time.perf_counter
    for line in sys.stdin:
        if line.strip() != "run":
            break
        t0 = clock()
        for _ in range(case.number):
            fn()
        dt = (clock() - t0) / case.number
        out.write(json.dumps({"value": dt * 1e3}) + "\n")
        out.flush()


def _spawn(module: str, case: Case, framework: str, threads: str, malloc: str) -> subprocess.Popen:
    python = sys.executable
    if framework == "peer":
        from benchmarks.peer_env import peer_python

        python = str(peer_python())
    cmd = [python, "-m", "benchmarks.run", "--worker", f"{module}:{case.name}:{framework}"]
    env = thread_env(str(case.extra.get("threads", threads)), malloc)
    if framework == "before":  # the baseline's sources ahead of the installed (current) ones
        paths = [baseline_path(os.environ[BASELINE_ENV]), env.get("PYTHONPATH", "")]
        env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


@dataclass
class Result:
    """What :func:`run_case` measured: per framework a number (ms or MiB) or a dict of named MiB
    figures, and the thread report of each framework's worker."""

    values: dict[str, Any]
    threads: dict[str, str]


def run_case(
    module: str,
    case: Case,
    rounds: int,
    threads: str = "default",
    memory_repeats: int = 3,
    malloc: str = "default",
) -> Result:
    """Median per framework (ms per call, or MiB for memory cases)."""
    frameworks = list(case.setups)
    if os.environ.get(BASELINE_ENV) and "swets" in frameworks:
        frameworks.append("before")
    reports: dict[str, str] = {}
    if case.kind == "memory":
        runs: dict[str, list[Any]] = {fw: [] for fw in frameworks}
        for _ in range(int(case.extra.get("repeats", memory_repeats))):
            for fw in frameworks:
                proc = _spawn(module, case, fw, threads, malloc)
                out, _ = proc.communicate()
                if proc.returncode != 0:
                    if fw == "swets":
                        raise RuntimeError(f"{case.name} [{fw}] failed")
                    # a reference that cannot run the case (out of memory...) leaves a gap
                    reports[fw] = f"failed with exit code {proc.returncode}"
                    continue
                got = json.loads(out.strip().splitlines()[-1])
                runs[fw].append(got["value"])
                reports[fw] = got["threads"]
        values: dict[str, Any] = {}
        for fw, vals in runs.items():
            if not vals:
                continue
            if isinstance(vals[0], dict):
                values[fw] = {k: statistics.median(v[k] for v in vals) for k in vals[0]}
            else:
                values[fw] = statistics.median(vals)
        return Result(values, reports)
    procs = {fw: _spawn(module, case, fw, threads, malloc) for fw in frameworks}
    try:
        for fw, p in procs.items():
            line = p.stdout.readline()
            if not line.startswith("ready"):
                raise RuntimeError(f"{case.name} [{fw}] failed during setup")
            reports[fw] = json.loads(line[len("ready") :])["threads"]
        samples: dict[str, list[float]] = {fw: [] for fw in frameworks}
        for r in range(int(case.extra.get("rounds", rounds))):
            order = frameworks if r % 2 == 0 else frameworks[::-1]
            for fw in order:
                p = procs[fw]
                p.stdin.write("run\n")
                p.stdin.flush()
                samples[fw].append(json.loads(p.stdout.readline())["value"])
        return Result({fw: statistics.median(v) for fw, v in samples.items()}, reports)
    finally:
        for p in procs.values():
            with contextlib.suppress(OSError):
                p.stdin.close()
            p.wait(timeout=60)
