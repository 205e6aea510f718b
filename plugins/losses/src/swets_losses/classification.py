"""Cross-entropy over class logits with class indices (PyTorch's ``CrossEntropyLoss``)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from swets_core import ops
from swets_core.autograd import Tensor
from swets_core.checks import is_int
from swets_core.errors import ConfigError, DTypeError, OpError, ShapeError
from swets_losses.base import Loss


class CrossEntropyLoss(Loss):
    """Cross-entropy of logits against class indices, with PyTorch's semantics.

    With ``logp = log_softmax(pred, axis=1)``, ``C`` classes, class weights ``w`` (ones by default)
    and smoothing ``s``, the loss of a sample of class ``y`` is::

        L = (1 - s) * w[y] * (-logp[y]) + s / C * sum_c w[c] * (-logp[c])

    A sample whose target equals ``ignore_index`` (or is masked) contributes 0. ``mean`` divides the
    sum by ``sum(w[y])`` over the samples that count (times their ``weights``), as PyTorch does.

    Shapes: ``pred (N, C)`` with ``target (N,)``; ``pred (N, C, d1, ...)`` with ``target (N, d1, ...)``;
    or ``pred (C,)`` with a 0-d ``target``. Targets are integers in ``[0, C)``.

    Args:
        weight: optional per-class weights, ``C`` non-negative numbers.
        ignore_index: target value that is ignored (default ``-100``).
        label_smoothing: in ``[0, 1]``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``none`` gives the target's shape).
    """

    name = "cross_entropy"
    summary = "Cross-entropy of logits vs class indices."
    _config_keys = ("weight", "ignore_index", "label_smoothing")

    def __init__(
        self,
        weight: Sequence[float] | np.ndarray | None = None,
        ignore_index: int = -100,
        label_smoothing: float = 0.0,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction)
        if weight is not None:
            w = np.asarray(weight._data if isinstance(weight, Tensor) else weight)
            if w.ndim != 1 or w.size == 0 or w.dtype.kind not in "fiu":
                raise ConfigError(
                    f"{self.name}: weight must be a 1-d list of per-class weights, got {weight!r}"
                )
            w = w.astype(np.float64)
            if not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ConfigError(f"{self.name}: weight must be finite and non-negative")
            weight = w
        self._weight = weight
        if not is_int(ignore_index):
            raise ConfigError(f"{self.name}: ignore_index must be an int, got {ignore_index!r}")
        self.ignore_index = int(ignore_index)
        if (
            isinstance(label_smoothing, bool)
            or not isinstance(label_smoothing, numbers.Real)
            or not 0.0 <= float(label_smoothing) <= 1.0
        ):
            raise ConfigError(
                f"{self.name}: label_smoothing must be in [0, 1], got {label_smoothing!r}"
            )
        self.label_smoothing = float(label_smoothing)

    @property
    def weight(self) -> list[float] | None:
        """The class weights as a list (None when not given)."""
        return None if self._weight is None else self._weight.tolist()

    def _target(self, target: Any, pred: Tensor) -> Tensor:
        t = target._data if isinstance(target, Tensor) else np.asarray(target)
        if t.dtype.kind not in "iu":
            raise DTypeError(
                f"{self.name}: target must hold integer class indices, got dtype {t.dtype} "
                "(class probabilities are not supported)"
            )
        return Tensor._wrap(t)

    def _check(self, pred: Tensor, target: Tensor) -> None:
        if pred.ndim == 0:
            raise ShapeError(f"{self.name}: pred must have a class axis, got a 0-d tensor")
        expected = () if pred.ndim == 1 else (pred.shape[0], *pred.shape[2:])
        if target.shape != expected:
            raise ShapeError(
                f"{self.name}: pred has shape {pred.shape} (classes on axis "
                f"{0 if pred.ndim == 1 else 1}), so target must have shape {expected}, "
                f"got {target.shape}"
            )
        c = pred.shape[0] if pred.ndim == 1 else pred.shape[1]
        if self._weight is not None and self._weight.size != c:
            raise ShapeError(
                f"{self.name}: weight has {self._weight.size} entries but pred has {c} classes"
            )

    def _loss(self, pred: Tensor, target: Tensor, coef: np.ndarray | None) -> Tensor:
        axis = 0 if pred.ndim == 1 else 1
        n_classes = pred.shape[axis]
        dtype = pred._data.dtype
        y = target._data
        valid = y != self.ignore_index
        bad = valid & ((y < 0) | (y >= n_classes))
        if bad.any():
            first = np.argwhere(bad)[0]
            raise OpError(
                f"{self.name}: target {int(y[tuple(first)])} at index {tuple(int(i) for i in first)} "
                f"is out of range for {n_classes} classes (and is not ignore_index="
                f"{self.ignore_index})"
            )
        y_safe = np.where(valid, y, 0)
        # per-sample factor: which samples count, and their sample weights
        factor = valid.astype(dtype) if coef is None else valid * coef
        w = np.ones(n_classes) if self._weight is None else self._weight
        w_y = w[y_safe] * factor  # the weight of each sample's own class
        # coefficient of -logp for every class: one-hot part and smoothing part
        s = self.label_smoothing
        shape = [1] * pred.ndim
        shape[axis] = n_classes
        onehot_w = np.expand_dims(w_y * (1.0 - s), axis)
        if s > 0.0:
            smooth = w.reshape(shape) * (s / n_classes)
            c = smooth * np.expand_dims(factor, axis)
            c = np.array(np.broadcast_to(c, pred.shape), dtype=dtype)
        else:
            c = np.zeros(pred.shape, dtype=dtype)
        np.put_along_axis(
            c,
            np.expand_dims(y_safe, axis),
            np.take_along_axis(c, np.expand_dims(y_safe, axis), axis) + onehot_w,
            axis,
        )
        logp = ops.log_softmax(pred, axis=axis)
        elem = -ops.sum(logp * c, axis=axis)
        return self._reduce(elem, float(w_y.sum(dtype=np.float64)))
