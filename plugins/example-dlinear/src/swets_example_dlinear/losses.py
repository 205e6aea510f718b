"""The ``log_cosh`` loss."""

from __future__ import annotations

import math

from swets_core import GradientTape, Tensor, ops, using_tape
from swets_core.errors import ConfigError, ShapeError


class LogCosh:
    """Mean (or sum, or none) of log(cosh(pred - target)), computed stably.

    log(cosh(d)) = |d| + softplus(-2|d|) - log(2): quadratic near zero, linear in the tails.

    Args:
        reduction: "mean", "sum" or "none".

    Shape:
        pred and target of the same shape; the result is a scalar (or that shape with "none").
    """

    def __init__(self, reduction: str = "mean") -> None:
        if reduction not in ("mean", "sum", "none"):
            raise ConfigError(f"LogCosh: reduction must be mean, sum or none, got {reduction!r}")
        self.reduction = reduction

    def __call__(self, pred: Tensor, target: Tensor, tape: GradientTape | None = None) -> Tensor:
        if tuple(pred.shape) != tuple(target.shape):
            raise ShapeError(f"LogCosh: pred shape {pred.shape} != target shape {target.shape}")
        with using_tape(tape):
            d = ops.abs(pred - target)
            value = d + ops.softplus(d * -2.0) - math.log(2.0)
            if self.reduction == "mean":
                return value.mean()
            if self.reduction == "sum":
                return value.sum()
            return value
