"""Baseline forecasters registered as models: naive, seasonal naive, mean and drift.

They are :class:`swets_core.Module` s with no parameters, the same input and output shapes as the
learned models (``(batch, lookback, features) -> (batch, horizon)``), a ``registry_name`` and a
``config()``, so ``registry.create("models", "seasonal_naive", horizon=24, season_length=48)`` builds
one and a backtest compares them with a learned model in one call. The forecast is made from the
feature ``target_index`` of the input window (0 by default: put the target first); other features
(past covariates) are accepted and not read, and known-future and static covariates are not taken
(``supports_future_covariates`` and ``supports_static_covariates`` are False). They are written
with ops, so they run batched and stay differentiable with respect to their input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from swets_core import Module, Tensor, as_tensor, ops
from swets_core.checks import is_int
from swets_core.errors import ConfigError, DTypeError, ShapeError
from swets_core.lazy import exports_of

__all__ = ["BASELINES", "Baseline", *exports_of(__name__)]


def _int(value: Any, name: str, owner: str, minimum: int) -> int:
    if not is_int(value):
        raise ConfigError(f"{owner}: {name} must be an int, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{owner}: {name} must be >= {minimum}, got {value}")
    return int(value)


class Baseline(Module):
    """Shared configuration and input checks of the baselines.

    Args:
        horizon: number of steps to forecast (H).
        target_index: which input feature is the series being forecast (negative counts from the end).
    """

    registry_name = "baseline"
    supports_past_covariates = True  # read past the target column, which the forecast reads alone
    supports_future_covariates = False
    supports_static_covariates = False

    def __init__(self, horizon: int, target_index: int = 0) -> None:
        super().__init__()
        self.horizon = _int(horizon, "horizon", self.registry_name, 1)
        if not is_int(target_index):
            raise ConfigError(
                f"{self.registry_name}: target_index must be an int, got {target_index!r}"
            )
        self.target_index = int(target_index)

    def config(self) -> dict[str, Any]:
        """The plain-data configuration that rebuilds this baseline through the registry."""
        return {"horizon": self.horizon, "target_index": self.target_index}

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.config().items())

    def _target(self, x: Any, min_lookback: int = 1) -> Tensor:
        """The target column of ``x`` as a ``(B, L)`` tensor, after checking the input."""
        x = as_tensor(x)
        if x.ndim != 3:
            raise ShapeError(
                f"{self.registry_name}: input must be (batch, lookback, features), got shape {x.shape}"
            )
        if not x.dtype.is_floating:
            raise DTypeError(
                f"{self.registry_name}: input must be float32 or float64, got {x.dtype.value}"
            )
        features = x.shape[2]
        if not -features <= self.target_index < features:
            raise ShapeError(
                f"{self.registry_name}: target_index {self.target_index} is out of range for an "
                f"input with {features} feature(s) (shape {x.shape})"
            )
        if x.shape[1] < min_lookback:
            raise ShapeError(
                f"{self.registry_name}: needs a lookback of at least {min_lookback}, got input shape "
                f"{x.shape}"
            )
        return x[:, :, self.target_index]

    def _repeat(self, column: Tensor) -> Tensor:
        """``(B, 1)`` -> ``(B, H)``."""
        return ops.broadcast_to(column, shape=(column.shape[0], self.horizon))


class Naive(Baseline):
    """The last observed value, repeated: ``ŷ_{T+h} = y_T`` for ``h = 1..H``.

    Input ``(B, L, F)``, output ``(B, H)``.
    """

    registry_name = "naive"

    def forward(self, x: Tensor) -> Tensor:
        y = self._target(x)
        return self._repeat(y[:, -1:])


class SeasonalNaive(Baseline):
    """The value one season earlier: ``ŷ_{T+h} = y_{T+h-m·k}`` with ``k = ceil(h / m)``, i.e. the last
    observed season repeated.

    Args:
        horizon: H.
        season_length: the period m (48 for a daily season in half-hourly data). The lookback must be at
            least m.
        target_index: the target feature.

    Input ``(B, L, F)`` with ``L >= m``, output ``(B, H)``.
    """

    registry_name = "seasonal_naive"

    def __init__(self, horizon: int, season_length: int = 1, target_index: int = 0) -> None:
        super().__init__(horizon, target_index)
        self.season_length = _int(season_length, "season_length", self.registry_name, 1)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "season_length": self.season_length}

    def forward(self, x: Tensor) -> Tensor:
        m = self.season_length
        y = self._target(x, min_lookback=m)
        lookback = y.shape[1]
        index = lookback - m + np.arange(self.horizon) % m
        return y[:, index]


class MeanForecast(Baseline):
    """The mean of the lookback window, repeated: ``ŷ_{T+h} = mean(y_{T-L+1..T})``.

    Input ``(B, L, F)``, output ``(B, H)``.
    """

    registry_name = "mean"

    def forward(self, x: Tensor) -> Tensor:
        y = self._target(x)
        return self._repeat(ops.mean(y, axis=1, keepdims=True))


class Drift(Baseline):
    """The line through the first and last values of the window, extended:
    ``ŷ_{T+h} = y_T + h · (y_T - y_{T-L+1}) / (L - 1)``.

    Input ``(B, L, F)`` with ``L >= 2``, output ``(B, H)``.
    """

    registry_name = "drift"

    def forward(self, x: Tensor) -> Tensor:
        y = self._target(x, min_lookback=2)
        lookback = y.shape[1]
        last = y[:, -1:]
        slope = (last - y[:, :1]) / float(lookback - 1)
        steps = np.arange(1, self.horizon + 1, dtype=y.numpy().dtype)
        return last + slope * steps


BASELINES: dict[str, type[Baseline]] = {
    "naive": Naive,
    "seasonal_naive": SeasonalNaive,
    "mean": MeanForecast,
    "drift": Drift,
}
"""The baseline classes by registry name."""
