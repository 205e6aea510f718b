"""NLinear and DLinear (Zeng, Chen, Zhang and Xu, "Are Transformers Effective for Time Series
Forecasting?", AAAI 2023): one linear map from the lookback to the horizon, after subtracting the
window's last value (NLinear) or on a moving-average decomposition of the window (DLinear).

Both read the target alone (the paper's models are univariate, channel by channel); a model built
for covariates is refused with a :class:`~swets_core.errors.ConfigError` naming the option.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from swets_core.errors import ConfigError
from swets_models._base import DtypeCache, ForecastingModel, positive_int
from swets_nn import Linear
from swets_nn.paths import ForwardPath

__all__ = ["DLinearModel", "NLinearModel", "moving_average_matrix"]


def moving_average_matrix(length: int, kernel_size: int) -> np.ndarray:
    """The trend of DLinear's decomposition as a matrix, float64 ``(length, length)``:
    ``trend = x @ A`` for a window ``x`` ``(batch, length)``.

    ``trend[t]`` is the mean of the ``kernel_size`` (odd) values centred on ``t``, the window being
    padded with ``(kernel_size - 1) / 2`` copies of its first value before it and of its last value
    after it (the reference's ``AvgPool1d`` over the replicated edges).
    """
    half = (kernel_size - 1) // 2
    a = np.zeros((length, length), dtype=np.float64)
    for t in range(length):
        for s in range(t - half, t + half + 1):
            a[min(max(s, 0), length - 1), t] += 1.0 / kernel_size
    return a


class _LinearForecaster(ForecastingModel):
    """What NLinear and DLinear share: the target alone, linear maps from the lookback to the
    ``horizon * Q`` outputs."""

    supports_past_covariates = False
    supports_future_covariates = False
    supports_static_covariates = False

    def _init_linear(self, maps: tuple[str, ...]) -> None:
        """One ``Linear(lookback, horizon * Q)`` per name of ``maps``, then the inputs."""
        gen = self._generator()
        out = self.horizon * self.n_outputs
        for name in maps:
            setattr(self, name, Linear(self.lookback, out, rng=gen, dtype=self._dtype.value))
        self._init_inputs(gen)

    def _target(self, x: Any) -> Any:
        """The target window ``(B, L)``."""
        return x.reshape(x.shape[0], self.lookback)


class NLinearModel(_LinearForecaster, registry_name="nlinear"):
    """NLinear forecaster (registry name ``"nlinear"``): linear, after subtracting the last value.

    The window's last value is subtracted from the window, one linear map takes the lookback to
    the horizon, and the last value is added back (section 4 of the paper: a normalization
    against distribution shift).

    ``y = Linear(x - x_L) + x_L`` for the target window ``x`` ``(batch, lookback)``; with a
    quantile head the map gives ``horizon * Q`` values and ``x_L`` is added to each.

    Args (the configuration returned by :meth:`config`, except ``rng``/``seed``):
        n_features: must be 1 (the target alone).
        lookback: input window length (the paper uses 336).
        horizon: steps forecast at once.
        n_future_features, n_static_features, static_cardinalities: must be 0 / empty; the other
            options every model shares (instance normalization, ``quantiles``, ``dtype``,
            ``rng``/``seed``) are :class:`~swets_models._base.ForecastingModel`'s.

    Shapes: input ``(batch, lookback, 1)``; output ``(batch, horizon)`` or
    ``(batch, horizon, len(quantiles))``.

    Parameters: ``linear.weight (horizon * Q, lookback)``, ``linear.bias`` (PyTorch's Linear
    initialisation, as the reference).
    """

    def __init__(self, **common: Any) -> None:
        super().__init__(**common)
        self._init_linear(("linear",))

    def _reference_parameter(self) -> Any:
        return self.linear.weight

    def _compute(self, p: ForwardPath, x: Any, future: Any, static: Any, mask: Any) -> Any:
        z = self._target(x)
        last = z[:, -1:]
        y = p.forward(self.linear)(p.op("sub", z, last))
        return self._finish(p, p.op("add", y, last))


class DLinearModel(_LinearForecaster, registry_name="dlinear"):
    """DLinear forecaster (registry name ``"dlinear"``): linear maps of the trend and remainder.

    The window is split into a trend, its moving average (kernel ``kernel_size``, edges
    replicated), and the remainder; one linear map from the lookback to the horizon is applied to
    each, and the two forecasts are added (section 4 of the paper).

    ``trend = x @ A`` with :func:`moving_average_matrix` ``A``, ``y = Linear_s(x - trend) +
    Linear_t(trend)``.

    Args (the configuration returned by :meth:`config`, except ``rng``/``seed``):
        n_features: must be 1 (the target alone).
        lookback: input window length (the paper uses 336).
        horizon: steps forecast at once.
        kernel_size: odd moving-average window, at most ``lookback`` (the paper's 25).
        n_future_features, n_static_features, static_cardinalities: must be 0 / empty; the other
            options every model shares (instance normalization, ``quantiles``, ``dtype``,
            ``rng``/``seed``) are :class:`~swets_models._base.ForecastingModel`'s.

    Shapes: input ``(batch, lookback, 1)``; output ``(batch, horizon)`` or
    ``(batch, horizon, len(quantiles))``.

    Parameters: ``seasonal.{weight,bias}``, ``trend.{weight,bias}`` (PyTorch's Linear
    initialisation, as the reference).
    """

    def __init__(self, *, kernel_size: int = 25, **common: Any) -> None:
        super().__init__(**common)
        owner = "DLinearModel"
        self.kernel_size = positive_int(kernel_size, "kernel_size", owner)
        if self.kernel_size % 2 == 0 or self.kernel_size > self.lookback:
            raise ConfigError(
                f"{owner}: kernel_size must be odd and at most lookback ({self.lookback}), "
                f"got {self.kernel_size}"
            )
        self._init_linear(("seasonal", "trend"))
        self._average = DtypeCache(moving_average_matrix(self.lookback, self.kernel_size))

    def _reference_parameter(self) -> Any:
        return self.seasonal.weight

    def decompose(self, p: ForwardPath, z: Any) -> tuple[Any, Any]:
        """``(remainder, trend)`` of the target windows ``z`` ``(B, L)``."""
        trend = p.op("matmul", z, self._average.get(self.seasonal.weight._data.dtype))
        return p.op("sub", z, trend), trend

    def _compute(self, p: ForwardPath, x: Any, future: Any, static: Any, mask: Any) -> Any:
        remainder, trend = self.decompose(p, self._target(x))
        y = p.op("add", p.forward(self.seasonal)(remainder), p.forward(self.trend)(trend))
        return self._finish(p, y)
