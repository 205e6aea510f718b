"""Scale-free losses used to train N-BEATS: MAPE, sMAPE and MASE.

The values are fractions, not percentages (multiply by 100 for the usual reporting).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from swets_core import ops
from swets_core.autograd import Tensor
from swets_core.checks import is_int
from swets_core.errors import ConfigError, DataValidationError, ShapeError
from swets_losses.base import Loss, choice, positive

_ZERO_TARGETS = {"eps": "divide a zero target by eps", "skip": "leave it out"}
_MEAN_OVER = {
    "observed": "the mean over unmasked elements",
    "all": "over every forecast point, the competition's sMAPE",
}


class _RatioLoss(Loss):
    """An elementwise loss with a denominator clamped from below at ``eps`` (MAPE, sMAPE)."""

    _config_keys = ("eps",)

    def __init__(self, eps: float = 1.17e-6, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.eps = positive(self.name, "eps", eps)


class MAPELoss(_RatioLoss):
    """Mean absolute percentage error: ``L = |pred - target| / max(|target|, eps)``.

    Zero denominators: by default (``zero_targets="eps"``) a target of exactly 0 is divided by
    ``eps`` instead, which gives a very large (finite) loss ``|pred| / eps``. With
    ``zero_targets="skip"`` such targets are left out, as masked ones are (the N-BEATS reference
    code's ``divide_no_nan``): what training on series with zeros in their history (Tourism)
    needs. Or exclude them with ``mask=target != 0``, or use sMAPE or MASE.

    Shapes: ``pred`` and ``target`` equal, any shape.

    Args:
        eps: the smallest denominator, ``> 0`` (default ``1.17e-6``, about float32's epsilon ``* 10``).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        zero_targets: ``"eps"`` (divide by ``eps``) or ``"skip"`` (leave the element out: 0 in the
            per-element loss, not counted by the mean).
    """

    name = "mape"
    summary = "Mean absolute percentage error (a fraction, eps-clamped)."
    _config_keys = ("eps", "zero_targets")

    def __init__(
        self, eps: float = 1.17e-6, reduction: str = "mean", zero_targets: str = "eps"
    ) -> None:
        super().__init__(eps, reduction)
        self.zero_targets = choice(self.name, "zero_targets", zero_targets, _ZERO_TARGETS)

    def _elementwise(self, pred: Tensor, target: Tensor) -> Tensor:
        denom = ops.maximum(ops.abs(target), self.eps)
        return ops.abs(pred - target) / denom

    def _loss(self, pred: Tensor, target: Tensor, coef: np.ndarray | None, **extra: Any) -> Tensor:
        if self.zero_targets == "skip":
            nonzero = (target._data != 0).astype(pred._data.dtype)
            coef = nonzero if coef is None else coef * nonzero
        return super()._loss(pred, target, coef, **extra)


class SMAPELoss(_RatioLoss):
    """Symmetric MAPE: ``L = 2 |pred - target| / max(|pred| + |target|, eps)``, in ``[0, 2]``.

    Zero denominators: when both ``pred`` and ``target`` are 0 the numerator is 0 too, so the element
    contributes 0 (the ``eps`` clamp only avoids ``0 / 0``; its gradient there is that of
    ``2 |pred| / eps`` and pushes ``pred`` toward 0).

    The mean with a mask: by default (``mean_over="observed"``, as every swets loss) ``mean`` divides
    by the unmasked elements, ``sum(mask * L) / sum(mask)``. The M3/M4 competition sMAPE, and the
    N-BEATS reference implementation that trains on it, average over **all** forecast points, the
    masked ones counting as 0: ``mean_over="all"`` gives ``sum(mask * L) / L.size`` (with weights,
    ``sum(weights * mask * L) / L.size``). Without a mask both are the plain mean. Multiply by 100
    for the competition's percentage (0..200).

    Shapes: ``pred`` and ``target`` equal, any shape.

    Args:
        eps: the smallest denominator, ``> 0``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        mean_over: ``"observed"`` (divide by the unmasked elements) or ``"all"`` (by every element,
            the competition's definition); used by ``reduction="mean"`` only.
    """

    name = "smape"
    summary = "Symmetric MAPE, in [0, 2]."
    _config_keys = ("eps", "mean_over")

    def __init__(
        self, eps: float = 1.17e-6, reduction: str = "mean", mean_over: str = "observed"
    ) -> None:
        super().__init__(eps, reduction)
        self.mean_over = choice(self.name, "mean_over", mean_over, _MEAN_OVER)

    def _elementwise(self, pred: Tensor, target: Tensor) -> Tensor:
        denom = ops.maximum(ops.abs(pred) + ops.abs(target), self.eps)
        return ops.abs(pred - target) * 2.0 / denom

    def _loss(self, pred: Tensor, target: Tensor, coef: np.ndarray | None, **extra: Any) -> Tensor:
        if coef is None or self.mean_over == "observed" or self.reduction != "mean":
            return super()._loss(pred, target, coef, **extra)
        elem = self._elementwise(pred, target)
        return self._reduce(elem * coef, float(elem.size))


class MASELoss(Loss):
    """Mean absolute scaled error: ``L = |pred - target| / scale`` per series.

    ``scale`` is the in-sample mean absolute error of the seasonal naive forecast with period ``m``:
    ``mean_t |x[t] - x[t - m]|`` over the history ``x`` of each series. Time is the **last** axis.

    Give the scale one of three ways (exactly one):

    * ``loss(pred, target, insample=x)``: computed from the history ``x (..., T)`` with ``T > m``
      (NaN entries of ``x``, e.g. missing values, are skipped);
    * ``loss(pred, target, scale=s)``: precomputed, shape ``(...)`` (one per series) or a number;
    * ``MASELoss(scale=s)``: a fixed number for every call.

    Zero denominators: the scale is clamped to ``eps`` (a constant history gives ``|error| / eps``);
    a non-finite scale raises :class:`~swets_core.errors.DataValidationError`.

    Shapes: ``pred`` and ``target`` equal, ``(..., H)``.

    Args:
        m: the seasonal period (``1``: the naive forecast), an int ``>= 1``.
        scale: optional fixed scale ``> 0``.
        eps: the smallest scale, ``> 0``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
    """

    name = "mase"
    summary = "Mean absolute scaled error (seasonal naive in-sample scale)."
    _config_keys = ("m", "scale", "eps")
    _call_keys = ("insample", "scale")

    def __init__(
        self, m: int = 1, scale: float | None = None, eps: float = 1e-8, reduction: str = "mean"
    ) -> None:
        super().__init__(reduction)
        if not is_int(m) or m < 1:
            raise ConfigError(
                f"{self.name}: m (the seasonal period) must be an int >= 1, got {m!r}"
            )
        self.m = int(m)
        self.scale = None if scale is None else positive(self.name, "scale", scale)
        self.eps = positive(self.name, "eps", eps)

    def _check(self, pred: Tensor, target: Tensor) -> None:
        super()._check(pred, target)
        if pred.ndim == 0:
            raise ShapeError(f"{self.name}: pred must have a time axis, got a 0-d tensor")

    def series_scale(self, insample: Any) -> np.ndarray:
        """The seasonal-naive in-sample MAE of each series of ``insample (..., T)``: shape ``(...)``."""
        x = np.asarray(insample._data if isinstance(insample, Tensor) else insample)
        if x.dtype.kind not in "fiu":
            raise ConfigError(f"{self.name}: insample must be numeric, got dtype {x.dtype}")
        if x.ndim == 0 or x.shape[-1] <= self.m:
            raise ShapeError(
                f"{self.name}: insample needs more than m={self.m} time steps on its last axis, "
                f"got shape {x.shape}"
            )
        x = x.astype(np.float64)
        diffs = np.abs(x[..., self.m :] - x[..., : -self.m])
        counts = np.sum(~np.isnan(diffs), axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.nansum(diffs, axis=-1) / counts
        return scale

    def _elementwise(
        self, pred: Tensor, target: Tensor, insample: Any = None, scale: Any = None
    ) -> Tensor:
        sources = [s for s in (insample, scale, self.scale) if s is not None]
        if len(sources) != 1:
            raise ConfigError(
                f"{self.name}: give exactly one of insample= (history), scale= (per call) or "
                f"MASELoss(scale=...); got {len(sources)}"
            )
        lead = pred.shape[:-1]
        if insample is not None:
            s = self.series_scale(insample)
            what = "the scale computed from insample"
        elif scale is not None:
            s = np.asarray(scale._data if isinstance(scale, Tensor) else scale, dtype=np.float64)
            what = "scale"
        else:
            s = np.float64(self.scale)
            what = "scale"
        if s.ndim and s.shape != lead:
            raise ShapeError(
                f"{self.name}: {what} has shape {s.shape}; expected one value per series, "
                f"shape {lead} (pred has shape {pred.shape}, time on the last axis)"
            )
        if not np.all(np.isfinite(s)):
            raise DataValidationError(
                f"{self.name}: {what} is not finite for {int(np.sum(~np.isfinite(s)))} series "
                "(an all-missing history?)"
            )
        if np.any(s < 0):
            raise DataValidationError(f"{self.name}: {what} must be >= 0")
        inv = (1.0 / np.maximum(s, self.eps)).astype(pred._data.dtype)
        if inv.ndim:
            inv = inv[..., None]
        return ops.abs(pred - target) * inv
