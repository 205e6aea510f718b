"""What every forecasting model shares: configuration checks, input checks and the output head layout.

A model reads a window ``(batch, lookback, features)`` whose feature 0 is the target and the others are
past covariates, and returns ``(batch, horizon)`` (point forecast) or ``(batch, horizon, Q)`` when it
was configured with ``quantiles=[q_1, ..., q_Q]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from swets_core import Module, Tensor, active_tape
from swets_core.dtype import DType
from swets_core.errors import ConfigError, DTypeError, ShapeError
from swets_nn.paths import ARRAYS, TENSORS, ForwardPath

_DEFAULT_LOOKBACK = 96

RngLike = np.random.Generator | int | None
"""A numpy Generator (used as is), an int seed, or None (fresh entropy)."""


# ------------------------------------------------------------------------------------------------
# Configuration checks: each raises ConfigError naming the model and the parameter
# ------------------------------------------------------------------------------------------------


def positive_int(value: Any, name: str, owner: str, minimum: int = 1) -> int:
    """``value`` as an int ``>= minimum`` (bools and floats are rejected)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"{owner}: {name} must be an int >= {minimum}, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{owner}: {name} must be an int >= {minimum}, got {value}")
    return int(value)


def probability(value: Any, name: str, owner: str) -> float:
    """A dropout probability in ``[0, 1)``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"{owner}: {name} must be a number in [0, 1), got {value!r}")
    p = float(value)
    if not 0.0 <= p < 1.0:
        raise ConfigError(f"{owner}: {name} must be in [0, 1), got {value}")
    return p


def choice(value: Any, name: str, owner: str, options: Sequence[str]) -> str:
    """One of ``options``."""
    if value not in options:
        shown = ", ".join(repr(o) for o in options)
        raise ConfigError(f"{owner}: {name} must be one of {shown}, got {value!r}")
    return str(value)


def flag(value: Any, name: str, owner: str) -> bool:
    """A bool (``0``/``1`` and strings are rejected so a typo cannot flip an option)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{owner}: {name} must be True or False, got {value!r}")
    return bool(value)


def per_stack(value: Any, name: str, owner: str, count: int, minimum: int = 1) -> list[int]:
    """An int applied to every one of ``count`` stacks, or a list with one int per stack."""
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise ConfigError(
                f"{owner}: {name} must be an int or a list of {count} ints (one per stack), "
                f"got {len(value)} values {list(value)!r}"
            )
        return [positive_int(v, f"{name}[{i}]", owner, minimum) for i, v in enumerate(value)]
    return [positive_int(value, name, owner, minimum)] * count


