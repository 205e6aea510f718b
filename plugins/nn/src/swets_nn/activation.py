"""Activation functions as layers (elementwise, any input shape, no parameters)."""

from __future__ import annotations

import functools
import inspect
from typing import Any

import numpy as np

from swets_core import Module, Tensor, call_op, run_op
from swets_core.errors import ConfigError
from swets_nn.paths import as_array, to_input, to_input_array

__all__ = ["ELU", "GELU", "LeakyReLU", "ReLU", "SiLU", "Sigmoid", "Softplus", "Tanh", "activation"]


_NO_DEFAULT = object()


@functools.cache
def _defaults(cls: type) -> dict[str, Any]:
    """An activation class's ``__init__`` defaults: the op's own (PyTorch's) for each attribute."""
    params = inspect.signature(cls.__init__).parameters.values()
    return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


class _Activation(Module):
    """An activation layer: the registered op :attr:`_op` with the layer's attributes as its keyword
    arguments (given to ``__init__``; setting one later updates the op's arguments too)."""

    _op = ""
    _attr_names: tuple[str, ...] = ()
    _op_attrs: dict[str, Any] = {}  # noqa: RUF012 (an instance's own dict once it has attributes)

    def __init__(self, **attrs: Any) -> None:
        super().__init__()
        self._attr_names = tuple(attrs)
        for name, value in attrs.items():
            setattr(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name in self._attr_names:
            # the op's keyword arguments: those that differ from its defaults (the layer's)
            defaults = _defaults(type(self))
            attrs = {
                k: self.__dict__[k]
                for k in self._attr_names
                if k in self.__dict__ and self.__dict__[k] != defaults.get(k, _NO_DEFAULT)
            }
            super().__setattr__("_op_attrs", attrs)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={getattr(self, k)!r}" for k in self._attr_names)

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return call_op(self._op, to_input(x, type(self).__name__, None), **self._op_attrs)

    def forward_arrays(self, x: np.ndarray) -> np.ndarray:
        """:meth:`forward` on an array, nothing recorded."""
        if type(x) is not np.ndarray or x.dtype.kind != "f":
            x = to_input_array(x, type(self).__name__, None)
        return run_op(self._op, x, **self._op_attrs)


class ReLU(_Activation):
    """``max(x, 0)`` elementwise. Shape: any, output like the input."""

    _op = "relu"


class LeakyReLU(_Activation):
    """``x`` where ``x >= 0``, ``negative_slope * x`` elsewhere. Shape: any.

    Args:
        negative_slope: slope for negative inputs (0.01, as PyTorch).
    """

    _op = "leaky_relu"

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__(negative_slope=float(negative_slope))


class ELU(_Activation):
    """``x`` where ``x > 0``, ``alpha * (exp(x) - 1)`` elsewhere. Shape: any.

    Args:
        alpha: the saturation value for negative inputs (1.0).
    """

    _op = "elu"

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__(alpha=float(alpha))


class GELU(_Activation):
    """Gaussian error linear unit ``x * Phi(x)``. Shape: any.

    Args:
        approximate: ``"none"`` (exact, with erf) or ``"tanh"`` (the tanh approximation).
    """

    _op = "gelu"

    def __init__(self, approximate: str = "none") -> None:
        if approximate not in ("none", "tanh"):
            raise ConfigError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        super().__init__(approximate=approximate)


class SiLU(_Activation):
    """``x * sigmoid(x)`` (swish). Shape: any."""

    _op = "silu"


class Sigmoid(_Activation):
    """``1 / (1 + exp(-x))``. Shape: any."""

    _op = "sigmoid"


class Tanh(_Activation):
    """Hyperbolic tangent. Shape: any."""

    _op = "tanh"


class Softplus(_Activation):
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``. Shape: any.

    Args:
        beta: sharpness (1.0).
        threshold: above ``beta * x > threshold`` the output is ``x`` (20.0), as PyTorch.
    """

    _op = "softplus"

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        if float(beta) == 0.0:
            raise ConfigError("Softplus: beta must be non-zero")
        super().__init__(beta=float(beta), threshold=float(threshold))


_BY_NAME: dict[str, type[Module]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "gelu": GELU,
    "silu": SiLU,
    "swish": SiLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "softplus": Softplus,
}


def activation(spec: str | Module | Any, owner: str = "activation") -> Module:
    """An activation layer from a name (``"relu"``, ``"gelu"``...) or a layer given as is."""
    if isinstance(spec, Module):
        return spec
    if isinstance(spec, str):
        try:
            return _BY_NAME[spec.lower()]()
        except KeyError:
            known = ", ".join(sorted(_BY_NAME))
            raise ConfigError(
                f"{owner}: unknown activation {spec!r}; known: {known}, or pass a layer"
            ) from None
    if callable(spec):
        return _Function(spec)
    raise ConfigError(f"{owner}: activation must be a name, a layer or a callable, got {spec!r}")


class _Function(Module):
    """Wraps a plain callable ``f(tensor) -> tensor`` as a layer."""

    def __init__(self, fn: Any) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: Tensor) -> Tensor:
        return self.fn(x)

    def forward_arrays(self, x: np.ndarray) -> np.ndarray:
        """The callable on a Tensor of ``x`` (it takes Tensors), its result as an array."""
        return as_array(self.fn(Tensor(x)))

    def extra_repr(self) -> str:
        return getattr(self.fn, "__name__", repr(self.fn))
