"""Where a model case spends its time, per op: ``python -m benchmarks.profile_models [MODEL ...]
[--mode train|infer] [--steps N] [--threads N] [--reuse-memory] [--cprofile]``.

Every registered op's forward, inference and backward functions are wrapped with a timer, then the
case of ``benchmarks/cases_models.py`` runs ``--steps`` times (after a warm-up). The table lists, per
op, the calls per step and the milliseconds per step spent in its forward (or inference) and its
backward, and the share of the step; "outside ops" is the rest (model and layer code, the tape's
bookkeeping, the loss and the optimizer). ``--cprofile`` prints cProfile's top functions instead.
The timers add about a microsecond per call; the uninstrumented step time is printed first.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from typing import Any


def _instrument() -> dict[str, list[float]]:
    from swets_core.autograd import OPS, _op

    _op("add")  # load the registry
    stats: dict[str, list[float]] = defaultdict(
        lambda: [0, 0.0, 0, 0.0]
    )  # calls, fwd, bwd calls, bwd
    clock = time.perf_counter

    def wrap_backward(name: str, bwd: Any) -> Any:
        def backward(g: Any, needs: Any) -> Any:
            t0 = clock()
            out = bwd(g, needs)
            s = stats[name]
            s[2] += 1
            s[3] += clock() - t0
            return out

        return backward

    for name, op in OPS.items():
        fwd, inf = op.forward, op.infer

        def forward(*a: Any, _f: Any = fwd, _n: str = name, **k: Any) -> Any:
            t0 = clock()
            out, bwd = _f(*a, **k)
            s = stats[_n]
            s[0] += 1
            s[1] += clock() - t0
            return out, (None if bwd is None else wrap_backward(_n, bwd))

        op.forward = forward
        if inf is not None:

            def infer(*a: Any, _f: Any = inf, _n: str = name, **k: Any) -> Any:
                t0 = clock()
                out = _f(*a, **k)
                s = stats[_n]
                s[0] += 1
                s[1] += clock() - t0
                return out

            op.infer = infer
    return stats


def profile(model: str, mode: str, steps: int, use_cprofile: bool) -> None:
    from benchmarks import cases_models as cm

    setup = cm._swets_train(model) if mode == "train" else cm._swets_infer(model)
    fn = setup()
    for _ in range(3):
        fn()
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    plain = (time.perf_counter() - t0) / steps * 1e3
    print(f"\n== {model} {mode}: {plain:.3f} ms per step (uninstrumented, {steps} steps)")
    if use_cprofile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        for _ in range(steps):
            fn()
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(20)
        return
    stats = _instrument()
    fn()
    stats.clear()
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    total = (time.perf_counter() - t0) / steps * 1e3
    rows = sorted(stats.items(), key=lambda kv: -(kv[1][1] + kv[1][3]))
    print(f"{'op':<32}{'calls':>7}{'fwd ms':>10}{'bwd ms':>10}{'share':>8}")
    in_ops = 0.0
    for name, (calls, fwd, _, bwd) in rows:
        ms_f, ms_b = fwd / steps * 1e3, bwd / steps * 1e3
        in_ops += ms_f + ms_b
        share = (ms_f + ms_b) / total * 100
        print(f"{name:<32}{calls / steps:>7.0f}{ms_f:>10.3f}{ms_b:>10.3f}{share:>7.1f}%")
    rest = total - in_ops
    print(f"{'outside ops':<32}{'':>7}{rest:>10.3f}{'':>10}{rest / total * 100:>7.1f}%")
    print(f"{'total (instrumented)':<32}{'':>7}{total:>10.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="*", default=["nbeats", "tcn", "lstm", "transformer"])
    parser.add_argument("--mode", choices=("train", "infer"), default="train")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", help="set OPENBLAS_NUM_THREADS (re-executes when needed)")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument(
        "--reuse-memory",
        action="store_true",
        help="call swets_core.allocator.reuse_freed_memory() first (as benchmarks.run --malloc reuse)",
    )
    args = parser.parse_args(argv)
    if args.threads and os.environ.get("OPENBLAS_NUM_THREADS") != args.threads:
        env = dict(os.environ, OPENBLAS_NUM_THREADS=args.threads)
        os.execve(
            sys.executable, [sys.executable, "-m", "benchmarks.profile_models", *sys.argv[1:]], env
        )
    if args.reuse_memory:
        from swets_core.allocator import reuse_freed_memory

        reuse_freed_memory()
    for model in args.models:
        profile(model, args.mode, args.steps, args.cprofile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
