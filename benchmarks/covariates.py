"""Known covariates pay: every model with and without the promotions of the generated sales data.

For each model, ``swets train`` runs on ``sales_example(seed)`` (three years of daily sales,
``swets_timeseries.sales_example``) with nothing but the data's keys, twice: with the promotions as
known covariates (``--known-covariates promo``) and without them; both with the temperature as a past
covariate and the holiday list. Each checkpoint is then backtested over the last ``folds`` horizons
(rolling origins inside its test split, which training never saw), next to the seasonal-naive
forecast. Two trainings run at a time (the machine's two cores)::

    .venv/bin/python -m benchmarks.covariates            # or scripts/covariates-benchmark

prints one row per model: the backtest MASE with and without the promotions (below 1 beats the
seasonal-naive forecast, whose MASE is shown too), and the MAE of both.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

MODELS = ("nbeats", "tcn", "lstm", "transformer")
VARIANTS = {"promo": ["--known-covariates", "promo"], "no_promo": []}
SWETS = Path(sys.executable).with_name("swets")


def _train(work: Path, data: Path, holidays: Path, model: str, variant: str, seed: int) -> Path:
    """``swets train`` of one model and variant; returns the checkpoint."""
    ckpt = work / f"{model}-{variant}.swets"
    args = [str(SWETS), "train", "--data", str(data), "--target", "sales"]
    args += ["--covariates", "temperature", "--holidays", str(holidays), "--model", model]
    args += [*VARIANTS[variant], "--seed", str(seed), "--output", str(ckpt), "--no-progress"]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.run(args, capture_output=True, text=True, env=env, cwd=work)
    (work / f"{model}-{variant}.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return ckpt


def _backtest(ckpt: Path, folds: int) -> dict[str, dict[str, float]]:
    from swets_train.jobs import backtest_job, load_job

    job = load_job(ckpt)
    return backtest_job(job.spec, folds, trained=job).report.overall


def run(
    directory: str | os.PathLike[str] | None = None,
    models: tuple[str, ...] = MODELS,
    seed: int = 0,
    folds: int = 5,
    workers: int = 2,
) -> dict[str, dict[str, Any]]:
    """Train and backtest every model with and without the promotions.

    Returns:
        ``{model: {"promo": {metric: value}, "no_promo": {...}, "seasonal_naive": {...}}}``.
    """
    from swets_timeseries import sales_example

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(directory or tmp)
        work.mkdir(parents=True, exist_ok=True)
        data, holidays = (Path(p) for p in sales_example(seed).write(work / "data"))
        # the longer trainings (with the promotions: more epochs improve) first, two at a time
        jobs = [(m, v) for v in VARIANTS for m in models]
        with ThreadPoolExecutor(workers) as pool:
            ckpts = pool.map(lambda mv: _train(work, data, holidays, *mv, seed), jobs)
            ckpts = dict(zip(jobs, ckpts))
        out: dict[str, dict[str, Any]] = {}
        for (model, variant), ckpt in ckpts.items():
            overall = _backtest(ckpt, folds)
            row = out.setdefault(model, {})
            row[variant] = overall[model]
            row["seasonal_naive"] = overall["seasonal_naive"]
        return out


def table(results: dict[str, dict[str, Any]]) -> str:
    """The results as a text table."""
    from swets_train.tables import text_table

    rows = []
    for model, r in results.items():
        rows.append(
            [
                model,
                r["promo"]["mase"],
                r["no_promo"]["mase"],
                r["seasonal_naive"]["mase"],
                r["promo"]["mae"],
                r["no_promo"]["mae"],
                r["seasonal_naive"]["mae"],
            ]
        )
    head = [
        "model",
        "mase promo",
        "mase no promo",
        "mase snaive",
        "mae promo",
        "mae no promo",
        "mae snaive",
    ]
    return text_table(head, rows, left=1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default=",".join(MODELS), help="comma-separated model names")
    p.add_argument("--seed", type=int, default=0, help="seed of the data and of training")
    p.add_argument("--folds", type=int, default=5, help="backtest origins")
    p.add_argument("--keep", metavar="DIR", help="keep the data, logs and checkpoints in DIR")
    args = p.parse_args(argv)
    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    results = run(args.keep, models, args.seed, args.folds)
    print(
        f"backtest of {args.folds} horizons (24 days each) on sales_example({args.seed}): MASE "
        "below 1 beats the seasonal-naive forecast"
    )
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
