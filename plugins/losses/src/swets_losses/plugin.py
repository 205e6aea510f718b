"""Entry point of swets_losses in the ``swets`` group: its pluggy hook implementations."""

from __future__ import annotations

from typing import Any

from swets_core import hookimpl
from swets_losses.classification import CrossEntropyLoss
from swets_losses.regression import GaussianNLLLoss, HuberLoss, MAELoss, MSELoss, QuantileLoss
from swets_losses.scale_free import MAPELoss, MASELoss, SMAPELoss


@hookimpl
def swets_register_losses(register: Any) -> None:
    """Register every loss of swets-losses."""
    register("mse", MSELoss, doc="Mean squared error.")
    register("mae", MAELoss, doc="Mean absolute error (L1).")
    register("huber", HuberLoss, doc="Huber loss with threshold delta.")
    register("cross_entropy", CrossEntropyLoss, doc="Cross-entropy of logits vs class indices.")
    register("quantile", QuantileLoss, doc="Pinball loss over several quantile levels at once.")
    register("gaussian_nll", GaussianNLLLoss, doc="Gaussian negative log-likelihood (mean, var).")
    register("mape", MAPELoss, doc="Mean absolute percentage error (a fraction, eps-clamped).")
    register("smape", SMAPELoss, doc="Symmetric MAPE, in [0, 2].")
    register("mase", MASELoss, doc="Mean absolute scaled error (seasonal naive in-sample scale).")
