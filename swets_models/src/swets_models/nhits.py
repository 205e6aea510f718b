"""N-HiTS (Challu, Olivares, Oreshkin, Garza, Mergenthaler-Canseco and Dubrawski, "N-HiTS: Neural
Hierarchical Interpolation for Time Series Forecasting", AAAI 2023): N-BEATS blocks that read their
input at a lower rate (multi-rate sampling by max pooling) and forecast a few knots interpolated to
the horizon (hierarchical interpolation), one rate and one number of knots per stack."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from swets_core import Tensor
from swets_core.errors import ConfigError
from swets_models._base import (
    DtypeCache,
    ForecastingModel,
    choice,
    per_stack,
    probability,
)
from swets_models.nbeats import FullyConnectedBlock, doubly_residual
from swets_nn import Linear
from swets_nn.paths import ARRAYS, ForwardPath, forward_on_path

__all__ = ["NHITSBlock", "NHITSModel", "interpolation_matrix", "max_pool"]

INTERPOLATIONS = ("linear", "nearest")


def interpolation_matrix(knots: int, length: int, mode: str = "linear") -> np.ndarray:
    """The map from ``knots`` values to ``length`` interpolated ones, float64 ``(knots, length)``:
    ``forecast = theta @ M``, PyTorch's ``F.interpolate(..., size=length, mode=mode)``.

    ``"linear"`` (``align_corners=False``): output ``i`` reads the knots around
    ``s = max((i + 0.5) knots / length - 0.5, 0)``, weights ``1 - (s - floor(s))`` and
    ``s - floor(s)``; ``"nearest"``: knot ``floor(i knots / length)``.
    """
    m = np.zeros((knots, length), dtype=np.float64)
    scale = knots / length
    for i in range(length):
        if mode == "nearest":
            m[min(math.floor(i * scale), knots - 1), i] = 1.0
            continue
        s = max((i + 0.5) * scale - 0.5, 0.0)
        lo = int(s)
        hi = min(lo + 1, knots - 1)
        frac = s - lo
        m[lo, i] += 1.0 - frac
        m[hi, i] += frac
    return m


def max_pool(p: ForwardPath, x: Any, kernel: int) -> Any:
    """Max pooling along axis 1 of ``(B, T)`` or ``(B, T, C)`` with kernel and stride ``kernel``:
    ``(B, ceil(T / kernel)[, C])``. Windows end at the last step (the one before the forecast
    origin); the first window is shorter when ``kernel`` does not divide ``T`` (PyTorch's
    ``MaxPool1d(kernel, kernel, ceil_mode=True)`` on the time-reversed window, as the reference
    reads it)."""
    if kernel == 1:
        return x
    t = x.shape[1]
    windows = -(-t // kernel)
    lead = windows * kernel - t
    if lead:
        widths = ((0, 0), (lead, 0)) + (((0, 0),) if x.ndim == 3 else ())
        x = p.op("pad", x, pad_width=widths, value=-np.inf)
    x = x.reshape(x.shape[0], windows, kernel, *x.shape[2:])
    return p.op("max", x, axis=2)


class NHITSBlock(FullyConnectedBlock):
    """One N-HiTS block: its inputs max-pooled with kernel ``pool_kernel``, ``num_layers`` fully
    connected ReLU layers, then ``theta``: the backcast (``lookback`` values) and ``knots * Q``
    forecast values interpolated to the horizon by :func:`interpolation_matrix`.

    The fully connected stack reads, concatenated: the pooled residual window, the pooled past
    covariates (``past`` ``(B, L, P)``, flattened), the pooled known covariates over the horizon
    (``future`` ``(B, H, K)``) and the static vector (``static`` ``(B, S)``), as NeuralForecast's
    NHITS block does.

    Shapes: ``x`` ``(B, lookback)``; returns ``(backcast (B, lookback), forecast (B, horizon * Q))``
    (forecast laid out as ``(horizon, Q)`` row-major).
    """

    def __init__(
        self,
        lookback: int,
        horizon: int,
        n_outputs: int,
        pool_kernel: int,
        knots: int,
        num_layers: int,
        layer_width: int,
        covariates: tuple[int, int, int],
        interpolation: str,
        dropout: float,
        rng: np.random.Generator,
        dtype: Any,
    ) -> None:
        past, future, static = covariates  # P past covariates, K known ones, the static width
        inputs = -(-lookback // pool_kernel) * (1 + past) + -(-horizon // pool_kernel) * future
        inputs += static
        super().__init__(
            lookback, horizon, n_outputs, inputs, num_layers, layer_width, dropout, rng, dtype
        )
        self.pool_kernel, self.knots = pool_kernel, knots
        self.theta = Linear(layer_width, lookback + knots * n_outputs, rng=rng, dtype=dtype)
        basis = interpolation_matrix(knots, horizon, interpolation)
        self._basis = DtypeCache(basis if n_outputs == 1 else basis.T)

    def forward(
        self,
        x: Tensor,
        backcast: bool = True,
        past: Tensor | None = None,
        future: Tensor | None = None,
        static: Tensor | None = None,
    ) -> tuple[Tensor | None, Tensor]:
        """``(B, lookback)`` -> ``(backcast, forecast)``; the backcast is None when
        ``backcast=False``."""
        return forward_on_path(self._compute, x, backcast, past, future, static)

    def forward_arrays(
        self,
        x: np.ndarray,
        backcast: bool = True,
        past: np.ndarray | None = None,
        future: np.ndarray | None = None,
        static: np.ndarray | None = None,
    ) -> tuple[np.ndarray | None, np.ndarray]:
        """:meth:`forward` on arrays, nothing recorded."""
        return self._compute(ARRAYS, x, backcast, past, future, static)

    def _compute(
        self, p: ForwardPath, x: Any, backcast: bool, past: Any, future: Any, static: Any
    ) -> tuple[Any, Any]:
        k = self.pool_kernel
        batch = x.shape[0]
        parts = [max_pool(p, x, k)]
        for series in (past, future):
            if series is not None:
                pooled = max_pool(p, series, k)
                parts.append(pooled.reshape(batch, pooled.shape[1] * pooled.shape[2]))
        if static is not None:
            parts.append(static)
        h = parts[0] if len(parts) == 1 else p.op("concat", *parts, axis=1)
        for layer in self.layers:
            h = p.op("relu", p.forward(layer)(h))
            if self.dropout is not None:
                h = p.forward(self.dropout)(h)
        theta = p.forward(self.theta)(h)
        back = theta[:, : self.lookback] if backcast else None
        knots = theta[:, self.lookback :]
        basis = self._basis.get(self.theta.weight._data.dtype)
        if self.n_outputs == 1:
            return back, p.op("matmul", knots, basis)
        knots = knots.reshape(batch, self.knots, self.n_outputs)
        forecast = p.op("matmul", basis, knots)  # (H, knots) @ (B, knots, Q) -> (B, H, Q)
        return back, forecast.reshape(batch, self.horizon * self.n_outputs)

    def extra_repr(self) -> str:
        return f"pool_kernel={self.pool_kernel}, knots={self.knots}, layers={len(self.layers)}"


class NHITSModel(ForecastingModel, registry_name="nhits"):
    """N-HiTS forecaster (registry name ``"nhits"``).

    Stacks of :class:`NHITSBlock` with doubly residual stacking (each block reads the residual
    window left by the blocks before it, the forecasts add up: :func:`doubly_residual`, as
    N-BEATS). Stack ``s`` reads its inputs max-pooled with kernel ``pool_kernel_size[s]``
    (multi-rate signal sampling, section 3.1 of the paper) and forecasts
    ``max(horizon // freq_downsample[s], 1)`` knots, linearly interpolated to the horizon
    (hierarchical interpolation, section 3.2; the expressiveness ratio of the stack is
    ``1 / freq_downsample[s]``). The defaults put the coarse stacks first, as the paper
    recommends: kernels ``[2, 2, 1]`` and downsampling ``[4, 2, 1]`` (NeuralForecast's defaults;
    the paper tunes both per data set from the sets listed in its appendix).

    Covariates are block inputs, as NeuralForecast's NHITS takes them: the past covariates (features
    1.. of ``x``, the known covariates' history among them) and the known covariates over the
    horizon, max-pooled with the block's kernel and flattened, and the static vector. An input
    ``mask`` zeroes the residual's padded positions after every block, as N-BEATS.

    Args (all of them are the configuration returned by :meth:`config`, except ``rng``/``seed``):
        n_features: features per step: the target, then the past covariates.
        lookback: input window length.
        horizon: steps forecast at once.
        pool_kernel_size: max-pooling kernel (and stride) of each stack's input; its length is the
            number of stacks.
        freq_downsample: each stack forecasts ``max(horizon // f, 1)`` knots (one per stack).
        num_blocks: blocks per stack (int or one per stack; paper: 1).
        num_layers: fully connected ReLU layers per block (int or per stack; paper: 2).
        layer_width: their width (int or per stack; paper: 512).
        interpolation: ``"linear"`` (paper) or ``"nearest"``.
        dropout: dropout after every fully connected layer (training mode only; paper: 0).
        The options every model shares (the covariate inputs, instance normalization,
            ``quantiles``: every block's knots are ``Q`` vectors, ``dtype``, ``rng``/``seed``)
            are :class:`~swets_models._base.ForecastingModel`'s.

    Shapes: input ``(batch, lookback, n_features)``; output ``(batch, horizon)`` or
    ``(batch, horizon, len(quantiles))``.

    Parameters: ``blocks.{j}.layers.{i}.{weight,bias}``, ``blocks.{j}.theta.{weight,bias}``.
    """

    def __init__(
        self,
        *,
        pool_kernel_size: list[int] | tuple[int, ...] = (2, 2, 1),
        freq_downsample: list[int] | tuple[int, ...] = (4, 2, 1),
        num_blocks: int | list[int] = 1,
        num_layers: int | list[int] = 2,
        layer_width: int | list[int] = 512,
        interpolation: str = "linear",
        dropout: float = 0.0,
        **common: Any,
    ) -> None:
        super().__init__(**common)
        owner = "NHITSModel"
        if not isinstance(pool_kernel_size, (list, tuple)) or not pool_kernel_size:
            raise ConfigError(
                f"{owner}: pool_kernel_size must be a non-empty list of ints (one per stack), "
                f"got {pool_kernel_size!r}"
            )
        n = len(pool_kernel_size)
        self.pool_kernel_size = per_stack(list(pool_kernel_size), "pool_kernel_size", owner, n)
        if not isinstance(freq_downsample, (list, tuple)):
            raise ConfigError(
                f"{owner}: freq_downsample must be a list of {n} ints (one per stack), "
                f"got {freq_downsample!r}"
            )
        self.freq_downsample = per_stack(list(freq_downsample), "freq_downsample", owner, n)
        self.num_blocks = per_stack(num_blocks, "num_blocks", owner, n)
        self.num_layers = per_stack(num_layers, "num_layers", owner, n)
        self.layer_width = per_stack(layer_width, "layer_width", owner, n)
        self.interpolation = choice(interpolation, "interpolation", owner, INTERPOLATIONS)
        self.dropout = probability(dropout, "dropout", owner)
        gen = self._generator()
        self._init_inputs(gen)
        static = 0 if self.static_covariates is None else self.static_covariates.width
        covariates = (self.n_features - 1, self.n_future_features, static)
        self.blocks = [
            NHITSBlock(
                self.lookback,
                self.horizon,
                self.n_outputs,
                self.pool_kernel_size[s],
                max(self.horizon // self.freq_downsample[s], 1),
                self.num_layers[s],
                self.layer_width[s],
                covariates,
                self.interpolation,
                self.dropout,
                gen,
                self._dtype.value,
            )
            for s in range(n)
            for _ in range(self.num_blocks[s])
        ]

    def _reference_parameter(self) -> Any:
        return self.blocks[0].theta.weight

    def _compute(self, p: ForwardPath, x: Any, future: Any, static: Any, mask: Any) -> Any:
        past = x[:, :, 1:] if self.n_features > 1 else None
        if static is not None:
            assert self.static_covariates is not None
            static = self.static_covariates.compute(p, static)
        forecast = doubly_residual(
            p, self.blocks, x[:, :, 0], mask, past=past, future=future, static=static
        )
        return self._finish(p, forecast)
