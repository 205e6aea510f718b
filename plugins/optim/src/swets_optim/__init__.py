"""swets_optim: optimizers (SGD, Adam, AdamW, RMSprop), learning-rate schedulers and gradient clipping.

Optimizers update :class:`~swets_core.Parameter` arrays in place from the ``{TensorId: Tensor}``
mapping a :class:`~swets_core.GradientTape` returns::

    opt = Adam(model.parameters(), lr=1e-3)
    sched = CosineAnnealingLR(opt, T_max=100)
    with GradientTape() as tape:
        loss = loss_fn(model(x), y)
    grads, norm = clip_grad_norm(tape.backward(loss), max_norm=1.0)
    opt.step(None, grads)
    sched.step()

Everything is also registered by name (``registry.create("optimizers", "adam", params, lr=...)``).
"""

from swets_optim.adam import Adam, AdamW
from swets_optim.clip import clip_grad_norm, clip_grad_value, grad_norm
from swets_optim.lr_scheduler import (
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    ExponentialLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)
from swets_optim.optimizer import Optimizer
from swets_optim.rmsprop import RMSprop
from swets_optim.sgd import SGD

__version__ = "0.1.0"

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "ExponentialLR",
    "LRScheduler",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "Optimizer",
    "RMSprop",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
    "__version__",
    "clip_grad_norm",
    "clip_grad_value",
    "grad_norm",
]
