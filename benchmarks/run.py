"""Run the benchmarks: ``python -m benchmarks.run [--only SUBSTR[,SUBSTR]] [--rounds N]``.

Prints one table per group (median ms per call for each framework and the swets/torch ratio; MiB for
memory cases) and, last, one JSON line ``{"ratios": {case: swets/torch}}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys

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
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {numpy.__version__}, torch {torch_v}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", help="comma-separated name substrings")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        module, case, fw = args.worker.split(":")
        _worker(module, case, fw)
        return 0
    cases = discover(args.only)
    if not cases:
        print("no benchmark case matches", file=sys.stderr)
        return 1
    print(f"machine: {_machine()}")
    ratios: dict[str, float] = {}
    current_group = None
    for module, case in cases:
        if case.group != current_group:
            current_group = case.group
            print(f"\n## {case.group}")
            print(f"{'case':<44}{'swets':>12}{'torch':>12}{'numpy':>12}{'swets/torch':>13}")
        res = run_case(module, case, args.rounds)
        unit = "MiB" if case.kind == "memory" else "ms"

        def fmt(v: float | None, unit: str = unit) -> str:
            return "-" if v is None else f"{v:.3f}{unit}" if v < 100 else f"{v:.1f}{unit}"

        ratio = None
        if "swets" in res and "torch" in res and res["torch"] > 0:
            ratio = res["swets"] / res["torch"]
            ratios[case.name] = round(ratio, 3)
        ratio_s = "-" if ratio is None else f"{ratio:.2f}"
        print(
            f"{case.name:<44}{fmt(res.get('swets')):>12}{fmt(res.get('torch')):>12}"
            f"{fmt(res.get('numpy')):>12}{ratio_s:>13}",
            flush=True,
        )
        if case.note:
            print(f"    {case.note}")
    print()
    print(json.dumps({"ratios": ratios}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
