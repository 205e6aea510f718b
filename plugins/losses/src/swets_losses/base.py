"""The loss base class: input checks, masks and weights, and the three reductions.

A loss is called as ``loss(pred, target, tape=None, *, mask=None, weights=None, ...)`` and returns a
:class:`~swets_core.Tensor` built from registered ops, so the tape differentiates it like any other
computation.

Masks and weights are given **in the target's shape** (or broadcastable to it): for the elementwise
losses that is the prediction's shape; for ``quantile`` it is the shape without the quantile axis; for
``cross_entropy`` the shape of the class-index target. With ``c = weights * mask``::

    reduction="none":  c * L                   (masked elements are 0)
    reduction="sum":   sum(c * L)
    reduction="mean":  sum(c * L) / sum(c)     (the mean over the unmasked elements)

A mean over zero unmasked elements (or zero total weight) is NaN, as PyTorch's cross-entropy when every
target is ignored. Masked targets may be NaN (the usual encoding of a missing value): they are replaced
by a finite placeholder before the loss is computed, so neither the value nor the gradient sees them.
Predictions at masked positions must be finite.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from swets_core import ops
from swets_core.autograd import GradientTape, Tensor, using_tape
from swets_core.errors import ConfigError, DataValidationError, DTypeError, ShapeError

REDUCTIONS = ("mean", "sum", "none")


def as_float_tensor(name: str, what: str, x: Any) -> Tensor:
    """``x`` as a float Tensor (arrays keep float64; ints become float32)."""
    if isinstance(x, Tensor):
        t = x
    else:
        try:
            t = Tensor(x)
        except Exception as exc:
            raise DTypeError(
                f"{name}: {what} must be a float tensor, got {type(x).__name__}"
            ) from exc
    if t._data.dtype.kind != "f":
        raise DTypeError(f"{name}: {what} must be a float tensor, got dtype {t._data.dtype}")
    return t


def positive(owner: str, name: str, value: Any) -> float:
    """``value`` as a finite float ``> 0`` (bools and non-numbers are rejected)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{owner}: {name} must be a number, got {value!r}")
    out = float(value)
    if not (math.isfinite(out) and out > 0.0):
        raise ConfigError(f"{owner}: {name} must be finite and > 0, got {value!r}")
    return out


def choice(owner: str, name: str, value: Any, options: Mapping[str, str]) -> str:
    """``value`` if it is one of ``options`` (``{option: what it means}``); the error lists every
    option with its meaning."""
    if not any(value == option for option in options):
        listed = " or ".join(f"{option!r} ({meaning})" for option, meaning in options.items())
        raise ConfigError(f"{owner}: {name} must be {listed}, got {value!r}")
    return value


def match_dtype(t: Tensor, dtype: np.dtype) -> Tensor:
    """``t`` in ``dtype``: a differentiable cast for tensors, a conversion for data."""
    if t._data.dtype == dtype:
        return t
    if t._data.dtype.kind == "f":
        return t.astype(dtype.name)
    return Tensor._wrap(t._data.astype(dtype))


