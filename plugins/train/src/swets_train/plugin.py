"""Entry point of swets-train in the ``swets`` group: registers the metrics and the baseline models."""

from __future__ import annotations

from typing import Any

from swets_core import hookimpl


@hookimpl
def swets_register_metrics(register: Any) -> None:
    """Register mae, rmse, mape, smape, mase, r2, directional_accuracy, pinball and coverage."""
    from swets_train.metrics import default_metrics

    for name, metric in default_metrics().items():
        register(name, metric)


@hookimpl
def swets_register_models(register: Any) -> None:
    """Register the baselines naive, seasonal_naive, mean and drift as models."""
    from swets_train.baselines import BASELINES

    for name, cls in BASELINES.items():
        register(name, cls)
