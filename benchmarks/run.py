"""Run the benchmarks: ``python -m benchmarks.run [--suite NAME] [--only SUBSTR[,SUBSTR]] [--rounds N]
[--threads default,1] [--malloc default,reuse]``.

Prints the machine, then one table per group (median ms per call for each framework and the
swets/torch ratio; MiB for memory cases; the target ratio where a case has one) and, last, one JSON
line ``{"ratios": {case: swets/torch}, ...}``.

``--suite models`` runs the cases of ``benchmarks/cases_models.py`` only: the training step, the
single-window inference latency and the training memory of the forecasting models.
``--threads`` runs everything once per setting: ``default`` leaves every library at its default (all
cores for OpenBLAS and PyTorch), a number ``n`` sets ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``/
``MKL_NUM_THREADS`` to ``n`` in the workers and calls ``torch.set_num_threads(n)``. ``--malloc``
likewise: ``default`` (glibc's allocator settings) or ``reuse`` (every worker, whatever its framework,
first calls :func:`swets_core.allocator.reuse_freed_memory`). Every combination is one
configuration; memory is measured under the first thread setting only (it barely depends on threads).
With several configurations a summary of the ratios follows, the JSON line's ``ratios`` are those of
the first configuration and ``ratios_by_config`` holds them all.

``--baseline DIR`` (a checkout of an earlier commit, e.g. ``git worktree add /tmp/base COMMIT``) runs
that checkout's swets as a third framework ``before``, interleaved with the current one and PyTorch,
so before/after figures come from the same rounds; the tables gain a ``before/torch`` column.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Callable
from typing import Any

from benchmarks.harness import BASELINE_ENV, _worker, discover, run_case


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
    core = openblas_core()
    blas = f" (OpenBLAS kernels: {core})" if core else ""
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, numpy {numpy.__version__}{blas}, torch {torch_v}"
    )


def openblas_core() -> str:
    """The CPU type whose kernels numpy's OpenBLAS runs (``Haswell``: AVX2, ``SkylakeX``:
    AVX-512, ...), or "" when numpy is not linked with OpenBLAS or the name cannot be read.

    A build for many CPUs picks its kernels from the processor's identification when it loads;
    ``OPENBLAS_CORETYPE`` (set before numpy is imported) chooses them instead."""
    import ctypes

    import numpy  # noqa: F401  (loads its BLAS)

    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower()}
    except OSError:
        return ""
    for path in sorted(paths):
        if not path.startswith("/"):
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in (
            "scipy_openblas_get_corename64_",
            "scipy_openblas_get_corename",
            "openblas_get_corename64_",
            "openblas_get_corename",
        ):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return (fn() or b"").decode(errors="replace")
    return ""


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


def _target(value: Any) -> tuple[str, float] | None:
    """``(">=" or "<=", ratio)`` of a case's target: a number is a ratio to stay under, a string
    ``">=2"`` one to reach (figures where more is better)."""
    if value is None:
        return None
    if isinstance(value, str):
        op, num = (value[:2], value[2:]) if value[:2] in (">=", "<=") else ("<=", value)
        return op, float(num)
    return "<=", float(value)


def _load1() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


def _reference(case: Any) -> str:
    """The framework a case's swets figures are divided by: ``extra["versus"]``, else the peer
    when the case has one, else PyTorch."""
    return case.extra.get("versus") or ("peer" if "peer" in case.setups else "torch")


def _third(case: Any, before: bool) -> str:
    """The third column of a case's table: ``before``, else a framework beside swets and the
    reference (``bare``...), else ``numpy``."""
    if before:
        return "before"
    ref = _reference(case)
    return next((fw for fw in case.setups if fw not in ("swets", ref)), "numpy")


def run_setting(
    cases: list,
    rounds: int,
    threads: str,
    memory_repeats: int,
    malloc: str,
    limits: dict[str, dict[str, Any]] | None = None,
) -> dict[str, float]:
    """Run every case with one thread and allocator setting, print the tables; return the ratios.

    Each figure is shown for swets, its reference (PyTorch, or the peer library for a case with a
    ``peer`` setup, or the case's ``versus``) and a third framework, with the ratio
    swets/reference, the case's target and the 1-minute load average of the machine when the case
    ended; under the row, the ratios to the case's ``also`` frameworks and its absolute
    ``limit_ms`` (recorded in ``limits``)."""
    label = "library defaults" if threads == "default" else f"{threads} thread(s) per framework"
    alloc = "glibc defaults" if malloc == "default" else "freed memory reused (both frameworks)"
    print(f"\n# threads: {label}; allocator: {alloc}")
    ratios: dict[str, float] = {}
    current_group = None
    reported: dict[str, str] = {}
    before = bool(os.environ.get(BASELINE_ENV))
    for module, case in cases:
        ref = _reference(case)
        third_fw = _third(case, before)
        if case.group != current_group:
            current_group = case.group
            print(f"\n## {case.group}")
            print(
                f"{'case':<44}{'swets':>12}{ref:>12}{third_fw:>12}{'swets/' + ref:>13}"
                f"{'target':>8}{'load':>7}" + (f"{'before/' + ref:>14}" if before else "")
            )
        res = run_case(
            module, case, rounds, threads=threads, memory_repeats=memory_repeats, malloc=malloc
        )
        load = _load1()
        for fw, r in res.threads.items():
            reported[f"{case.name} [{fw}]" if r.startswith("failed") else fw] = r
        units = case.extra.get("units", {})
        for row, vals in _rows(case.name, res.values):
            key = row.rsplit(".", 1)[-1]
            unit = units.get(key, "MiB" if case.kind == "memory" else "ms")
            ratio = None
            if "swets" in vals and ref in vals and vals[ref] > 0:
                ratio = vals["swets"] / vals[ref]
                ratios[row] = round(ratio, 3)
            target = case.extra.get("target")
            if isinstance(target, dict):
                target = target.get(key)
            goal = _target(target)
            ratio_s = "-" if ratio is None else f"{ratio:.2f}"
            target_s = "" if goal is None else f"{goal[0]}{goal[1]:g}"
            if goal is not None and ratio is not None:
                missed = ratio > goal[1] if goal[0] == "<=" else ratio < goal[1]
                target_s += " !" if missed else ""
            third = vals.get(third_fw)
            extra = ""
            if before and third is not None and vals.get(ref):
                extra = f"{third / vals[ref]:>14.2f}"
                ratios[f"{row}.before"] = round(third / vals[ref], 3)
            print(
                f"{row:<44}{_fmt(vals.get('swets'), unit):>12}{_fmt(vals.get(ref), unit):>12}"
                f"{_fmt(third, unit):>12}{ratio_s:>13}{target_s:>8}{load:>7}{extra}",
                flush=True,
            )
            for fw, goal_also in case.extra.get("also", {}).items():
                if "swets" in vals and vals.get(fw):
                    r = vals["swets"] / vals[fw]
                    ratios[f"{row}/{fw}"] = round(r, 3)
                    state = "met" if r <= goal_also else "not met"
                    print(f"    swets/{fw}: {r:.2f} (target <={goal_also:g}: {state})")
            limit = case.extra.get("limit_ms")
            if limit is not None and "swets" in vals:
                met = vals["swets"] <= limit
                state = "met" if met else f"not met, {vals['swets'] / limit:.2f}x the limit"
                print(f"    swets: {vals['swets']:.3f} ms (limit {limit:g} ms: {state})")
                if limits is not None:
                    limits[row] = {"ms": round(vals["swets"], 4), "limit_ms": limit, "met": met}
        if case.note:
            print(f"    {case.note}")
    if reported:
        shown = ", ".join(f"{fw}: {r}" for fw, r in sorted(reported.items()))
        print(f"\nworkers used: {shown}")
    return ratios


def _summary(by_config: dict[str, dict[str, float]]) -> None:
    """One line per case, one ratio column per configuration (when there are several)."""
    configs = list(by_config)
    rows: list[str] = []
    for ratios in by_config.values():
        rows += [r for r in ratios if r not in rows]

    def short(label: str) -> str:  # threads=default,malloc=reuse -> "all thr, reuse"
        t, m = (part.split("=", 1)[1] for part in label.split(","))
        return f"{'all' if t == 'default' else t} thr, {'glibc' if m == 'default' else m}"

    width = max(13, *(len(short(c)) + 2 for c in configs))
    first = max(44, *(len(r) + 2 for r in rows))
    print("\n# swets/torch by configuration (threads; allocator: glibc defaults or reuse)")
    print(f"{'case':<{first}}" + "".join(f"{short(c):>{width}}" for c in configs))
    for row in rows:
        cells = [by_config[c].get(row) for c in configs]
        line = "".join(f"{'-' if v is None else f'{v:.2f}':>{width}}" for v in cells)
        print(f"{row:<{first}}{line}")


def _settings(text: str, allowed: Callable[[str], bool], flag: str) -> list[str] | None:
    items = [t.strip() for t in text.split(",") if t.strip()]
    for item in items:
        if not allowed(item):
            print(f"{flag}: unexpected setting {item!r}", file=sys.stderr)
            return None
    return items


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
        "--malloc",
        default="default",
        help="comma-separated allocator settings of every worker: 'default' (glibc's) and/or "
        "'reuse' (swets_core.allocator.reuse_freed_memory, in both frameworks' workers)",
    )
    parser.add_argument(
        "--memory-repeats", type=int, default=3, help="fresh processes per memory figure"
    )
    parser.add_argument(
        "--memory-every-threads",
        action="store_true",
        help="measure memory under every thread setting (default: the first one only)",
    )
    parser.add_argument(
        "--baseline",
        help="a source checkout of an earlier commit (git worktree add DIR COMMIT): its swets runs "
        "as a third framework 'before', interleaved with the others",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        module, case, fw = args.worker.split(":")
        _worker(module, case, fw)
        return 0
    if args.baseline:
        if not os.path.isdir(os.path.join(args.baseline, "swets_core", "src")):
            print(f"--baseline: {args.baseline} is not a swets checkout", file=sys.stderr)
            return 2
        os.environ[BASELINE_ENV] = os.path.abspath(args.baseline)
    cases = discover(args.only, args.suite)
    if not cases:
        print("no benchmark case matches", file=sys.stderr)
        return 1
    threads = _settings(
        args.threads, lambda s: s == "default" or (s.isdigit() and int(s) > 0), "--threads"
    )
    mallocs = _settings(args.malloc, lambda s: s in ("default", "reuse"), "--malloc")
    if not threads or not mallocs:
        return 2
    print(f"machine: {_machine()}")
    if any("peer" in c.setups for _, c in cases):
        from benchmarks.peer_env import peer_env, peer_versions

        print(f"peer: {peer_versions()} (in {peer_env()})")
    print(f"load average at start: {_load()}")
    by_config: dict[str, dict[str, float]] = {}
    limits: dict[str, dict[str, Any]] = {}
    for t in threads:
        for m in mallocs:
            todo = cases
            if t != threads[0] and not args.memory_every_threads:
                todo = [(mod, c) for mod, c in cases if c.kind != "memory"]
            if todo:
                label = f"threads={t},malloc={m}"
                by_config[label] = run_setting(
                    todo, args.rounds, t, args.memory_repeats, m, limits if not limits else None
                )
    print(f"\nload average at end: {_load()}")
    if len(by_config) > 1:
        _summary(by_config)
    print()
    out: dict[str, Any] = {"ratios": next(iter(by_config.values()))}
    if len(by_config) > 1:
        out["ratios_by_config"] = by_config
    if limits:
        out["limits"] = limits
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
