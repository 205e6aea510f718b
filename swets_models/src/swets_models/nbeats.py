"""N-BEATS (Oreshkin, Carpov, Chapados and Bengio, ICLR 2020): generic and interpretable forecasters,
with exogenous inputs to every block as NBEATSx (Olivares, Challu, Marcjasz, Weron and Dubrawski,
International Journal of Forecasting 2023)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from swets_core import Module, Tensor
from swets_core.errors import ConfigError, ShapeError
from swets_models._base import (
    DtypeCache,
    ForecastingModel,
    flag,
    per_stack,
    positive_int,
)
from swets_nn import Dropout, Linear
from swets_nn.paths import ARRAYS, ForwardPath, forward_on_path

__all__ = [
    "FullyConnectedBlock",
    "NBEATSBlock",
    "NBEATSModel",
    "doubly_residual",
    "fourier_basis",
    "polynomial_basis",
]

STACK_TYPES = ("generic", "trend", "seasonality")


def polynomial_basis(degree: int, length: int) -> np.ndarray:
    """Trend basis ``T[i, t] = (t / length) ** i`` for ``i = 0..degree``, float64 ``(degree+1, length)``."""
    t = np.arange(length, dtype=np.float64) / length
    return np.stack([t**i for i in range(degree + 1)])


def fourier_basis(harmonics: int, length: int) -> np.ndarray:
    """Seasonality basis ``[1, cos(2 pi k t) for k=1..K, sin(2 pi k t) for k=1..K]`` with
    ``t = arange(length) / length``: float64 ``(2K + 1, length)``."""
    t = np.arange(length, dtype=np.float64) / length
    k = np.arange(1, harmonics + 1, dtype=np.float64)[:, None]
    return np.concatenate(
        [np.ones((1, length)), np.cos(2 * math.pi * k * t), np.sin(2 * math.pi * k * t)]
    )


def doubly_residual(
    p: ForwardPath, blocks: list[Any], residual: Any, mask: Any, **inputs: Any
) -> Any:
    """Doubly residual stacking (N-BEATS, section 3.2): each block reads the residual window left
    by the blocks before it, ``x_l = (x_{l-1} - backcast_{l-1})`` (zeroed at padded positions when
    a ``mask`` is given), and the forecast is the sum of every block's forecast.

    ``blocks`` are called in order as ``block(residual, backcast=..., **inputs)`` and return
    ``(backcast, forecast)``; the last one is asked for no backcast (it would feed nothing).
    """
    forecast = None
    last = len(blocks) - 1
    for i, block in enumerate(blocks):
        backcast, f = p.forward(block)(residual, backcast=i != last, **inputs)
        forecast = f if forecast is None else p.op("add", forecast, f)
        if backcast is not None:
            residual = p.op("sub", residual, backcast)
            if mask is not None:
                residual = p.op("mul", residual, mask)
    return forecast


class FullyConnectedBlock(Module):
    """What the N-BEATS and N-HiTS blocks share: ``lookback``, ``horizon``, ``n_outputs`` (Q),
    and ``layers``, ``num_layers`` fully connected layers of ``layer_width`` units reading
    ``inputs`` values (each followed by ReLU, then ``dropout`` when not None)."""

    def __init__(
        self,
        lookback: int,
        horizon: int,
        n_outputs: int,
        inputs: int,
        num_layers: int,
        layer_width: int,
        dropout: float,
        rng: np.random.Generator,
        dtype: Any,
    ) -> None:
        super().__init__()
        self.lookback, self.horizon, self.n_outputs = lookback, horizon, n_outputs
        self.layers = [Linear(inputs, layer_width, rng=rng, dtype=dtype)]
        for _ in range(num_layers - 1):
            self.layers.append(Linear(layer_width, layer_width, rng=rng, dtype=dtype))
        self.dropout = Dropout(dropout, rng=rng.spawn(1)[0]) if dropout else None


class NBEATSBlock(FullyConnectedBlock):
    """One N-BEATS block: ``num_layers`` fully connected ReLU layers, then the expansion
    coefficients ``theta`` and the backcast and forecast they span in the block's basis.

    - ``generic``: ``theta = W h + b`` of size ``lookback + horizon * Q``; its first ``lookback``
      values are the backcast and the rest the forecast (the paper's learnt basis ``V theta + b``
      with the two linear maps composed into one).
    - ``trend``: ``theta_b = W_b h`` (``p + 1`` values) and ``theta_f = W_f h`` (``(p + 1) Q``),
      each expanded on the polynomial basis :func:`polynomial_basis` of degree ``p``.
    - ``seasonality``: the same on the Fourier basis :func:`fourier_basis`.

    With ``exogenous`` values (NBEATSx), the fully connected layers read the residual window and
    the covariates concatenated; the backcast still spans the residual window only.

    Shapes: input ``(batch, lookback)`` (and exogenous ``(batch, exogenous)``); returns
    ``(backcast (batch, lookback), forecast (batch, horizon * Q))`` (forecast laid out as
    ``(horizon, Q)`` row-major).
    """

    def __init__(
        self,
        kind: str,
        lookback: int,
        horizon: int,
        n_outputs: int,
        num_layers: int,
        layer_width: int,
        trend_degree: int,
        harmonics: tuple[int, int],
        rng: np.random.Generator,
        dtype: Any,
        exogenous: int = 0,
    ) -> None:
        inputs = lookback + exogenous
        super().__init__(
            lookback, horizon, n_outputs, inputs, num_layers, layer_width, 0.0, rng, dtype
        )
        self.kind = kind
        self.exogenous = exogenous
        self._basis_b: DtypeCache | None = None
        self._basis_f: DtypeCache | None = None
        if kind == "generic":
            self.theta = Linear(layer_width, lookback + horizon * n_outputs, rng=rng, dtype=dtype)
            self._split = lookback
            return
        if kind == "trend":
            basis_b = polynomial_basis(trend_degree, lookback)
            basis_f = polynomial_basis(trend_degree, horizon)
        else:
            basis_b = fourier_basis(harmonics[0], lookback)
            basis_f = fourier_basis(harmonics[1], horizon)
        pb, pf = basis_b.shape[0], basis_f.shape[0]
        self._split = pb
        self.theta = Linear(layer_width, pb + pf * n_outputs, bias=False, rng=rng, dtype=dtype)
        self._basis_b = DtypeCache(basis_b)
        if n_outputs == 1:
            self._basis_f = DtypeCache(basis_f)  # theta_f (B, P) @ (P, H)
        else:
            self._basis_f = DtypeCache(basis_f.T)  # (H, P) @ theta_f (B, P, Q) -> (B, H, Q)
        self._pf = pf

    def forward(
        self, x: Tensor, backcast: bool = True, exogenous: Tensor | None = None
    ) -> tuple[Tensor | None, Tensor]:
        """``(batch, lookback)`` -> ``(backcast (batch, lookback), forecast (batch, horizon * Q))``;
        the backcast is None when ``backcast=False`` (the last block of a model needs none);
        ``exogenous`` ``(batch, exogenous)`` are the covariates of a block built for them."""
        return forward_on_path(self._compute, x, backcast, exogenous)

    def forward_arrays(
        self, x: np.ndarray, backcast: bool = True, exogenous: np.ndarray | None = None
    ) -> tuple[np.ndarray | None, np.ndarray]:
        """:meth:`forward` on an array, nothing recorded."""
        return self._compute(ARRAYS, x, backcast, exogenous)

    def _compute(
        self, p: ForwardPath, x: Any, backcast: bool, exogenous: Any = None
    ) -> tuple[Any, Any]:
        h = x if exogenous is None else p.op("concat", x, exogenous, axis=1)
        for layer in self.layers:
            h = p.op("relu", p.forward(layer)(h))
        theta = p.forward(self.theta)(h)
        cut = self._split  # (Tensors index as arrays do)
        theta_f = theta[:, cut:]
        back = theta[:, :cut] if backcast else None
        if self._basis_b is None:
            return back, theta_f
        dtype = self.theta.weight._data.dtype
        if back is not None:
            back = p.op("matmul", back, self._basis_b.get(dtype))
        if self.n_outputs == 1:
            return back, p.op("matmul", theta_f, self._basis_f.get(dtype))
        batch = theta.shape[0]
        coeffs = theta_f.reshape(batch, self._pf, self.n_outputs)
        forecast = p.op("matmul", self._basis_f.get(dtype), coeffs)  # (B, H, Q)
        return back, forecast.reshape(batch, self.horizon * self.n_outputs)

    def extra_repr(self) -> str:
        exogenous = f", exogenous={self.exogenous}" if self.exogenous else ""
        return f"kind={self.kind!r}, layers={len(self.layers)}{exogenous}"


class NBEATSModel(ForecastingModel, registry_name="nbeats"):
    """N-BEATS forecaster (registry name ``"nbeats"``): stacks of blocks with doubly residual stacking.

    Every block reads the residual of the input window left by the blocks before it (its backcast is
    subtracted) and adds its forecast to the model's forecast. The residual is the target's; the
    covariates are exogenous inputs of every block, as NBEATSx: the past covariates over the lookback
    (features 1.. of ``x``, the known covariates' history among them), the known covariates over the
    horizon and the static vector, flattened and concatenated with the residual at each block's
    input. With an input ``mask`` (1 observed, 0 padding: windows zero-padded for short histories),
    the residual is zeroed at the padded positions before the first block and after every block,
    as the paper's reference implementation does.

    The options every model shares (the covariate inputs, instance normalization, ``quantiles``,
    ``dtype``, ``rng``/``seed``, ``input_size``) are :class:`ForecastingModel`'s.

    Args (all of them are the configuration returned by :meth:`config`, except ``rng``/``seed``):
        n_features: features per step: 1 (the target alone), or the target then past covariates.
        lookback: input window length.
        horizon: steps forecast at once.
        stack_types: the stacks in order, each ``"generic"``, ``"trend"`` or ``"seasonality"``.
            The paper's generic model is ``["generic"]`` (any number of blocks); its interpretable one
            is ``["trend", "seasonality"]`` (see :meth:`interpretable`).
        num_blocks: blocks per stack (an int for every stack or a list, one per stack).
        num_layers: fully connected layers per block (int or per-stack list).
        layer_width: units of those layers (int or per-stack list).
        trend_degree: polynomial degree ``p`` of trend stacks.
        num_harmonics: Fourier harmonics ``K`` of seasonality stacks; None uses the paper's
            ``floor(length / 2) - 1`` (at least 1), separately for the backcast and the forecast.
        share_weights: blocks of one stack share their parameters (the paper does so for the
            interpretable model); the stack then applies one block ``num_blocks`` times.
        naive_level: the forecast starts at the window's last value (the naive forecast) and
            every block's forecast adds to it, as the paper's reference implementation (and
            NeuralForecast's) does; False (default): the forecast is the sum of the blocks'
            forecasts, as the paper's equations write it.
        quantiles: None for a point forecast, else the levels of a quantile head (the forecast
            branch of every block emits ``horizon * Q`` values).
        rng / seed: numpy Generator or int seed for the initial parameters.

    Shapes:
        input ``(batch, lookback)`` or ``(batch, lookback, n_features)``; output
        ``(batch, horizon)`` or ``(batch, horizon, len(quantiles))``.
    """

    def __init__(
        self,
        *,
        stack_types: list[str] | tuple[str, ...] = ("generic",),
        num_blocks: int | list[int] = 3,
        num_layers: int | list[int] = 4,
        layer_width: int | list[int] = 512,
        trend_degree: int = 3,
        num_harmonics: int | None = None,
        share_weights: bool = False,
        naive_level: bool = False,
        **common: Any,
    ) -> None:
        super().__init__(**common)
        owner = "NBEATSModel"
        if isinstance(stack_types, str) or not isinstance(stack_types, (list, tuple)):
            raise ConfigError(
                f"{owner}: stack_types must be a list of 'generic', 'trend' or 'seasonality', "
                f"got {stack_types!r}"
            )
        if not stack_types:
            raise ConfigError(f"{owner}: stack_types must name at least one stack")
        for i, kind in enumerate(stack_types):
            if kind not in STACK_TYPES:
                raise ConfigError(
                    f"{owner}: stack_types[{i}] must be 'generic', 'trend' or 'seasonality', "
                    f"got {kind!r}"
                )
        self.stack_types = [str(k) for k in stack_types]
        n = len(self.stack_types)
        self.num_blocks = per_stack(num_blocks, "num_blocks", owner, n)
        self.num_layers = per_stack(num_layers, "num_layers", owner, n)
        self.layer_width = per_stack(layer_width, "layer_width", owner, n)
        self.trend_degree = positive_int(trend_degree, "trend_degree", owner, minimum=0)
        if num_harmonics is None:
            self.num_harmonics = None
            harmonics = (max(self.lookback // 2 - 1, 1), max(self.horizon // 2 - 1, 1))
        else:
            self.num_harmonics = positive_int(num_harmonics, "num_harmonics", owner)
            harmonics = (self.num_harmonics, self.num_harmonics)
        self.share_weights = flag(share_weights, "share_weights", owner)
        self.naive_level = flag(naive_level, "naive_level", owner)
        gen = self._generator()
        dt = self._dtype.value
        self._init_inputs(gen)
        self._past = self.lookback * (self.n_features - 1)  # the past covariates, flattened
        exogenous = self._past + self.exogenous_width
        # unique blocks, and the order in which they run (a shared block runs num_blocks times)
        self.blocks: list[NBEATSBlock] = []
        self._schedule: list[int] = []
        for s, kind in enumerate(self.stack_types):
            for b in range(self.num_blocks[s]):
                if b == 0 or not self.share_weights:
                    self.blocks.append(
                        NBEATSBlock(
                            kind,
                            self.lookback,
                            self.horizon,
                            self.n_outputs,
                            self.num_layers[s],
                            self.layer_width[s],
                            self.trend_degree,
                            harmonics,
                            gen,
                            dt,
                            exogenous,
                        )
                    )
                self._schedule.append(len(self.blocks) - 1)

    @classmethod
    def interpretable(
        cls,
        lookback: int,
        horizon: int,
        **overrides: Any,
    ) -> NBEATSModel:
        """The paper's interpretable configuration: a trend stack (width 256) then a seasonality stack
        (width 2048), 3 blocks of 4 layers each, weights shared within each stack; ``overrides``
        replace any of these (and pass ``quantiles``, ``dtype``, ``seed``...)."""
        cfg: dict[str, Any] = {
            "stack_types": ["trend", "seasonality"],
            "num_blocks": 3,
            "num_layers": 4,
            "layer_width": [256, 2048],
            "share_weights": True,
        }
        cfg.update(overrides)
        return cls(lookback=lookback, horizon=horizon, **cfg)

    def _reference_parameter(self) -> Any:
        return self.blocks[0].theta.weight

    def _check_input(self, data: np.ndarray) -> None:
        """Check ``data`` is ``(batch, lookback, n_features)`` (or ``(batch, lookback)`` for the
        target alone) of the parameters' dtype."""
        shape = data.shape
        f = self.n_features
        ok = (len(shape) == 2 and shape[1] == self.lookback and f == 1) or (
            len(shape) == 3 and shape[1] == self.lookback and shape[2] == f
        )
        if not ok:
            alone = f"(batch, {self.lookback}) or " if f == 1 else ""
            raise ShapeError(
                f"NBEATSModel: expected input of shape {alone}(batch, {self.lookback}, {f}) = "
                f"(batch, lookback, features), got shape {shape}"
            )
        self._check_dtype(data)

    def _compute(self, p: ForwardPath, x: Any, future: Any, static: Any, mask: Any) -> Any:
        """Doubly residual stacking: each block reads the residual left by the blocks before it
        (zeroed at padded positions) and the covariates."""
        batch = x.shape[0]
        if x.ndim == 2:
            residual = x
        elif self.n_features == 1:
            residual = x.reshape(batch, self.lookback)
        else:
            residual = x[:, :, 0]
        parts = self._exogenous(p, future, static)
        if self._past:
            parts.insert(0, x[:, :, 1:].reshape(batch, self._past))
        exogenous = None
        if parts:
            exogenous = parts[0] if len(parts) == 1 else p.op("concat", *parts, axis=1)
        level = residual[:, -1:] if self.naive_level else None  # (B, 1): the naive forecast
        blocks = [self.blocks[index] for index in self._schedule]
        forecast = doubly_residual(p, blocks, residual, mask, exogenous=exogenous)
        if level is not None:  # every horizon step (and quantile) starts at the last value
            forecast = p.op("add", forecast, level)
        return self._finish(p, forecast)
