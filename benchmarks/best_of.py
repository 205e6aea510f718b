"""Best-of timings of the model cases, both frameworks in one process: ``python -m benchmarks.best_of
[--only SUBSTR[,SUBSTR]] [--threads default|N] [--passes P] [--repeat R] [--clock wall|thread]``.

A second lens next to :mod:`benchmarks.run` for a machine whose speed drifts: the same setups of
``benchmarks/cases_models.py`` (training steps and batch-1 inference), built in one process, timed in
alternation for ``--passes`` passes of ``--repeat`` samples each, and the **best** sample kept per
framework, i.e. each framework at the machine's fastest moment. Prints a table (best milliseconds per
call, swets/PyTorch) and one JSON line of the ratios. Memory cases are left to ``benchmarks.run``
(they need fresh processes). ``--threads N`` sets ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``/
``MKL_NUM_THREADS`` before numpy loads and calls ``torch.set_num_threads(N)``.

``--clock thread`` times with the calling thread's CPU time instead of the wall clock: on a machine
loaded by other processes, the time a framework waits for a core is left out. It counts only the
work of the calling thread, so it is meaningful with ``--threads 1`` only (both frameworks then
run every op in the calling thread).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import timeit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated case-name substrings")
    parser.add_argument("--threads", default="default", help="'default' or a thread count")
    parser.add_argument("--passes", type=int, default=3, help="alternating passes")
    parser.add_argument("--repeat", type=int, default=5, help="samples per framework and pass")
    parser.add_argument(
        "--clock",
        choices=("wall", "thread"),
        default="wall",
        help="wall clock, or the calling thread's CPU time (with --threads 1 only)",
    )
    args = parser.parse_args(argv)
    if args.clock == "thread" and args.threads != "1":
        parser.error(
            "--clock thread counts the calling thread's work only: use it with --threads 1"
        )
    timer = time.thread_time if args.clock == "thread" else time.perf_counter
    if args.threads != "default":
        count = str(int(args.threads))
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = count  # before numpy and torch load their thread pools

    import torch

    from benchmarks.cases_models import CASES

    if args.threads != "default":
        torch.set_num_threads(int(args.threads))
    wanted = [s for s in args.only.split(",") if s]
    cases = [
        c for c in CASES if c.kind == "time" and (not wanted or any(w in c.name for w in wanted))
    ]
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"threads: {args.threads}; best of {args.passes} x {args.repeat} samples per framework; "
        f"clock: {args.clock}"
    )
    print(f"{'case':42s} {'swets':>10s} {'torch':>10s} {'swets/torch':>12s}")
    ratios: dict[str, float] = {}
    for case in cases:
        fns = {fw: case.setups[fw]() for fw in ("swets", "torch")}
        for fn in fns.values():
            for _ in range(3):  # warm-up (compilation, caches, allocator)
                fn()
        best = {fw: float("inf") for fw in fns}
        for p in range(args.passes):
            order = ("swets", "torch") if p % 2 == 0 else ("torch", "swets")
            for fw in order:
                sample = timeit.repeat(fns[fw], number=case.number, repeat=args.repeat, timer=timer)
                best[fw] = min(best[fw], min(sample) / case.number * 1e3)
        ratio = best["swets"] / best["torch"]
        ratios[case.name] = round(ratio, 3)
        print(f"{case.name:42s} {best['swets']:9.3f}ms {best['torch']:9.3f}ms {ratio:12.2f}")
    print(json.dumps({"best_of_ratios": ratios, "threads": args.threads, "clock": args.clock}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
