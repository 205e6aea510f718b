"""What every forecasting model shares: configuration checks, input checks, the covariate inputs,
instance normalization and the output head layout.

A model is called as ``model(x, future=None, static=None, mask=None)``:

- ``x`` ``(batch, lookback, features)``: feature 0 is the target, then the past covariates, then the
  known covariates' history (``[targets | past covariates | known covariates' history]``);
- ``future`` ``(batch, horizon, n_future_features)``: the known covariates over the horizon;
- ``static`` ``(batch, n_static_features)``: the static covariates of each window's series, numbers
  and category codes (``static_cardinalities``: 0 for a number, the number of categories otherwise);
- ``mask`` ``(batch, lookback)``: 1 for observed input positions, 0 for padding;

and returns ``(batch, horizon)`` (point forecast) or ``(batch, horizon, Q)`` when it was configured
with ``quantiles=[q_1, ..., q_Q]``. What a model uses is declared by its class attributes
``supports_past_covariates``, ``supports_future_covariates`` and ``supports_static_covariates``.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from swets_core import Module, Tensor, active_tape
from swets_core.checks import RngLike, as_generator, check_count
from swets_core.dtype import DType
from swets_core.errors import ArgumentTypeError, ConfigError, DTypeError, ShapeError
from swets_models.inputs import InstanceNorm, StaticCovariates, check_cardinalities
from swets_nn import Linear
from swets_nn.paths import ARRAYS, TENSORS, ForwardPath, forward_on_path

_DEFAULT_LOOKBACK = 96


# ------------------------------------------------------------------------------------------------
# Configuration checks: each raises ConfigError naming the model and the parameter
# ------------------------------------------------------------------------------------------------


def positive_int(value: Any, name: str, owner: str, minimum: int = 1) -> int:
    """``value`` as an int ``>= minimum`` (bools and floats are rejected): the core's
    :func:`~swets_core.checks.check_count`, naming the model."""
    return check_count(value, name, minimum, where=owner)


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
        return DType.floating(value)
    except DTypeError as exc:
        raise ConfigError(f"{owner}: dtype: {exc}") from None


def resolve_rng(rng: RngLike, seed: Any, owner: str) -> np.random.Generator:
    """The generator that draws the initial parameters: from ``rng`` or ``seed`` (not both)."""
    if seed is None:
        return as_generator(rng, owner)
    if rng is not None:
        raise ConfigError(f"{owner}: give rng or seed, not both")
    return as_generator(seed, owner, name="seed")


# ------------------------------------------------------------------------------------------------
# The base class
# ------------------------------------------------------------------------------------------------


class ForecastingModel(Module):
    """Base of the swets forecasting models (TCN, Transformer, LSTM, N-BEATS).

    Takes the configuration every model shares and checks inputs. The forward pass is written once,
    as ``_compute(p, x, future, static, mask)`` on a :class:`swets_nn.paths.ForwardPath` composing
    the layers' forwards (``p.forward(layer)``) and registered ops (``p.op``); :meth:`forward` runs
    it on Tensors when a tape records and on arrays otherwise (no Tensor or layer call per op: most
    of the time of a batch-1 forecast), :meth:`forward_arrays` on arrays. Instance normalization and
    the zeroing of padded input positions wrap it here, once for every model. A call without
    covariates, mask or instance normalization takes the same steps as before covariates existed.

    Args:
        n_features: features per time step of ``x`` (feature 0 is the target, then the past
            covariates and the known covariates' history).
        lookback: length of the input window.
        horizon: number of future steps forecast at once (direct multi-step).
        n_future_features: K, the known covariates given over the horizon as ``future``.
        n_static_features: S, the static covariates given as ``static``.
        static_cardinalities: per static covariate, 0 (a number) or its number of categories.
            A category code is embedded (:class:`swets_models.inputs.StaticCovariates`).
        instance_norm: reversible instance normalization (RevIN) of each window's target. See
            :class:`swets_models.inputs.InstanceNorm`.
        instance_norm_affine: RevIN with learnt affine parameters (needs ``instance_norm``).
        quantiles: None for a point forecast, else the levels of a quantile head.
        dtype: ``"float32"`` or ``"float64"``.
        rng / seed: numpy Generator or int seed for the initial parameters and dropout streams.
        input_size: another name for ``lookback`` (NeuralForecast's); ``config()`` stores
            ``lookback``.

    A subclass names itself in its class statement (``class LSTMModel(ForecastingModel,
    registry_name="lstm")``, or sets the ``registry_name`` attribute), takes its own options as
    keyword arguments and the shared ones (``n_features, lookback, horizon`` among them) as
    ``**common``: its signature, as ``inspect.signature``, jobs and ``swets list models`` read it,
    names them all, ``n_features, lookback, horizon`` first and the other shared options last
    (a subclass may name a shared option itself, to change its default). It calls
    ``super().__init__(**common)``, checks its own options and stores each under its own name
    (what :meth:`config` reads; :meth:`_option` translates another attribute), then takes its
    generator from :meth:`_generator`, builds its layers and calls :meth:`_init_inputs` (and
    :meth:`_init_head` for a linear head), and implements ``_compute``; :meth:`_exogenous` gives
    the covariates a head or block reads.
    """

    registry_name: str = ""
    supports_past_covariates: bool = True
    """The model reads past covariates (and the known covariates' history) in ``x``."""
    supports_future_covariates: bool = True
    """The model reads known covariates over the horizon (``future``)."""
    supports_static_covariates: bool = True
    """The model reads static covariates (``static``)."""
    supports_instance_norm: bool = True
    """The model can normalize each window itself (``instance_norm``); a model that cannot (it
    scales windows its own way) refuses ``instance_norm=True``, and a job builds it without its
    default ``data.instance_norm``."""

    _options: tuple[str, ...] = ()
    """The model's own options (its signature's names but the shared ones): :meth:`config`'s keys
    besides the shared ones."""

    def __init_subclass__(cls, registry_name: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if registry_name is not None:  # class Model(ForecastingModel, registry_name="name")
            cls.registry_name = registry_name
        if "__init__" in cls.__dict__:
            signature = _full_signature(cls)
            cls.__signature__ = signature  # type: ignore[attr-defined]
            shared = inspect.signature(ForecastingModel.__init__).parameters
            cls._options = tuple(n for n in signature.parameters if n not in shared)

    def __init__(
        self,
        n_features: int = 1,
        lookback: int = _DEFAULT_LOOKBACK,
        horizon: int = 24,
        *,
        n_future_features: int = 0,
        n_static_features: int = 0,
        static_cardinalities: list[int] | None = None,
        instance_norm: bool = False,
        instance_norm_affine: bool = False,
        quantiles: list[float] | None = None,
        dtype: Any = "float32",
        rng: RngLike = None,
        seed: int | None = None,
        input_size: int | None = None,
        **unknown: Any,
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        if unknown:  # as Python words it, but naming the model rather than this base
            raise ArgumentTypeError(
                f"{owner}.__init__() got an unexpected keyword argument {next(iter(unknown))!r}"
            )
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
        self.n_future_features = 0
        self.static_cardinalities: list[int] = []
        self.static_covariates: StaticCovariates | None = None
        self.revin: InstanceNorm | None = None
        self._plain = True  # no covariates, no instance normalization: the hot path
        k = positive_int(n_future_features, "n_future_features", owner, minimum=0)
        s = positive_int(n_static_features, "n_static_features", owner, minimum=0)
        cards = check_cardinalities(static_cardinalities, s, owner)
        for count, name, kind in (
            (k, "n_future_features", "future"),
            (s, "n_static_features", "static"),
        ):
            if count and not getattr(self, f"supports_{kind}_covariates"):
                raise ConfigError(
                    f"{owner}: {name} must be 0: the model reads no {kind} covariates"
                )
        if not self.supports_past_covariates and self.n_features != 1 + k:
            # x holds the target and the known covariates' history, nothing else
            what = "1"
            if self.supports_future_covariates:
                what = f"1 + n_future_features = {1 + k} (the target and the known covariates' history)"
            raise ConfigError(
                f"{owner}: n_features must be {what}: the model reads no past covariates, got "
                f"n_features={self.n_features}"
            )
        if not self.supports_instance_norm and flag(instance_norm, "instance_norm", owner):
            raise ConfigError(
                f"{owner}: instance_norm must be False: the model scales each window its own way"
            )
        # what the subclass's build consumes, after its own checks
        self._pending_rng: tuple[Any, Any] | None = (rng, seed)
        self._pending_inputs: tuple[Any, ...] | None = (
            k,
            cards,
            instance_norm,
            instance_norm_affine,
        )

    def _generator(self) -> np.random.Generator:
        """The generator of the initial parameters (and dropout streams), from ``rng`` or ``seed``
        (not both); called once, after the subclass's own checks."""
        assert self._pending_rng is not None, "_generator() is called once"
        rng, seed = self._pending_rng
        self._pending_rng = None
        return resolve_rng(rng, seed, type(self).__name__)

    def _init_inputs(self, rng: np.random.Generator) -> None:
        """Set the covariate inputs and the instance normalization (after the model's own layers,
        so a model without covariates draws its initial values as before)."""
        assert self._pending_inputs is not None, "_init_inputs() is called once"
        k, cards, instance_norm, instance_norm_affine = self._pending_inputs
        self._pending_inputs = None
        owner = type(self).__name__
        self.n_future_features = k
        self.static_cardinalities = list(cards)
        self.instance_norm = flag(instance_norm, "instance_norm", owner)
        self.instance_norm_affine = flag(instance_norm_affine, "instance_norm_affine", owner)
        if self.instance_norm_affine and not self.instance_norm:
            raise ConfigError(f"{owner}: instance_norm_affine needs instance_norm=True")
        dt = self._dtype.value
        if self.static_cardinalities:
            self.static_covariates = StaticCovariates(self.static_cardinalities, rng, dt)
        if self.instance_norm:
            self.revin = InstanceNorm(self.instance_norm_affine, dtype=dt)
        self._plain = not (self.n_future_features or self.static_cardinalities or self.revin)

    def _init_head(self, width: int, rng: np.random.Generator) -> None:
        """``self.head``: a Linear from ``width`` values and the covariates of
        :meth:`_with_exogenous` to ``horizon * Q`` outputs (after :meth:`_init_inputs`)."""
        self.head = Linear(
            width + self.exogenous_width,
            self.horizon * self.n_outputs,
            rng=rng,
            dtype=self._dtype.value,
        )

    @property
    def n_static_features(self) -> int:
        """S, the number of static covariates."""
        return len(self.static_cardinalities)

    @property
    def exogenous_width(self) -> int:
        """Values per window of the covariates :meth:`_exogenous` gives a head or block: the
        known covariates over the horizon (``horizon * K``) and the static vector."""
        static = 0 if self.static_covariates is None else self.static_covariates.width
        return self.horizon * self.n_future_features + static

    def _exogenous(self, p: ForwardPath, future: Any, static: Any) -> list[Any]:
        """The covariates a head or block reads, each ``(B, width)``: the known covariates over
        the horizon flattened step by step, and the static vector (empty without covariates)."""
        parts = []
        if future is not None:
            parts.append(future.reshape(future.shape[0], self.horizon * self.n_future_features))
        if static is not None:
            assert self.static_covariates is not None
            parts.append(self.static_covariates.compute(p, static))
        return parts

    def _with_exogenous(self, p: ForwardPath, h: Any, future: Any, static: Any) -> Any:
        """``h`` ``(B, width)`` with :meth:`_exogenous` concatenated after it."""
        parts = self._exogenous(p, future, static)
        return h if not parts else p.op("concat", h, *parts, axis=1)

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
        """A parameter whose dtype is the model's: the head's weight (a model without ``head``
        returns one of its own)."""
        try:
            return self.head.weight
        except AttributeError:  # no head: any parameter (a walk of the modules)
            return self.parameters()[0]

    def forward(
        self, x: Tensor, future: Any = None, static: Any = None, mask: Any = None
    ) -> Tensor:
        """``(batch, lookback, n_features)`` -> ``(batch, horizon)`` or ``(batch, horizon, Q)``,
        with the known covariates ``future`` ``(batch, horizon, n_future_features)``, the static
        covariates ``static`` ``(batch, n_static_features)`` and the input mask ``mask``
        ``(batch, lookback)`` (1 observed, 0 padding) when given."""
        if self._plain and future is None and static is None and mask is None:
            x = self._prepare(x)
            if active_tape() is None:  # nothing records: the array path, one Tensor at the end
                return Tensor(self._compute(ARRAYS, x._data, None, None, None))
            return self._compute(TENSORS, x, None, None, None)
        x, future, static, mask = self._prepare_all(x, future, static, mask)
        if active_tape() is None:
            arrays = [None if t is None else t._data for t in (future, static, mask)]
            return Tensor(self._run(ARRAYS, x._data, *arrays))
        return self._run(TENSORS, x, future, static, mask)

    def forward_arrays(
        self, x: np.ndarray, future: Any = None, static: Any = None, mask: Any = None
    ) -> np.ndarray:
        """:meth:`forward` on arrays, nothing recorded."""
        if self._plain and future is None and static is None and mask is None:
            if not isinstance(x, np.ndarray):
                return self._compute(ARRAYS, self._prepare(x)._data, None, None, None)
            self._check_input(x)
            return self._compute(ARRAYS, x, None, None, None)
        x, future, static, mask = self._prepare_all(x, future, static, mask)
        arrays = [None if t is None else t._data for t in (future, static, mask)]
        return self._run(ARRAYS, x._data, *arrays)

    def _run(self, p: ForwardPath, x: Any, future: Any, static: Any, mask: Any) -> Any:
        """:meth:`_compute` with the padded input positions zeroed and instance normalization
        around it (statistics of the observed positions)."""
        revin = self.revin
        stats = None
        if revin is not None:
            x, stats = revin.normalize(p, x, mask)
        if mask is not None:
            x = p.op("mul", x, mask if x.ndim == 2 else p.unsqueeze(mask, 2))
        y = self._compute(p, x, future, static, mask)
        return y if stats is None else revin.denormalize(p, y, stats)

    def _compute(self, p: ForwardPath, x: Any, future: Any, static: Any, mask: Any) -> Any:
        raise NotImplementedError

    def _prepare(self, x: Any) -> Tensor:
        """``x`` as a Tensor (lists take the parameters' dtype), checked by :meth:`_check_input`."""
        if not isinstance(x, Tensor):
            x = Tensor(x) if isinstance(x, np.ndarray) else Tensor(x, self._param_dtype())
        self._check_input(x._data)
        return x

    def _prepare_all(
        self, x: Any, future: Any, static: Any, mask: Any
    ) -> tuple[Tensor, Tensor | None, Tensor | None, Tensor | None]:
        """``x`` and the other inputs as Tensors, checked: shapes (the batch of ``x``), dtypes,
        and present exactly when the model was built for them."""
        owner = type(self).__name__
        x = self._prepare(x)
        batch = x.shape[0]
        k, s = self.n_future_features, self.n_static_features
        expected = {
            "future": ((batch, self.horizon, k), "(batch, horizon, n_future_features)", k),
            "static": ((batch, s), "(batch, n_static_features)", s),
            "mask": ((batch, self.lookback), "(batch, lookback)", 1),
        }
        out = []
        for name, value in (("future", future), ("static", static), ("mask", mask)):
            shape, words, count = expected[name]
            if value is None:
                if count and name != "mask":
                    raise ShapeError(
                        f"{owner}: the model was built for {count} {name} covariate(s); pass "
                        f"{name}= of shape {shape} = {words}"
                    )
                out.append(None)
                continue
            if not count:
                key = "n_future_features" if name == "future" else "n_static_features"
                raise ShapeError(
                    f"{owner}: got {name}= but the model was built with {key}=0 (it reads no "
                    f"{name} covariates)"
                )
            if not isinstance(value, Tensor):
                value = Tensor(value) if isinstance(value, np.ndarray) else Tensor(value, x.dtype)
            if value.shape != shape:
                raise ShapeError(
                    f"{owner}: expected {name} of shape {shape} = {words}, got shape {value.shape}"
                )
            if value._data.dtype != x._data.dtype:
                raise DTypeError(
                    f"{owner}: {name} has dtype {value._data.dtype}, x has {x._data.dtype}; give "
                    "them one dtype"
                )
            out.append(value)
        return x, out[0], out[1], out[2]

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
            "n_future_features": self.n_future_features,
            "n_static_features": self.n_static_features,
            "static_cardinalities": list(self.static_cardinalities),
            "instance_norm": self.instance_norm,
            "instance_norm_affine": self.instance_norm_affine,
        }

    def config(self) -> dict[str, Any]:
        """The configuration as plain data; ``registry.create("models", name, **config)`` rebuilds.

        The shared keys (``n_features, lookback, horizon``, the covariate and instance-norm keys,
        ``quantiles``), the model's own options in the order of its signature (each as checked:
        :meth:`_option`), and ``dtype`` (the parameters' current one)."""
        own = {name: self._option(name) for name in self._options}
        return {**self._common_config(), **own, "dtype": self.dtype}

    def _option(self, name: str) -> Any:
        """The checked value of the model's own option ``name`` as :meth:`config` stores it: the
        attribute of that name (a list copied)."""
        value = getattr(self, name)
        return list(value) if isinstance(value, list) else value

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


class ComposedLayer(Module):
    """A layer (block) of a model of one input, written once as ``_compute(p, x)`` on a
    :class:`swets_nn.paths.ForwardPath`, composing its sub-layers' forwards and registered ops:
    :meth:`forward` runs it on Tensors (recorded when a tape is active) or on arrays,
    :meth:`forward_arrays` on arrays. The subclass's ``_compute`` docstring gives the shapes."""

    def forward(self, x: Tensor) -> Tensor:
        """``_compute`` on the path of the call: a Tensor in, a Tensor out."""
        return forward_on_path(self._compute, x)

    def forward_arrays(self, x: np.ndarray) -> np.ndarray:
        """:meth:`forward` on an array, nothing recorded."""
        return self._compute(ARRAYS, x)

    def _compute(self, p: ForwardPath, x: Any) -> Any:
        raise NotImplementedError


def _full_signature(cls: type) -> inspect.Signature:
    """The signature of ``cls`` with its ``**common`` spelt out, so jobs (which pass only what a
    factory names), option checks and ``swets list models`` see every option: ``n_features,
    lookback, horizon``, the options of the class ``cls`` hands ``**common`` to that ``cls`` does
    not name (a shared base's, such as the encoder options of :class:`EncoderForecaster`), the
    options ``cls`` names in its order, then the shared keyword-only options; where ``cls`` names
    an inherited option (to change its default), its version. Every option is keyword-only, as
    the model takes them."""
    own = inspect.signature(cls.__init__)  # type: ignore[misc]
    params = list(own.parameters.values())[1:]  # without self
    if not params or params[-1].kind is not inspect.Parameter.VAR_KEYWORD:
        return own.replace(parameters=params)
    named = {p.name: p for p in params[:-1]}
    inherited = [
        p
        for p in inspect.signature(cls.__mro__[1]).parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    base = inspect.signature(ForecastingModel.__init__).parameters.values()
    lead = [p.name for p in base if p.kind is p.POSITIONAL_OR_KEYWORD][1:]  # without self
    tail = {p.name for p in base if p.kind is p.KEYWORD_ONLY}
    merged = [named.pop(p.name, p) for p in inherited if p.name in lead]
    merged += [p for p in inherited if p.name not in lead and p.name not in tail | set(named)]
    merged += [p for p in named.values() if p.name not in tail]
    merged += [named.get(p.name, p) for p in inherited if p.name in tail]
    return own.replace(parameters=[p.replace(kind=p.KEYWORD_ONLY) for p in merged])


__all__ = ["ComposedLayer", "DtypeCache", "ForecastingModel", "RngLike", "sinusoidal_encoding"]
