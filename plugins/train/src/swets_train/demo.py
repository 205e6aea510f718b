"""``swets demo``: the main job end to end on bundled data (:func:`demo_spec`, :func:`run_demo`).

It trains N-BEATS on a week of half-hourly electricity demand, compares it with the baselines,
saves the checkpoint, reloads it and checks that the reloaded model forecasts the same, forecasts
the day after the data, backtests over the last week and plots; ``--quick`` runs the same path with a
tiny model in seconds. The command's options are in :mod:`swets_train.cli`. See docs/cli.md.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import numpy as np

from swets_train._console import forecast_table, say, summary

__all__ = ["DEMO_DIR", "demo_spec", "run_demo"]

DEMO_DIR = os.path.join("runs", "demo")
"""Where ``swets demo`` writes by default."""


def demo_spec(output_dir: str = DEMO_DIR, quick: bool = False) -> dict[str, Any]:
    """The job of ``swets demo``: N-BEATS on a week of half-hourly electricity demand, one day ahead,
    from the demand's own history with instance normalization (no calendar features: twelve weeks
    of data teach a week's pattern less well than the week in each window shows it) (``quick``: a
    small model and a few dozen steps, for tests)."""
    model: dict[str, Any] = {"name": "nbeats", "num_blocks": 2, "num_layers": 2, "layer_width": 128}
    training: dict[str, Any] = {
        "epochs": 15,
        "patience": 3,
        "lr": 1e-3,
        "scheduler": "reduce_lr_on_plateau",
        "scheduler_options": {"patience": 1, "factor": 0.5},
    }
    if quick:
        model.update(num_blocks=1, layer_width=32)
        training.update(epochs=2, max_steps=30)
    return {
        "data": {
            "dataset": "electricity",
            "lookback": 336,
            "horizon": 48,
            "val": 0.15,
            "test": 0.15,
            "calendar": "none",
        },
        "model": model,
        "training": training,
        "output": {
            "checkpoint": os.path.join(output_dir, "nbeats.swets"),
            "forecast_csv": os.path.join(output_dir, "forecast.csv"),
        },
    }


def run_demo(args: argparse.Namespace) -> int:
    """``swets demo``: the walk-through (``args``: the command's options, see :mod:`swets_train.cli`)."""
    from swets_core.errors import CheckpointError
    from swets_timeseries.pandas_io import MissingDependencyError
    from swets_train.backtest import backtest
    from swets_train.jobs import JobSpec, LoadedJob, job_outputs, load_job, run_job
    from swets_train.outputs import Output, StagedWrites, check_outputs
    from swets_train.plot import plot_job

    out = args.output_dir
    spec = JobSpec.from_dict(demo_spec(out, args.quick))
    png = os.path.join(out, "demo.png")
    check_outputs([*job_outputs(spec), Output(png, "plot", "--output-dir")], force=args.force)
    d = spec.data
    say("swets demo: forecast half-hourly electricity demand in England and Wales (2000)")
    say(
        f"  N-BEATS, one week in ({d.lookback} half-hours), one day out ({d.horizon}); "
        f"the last {d.test:.0%} of the rows are held out as the test split"
        + ("  [--quick: a tiny model and 30 steps]" if args.quick else "")
    )
    say("")
    say("1. train (early stopping on the validation loss) and score against the baselines")
    result = run_job(spec, progress=not args.no_progress, force=args.force)
    say("   " + summary(result).replace("\n", "\n   "))
    say("")
    say(result.table())
    say("")
    beats = result.metrics["test"]["mase"] < result.baselines["seasonal_naive"]["test"]["mase"]
    say(
        "   test MASE: "
        f"{result.metrics['test']['mase']:.3f} for N-BEATS, "
        f"{result.baselines['seasonal_naive']['test']['mase']:.3f} for seasonal naive, "
        f"{result.baselines['naive']['test']['mase']:.3f} for naive"
        + (
            ""
            if beats
            else "  (not better than seasonal naive"
            + ("; --quick trains a tiny model for seconds)" if args.quick else ")")
        )
    )
    say("")
    say(f"2. saved the checkpoint (model, optimizer, scaler, history, job): {result.checkpoint}")
    job = load_job(result.checkpoint)
    live = LoadedJob(spec=job.spec, model=result.model, scaler=result.scaler)
    fc = job.forecast()
    same = np.array_equal(fc.values, live.forecast().values)
    if not same:
        raise CheckpointError(
            f"{result.checkpoint}: the reloaded model forecasts differently from the trained one"
        )
    say("3. reloaded it: the reloaded model's forecasts equal the trained model's, bit for bit")
    say("")
    say(f"4. forecast of the day after the data ends ({spec.output.forecast_csv}):")
    say(forecast_table(fc, limit=6))
    say("")
    folds = 7
    report = backtest(
        {"nbeats": job.model},
        job.series(),
        folds=folds,
        stride=d.horizon,
        scaler=job.scaler,
        season_length=job.season_length,
        lookback=d.lookback,
        horizon=d.horizon,
    )
    say(f"5. rolling-origin backtest over the last {folds} days (inside the test split):")
    say(report.table())
    say("")
    try:
        with StagedWrites() as staged:
            plot_job(job, staged.path(png, "--output-dir"))
        say(f"6. plot of forecasts against actuals and of the training history: {png}")
    except MissingDependencyError as exc:
        say(f"6. plot skipped: {exc}")
    say("")
    say("next:")
    say(f"  swets forecast {result.checkpoint} --output forecast.csv")
    say(f"  swets evaluate {result.checkpoint}")
    say(f"  swets backtest {result.checkpoint} --folds 7")
    say("  swets train --model tcn --epochs 5      (any registered model; swets list models)")
    return 0
