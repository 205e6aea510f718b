"""The contracts between swets-core and the plugins, as :class:`typing.Protocol` classes.

A plugin does not need to subclass anything: an object that has the listed members works. swets-core
also ships :class:`swets_core.module.Module`, a base class that implements :class:`Layer`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from swets_core.autograd import GradientTape, Parameter, Tensor, TensorId


@runtime_checkable
class BackwardOp(Protocol):
    """The backward half of an op, returned by the op's forward and stored on the tape.

    The forward pass saves what the backward needs (inputs, masks, intermediate results) in the
    callable's closure or attributes. ``__call__`` receives the gradient of the output (an array, or a
    tuple of arrays for an op with several outputs; outputs that received no gradient are given as
    None) and a tuple of booleans telling which inputs need a gradient. It returns one gradient per
    input, in input order: an array (of the input's shape, or broadcastable to it; the tape sums
    broadcast dimensions away) or None where the input needs none. It must not modify
    ``grad_output`` in place: the same array may be handed to several ops.
    """

    def __call__(
        self, grad_output: Any, needs_input_grad: tuple[bool, ...]
    ) -> Sequence[np.ndarray | None]: ...


@runtime_checkable
class Layer(Protocol):
    """A module of a network: a layer or a whole model.

    Shape conventions are documented per layer; sequences are batch-first ``(batch, length, features)``.
    """

    training: bool

    def forward(self, x: Tensor, tape: GradientTape | None = None) -> Any:
        """Compute the output; ops are recorded on ``tape`` (or on the active tape when None)."""
        ...

    def __call__(self, x: Tensor, tape: GradientTape | None = None) -> Any: ...

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """``(dotted_name, Parameter)`` pairs, e.g. ``encoder.layers.0.attn.q_proj.weight``."""
        ...

    def parameters(self) -> list[Parameter]: ...

    def train(self, mode: bool = True) -> Layer: ...

    def eval(self) -> Layer: ...

    def state_dict(self) -> dict[str, np.ndarray]:
        """Parameters and buffers by dotted name, as numpy arrays."""
        ...

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None: ...


@runtime_checkable
class Loss(Protocol):
    """A loss: ``loss(pred, target, tape=None) -> scalar Tensor`` (or per-element with ``reduction='none'``)."""

    def __call__(
        self, pred: Tensor, target: Tensor, tape: GradientTape | None = None
    ) -> Tensor: ...


@runtime_checkable
class Optimizer(Protocol):
    """Updates parameters in place from the gradient mapping a tape returns.

    ``step(params, grads)``: ``params`` is the list the optimizer was built with (or a subset);
    ``grads`` is ``{TensorId: Tensor}``. A parameter whose id is absent from ``grads`` is skipped.
    """

    def step(
        self, params: Iterable[Parameter] | None, grads: Mapping[TensorId, Tensor]
    ) -> None: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


@runtime_checkable
class Scheduler(Protocol):
    """Sets an optimizer's learning rates over time. ``step()`` once per epoch or per batch."""

    def step(self, metric: float | None = None) -> None: ...

    def get_last_lr(self) -> list[float]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


@runtime_checkable
class Metric(Protocol):
    """A forecast metric: ``metric(y_true, y_pred, **context) -> float`` on numpy arrays.

    ``greater_is_better`` tells a tracker which way is an improvement.
    """

    greater_is_better: bool

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray, **context: Any) -> float: ...


@runtime_checkable
class Serializer(Protocol):
    """Turns a checkpoint payload into bytes on disk and back.

    A payload is plain data: dicts with string keys, lists, str, int, float, bool, None, bytes and
    numpy arrays of allow-listed dtypes. ``load`` must never execute code from the file.
    """

    name: str
    suffix: str

    def save(self, payload: Mapping[str, Any], path: str) -> None: ...

    def load(self, path: str) -> dict[str, Any]: ...


__all__ = ["BackwardOp", "Layer", "Loss", "Metric", "Optimizer", "Scheduler", "Serializer"]
