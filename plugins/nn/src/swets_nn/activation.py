"""Activation functions as layers (elementwise, any input shape, no parameters)."""

from __future__ import annotations

from typing import Any

from swets_core import Module, Tensor, ops
from swets_core.errors import ConfigError
from swets_nn._common import to_input

__all__ = ["ELU", "GELU", "LeakyReLU", "ReLU", "SiLU", "Sigmoid", "Softplus", "Tanh", "activation"]


class ReLU(Module):
    """``max(x, 0)`` elementwise. Shape: any, output like the input."""

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return ops.relu(to_input(x, "ReLU", None))


class LeakyReLU(Module):
    """``x`` where ``x >= 0``, ``negative_slope * x`` elsewhere. Shape: any.

    Args:
        negative_slope: slope for negative inputs (0.01, as PyTorch).
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return ops.leaky_relu(to_input(x, "LeakyReLU", None), negative_slope=self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """``x`` where ``x > 0``, ``alpha * (exp(x) - 1)`` elsewhere. Shape: any.

    Args:
        alpha: the saturation value for negative inputs (1.0).
    """

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return ops.elu(to_input(x, "ELU", None), alpha=self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class GELU(Module):
    """Gaussian error linear unit ``x * Phi(x)``. Shape: any.

    Args:
        approximate: ``"none"`` (exact, with erf) or ``"tanh"`` (the tanh approximation).
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ConfigError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return ops.gelu(to_input(x, "GELU", None), approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """``x * sigmoid(x)`` (swish). Shape: any."""

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return ops.silu(to_input(x, "SiLU", None))


class Sigmoid(Module):
    """``1 / (1 + exp(-x))``. Shape: any."""

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return ops.sigmoid(to_input(x, "Sigmoid", None))


class Tanh(Module):
    """Hyperbolic tangent. Shape: any."""

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return ops.tanh(to_input(x, "Tanh", None))


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``. Shape: any.

    Args:
        beta: sharpness (1.0).
        threshold: above ``beta * x > threshold`` the output is ``x`` (20.0), as PyTorch.
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = float(beta)
        self.threshold = float(threshold)
        if self.beta == 0.0:
            raise ConfigError("Softplus: beta must be non-zero")

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return ops.softplus(to_input(x, "Softplus", None), beta=self.beta, threshold=self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


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

    def extra_repr(self) -> str:
        return getattr(self.fn, "__name__", repr(self.fn))