def quantile_levels(value: Any, owner: str) -> list[float] | None:
    """None (point forecast) or a non-empty list of distinct levels strictly inside (0, 1)."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, np.ndarray)):
        raise ConfigError(
            f"{owner}: quantiles must be None or a list of levels in (0, 1), got {value!r}"
        )
    levels = []
    for i, q in enumerate(value):
        if isinstance(q, bool) or not isinstance(q, (int, float, np.integer, np.floating)):
            raise ConfigError(f"{owner}: quantiles[{i}] must be a number in (0, 1), got {q!r}")
        q = float(q)
        if not 0.0 < q < 1.0:
            raise ConfigError(f"{owner}: quantiles[{i}] must be strictly inside (0, 1), got {q}")
        levels.append(q)
    if not levels:
        raise ConfigError(f"{owner}: quantiles must not be empty (use None for a point forecast)")
    if len(set(levels)) != len(levels):
        raise ConfigError(f"{owner}: quantiles must be distinct, got {levels}")
    return levels


def float_dtype(value: Any, owner: str) -> DType:
    """float32 or float64."""
    try:
        d = DType.of(value)
    except DTypeError as exc:
        raise ConfigError(f"{owner}: dtype: {exc}") from None
    if not d.is_floating:
        raise ConfigError(f"{owner}: dtype must be 'float32' or 'float64', got {d.value!r}")
    return d


def resolve_rng(rng: RngLike, seed: Any, owner: str) -> np.random.Generator:
    """The generator that draws the initial parameters: from ``rng`` or ``seed`` (not both)."""
    if seed is not None:
        if rng is not None:
            raise ConfigError(f"{owner}: give rng or seed, not both")
        rng = seed
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise ConfigError(
        f"{owner}: rng/seed must be a numpy.random.Generator, a non-negative int or None, "
        f"got {rng!r}"
    )


# ------------------------------------------------------------------------------------------------
# The base class
# ------------------------------------------------------------------------------------------------


class ForecastingModel(Module):
    """Base of the swets forecasting models (TCN, Transformer, LSTM, N-BEATS).

    Holds the configuration keys every model shares and checks inputs:

    - ``n_features``: features per time step (feature 0 is the target, the rest past covariates);
    - ``lookback``: length of the input window;
    - ``horizon``: number of future steps forecast at once (direct multi-step);
    - ``input_size``: accepted as another name for ``lookback`` (NeuralForecast's name);
      ``config()`` stores ``lookback``;
    - ``quantiles``: None for a point forecast, or the quantile levels of a quantile head;
    - ``dtype``: ``"float32"`` (default) or ``"float64"``, the parameter dtype.

    The forward pass is written once, as ``_compute(p, x)`` on a :class:`swets_nn.paths.ForwardPath`
    composing the layers' forwards (``p.forward(layer)``) and registered ops (``p.op``):
    :meth:`forward` runs it on Tensors when a tape records and on arrays otherwise (no Tensor or
    layer call per op: most of the time of a batch-1 forecast), :meth:`forward_arrays` on arrays.

    Subclasses set ``registry_name`` and implement ``config()`` and ``_compute``.
    """

    registry_name: str = ""

    def _init_common(
        self,
        n_features: Any,
        lookback: Any,
        horizon: Any,
        quantiles: Any,
        dtype: Any,
        input_size: Any = None,
    ) -> None:
        owner = type(self).__name__
        if input_size is not None:  # NeuralForecast's name for the lookback
            if lookback is not None and lookback != input_size and lookback != _DEFAULT_LOOKBACK:
                raise ConfigError(
                    f"{owner}: input_size={input_size!r} and lookback={lookback!r} disagree; "
                    "input_size is another name for lookback, give one of them"
                )
            lookback = input_size
        self.n_features = positive_int(n_features, "n_features", owner)
        self.lookback = positive_int(lookback, "lookback", owner)
        self.horizon = positive_int(horizon, "horizon", owner)
        self.quantiles = quantile_levels(quantiles, owner)
        self._dtype = float_dtype(dtype, owner)
        self._np_dtype = self._dtype.numpy

    # -- shapes --------------------------------------------------------------------------------
    @property
    def n_outputs(self) -> int:
        """Values per horizon step: 1 for a point forecast, ``len(quantiles)`` otherwise."""
        return 1 if self.quantiles is None else len(self.quantiles)

    @property
    def dtype(self) -> str:
        """The parameters' dtype name (follows ``astype``), as stored in ``config()``."""
        return DType.of(self._param_dtype()).value

    def output_shape(self, batch: int) -> tuple[int, ...]:
        """``(batch, horizon)`` or ``(batch, horizon, Q)``."""
        if self.quantiles is None:
            return (batch, self.horizon)
        return (batch, self.horizon, len(self.quantiles))

    def _param_dtype(self) -> np.dtype:
        """The parameters' dtype, read from one representative parameter (no module walk)."""
        return self._reference_parameter()._data.dtype

    def _reference_parameter(self) -> Any:
        """A parameter whose dtype is the model's (subclasses return e.g. their head's weight)."""
        return self.parameters()[0]

    def forward(self, x: Tensor) -> Tensor:
        """``(batch, lookback, n_features)`` -> ``(batch, horizon)`` or ``(batch, horizon, Q)``."""
        x = self._prepare(x)
        if active_tape() is None:  # nothing records: the array path, one Tensor at the end
            return Tensor(self._compute(ARRAYS, x._data))
        return self._compute(TENSORS, x)

    def forward_arrays(self, x: np.ndarray) -> np.ndarray:
        """:meth:`forward` on an array, nothing recorded."""
        if not isinstance(x, np.ndarray):
            return self._compute(ARRAYS, self._prepare(x)._data)
        self._check_input(x)
        return self._compute(ARRAYS, x)

    def _compute(self, p: ForwardPath, x: Any) -> Any:
        raise NotImplementedError

    def _prepare(self, x: Any) -> Tensor:
        """``x`` as a Tensor (lists take the parameters' dtype), checked by :meth:`_check_input`."""
        if not isinstance(x, Tensor):
            x = Tensor(x) if isinstance(x, np.ndarray) else Tensor(x, self._param_dtype())
        self._check_input(x._data)
        return x

    def _check_input(self, data: np.ndarray) -> None:
        """Check ``data`` is ``(batch, lookback, n_features)`` of the parameters' dtype."""
        shape = data.shape
        if len(shape) != 3 or shape[1] != self.lookback or shape[2] != self.n_features:
            owner = type(self).__name__
            raise ShapeError(
                f"{owner}: expected input of shape (batch, {self.lookback}, {self.n_features}) "
                f"= (batch, lookback, features), got shape {shape}"
            )
        if data.dtype is not self._reference_parameter()._data.dtype:
            self._check_dtype(data)

    def _check_dtype(self, data: np.ndarray) -> None:
        dtype = self._param_dtype()
        if data.dtype != dtype:
            owner = type(self).__name__
            if data.dtype.kind != "f":
                raise DTypeError(f"{owner}: expected a floating-point input, got {data.dtype}")
            raise DTypeError(
                f"{owner}: the input has dtype {data.dtype} but the parameters are {dtype}; "
                f"convert the input or call model.astype({str(data.dtype)!r})"
            )

    def _finish(self, p: ForwardPath, y: Any) -> Any:
        """``(batch, horizon * Q)`` head output -> ``(batch, horizon)`` or ``(batch, horizon, Q)``."""
        if self.quantiles is None:
            return y
        return y.reshape(y.shape[0], self.horizon, len(self.quantiles))

    def _common_config(self) -> dict[str, Any]:
        return {
            "n_features": self.n_features,
            "lookback": self.lookback,
            "horizon": self.horizon,
            "quantiles": None if self.quantiles is None else list(self.quantiles),
        }

    def config(self) -> dict[str, Any]:
        """The configuration as plain data; ``registry.create("models", name, **config)`` rebuilds."""
        raise NotImplementedError

    def extra_repr(self) -> str:
        cfg = self.config()
        return ", ".join(f"{k}={v!r}" for k, v in cfg.items())


def sinusoidal_encoding(length: int, d_model: int) -> np.ndarray:
    """The fixed positional encoding of "Attention is all you need", float64 ``(length, d_model)``.

    ``PE[t, 2i] = sin(t / 10000^(2i/d))`` and ``PE[t, 2i+1] = cos(t / 10000^(2i/d))`` (an odd
    ``d_model`` drops the last cosine column).
    """
    pos = np.arange(length, dtype=np.float64)[:, None]
    div = np.exp(np.arange(0, d_model, 2, dtype=np.float64) * (-math.log(10000.0) / d_model))
    pe = np.zeros((length, d_model), dtype=np.float64)
    pe[:, 0::2] = np.sin(pos * div)
    pe[:, 1::2] = np.cos(pos * div)[:, : d_model // 2]
    return pe


class DtypeCache:
    """A constant array (basis, positional table) kept in float64 and handed out per dtype."""

    __slots__ = ("_by_dtype", "base")

    def __init__(self, base: np.ndarray) -> None:
        self.base = base
        self._by_dtype: dict[np.dtype, np.ndarray] = {}

    def get(self, dtype: np.dtype) -> np.ndarray:
        arr = self._by_dtype.get(dtype)
        if arr is None:
            arr = np.ascontiguousarray(self.base, dtype=dtype)
            arr.setflags(write=False)
            self._by_dtype[dtype] = arr
        return arr


__all__ = ["DtypeCache", "ForecastingModel", "RngLike", "sinusoidal_encoding"]
