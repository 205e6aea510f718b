"""Parameter initialisation, PyTorch's schemes drawn from an explicit numpy Generator.

Every function fills a :class:`~swets_core.Parameter` (or a numpy array) **in place** and returns it,
so a parameter's id never changes. ``rng`` is a :class:`numpy.random.Generator` (or an int seed).
Fans follow PyTorch: for a weight of shape ``(out, in, *kernel)``, ``fan_in = in * prod(kernel)`` and
``fan_out = out * prod(kernel)``.

While a checkpoint builds its model (:func:`swets_core.budget.state_follows`), the random schemes
draw nothing: the state loaded right after overwrites every value.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from swets_core import Tensor
from swets_core.budget import state_follows
from swets_core.errors import ConfigError, ShapeError
from swets_nn._common import RngLike, as_generator

__all__ = [
    "calculate_gain",
    "constant_",
    "fan_in_and_fan_out",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]


def _array(t: Tensor | np.ndarray) -> np.ndarray:
    return t._data if isinstance(t, Tensor) else t


def _fill(t: Any, values: np.ndarray) -> Any:
    arr = _array(t)
    arr[...] = values.astype(arr.dtype, copy=False)
    return t


def fan_in_and_fan_out(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of ``shape`` (at least 2-D)."""
    if len(shape) < 2:
        raise ShapeError(
            f"fan in and fan out need a weight with at least 2 dimensions, got shape {shape}"
        )
    receptive = math.prod(shape[2:]) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for ``nonlinearity`` (PyTorch's table)."""
    linear = {"linear", "conv1d", "conv2d", "conv3d", "sigmoid", "identity"}
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ConfigError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def uniform_(t: Any, low: float = 0.0, high: float = 1.0, rng: RngLike = None) -> Any:
    """Fill with samples of U(low, high) (nothing drawn while a model is built for a loaded
    state to overwrite: :func:`swets_core.budget.state_follows`)."""
    gen = as_generator(rng, "uniform_")
    if state_follows():
        return t
    return _fill(t, gen.uniform(low, high, size=_array(t).shape))


def normal_(t: Any, mean: float = 0.0, std: float = 1.0, rng: RngLike = None) -> Any:
    """Fill with samples of N(mean, std**2) (nothing drawn while a model is built for a loaded
    state to overwrite)."""
    gen = as_generator(rng, "normal_")
    if state_follows():
        return t
    return _fill(t, gen.normal(mean, std, size=_array(t).shape))


def constant_(t: Any, value: float) -> Any:
    """Fill with ``value``."""
    _array(t)[...] = value
    return t


def zeros_(t: Any) -> Any:
    """Fill with zeros."""
    return constant_(t, 0.0)


def ones_(t: Any) -> Any:
    """Fill with ones."""
    return constant_(t, 1.0)


def _kaiming(t: Any, a: float, mode: str, nonlinearity: str, rng: RngLike, uniform: bool) -> Any:
    """He's initialisation: ``std = gain / sqrt(fan)``, drawn uniform (``b = gain * sqrt(3 / fan)``)
    or normal; a zero fan leaves ``t`` as it is."""
    fan_in, fan_out = fan_in_and_fan_out(_array(t).shape)
    if mode not in ("fan_in", "fan_out"):
        raise ConfigError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:
        return t
    gain = calculate_gain(nonlinearity, a)
    if uniform:
        bound = gain * math.sqrt(3.0 / fan)
        return uniform_(t, -bound, bound, rng)
    return normal_(t, 0.0, gain / math.sqrt(fan), rng)


def _kaiming_initialiser(name: str, uniform: bool, doc: str) -> Any:
    """``kaiming_uniform_`` or ``kaiming_normal_``: one signature (PyTorch's), one initialisation."""

    def initialise(
        t: Any,
        a: float = 0.0,
        mode: str = "fan_in",
        nonlinearity: str = "leaky_relu",
        rng: RngLike = None,
    ) -> Any:
        return _kaiming(t, a, mode, nonlinearity, rng, uniform)

    initialise.__name__ = initialise.__qualname__ = name
    initialise.__doc__ = doc
    return initialise


kaiming_uniform_ = _kaiming_initialiser(
    "kaiming_uniform_",
    True,
    "He uniform: U(-b, b) with ``b = gain * sqrt(3 / fan)``; Linear and Conv1d use ``a=sqrt(5)``.",
)
kaiming_normal_ = _kaiming_initialiser(
    "kaiming_normal_", False, "He normal: N(0, std**2) with ``std = gain / sqrt(fan)``."
)


def xavier_uniform_(t: Any, gain: float = 1.0, rng: RngLike = None) -> Any:
    """Glorot uniform: U(-b, b) with ``b = gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = fan_in_and_fan_out(_array(t).shape)
    bound = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return uniform_(t, -bound, bound, rng)


def xavier_normal_(t: Any, gain: float = 1.0, rng: RngLike = None) -> Any:
    """Glorot normal: N(0, std**2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = fan_in_and_fan_out(_array(t).shape)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(t, 0.0, std, rng)
