"""Entry point of swets_losses in the ``swets`` group: its pluggy hook implementations."""

from __future__ import annotations

from typing import Any

from swets_core import hookimpl
from swets_losses.classification import CrossEntropyLoss
from swets_losses.likelihood import NegativeBinomialNLLLoss, NormalNLLLoss, StudentTNLLLoss
from swets_losses.regression import GaussianNLLLoss, HuberLoss, MAELoss, MSELoss, QuantileLoss
from swets_losses.scale_free import MAPELoss, MASELoss, SMAPELoss


@hookimpl
def swets_register_losses(register: Any) -> None:
    """Register every loss of swets-losses (each under its ``name``, with its ``summary``)."""
    for cls in (
        MSELoss,
        MAELoss,
        HuberLoss,
        CrossEntropyLoss,
        QuantileLoss,
        GaussianNLLLoss,
        MAPELoss,
        SMAPELoss,
        MASELoss,
        NormalNLLLoss,
        StudentTNLLLoss,
        NegativeBinomialNLLLoss,
    ):
        register(cls.name, cls, doc=cls.summary)
