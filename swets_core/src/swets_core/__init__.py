"""swets-core: tensors, the gradient tape, the plugin contract and the registry.

Everything else in swets (ops, layers, losses, optimizers, models, serializers, metrics) comes from
plugins discovered through the ``swets`` entry-point group; see :mod:`swets_core.registry`.
"""

from __future__ import annotations

__version__ = "0.1.0"

from swets_core import dispatch, errors, registry
from swets_core.autograd import (
    GradientTape,
    OpDef,
    Parameter,
    Tensor,
    TensorId,
    active_tape,
    apply,
    as_tensor,
    call_op,
    grads_of,
    no_grad,
    tensor,
    unbroadcast,
    using_tape,
)
from swets_core.dispatch import run_op
from swets_core.dtype import DType
from swets_core.errors import SwetsError
from swets_core.hookspecs import hookimpl
from swets_core.module import Module

__all__ = [
    "DType",
    "GradientTape",
    "Module",
    "OpDef",
    "Parameter",
    "SwetsError",
    "Tensor",
    "TensorId",
    "__version__",
    "active_tape",
    "apply",
    "as_tensor",
    "call_op",
    "dispatch",
    "errors",
    "grads_of",
    "hookimpl",
    "no_grad",
    "registry",
    "run_op",
    "tensor",
    "unbroadcast",
    "using_tape",
]
