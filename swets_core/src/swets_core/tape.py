"""The gradient tape: which tape records, and the reverse pass that turns its nodes into gradients.

A :class:`GradientTape` holds the nodes :func:`swets_core.autograd.apply` appends while it is the
active tape of the thread (a context manager, or ``layer(x, tape=t)``), the ids of the tensors it
tracks, and :meth:`GradientTape.backward`, which walks the nodes in reverse, calls each op's backward,
reduces broadcast gradients to the input's shape (:func:`unbroadcast`), casts them to the input's
dtype, sums the gradients of tensors used more than once, and returns ``{TensorId: Tensor}`` for the
tracked leaves.

This module sits below :mod:`swets_core.autograd` (which records onto tapes and re-exports every public
name here): it reads tensors' ``_data``, ``id`` and ``_trainable`` slots and wraps gradient arrays in
the tensor class that :mod:`swets_core.autograd` plugs in with :func:`set_tensor_class`, so it does not
import that module back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NewType

import numpy as np

from swets_core.errors import DTypeError, ShapeError, TapeError

if TYPE_CHECKING:
    from swets_core.autograd import Tensor

TensorId = NewType("TensorId", int)
"""A tensor's unique identity: the key of the gradient mapping the tape returns."""

# A recorded node is a plain tuple (the cheapest object to build per op):
# (name, backward, input ids (TensorId | None per input), output id(s), needs, metas), where metas holds
# (shape, dtype) per input that needs a gradient (None otherwise).
_NAME, _BACKWARD, _INPUTS, _OUTPUTS, _NEEDS, _METAS = range(6)


class _Local(threading.local):
    tape: GradientTape | None = None


_state = _Local()
"""The active tape of each thread (``_state.tape``); :func:`swets_core.autograd.apply` reads it."""

_tensor_class: Any = None


def set_tensor_class(cls: type) -> None:
    """Install the tensor class gradients are wrapped in (called once by :mod:`swets_core.autograd`)."""
    global _tensor_class
    _tensor_class = cls


def _is_tensor(x: Any) -> bool:
    return isinstance(x, _tensor_class)


