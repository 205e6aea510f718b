"""Entry point of swets_optim in the ``swets`` group: its pluggy hook implementations."""

from __future__ import annotations

from typing import Any

from swets_core import hookimpl
from swets_optim.adam import Adam, AdamW
from swets_optim.lr_scheduler import (
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    ExponentialLR,
    LinearLR,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)
from swets_optim.rmsprop import RMSprop
from swets_optim.sgd import SGD

SCHEDULERS = (
    StepLR,
    MultiStepLR,
    ExponentialLR,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    LinearLR,
    SequentialLR,
    OneCycleLR,
    ReduceLROnPlateau,
)
"""The registered schedulers, in the order ``swets list schedulers`` was written in."""


@hookimpl
def swets_register_optimizers(register: Any) -> None:
    """Register sgd, adam, adamw and rmsprop (each under its ``name``, with its ``summary``)."""
    for cls in (SGD, Adam, AdamW, RMSprop):
        register(cls.name, cls, doc=cls.summary)


@hookimpl
def swets_register_schedulers(register: Any) -> None:
    """Register the learning-rate schedulers (each under its ``name``, with its ``summary``)."""
    for cls in SCHEDULERS:
        register(cls.name, cls, doc=cls.summary)


@hookimpl
def swets_register_functions(register: Any) -> None:
    """Register gradient clipping: clip_grad_norm, clip_grad_value and grad_norm."""
    from swets_optim.clip import clip_grad_norm, clip_grad_value, grad_norm

    register(
        "clip_grad_norm",
        clip_grad_norm,
        doc="Scale gradients so their global norm is at most max_norm.",
    )
    register(
        "clip_grad_value", clip_grad_value, doc="Clamp every gradient element to [-clip, clip]."
    )
    register("grad_norm", grad_norm, doc="The global norm of a gradient mapping (a Python float).")
