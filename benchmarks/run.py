"""Run the benchmarks: ``python -m benchmarks.run [--suite NAME] [--only SUBSTR[,SUBSTR]] [--rounds N]
[--threads default,1]``.

Prints the machine, then one table per group (median ms per call for each framework and the
swets/torch ratio; MiB for memory cases; the target ratio where a case has one) and, last, one JSON
line ``{"ratios": {case: swets/torch}, ...}``.

``--suite models`` runs the cases of ``benchmarks/cases_models.py`` only: the training step, the
single-window inference latency and the training memory of the four forecasting models.
``--threads`` runs everything once per setting: ``default`` leaves every library at its default (all
cores for OpenBLAS and PyTorch), a number ``n`` sets ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``/
``MKL_NUM_THREADS`` to ``n`` in the workers and calls ``torch.set_num_threads(n)``. With several
settings the JSON line's ``ratios`` are those of the first and ``ratios_by_threads`` holds them all.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from typing import Any

from benchmarks.harness import _worker, discover, run_case


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import numpy

    torch_v = "not installed"
    try:
        import importlib.metadata as md

        torch_v = md.version("torch")
    except Exception:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
        mem = f", {kib / 1024**2:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, numpy {numpy.__version__}, torch {torch_v}"
    )


def _load() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min)"


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "-"
    return f"{v:.3f}{unit}" if v < 100 else f"{v:.1f}{unit}"


def _rows(name: str, values: dict[str, Any]) -> list[tuple[str, dict[str, float]]]:
    """One row per figure: memory cases returning dicts give ``name.key`` rows."""
    first = next(iter(values.values()))
    if isinstance(first, dict):
        return [(f"{name}.{k}", {fw: v[k] for fw, v in values.items()}) for k in first]
    return [(name, values)]


def run_setting(
    cases: list, rounds: int, threads: str, memory_repeats: int, malloc: str
) -> dict[str, float]:
    """Run every case with one thread setting, print the tables; return the ratios."""
    label = "library defaults" if threads == "default" else f"{threads} thread(s) per framework"
    alloc = "glibc defaults" if malloc == "default" else "freed memory reused (both frameworks)"
    print(f"\n# threads: {label}; allocator: {alloc}")
    ratios: dict[str, float] = {}
    current_group = None
    reported: dict[str, str] = {}
    for module, case in cases:
        if case.group != current_group:
            current_group = case.group
            print(f"\n## {case.group}")
            print(
                f"{'case':<44}{'swets':>12}{'torch':>12}{'numpy':>12}{'swets/torch':>13}"
                f"{'target':>8}"
            )
        res = run_case(
            module, case, rounds, threads=threads, memory_repeats=memory_repeats, malloc=malloc
        )
        reported.update(res.threads)
        unit = "MiB" if case.kind == "memory" else "ms"
        for row, vals in _rows(case.name, res.values):
            ratio = None
            if "swets" in vals and "torch" in vals and vals["torch"] > 0:
                ratio = vals["swets"] / vals["torch"]
                ratios[row] = round(ratio, 3)
            target = case.extra.get("target")
            if isinstance(target, dict):
                target = target.get(row.rsplit(".", 1)[-1])
            ratio_s = "-" if ratio is None else f"{ratio:.2f}"
            target_s = "" if target is None else f"<={target:g}"
            if target is not None and ratio is not None and ratio > target:
                target_s += " !"
            print(
                f"{row:<44}{_fmt(vals.get('swets'), unit):>12}{_fmt(vals.get('torch'), unit):>12}"
                f"{_fmt(vals.get('numpy'), unit):>12}{ratio_s:>13}{target_s:>8}",
                flush=True,
            )
        if case.note:
            print(f"    {case.note}")
    if reported:
        shown = ", ".join(f"{fw}: {r}" for fw, r in sorted(reported.items()))
        print(f"\nworkers used: {shown}")
    return ratios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--suite", help="run only benchmarks/cases_<SUITE>.py (e.g. models)")
    parser.add_argument("--only", help="comma-separated name substrings")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved timing rounds")
    parser.add_argument(
        "--threads",
        default="default",
        help="comma-separated thread settings: 'default' and/or counts (e.g. default,1)",
    )
    parser.add_argument(
        "--memory-repeats", type=int, default=3, help="fresh processes per memory figure"
    )
    parser.add_argument(
        "--malloc",
        choices=("default", "reuse"),
        default="default",
        help="allocator setting of every worker: glibc defaults, or freed memory kept for reuse "
        "(swets_core.allocator.reuse_freed_memory, in both frameworks' workers)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        module, case, fw = args.worker.split(":")
        _worker(module, case, fw)
        return 0
    cases = discover(args.only, args.suite)
    if not cases:
        print("no benchmark case matches", file=sys.stderr)
        return 1
    settings = [s.strip() for s in args.threads.split(",") if s.strip()]
    for s in settings:
        if s != "default" and not (s.isdigit() and int(s) > 0):
            print(f"--threads: expected 'default' or a positive count, got {s!r}", file=sys.stderr)
            return 2
    print(f"machine: {_machine()}")
    print(f"load average at start: {_load()}")
    by_threads = {
        s: run_setting(cases, args.rounds, s, args.memory_repeats, args.malloc) for s in settings
    }
    print(f"\nload average at end: {_load()}")
    print()
    out: dict[str, Any] = {"ratios": by_threads[settings[0]]}
    if len(settings) > 1:
        out["ratios_by_threads"] = by_threads
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