def _wrap(array: np.ndarray) -> Tensor:
    return _tensor_class._wrap(array)


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``, undoing numpy broadcasting (shared by every op's backward)."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0:
        return np.broadcast_to(grad, shape)  # a scalar-like gradient for a larger input
    axes = tuple(range(extra)) + tuple(
        i + extra for i, s in enumerate(shape) if s == 1 and grad.shape[i + extra] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if extra:
        grad = grad.reshape(shape)
    return grad


class GradientTape:
    """Records ops during a forward pass and computes gradients in reverse.

    Args:
        persistent: allow :meth:`backward` to be called more than once (keeps the recorded nodes).
        watch: tensors to track from the start, in addition to every :class:`Parameter`.

    Use it as a context manager, which makes it the active tape of the current thread, or pass it to
    a layer's ``forward(x, tape=tape)``. Only ops with at least one tracked input are recorded, so a
    tape costs nothing for data preparation, and no active tape means no recording at all.

    Example::

        with GradientTape() as tape:
            loss = ((model(x) - y) ** 2).mean()
        grads = tape.backward(loss)  # {param.id: gradient Tensor}
    """

    __slots__ = ("_nodes", "_prev", "_recording", "_tracked", "_used", "persistent")

    def __init__(self, persistent: bool = False, watch: Iterable[Tensor] = ()) -> None:
        self.persistent = persistent
        self._nodes: list[tuple[Any, ...]] = []
        self._tracked: set[int] = set()
        self._recording = True
        self._used = False
        self._prev: list[GradientTape | None] = []
        for t in watch:
            self.watch(t)

    # -- activation ---------------------------------------------------------------------------
    def __enter__(self) -> GradientTape:
        self._prev.append(_state.tape)
        _state.tape = self
        return self

    def __exit__(self, *exc: object) -> None:
        _state.tape = self._prev.pop()

    @contextmanager
    def stop_recording(self) -> Iterator[None]:
        """Within this block, ops run without being recorded on this tape."""
        before = self._recording
        self._recording = False
        try:
            yield
        finally:
            self._recording = before

    def watch(self, *tensors: Tensor | Iterable[Tensor]) -> None:
        """Track tensors that are not parameters (inputs whose gradient you want)."""
        for t in tensors:
            if _is_tensor(t):
                if t._data.dtype.kind != "f":
                    raise DTypeError(
                        f"cannot watch a {t._data.dtype} tensor: gradients need floats"
                    )
                self._tracked.add(t.id)
            else:
                self.watch(*t)

    def __len__(self) -> int:
        """Number of recorded nodes."""
        return len(self._nodes)

    @property
    def op_names(self) -> list[str]:
        """The names of the recorded ops, in recording order (for debugging and tests)."""
        return [n[_NAME] for n in self._nodes]

    # -- backward -----------------------------------------------------------------------------
    def backward(
        self,
        output: Tensor,
        grad: Tensor | np.ndarray | None = None,
        sources: Iterable[Tensor] | None = None,
    ) -> dict[TensorId, Tensor]:
        """Gradients of ``output`` with respect to every tracked leaf it depends on.

        Args:
            output: the tensor to differentiate, usually a scalar loss.
            grad: the gradient of some downstream value w.r.t. ``output``; ones when omitted.
            sources: if given, return gradients for exactly these tensors (intermediates allowed);
                otherwise for every tracked leaf (parameters and watched tensors).

        Returns:
            ``{TensorId: Tensor}``. A tracked tensor that does not influence ``output`` is absent.
            Gradients of a tensor used several times are summed.

        Raises:
            TapeError: on a second call to a non-persistent tape, or when ``output`` was not produced
                by a recorded op nor tracked.
        """
        if self._used and not self.persistent:
            raise TapeError(
                "backward() was already called on this non-persistent GradientTape; "
                "use GradientTape(persistent=True) to call it more than once"
            )
        if not _is_tensor(output):
            raise TapeError(f"backward() needs a Tensor output, got {type(output).__name__}")
        if output.id not in self._tracked and not output._trainable:
            raise TapeError(
                "the output was not computed from any tracked tensor on this tape "
                "(no Parameter or watched tensor among its inputs, or it was computed outside the tape)"
            )
        out_data = output._data
        if grad is None:
            seed = np.ones_like(out_data)
        else:
            seed = grad._data if _is_tensor(grad) else np.asarray(grad, dtype=out_data.dtype)
            if seed.shape != out_data.shape:
                raise ShapeError(
                    f"backward(): grad has shape {seed.shape} but the output has shape {out_data.shape}"
                )
        keep = None if sources is None else {t.id for t in sources}
        kept: dict[int, np.ndarray] = {}
        grads: dict[int, np.ndarray] = {output.id: seed}
        for name, backward, inputs, outs, needs, metas in reversed(self._nodes):
            if type(outs) is tuple:
                present = [grads.pop(o, None) for o in outs]
                if all(g is None for g in present):
                    continue
                if keep is not None:
                    for o, g in zip(outs, present):
                        if o in keep and g is not None:
                            kept[o] = g
                g_out: Any = tuple(present)
            else:
                g_out = grads.pop(outs, None)
                if g_out is None:
                    continue
                if keep is not None and outs in keep:
                    kept[outs] = g_out
            in_grads = backward(g_out, needs)
            if type(in_grads) is not tuple or len(in_grads) != len(inputs):
                in_grads = _checked_gradients(name, in_grads, len(inputs))
            for tid, g, meta in zip(inputs, in_grads, metas):
                if tid is None or g is None:
                    continue
                shape, dtype = meta
                try:
                    mismatch = g.shape != shape
                except AttributeError:  # not an array (the failure path only)
                    i = next(k for k, x in enumerate(in_grads) if x is g)
                    raise TapeError(
                        f"op {name!r}: its backward returned a {type(g).__name__} as the "
                        f"gradient of input {i}; it must be a numpy array of shape {shape} "
                        "(or None)"
                    ) from None
                if mismatch:
                    try:
                        g = unbroadcast(g, shape)
                    except ValueError as exc:
                        i = next(k for k, x in enumerate(in_grads) if x is g)
                        raise TapeError(
                            f"op {name!r}: its backward returned a gradient of shape {g.shape} "
                            f"for input {i} of shape {shape}"
                        ) from exc
                if g.dtype != dtype:
                    g = g.astype(dtype)
                prev = grads.get(tid)
                grads[tid] = g if prev is None else prev + g
        if not self.persistent:
            self._used = True
            self._nodes = []
        if keep is not None:
            kept.update((k, v) for k, v in grads.items() if k in keep)
            return {TensorId(k): _wrap(_own(v)) for k, v in kept.items()}
        # every node popped its outputs' gradients above: what is left belongs to leaves
        return {TensorId(k): _wrap(_own(v)) for k, v in grads.items()}

    def gradient(self, output: Tensor, sources: Sequence[Tensor]) -> list[Tensor | None]:
        """Gradients of ``output`` for each of ``sources``, in order (None where it has no influence)."""
        got = self.backward(output, sources=sources)
        return [got.get(t.id) for t in sources]


def _checked_gradients(name: str, returned: Any, n_inputs: int) -> tuple[Any, ...]:
    """The gradients an op's backward returned, when they are not a tuple of one per input: a list
    of the right length is accepted, anything else is a TapeError naming the op, what it returned
    and what it should have returned."""
    if type(returned) is list and len(returned) == n_inputs:
        return tuple(returned)
    expected = (
        f"a tuple of {n_inputs} gradient(s), one per input (a numpy array, or None for an input "
        "that needs none)"
    )
    if isinstance(returned, (tuple, list)):
        got = f"a {type(returned).__name__} of {len(returned)} gradient(s)"
    elif returned is None:
        got = "None"
    elif isinstance(returned, np.ndarray):
        got = f"an array of shape {returned.shape} (not wrapped in a tuple)"
    else:
        got = f"a {type(returned).__name__}"
    raise TapeError(
        f"op {name!r}: its backward returned {got} for {n_inputs} input(s); it must return {expected}"
    )


def _own(g: np.ndarray) -> np.ndarray:
    # a broadcast view or a read-only array must not leak out as a gradient
    if not g.flags.writeable or (g.strides and 0 in g.strides):
        return np.array(g)
    return g


def active_tape() -> GradientTape | None:
    """The tape recording on this thread, or None."""
    return _state.tape


@contextmanager
def no_grad() -> Iterator[None]:
    """Within this block no tape records (inference, metrics, parameter updates)."""
    prev = _state.tape
    _state.tape = None
    try:
        yield
    finally:
        _state.tape = prev


@contextmanager
def using_tape(tape: GradientTape | None) -> Iterator[GradientTape | None]:
    """Make ``tape`` the active tape within the block; ``None`` leaves the current one in place."""
    if tape is None or tape is _state.tape:
        yield _state.tape
        return
    prev = _state.tape
    _state.tape = tape
    try:
        yield tape
    finally:
        _state.tape = prev


def grads_of(grads: Mapping[TensorId, Tensor], tensors: Iterable[Tensor]) -> list[Tensor | None]:
    """Pick the gradients of ``tensors`` out of a gradient mapping, in order."""
    return [grads.get(t.id) for t in tensors]


__all__ = [
    "GradientTape",
    "TensorId",
    "active_tape",
    "grads_of",
    "no_grad",
    "set_tensor_class",
    "unbroadcast",
    "using_tape",
]
