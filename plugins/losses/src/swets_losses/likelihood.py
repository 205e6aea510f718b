"""Distribution losses: the negative log-likelihood of a distribution head's output.

A model emitting ``P`` unconstrained values per forecast point, ``pred (..., P)``, in the layout of
a :class:`~swets_ops.distributions.Distribution`, trains on the mean negative log-likelihood of
the targets: ``normal_nll`` (P = 2), ``student_t_nll`` (P = 3) and ``negative_binomial_nll``
(P = 2). The link functions and the likelihood are the distribution's, shared with DeepAR's heads.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from swets_core import call_op
from swets_core.autograd import Tensor
from swets_core.errors import ConfigError, DataValidationError, ShapeError
from swets_losses.base import PerPointLoss, as_float_tensor, match_dtype
from swets_ops.distributions import DISTRIBUTIONS, Distribution, DistributionPrediction


class LikelihoodLoss(PerPointLoss):
    """The negative log-likelihood of ``target`` under the distribution ``pred`` parametrizes.

    Call ``loss(pred, target, mask=None, weights=None, scale=None)``.

    Shapes: ``pred (..., P)`` raw parameters (see :mod:`swets_ops.distributions` for the layout
    and the links); ``target (...)`` or ``(..., 1)``; ``mask``/``weights`` in the target's shape;
    ``scale`` positive, broadcastable to the target's shape (e.g. ``(batch, 1)``, one per series):
    the parameters are rescaled as DeepAR's (the mean times the scale).

    Args:
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``none`` gives the NLL per point, ``(...)``).
    """

    distribution: ClassVar[Distribution]
    _call_keys = ("scale",)
    _fill = 0.0

    def __call__(self, pred: Any, target: Any, tape: Any = None, **kwargs: Any) -> Tensor:
        """``loss(pred, target, ...)``; ``pred`` may be a
        :class:`~swets_ops.distributions.DistributionPrediction` (DeepAR's output in training),
        whose scale is applied."""
        if isinstance(pred, DistributionPrediction):
            if pred.distribution.name != self.distribution.name:
                raise ConfigError(
                    f"{self.name}: the model's head is a {pred.distribution.name} distribution; "
                    f"train it with {pred.distribution.name}_nll"
                )
            if kwargs.get("scale") is not None and pred.scale is not None:
                raise ConfigError(f"{self.name}: scale given twice (in pred and as scale=)")
            if pred.scale is not None:
                kwargs["scale"] = pred.scale
            pred = pred.raw
        return super().__call__(pred, target, tape, **kwargs)

    def _last_axis(self) -> tuple[int, str]:
        names = ", ".join(self.distribution.params)
        return self.distribution.n_params, f"raw parameters ({names}) of each point"

    def _elementwise(self, pred: Tensor, target: Tensor, scale: Any = None) -> Tensor:
        dist = self.distribution
        data = target._data
        observed = np.isfinite(data)
        dist.check_target(self.name, np.where(observed, data, self._fill))
        if scale is not None:
            scale = match_dtype(as_float_tensor(self.name, "scale", scale), pred._data.dtype)
            s = scale._data
            if not np.all(np.isfinite(s) & (s > 0)):
                raise DataValidationError(f"{self.name}: scale must be finite and > 0")
            try:
                np.broadcast_shapes(s.shape, target.shape)
            except ValueError:
                raise ShapeError(
                    f"{self.name}: scale has shape {s.shape}, which does not broadcast to the "
                    f"target's shape {target.shape}"
                ) from None
        params = dist.constrain(call_op, pred, scale)
        return dist.nll(call_op, params, target)


class NormalNLLLoss(LikelihoodLoss):
    """Gaussian NLL of a head emitting ``(loc, scale)`` raw per point (``pred (..., 2)``)."""

    name = "normal_nll"
    summary = "Gaussian NLL of a (loc, scale) distribution head."
    distribution = DISTRIBUTIONS["normal"]


class StudentTNLLLoss(LikelihoodLoss):
    """Student-t NLL of a head emitting ``(loc, scale, df)`` raw per point (``pred (..., 3)``)."""

    name = "student_t_nll"
    summary = "Student-t NLL of a (loc, scale, df) head."
    distribution = DISTRIBUTIONS["student_t"]


class NegativeBinomialNLLLoss(LikelihoodLoss):
    """Negative binomial NLL of a head emitting ``(mu, alpha)`` raw per point (``pred (..., 2)``);
    targets are counts (non-negative whole numbers)."""

    name = "negative_binomial_nll"
    summary = "Negative binomial NLL of a (mu, alpha) head; targets are counts."
    distribution = DISTRIBUTIONS["negative_binomial"]


__all__ = ["LikelihoodLoss", "NegativeBinomialNLLLoss", "NormalNLLLoss", "StudentTNLLLoss"]
