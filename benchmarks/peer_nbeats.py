"""swets and NeuralForecast side by side: the same N-BEATS ensemble on the same competition subset,
on the same machine, in one run.

``python -m benchmarks.peer_nbeats --dataset tourism --subset quarterly [--workers 2]`` (from the
repository root, in swets' ``.venv``):

1. makes sure the peer environment exists (``--peer-env``, default ``benchmarks/.peer-venv``, or
   ``SWETS_PEER_ENV``): a virtual environment of its own holding CPU PyTorch and NeuralForecast,
   built when missing by :mod:`benchmarks.peer_env` (``pip install torch==2.13.0`` first, from
   ``$SWETS_PEER_TORCH_INDEX`` too when set, e.g. PyTorch's CPU index, then
   ``pip install neuralforecast==3.3.0``). NeuralForecast is never a swets dependency: it lives
   only there;
2. trains swets' ensemble exactly as ``swets benchmark`` does (``run_benchmark``: the subset's
   protocol, members trained in ``--workers`` processes of one BLAS thread each);
3. trains the same members with NeuralForecast's ``NBEATS`` in the peer environment
   (``benchmarks/peer/neuralforecast_nbeats.py``: the same lookbacks, losses, blocks, layers and
   width, steps, windows per step, learning rate halved three times, gradient clipping at 1, seeds;
   PyTorch with ``--workers`` threads, so both use the same cores), combines them by the median and
   scores both with swets_competitions' metrics;
4. prints one table (sMAPE, MAPE, MASE, OWA, CPU and wall minutes) and the machine, and writes it as
   JSON (``--output``).

What cannot be the same: NeuralForecast draws a batch's windows among all windows of
``batch_size`` series (here every series: uniformly over windows, so long series count more),
where the N-BEATS protocol draws a series uniformly and a cut in its last ``L_H * H`` points; and it
runs each step through PyTorch Lightning. Both start every forecast at the window's last value (as
the paper's code does: swets' members have ``naive_level=True``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.peer_env import DEFAULT_ENV, ENV_VAR, peer_python, peer_versions

ROOT = Path(__file__).resolve().parent.parent
CHILD = ROOT / "benchmarks" / "peer" / "neuralforecast_nbeats.py"


def run_peer(
    py: Path, split: Any, specs: list[dict[str, Any]], proto: Any, threads: int, scaler: str
) -> dict[str, Any]:
    """Train the members with NeuralForecast in the peer environment; their median forecast and
    the CPU and wall time of the child process (all of it, and its training and forecasting)."""
    task = {
        "ids": list(split.ids),
        "series": [v.tolist() for v in split.train_values()],
        "horizon": split.horizon,
        "season_length": split.season_length,
        "members": [{**s, "index": i} for i, s in enumerate(specs)],
        "steps": proto.steps,
        "batch_size": proto.batch_size,
        "series_per_batch": len(split),
        "lr": proto.lr,
        "scaler_type": scaler,
        "torch_threads": threads,
    }
    with tempfile.TemporaryDirectory() as tmp:
        task_path, out_path = Path(tmp) / "task.json", Path(tmp) / "out.npz"
        task_path.write_text(json.dumps(task))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall0 = time.perf_counter()
        env = {**os.environ}
        for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[v] = str(threads)
        subprocess.run([str(py), str(CHILD), str(task_path), str(out_path)], check=True, env=env)
        wall = time.perf_counter() - wall0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        with np.load(out_path) as out:
            forecasts = out["forecasts"]
            inner_cpu, inner_wall = float(out["cpu_seconds"]), float(out["wall_seconds"])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "forecast": np.maximum(np.median(forecasts, axis=0), 0.0),
        "cpu_seconds": inner_cpu,
        "wall_seconds": inner_wall,
        "process_cpu_seconds": cpu,
        "process_wall_seconds": wall,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--dataset", default="tourism", help="m1, tourism (M3 is held out: see the docs)"
    )
    p.add_argument("--subset", default="quarterly")
    p.add_argument("--workers", type=int, default=2, help="swets processes = PyTorch threads (2)")
    p.add_argument("--steps", type=int, help="steps per member (the protocol's by default)")
    p.add_argument("--members", type=int, help="keep the first N members")
    p.add_argument("--peer-env", type=Path, default=Path(os.environ.get(ENV_VAR) or DEFAULT_ENV))
    p.add_argument(
        "--peer-scaler", default="identity", help="NeuralForecast's scaler_type (identity)"
    )
    p.add_argument("--output", type=Path, help="write the result as JSON here")
    args = p.parse_args(argv)

    for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(v, "1")  # swets' workers: one BLAS thread each
    from swets_competitions import load_competition
    from swets_competitions.benchmark import (
        ensemble_members,
        machine,
        protocol,
        run_benchmark,
        score_forecast,
    )

    os.environ[ENV_VAR] = str(args.peer_env)  # benchmarks.peer_env builds it when missing
    py = peer_python()
    peer = peer_versions()
    overrides = {"steps": args.steps} if args.steps else {}
    proto = protocol(args.dataset, args.subset)
    if overrides:
        import attrs

        proto = attrs.evolve(proto, **overrides)
    info = machine()
    split = load_competition(args.dataset, args.subset)
    specs = ensemble_members(proto, split.horizon, members=args.members)
    print(
        f"{split.name} {split.subset}: {len(specs)} N-BEATS members x {proto.steps} steps; swets in "
        f"{args.workers} processes, {peer} with {args.workers} threads",
        file=sys.stderr,
    )
    ours = run_benchmark(
        args.dataset,
        args.subset,
        members=args.members,
        overrides=overrides,
        workers=args.workers,
        progress=False,
    )
    row = ours.rows[0]
    theirs = run_peer(py, split, specs, proto, args.workers, args.peer_scaler)
    scores = score_forecast(split, theirs["forecast"])
    rows = [
        {
            "method": "swets",
            **{k: row[k] for k in ("smape", "mape", "mase", "owa")},
            "cpu_minutes": row["cpu_minutes"],
            "wall_minutes": row["wall_minutes"],
        },
        {
            "method": peer,
            **scores,
            "cpu_minutes": theirs["cpu_seconds"] / 60,
            "wall_minutes": theirs["wall_seconds"] / 60,
            "process_cpu_minutes": theirs["process_cpu_seconds"] / 60,
            "process_wall_minutes": theirs["process_wall_seconds"] / 60,
        },
    ]
    print(
        f"\n{split.name} {split.subset}, {len(specs)} members x {proto.steps} steps of {proto.batch_size} windows"
    )
    print(
        f"{'method':<40} {'sMAPE':>7} {'MAPE':>7} {'MASE':>7} {'OWA':>6} {'CPU min':>8} {'wall min':>9}"
    )
    for r in rows:
        print(
            f"{r['method']:<40} {r['smape']:7.2f} {r['mape']:7.2f} {r['mase']:7.3f} {r['owa']:6.3f} "
            f"{r['cpu_minutes']:8.2f} {r['wall_minutes']:9.2f}"
        )
    info["load_average_end"] = [round(v, 2) for v in os.getloadavg()]
    print(
        f"\nmachine: {info['cpu']}, {info['usable_cpus']} CPUs, load {info['load_average']} -> "
        f"{info['load_average_end']}; NeuralForecast's whole process (imports included): "
        f"{rows[1]['process_cpu_minutes']:.2f} CPU min, {rows[1]['process_wall_minutes']:.2f} min"
    )
    result = {
        "dataset": args.dataset,
        "subset": args.subset,
        "members": len(specs),
        "steps": proto.steps,
        "protocol": {k: v for k, v in ours.settings[args.subset].items()},
        "rows": rows,
        "machine": info,
    }
    print(json.dumps(result, default=str))
    if args.output:
        args.output.write_text(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
