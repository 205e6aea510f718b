"""swets-models: TCN, Transformer, LSTM, N-BEATS, N-HiTS, TiDE, PatchTST, NLinear, DLinear and
DeepAR forecasters, and ensembles of them.

Each model is a :class:`swets_core.Module` with a ``registry_name`` and a ``config()`` of plain data, so
``swets_core.registry.create("models", model.registry_name, **model.config())`` rebuilds it. A model
is called as ``model(x, future=None, static=None, mask=None)``: ``x`` ``(batch, lookback, features)``
(feature 0 the target, then the past covariates and the known covariates' history), the known
covariates over the horizon, the static covariates and the input mask (see
:class:`ForecastingModel`); outputs ``(batch, horizon)``, or ``(batch, horizon, Q)`` with
``quantiles=[...]``. Every model takes instance normalization (``instance_norm=True``, RevIN).
See ``docs/models.md``.
"""

from __future__ import annotations

__version__ = "0.1.0"

from swets_models._base import ComposedLayer, ForecastingModel
from swets_models.deepar import DeepAR
from swets_models.ensemble import EnsembleModel, combine_forecasts, member_spec
from swets_models.inputs import InstanceNorm, StaticCovariates
from swets_models.linear import DLinearModel, NLinearModel
from swets_models.lstm import LSTMModel, RecurrentForecaster
from swets_models.nbeats import NBEATSModel
from swets_models.nhits import NHITSModel
from swets_models.patchtst import PatchTSTModel
from swets_models.tcn import TCNModel
from swets_models.tide import TiDEModel
from swets_models.transformer import EncoderForecaster, TransformerModel

MODELS: dict[str, type[ForecastingModel]] = {
    "tcn": TCNModel,
    "transformer": TransformerModel,
    "lstm": LSTMModel,
    "nbeats": NBEATSModel,
    "ensemble": EnsembleModel,
    "nlinear": NLinearModel,
    "nhits": NHITSModel,
    "tide": TiDEModel,
    "patchtst": PatchTSTModel,
    "dlinear": DLinearModel,
    "deepar": DeepAR,
}
"""Registry name -> model class, as registered by the plugin."""

__all__ = [
    "MODELS",
    "ComposedLayer",
    "DeepAR",
    "EnsembleModel",
    "DLinearModel",
    "EncoderForecaster",
    "ForecastingModel",
    "InstanceNorm",
    "LSTMModel",
    "NBEATSModel",
    "NHITSModel",
    "NLinearModel",
    "PatchTSTModel",
    "RecurrentForecaster",
    "StaticCovariates",
    "TCNModel",
    "TiDEModel",
    "TransformerModel",
    "combine_forecasts",
    "member_spec",
]
