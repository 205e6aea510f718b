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


@hookimpl
def swets_register_optimizers(register: Any) -> None:
    """Register sgd, adam, adamw and rmsprop."""
    register("sgd", SGD, doc="Stochastic gradient descent (momentum, dampening, Nesterov, L2).")
    register("adam", Adam, doc="Adam (AMSGrad, L2 weight decay, maximize).")
    register("adamw", AdamW, doc="AdamW: Adam with decoupled weight decay.")
    register("rmsprop", RMSprop, doc="RMSprop (centered, momentum, L2 weight decay).")


@hookimpl
def swets_register_schedulers(register: Any) -> None:
    """Register the learning-rate schedulers."""
    register("step_lr", StepLR, doc="Decay the lr by gamma every step_size epochs.")
    register("multi_step_lr", MultiStepLR, doc="Decay the lr by gamma at each milestone.")
    register("exponential_lr", ExponentialLR, doc="Decay the lr by gamma every epoch.")
    register("cosine_annealing_lr", CosineAnnealingLR, doc="Cosine annealing over T_max epochs.")
    register(
        "cosine_annealing_warm_restarts",
        CosineAnnealingWarmRestarts,
        doc="Cosine annealing with warm restarts (SGDR).",
    )
    register("linear_lr", LinearLR, doc="Linear warm-up (or decay) of the lr factor.")
    register("sequential_lr", SequentialLR, doc="Schedulers one after another, at milestones.")
    register("one_cycle_lr", OneCycleLR, doc="The 1cycle policy (lr and momentum).")
    register("reduce_lr_on_plateau", ReduceLROnPlateau, doc="Reduce the lr when a metric plateaus.")


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
