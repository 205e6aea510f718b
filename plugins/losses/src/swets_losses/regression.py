"""Point and probabilistic regression losses: MSE, MAE, Huber, quantile (pinball), Gaussian NLL."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from swets_core import ops
from swets_core.autograd import Tensor
from swets_core.errors import ConfigError, DataValidationError, ShapeError
from swets_losses.base import Loss, PerPointLoss, as_float_tensor, match_dtype, positive


class MSELoss(Loss):
    """Mean squared error: ``L = (pred - target) ** 2`` (PyTorch's ``MSELoss``).

    Shapes: ``pred`` and ``target`` equal, any shape. See :class:`~swets_losses.base.Loss` for
    ``reduction``, ``mask`` and ``weights``.
    """

    name = "mse"
    summary = "Mean squared error."

    def _elementwise(self, pred: Tensor, target: Tensor) -> Tensor:
        return ops.square(pred - target)


class MAELoss(Loss):
    """Mean absolute error (L1): ``L = |pred - target|`` (PyTorch's ``L1Loss``; gradient 0 at 0).

    Shapes: ``pred`` and ``target`` equal, any shape.
    """

    name = "mae"
    summary = "Mean absolute error (L1)."

    def _elementwise(self, pred: Tensor, target: Tensor) -> Tensor:
        return ops.abs(pred - target)


class HuberLoss(Loss):
    """Huber loss (PyTorch's ``HuberLoss``): quadratic below ``delta``, linear above.

    ``L = 0.5 d**2`` if ``|d| < delta`` else ``delta * (|d| - 0.5 delta)``, with ``d = pred - target``.

    Args:
        delta: the threshold, ``> 0``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
    """

    name = "huber"
    summary = "Huber loss with threshold delta."
    _config_keys = ("delta",)

    def __init__(self, delta: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.delta = positive(self.name, "delta", delta)

    def _elementwise(self, pred: Tensor, target: Tensor) -> Tensor:
        a = ops.abs(pred - target)
        quad = ops.minimum(a, self.delta)  # |d| capped at delta
        # 0.5 q^2 + delta (|d| - q): both branches of the Huber loss in one expression
        return ops.square(quad) * 0.5 + (a - quad) * self.delta


class QuantileLoss(PerPointLoss):
    """Pinball (quantile) loss over several quantile levels at once.

    For each level ``q`` with prediction ``pred[..., i]`` and ``d = target - pred[..., i]``:
    ``L = max(q d, (q - 1) d)``. The mean runs over every element and every level.

    Shapes: ``pred (..., Q)`` with ``Q = len(quantiles)``; ``target (...)`` or ``(..., 1)``.
    ``mask``/``weights`` have shape ``(...)`` (or ``(..., 1)``) and apply to all levels.

    Args:
        quantiles: the levels, each in ``(0, 1)`` (e.g. ``[0.1, 0.5, 0.9]``).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``none`` gives ``(..., Q)``).
    """

    name = "quantile"
    summary = "Pinball loss over several quantile levels at once."
    _config_keys = ("quantiles",)

    def __init__(
        self, quantiles: Sequence[float] = (0.1, 0.5, 0.9), reduction: str = "mean"
    ) -> None:
        super().__init__(reduction)
        if isinstance(quantiles, (str, bytes)) or not isinstance(quantiles, Sequence):
            raise ConfigError(f"{self.name}: quantiles must be a list of levels, got {quantiles!r}")
        if len(quantiles) == 0:
            raise ConfigError(f"{self.name}: quantiles must not be empty")
        levels = []
        for i, q in enumerate(quantiles):
            if isinstance(q, bool) or not isinstance(q, numbers.Real) or not 0.0 < float(q) < 1.0:
                raise ConfigError(
                    f"{self.name}: quantiles[{i}] = {q!r} is outside (0, 1); quantile levels must "
                    "be strictly between 0 and 1"
                )
            levels.append(float(q))
        self.quantiles = tuple(levels)
        self._levels: dict[np.dtype, np.ndarray] = {}

    def _last_axis(self) -> tuple[int, str]:
        return len(self.quantiles), "quantile level(s)"

    def _expand(self, coef: np.ndarray, elem_shape: tuple[int, ...]) -> np.ndarray:
        return coef[..., None]

    def _elementwise(self, pred: Tensor, target: Tensor) -> Tensor:
        target = ops.unsqueeze(target, axis=-1)
        dtype = pred._data.dtype
        levels = self._levels.get(dtype)
        if levels is None:
            levels = self._levels[dtype] = np.asarray(self.quantiles, dtype=dtype)
        d = target - pred
        return ops.maximum(d * levels, d * (levels - 1.0))


class GaussianNLLLoss(Loss):
    """Gaussian negative log-likelihood with predicted variance (PyTorch's ``GaussianNLLLoss``).

    ``L = 0.5 * (log(max(var, eps)) + (pred - target)**2 / max(var, eps))`` (``+ 0.5 log(2 pi)`` when
    ``full``). As in PyTorch the clamp acts on the value only: the gradient flows to ``var`` as if
    it were not clamped.

    Call as ``loss(mean, target, var=var)`` or ``loss((mean, var), target)``.

    Shapes: ``mean (*)``; ``target`` the same shape (or broadcastable to it, e.g. a size-1 axis);
    ``var`` the same shape as ``mean``, or ``mean``'s shape without its last axis (one variance per
    row, as PyTorch), or ``mean``'s shape with size-1 axes, or a single value. Entries of ``var`` must
    be ``>= 0`` (:class:`~swets_core.errors.DataValidationError` otherwise).

    Args:
        full: add the constant ``0.5 log(2 pi)``.
        eps: the clamp of the variance, ``> 0``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
    """

    name = "gaussian_nll"
    summary = "Gaussian negative log-likelihood (mean, var)."
    _config_keys = ("full", "eps")
    _call_keys = ("var",)

    def __init__(self, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction)
        if not isinstance(full, bool):
            raise ConfigError(f"{self.name}: full must be True or False, got {full!r}")
        self.full = full
        self.eps = positive(self.name, "eps", eps)

    def __call__(self, pred: Any, target: Any, tape: Any = None, **kwargs: Any) -> Tensor:
        """``loss(mean, target, var=var)`` or ``loss((mean, var), target)``; see the class doc."""
        if isinstance(pred, (tuple, list)):
            if len(pred) != 2:
                raise ConfigError(
                    f"{self.name}: pred as a sequence must be (mean, var), got {len(pred)} items"
                )
            if kwargs.get("var") is not None:
                raise ConfigError(f"{self.name}: var given twice (in pred and as var=)")
            pred, kwargs["var"] = pred
        if kwargs.get("var") is None:
            raise ConfigError(
                f"{self.name}: the variance is required: loss(mean, target, var=var) or "
                "loss((mean, var), target)"
            )
        return super().__call__(pred, target, tape, **kwargs)

    def _check(self, pred: Tensor, target: Tensor) -> None:
        try:
            shape = np.broadcast_shapes(pred.shape, target.shape)
        except ValueError:
            shape = None
        if shape != pred.shape:
            raise ShapeError(
                f"{self.name}: target has shape {target.shape}, which does not broadcast to "
                f"pred's shape {pred.shape}"
            )

    def _elementwise(self, pred: Tensor, target: Tensor, var: Any = None) -> Tensor:
        dtype = pred._data.dtype
        if isinstance(var, numbers.Real) and not isinstance(var, bool):
            if var < 0:
                raise DataValidationError(f"{self.name}: var is negative ({var})")
            var = Tensor(np.full(pred.shape, max(float(var), self.eps), dtype=dtype))
        else:
            var = match_dtype(as_float_tensor(self.name, "var", var), dtype)
            var = self._shape_var(pred, var)
            v = var._data
            negative = v < 0
            if negative.any():
                raise DataValidationError(
                    f"{self.name}: var has {int(negative.sum())} negative entr"
                    f"{'y' if negative.sum() == 1 else 'ies'}"
                )
            low = v < self.eps
            if low.any():
                # clamp the value, keep the gradient (as PyTorch's clamp under no_grad)
                var = var + (np.maximum(v, self.eps) - v).astype(dtype)
        d = pred - target
        out = (ops.log(var) + ops.square(d) / var) * 0.5
        if self.full:
            out = out + 0.5 * math.log(2 * math.pi)
        return out

    def _shape_var(self, pred: Tensor, var: Tensor) -> Tensor:
        if var.shape == pred.shape:
            return var
        if pred.ndim >= 1 and var.shape == pred.shape[:-1]:
            return ops.unsqueeze(var, axis=-1)
        # same number of axes with size-1 axes (PyTorch), or a single value
        ok = var.ndim == 0 or (
            var.ndim == pred.ndim and all(v in (1, p) for v, p in zip(var.shape, pred.shape))
        )
        if not ok:
            raise ShapeError(
                f"{self.name}: var has shape {var.shape}; expected pred's shape {pred.shape}, "
                f"{pred.shape[:-1]} (one variance per row), or that shape with size-1 axes"
            )
        return var
