"""Entry point of swets-train in the ``swets`` group: the metrics, the baseline models, the local
executor and the commands."""

from __future__ import annotations

from typing import Any

from swets_core import hookimpl

_METRIC_DOCS = {
    "mae": "Mean absolute error mean(|y - ŷ|); lower is better.",
    "rmse": "Root mean squared error sqrt(mean((y - ŷ)²)); lower is better.",
    "mape": "Mean absolute percentage error in percent, zero actuals skipped (NaN if all are zero).",
    "smape": "Symmetric MAPE in percent (0..200), a 0/0 term counts as 0.",
    "mase": "Mean absolute scaled error: MAE over the in-sample seasonal-naive MAE (period m).",
    "r2": "Coefficient of determination 1 - SS_res / SS_tot; greater is better.",
    "directional_accuracy": "Share of steps whose direction of change is forecast right (0..1).",
    "pinball": "Pinball (quantile) loss averaged over elements and quantile levels.",
    "coverage": "Share of actuals inside the forecast interval [lowest, highest quantile].",
    "crps": "Continuous ranked probability score, from quantiles or from samples=.",
}

_MODEL_DOCS = {
    "naive": "Baseline: the last observed value, repeated over the horizon.",
    "seasonal_naive": "Baseline: the last observed season (period season_length), repeated.",
    "mean": "Baseline: the mean of the lookback window, repeated over the horizon.",
    "drift": "Baseline: the line through the window's first and last values, extended.",
}


@hookimpl
def swets_register_metrics(register: Any) -> None:
    """Register mae, rmse, mape, smape, mase, r2, directional_accuracy, pinball, coverage and crps."""
    from swets_train.metrics import default_metrics

    for name, metric in default_metrics().items():
        register(name, metric, doc=_METRIC_DOCS[name])


@hookimpl
def swets_register_models(register: Any) -> None:
    """Register the baselines naive, seasonal_naive, mean and drift as models."""
    from swets_train.baselines import BASELINES

    for name, cls in BASELINES.items():
        register(name, cls, doc=_MODEL_DOCS[name])


@hookimpl
def swets_register_executors(register: Any) -> None:
    """Register ``local``: gradients of the whole batch in this process (the default)."""
    from swets_train.executor import LocalExecutor

    register("local", LocalExecutor, doc="Gradients of the whole batch in this process (default).")


@hookimpl
def swets_register_commands(cli: Any) -> None:
    """Add train, evaluate, forecast, backtest, plot and demo to the ``swets`` command."""
    from swets_train.cli import register_commands

    register_commands(cli)
