"""swets-models: TCN, Transformer, LSTM and N-BEATS forecasters.

Each model is a :class:`swets_core.Module` with a ``registry_name`` and a ``config()`` of plain data, so
``swets_core.registry.create("models", model.registry_name, **model.config())`` rebuilds it. Inputs are
``(batch, lookback, features)`` (feature 0 the target, the rest past covariates; N-BEATS takes the
target alone); outputs ``(batch, horizon)``, or ``(batch, horizon, Q)`` with ``quantiles=[...]``.
See ``docs/models.md``.
"""

from __future__ import annotations

__version__ = "0.1.0"

from swets_models._base import ForecastingModel
from swets_models.lstm import LSTMModel
from swets_models.nbeats import NBEATSModel
from swets_models.tcn import TCNModel
from swets_models.transformer import TransformerModel

MODELS: dict[str, type[ForecastingModel]] = {
    "tcn": TCNModel,
    "transformer": TransformerModel,
    "lstm": LSTMModel,
    "nbeats": NBEATSModel,
}
"""Registry name -> model class, as registered by the plugin."""

__all__ = [
    "MODELS",
    "ForecastingModel",
    "LSTMModel",
    "NBEATSModel",
    "TCNModel",
    "TransformerModel",
]