class Loss:
    """Base class of the swets losses (implements :class:`swets_core.protocols.Loss`).

    Args:
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Subclasses implement ``_elementwise(pred, target, **extra) -> Tensor`` (the per-element loss) and
    ``_check(pred, target)`` (shape rules), or override ``_loss`` entirely.
    """

    name: ClassVar[str] = "loss"
    summary: ClassVar[str] = ""
    """The one line ``swets list`` shows for the registered class."""
    _config_keys: ClassVar[tuple[str, ...]] = ()
    _call_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, reduction: str = "mean") -> None:
        if reduction not in REDUCTIONS:
            raise ConfigError(
                f"{self.name}: reduction must be one of 'mean', 'sum', 'none', got {reduction!r}"
            )
        self.reduction = reduction

    def config(self) -> dict[str, Any]:
        """Plain-data configuration: ``registry.create("losses", name, **loss.config())`` rebuilds it."""
        out = {"reduction": self.reduction}
        for key in self._config_keys:
            value = getattr(self, key)
            out[key] = list(value) if isinstance(value, tuple) else value
        return out

    @property
    def call_keys(self) -> tuple[str, ...]:
        """The keyword arguments a call takes besides ``mask`` and ``weights`` (MASE:
        ``insample`` and ``scale``); a training loop passes a batch's values of these names."""
        return self._call_keys

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"

    # -- the call -------------------------------------------------------------------------------
    def __call__(
        self,
        pred: Tensor,
        target: Tensor,
        tape: GradientTape | None = None,
        *,
        mask: Any = None,
        weights: Any = None,
        **extra: Any,
    ) -> Tensor:
        """The loss of ``pred`` against ``target``.

        Args:
            pred: predictions (see each loss for the shape).
            target: targets.
            tape: record on this tape (the active tape when None).
            mask: optional bool array in the target's shape (broadcastable): True where the target
                is observed. Masked elements are excluded from the loss and from the mean.
            weights: optional non-negative float array in the target's shape (broadcastable).

        Returns:
            a scalar Tensor (``mean``/``sum``) or the per-element loss (``none``).
        """
        unknown = sorted(set(extra) - set(self._call_keys))
        if unknown:
            raise ConfigError(f"{self.name}: unexpected keyword argument(s) {unknown}")
        with using_tape(tape):
            pred = self._pred(pred)
            target = self._target(target, pred)
            self._check(pred, target)
            coef, observed = self._coefficients(target.shape, mask, weights, pred._data.dtype)
            if observed is not None:
                target = self._sanitize(target, observed)
            return self._loss(pred, target, coef, **extra)

    def _pred(self, pred: Any) -> Tensor:
        return as_float_tensor(self.name, "pred", pred)

    def _target(self, target: Any, pred: Tensor) -> Tensor:
        t = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
        if t._data.dtype.kind not in "fiub":
            raise DTypeError(f"{self.name}: target must be numeric, got dtype {t._data.dtype}")
        return match_dtype(t, pred._data.dtype)

    def _check(self, pred: Tensor, target: Tensor) -> None:
        if pred.shape != target.shape:
            raise ShapeError(
                f"{self.name}: pred has shape {pred.shape} but target has shape {target.shape}; "
                "they must be equal"
            )

    def _coefficients(
        self, shape: tuple[int, ...], mask: Any, weights: Any, dtype: np.dtype
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """``(weights * mask, observed)`` broadcast to ``shape``; None when neither is given."""
        if mask is None and weights is None:
            return None, None
        coef = None
        observed = None
        if mask is not None:
            m = np.asarray(mask._data if isinstance(mask, Tensor) else mask)
            if m.dtype.kind != "b":
                if m.dtype.kind in "iuf" and np.all((m == 0) | (m == 1)):
                    m = m.astype(bool)
                else:
                    raise DTypeError(
                        f"{self.name}: mask must be bool (True = observed), got dtype {m.dtype}"
                    )
            observed = self._broadcast(m, shape, "mask")
            coef = observed.astype(dtype)
        if weights is not None:
            w = np.asarray(weights._data if isinstance(weights, Tensor) else weights)
            if w.dtype.kind not in "fiu":
                raise DTypeError(f"{self.name}: weights must be numeric, got dtype {w.dtype}")
            w = self._broadcast(w, shape, "weights").astype(dtype)
            if not np.all(np.isfinite(w)) or np.any(w < 0):
                raise DataValidationError(
                    f"{self.name}: weights must be finite and non-negative "
                    f"({int(np.sum(~np.isfinite(w) | (w < 0)))} bad value(s))"
                )
            coef = w if coef is None else coef * w
        return coef, observed

    def _broadcast(self, arr: np.ndarray, shape: tuple[int, ...], what: str) -> np.ndarray:
        try:
            return np.broadcast_to(arr, shape)
        except ValueError:
            raise ShapeError(
                f"{self.name}: {what} has shape {arr.shape}, which does not broadcast to the "
                f"target's shape {shape}"
            ) from None

    def _sanitize(self, target: Tensor, observed: np.ndarray) -> Tensor:
        data = target._data
        if data.dtype.kind != "f":
            return target
        bad = ~np.isfinite(data)
        if not bad.any():
            return target
        if np.any(bad & observed):
            return target  # NaN in an observed target propagates, as in PyTorch
        return ops.where(observed, target, self._fill)

    _fill: ClassVar[float] = 1.0

    # -- loss and reduction ---------------------------------------------------------------------
    def _elementwise(self, pred: Tensor, target: Tensor, **extra: Any) -> Tensor:
        raise NotImplementedError

    def _expand(self, coef: np.ndarray, elem_shape: tuple[int, ...]) -> np.ndarray:
        """The coefficients (target shape) laid out against the element loss."""
        return coef

    def _loss(self, pred: Tensor, target: Tensor, coef: np.ndarray | None, **extra: Any) -> Tensor:
        elem = self._elementwise(pred, target, **extra)
        if coef is None:
            return self._reduce(elem, None)
        c = self._expand(coef, elem.shape)
        return self._reduce(elem * c, float(np.broadcast_to(c, elem.shape).sum(dtype=np.float64)))

    def _reduce(self, elem: Tensor, denominator: float | None) -> Tensor:
        """Apply the reduction; ``denominator`` is the total weight of a weighted/masked mean."""
        if self.reduction == "none":
            return elem
        if self.reduction == "sum":
            return ops.sum(elem)
        if denominator is None:
            return ops.mean(elem)
        total = ops.sum(elem)
        scale = 1.0 / denominator if denominator != 0.0 else float("nan")
        return total * scale


class PerPointLoss(Loss):
    """A loss whose prediction holds several values per target point on its last axis (quantile
    levels, a distribution's parameters): ``pred (..., K)`` against ``target (...)`` or
    ``(..., 1)``; ``mask``/``weights`` in the target's shape (``(..., 1)`` accepted too).

    Subclasses give :meth:`_last_axis`: ``K`` and what the ``K`` values are (for messages).
    """

    def _last_axis(self) -> tuple[int, str]:
        raise NotImplementedError

    def _target(self, target: Any, pred: Tensor) -> Tensor:
        t = super()._target(target, pred)
        if pred.ndim and t.shape == (*pred.shape[:-1], 1):
            t = ops.squeeze(t, axis=-1)  # (..., 1) -> (...): masks and weights use this shape
        return t

    def _check(self, pred: Tensor, target: Tensor) -> None:
        k, what = self._last_axis()
        if pred.ndim == 0 or pred.shape[-1] != k:
            raise ShapeError(
                f"{self.name}: pred has shape {pred.shape} but its last axis must hold the "
                f"{k} {what}"
            )
        lead = pred.shape[:-1]
        if target.shape != lead:  # (..., 1) was squeezed by _target
            raise ShapeError(
                f"{self.name}: pred has shape {pred.shape}, so target must have shape {lead} or "
                f"{(*lead, 1)}, got {target.shape}"
            )

    def _coefficients(
        self, shape: tuple[int, ...], mask: Any, weights: Any, dtype: np.dtype
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        return super()._coefficients(
            shape, _squeeze1(mask, shape), _squeeze1(weights, shape), dtype
        )


def _squeeze1(arr: Any, shape: tuple[int, ...]) -> Any:
    """A mask/weights given as ``(..., 1)`` for a target of shape ``(...)``: drop the size-1 axis."""
    if arr is None:
        return None
    a = np.asarray(arr._data if isinstance(arr, Tensor) else arr)
    if a.ndim == len(shape) + 1 and a.shape[-1] == 1:
        return a[..., 0]
    return a
