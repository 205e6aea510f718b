"""Sweep wall time: an 8-configuration sweep on 2 Dask worker processes against running it serially.

    python -m benchmarks.bench_dask                  # 8 configurations, 2 workers
    python -m benchmarks.bench_dask --quick          # a smaller job, for a check that it runs
    python -m benchmarks.bench_dask --workers 4 --epochs 3

Both runs train the same configurations of the same job (N-BEATS on the bundled electricity data,
a grid over the layer width and the learning rate) through ``swets_dask.sweep``: once with
``serial=True`` (one after the other in this process), once on a local cluster. The cluster is
started and its workers warmed up (swets imported, plugins loaded) before the clock starts; its
start-up time is printed separately. The results of both runs are checked to be identical. The
sum of the configurations' wall and CPU times shows whether the workers had their cores to
themselves (CPU close to wall) or shared them with other processes.

Each Dask worker process runs its BLAS with one thread (Dask's nanny sets ``OMP_NUM_THREADS=1`` and
its siblings); this process does the same for the serial run, so that both compute the same numbers
and the comparison is one core against ``--workers`` cores.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy is imported

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402


def _warm() -> int:
    from swets_core import registry
    from swets_train import jobs  # noqa: F401

    return len(registry.names("models"))


def job(quick: bool, epochs: int) -> dict:
    return {
        "data": {"dataset": "electricity", "lookback": 336, "horizon": 48},
        "model": {"name": "nbeats", "num_blocks": 2, "num_layers": 2, "layer_width": 64},
        "training": {
            "epochs": 1 if quick else epochs,
            "max_steps": 20 if quick else None,
            "batch_size": 64,
            "patience": None,
        },
    }


def grid(n: int) -> dict:
    widths = [32, 64, 96, 128]
    lrs = [1e-3, 3e-3, 1e-2, 3e-2]
    n_lr = max(1, n // len(widths))
    return {"model.layer_width": widths[: min(n, len(widths))], "training.lr": lrs[:n_lr]}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", type=int, default=8, help="configurations (4 widths x lrs)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes of the cluster")
    ap.add_argument("--epochs", type=int, default=6, help="epochs per configuration")
    ap.add_argument("--quick", action="store_true", help="20 steps per configuration")
    args = ap.parse_args(argv)

    from swets_dask import connect, sweep

    spec, g = job(args.quick, args.epochs), grid(args.configs)
    n = len(g["model.layer_width"]) * len(g["training.lr"])
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        serial = sweep(spec, g, output_dir=os.path.join(tmp, "serial"), serial=True)
        t_serial = time.perf_counter() - t0

        t0 = time.perf_counter()
        client = connect(n_workers=args.workers)
        try:
            client.wait_for_workers(args.workers)
            client.run(_warm)
            t_start = time.perf_counter() - t0
            t0 = time.perf_counter()
            parallel = sweep(spec, g, output_dir=os.path.join(tmp, "dask"), client=client)
            t_dask = time.perf_counter() - t0
        finally:
            client.close()
        same = [a["metrics"] for a in serial] == [b["metrics"] for b in parallel]
        best = parallel.best
    print(f"sweep of {n} configurations (N-BEATS on electricity, {spec['training']})")

    def busy(result) -> str:
        wall = sum(r["seconds"] for r in result)
        cpu = sum(r["cpu_seconds"] for r in result)
        return f"configurations: {wall:.2f} s wall, {cpu:.2f} s CPU"

    print(f"  serial, one process        {t_serial:8.2f} s  ({busy(serial)})")
    print(
        f"  Dask, {args.workers} worker processes   {t_dask:8.2f} s  ({busy(parallel)}; "
        f"cluster start-up {t_start:.2f} s)"
    )
    print(f"  speed-up                   {t_serial / t_dask:8.2f}x")
    print(
        f"  identical results: {same}; best {best['config']} "
        f"validation mase {parallel.score(best):.4f}"
    )


if __name__ == "__main__":
    main()
