"""The two paths of a forward pass: one definition of a layer's maths, run on Tensors or on arrays.

Every layer has two entries: ``forward`` (Tensors in, Tensors out; recorded when a tape is active)
and ``forward_arrays`` (numpy arrays in, arrays out; nothing recorded, no Tensor created), which
take the same arguments and compute the same values through the same registered ops. A layer whose
maths is a single op calls it from both. A layer that composes ops and sub-layers writes the
composition **once**, as a method taking a :class:`ForwardPath` ``p``::

    def _compute(self, p, x):
        h = p.forward(self.norm)(x)                 # the sub-layer's forward on this path
        return p.op("add", x, p.forward(self.ff)(h))  # a registered op on this path

and runs it with :data:`TENSORS` from ``forward`` and :data:`ARRAYS` from ``forward_arrays``:

- :data:`TENSORS`: ``p.op`` is :func:`swets_core.call_op` and ``p.forward(layer)`` is
  ``layer.forward``, so the ops record on the active tape;
- :data:`ARRAYS`: ``p.op`` is :func:`swets_core.run_op` (the op's inference function on arrays) and
  ``p.forward(layer)`` is ``layer.forward_arrays``.

Nothing but the per-op cost differs: an array op skips the Tensor, the tape checks and the layer
call around it, which is most of the time of a small forward (a forecast at batch size 1). Shape-only
steps are written as on numpy arrays, ``x.reshape(n, -1)``, ``x.transpose(0, 2, 1)``, ``x[:, -1]``
(Tensors have the same methods and indexing, recorded as the ``reshape``, ``transpose`` and
``getitem`` ops), so they are numpy views on the array path; ``p.unsqueeze``, ``p.squeeze`` and
``p.split`` are the ones numpy spells differently. A layer's ``forward``
takes the array path itself when nothing records (:func:`swets_core.active_tape` is None) and wraps
the result (:func:`as_tensors`).
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from swets_core import Tensor, active_tape, call_op, run_op
from swets_core.errors import DTypeError

__all__ = [
    "ARRAYS",
    "TENSORS",
    "ForwardPath",
    "Parts",
    "as_array",
    "as_tensors",
    "forward_on_path",
    "to_input",
    "to_input_array",
]


class ForwardPath:
    """What a composite layer's one definition calls: ops, sub-layers and shape steps of one path.

    Attributes:
        arrays: True on the array path.
        op: ``op(name, *inputs, **attrs)`` runs the registered op ``name``.
        forward: ``forward(layer)`` is the sub-layer's forward on this path (call it with the
            sub-layer's arguments).
        value: ``value(tensor)`` is a parameter (or tensor) as this path's value: itself, or its
            array.
        unsqueeze, squeeze: ``(x, axis)``.
        split: ``(x, parts)`` with a :class:`Parts`: the tuple of parts (the ``split`` op, or
            views).
    """

    __slots__ = (
        "arrays",
        "forward",
        "name",
        "op",
        "split",
        "squeeze",
        "unsqueeze",
        "value",
    )

    def __init__(self, name: str, arrays: bool, **members: Callable[..., Any]) -> None:
        self.name = name
        self.arrays = arrays
        for key, fn in members.items():
            setattr(self, key, fn)

    def __repr__(self) -> str:
        return self.name


def _same(t: Any) -> Any:
    return t


def _unsqueeze(x: Any, axis: int) -> Any:
    return call_op("unsqueeze", x, axis=axis)


def _squeeze(x: Any, axis: int) -> Any:
    return call_op("squeeze", x, axis=axis)


class Parts:
    """How to cut one axis into parts, for :attr:`ForwardPath.split`: the sizes the ``split`` op
    takes on the Tensor path, and the views of the parts on the array path. A layer builds its
    ``Parts`` once (in ``__init__``) for arrays whose axis has ``sum(sizes)`` elements."""

    __slots__ = ("axis", "sizes", "views")

    def __init__(self, sizes: tuple[int, ...], axis: int) -> None:
        self.sizes = list(sizes)
        self.axis = axis
        lead: tuple[Any, ...] = (Ellipsis,) if axis == -1 else (slice(None),) * axis
        bounds = [0, *itertools.accumulate(sizes)]
        index = [
            (*lead, slice(lo, hi)) if lead else slice(lo, hi)
            for lo, hi in itertools.pairwise(bounds)
        ]
        self.views = operator.itemgetter(*index)  # x -> (x[index_0], x[index_1], ...)


def _split(x: Any, parts: Parts) -> Any:
    return call_op("split", x, sections=parts.sizes, axis=parts.axis)


def _split_views(x: np.ndarray, parts: Parts) -> tuple[np.ndarray, ...]:
    return parts.views(x)


TENSORS = ForwardPath(
    "TENSORS",
    False,
    op=call_op,
    forward=operator.attrgetter("forward"),
    value=_same,
    unsqueeze=_unsqueeze,
    squeeze=_squeeze,
    split=_split,
)
"""Tensors through the tape: recorded when a tape is active."""

ARRAYS = ForwardPath(
    "ARRAYS",
    True,
    op=run_op,
    forward=operator.attrgetter("forward_arrays"),
    value=operator.attrgetter("_data"),
    unsqueeze=np.expand_dims,
    squeeze=np.squeeze,
    split=_split_views,
)
"""numpy arrays through the ops' inference functions: nothing recorded, no Tensor created."""


def _check_dtype(data: np.ndarray, owner: str, dtype: np.dtype | None) -> None:
    if data.dtype.kind != "f":
        raise DTypeError(f"{owner}: expected a floating-point input, got dtype {data.dtype}")
    if dtype is not None and data.dtype != dtype:
        raise DTypeError(
            f"{owner}: the input has dtype {data.dtype} but the parameters are {dtype}; "
            f"convert the input or call layer.astype({str(data.dtype)!r})"
        )


def to_input(x: Any, owner: str, dtype: np.dtype | None) -> Tensor:
    """Wrap ``x`` as a Tensor and check it is floating point of the layer's dtype."""
    if not isinstance(x, Tensor):
        # numpy arrays keep their dtype (and are checked below); lists and scalars take the layer's
        x = Tensor(x) if dtype is None or isinstance(x, np.ndarray) else Tensor(x, dtype)
    data = x._data
    if data.dtype is not dtype:
        _check_dtype(data, owner, dtype)
    return x


def to_input_array(x: Any, owner: str, dtype: np.dtype | None) -> np.ndarray:
    """:func:`to_input` for ``forward_arrays``: ``x`` as a numpy array (a Tensor gives its array)
    checked to be floating point of the layer's dtype."""
    if type(x) is np.ndarray:
        xd = x.dtype
        if xd is dtype or (dtype is None and xd.kind == "f"):
            return x
    elif isinstance(x, Tensor):
        x = x._data
    elif not isinstance(x, np.ndarray):
        x = to_input(x, owner, dtype)._data
    _check_dtype(x, owner, dtype)
    return x


def as_array(x: Any) -> Any:
    """A Tensor's array (anything else as is): a state or mask handed to the array path."""
    return x._data if isinstance(x, Tensor) else x


def as_tensors(out: Any) -> Any:
    """The array path's result as ``forward`` returns it: arrays wrapped as Tensors, inside tuples
    too; None stays None."""
    if isinstance(out, np.ndarray):
        return Tensor(out)
    if isinstance(out, tuple):
        return tuple(as_tensors(o) for o in out)
    return out


def forward_on_path(compute: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """What a composite layer's ``forward`` returns: ``compute(p, *args, **kwargs)`` on
    :data:`TENSORS` when a tape is active, else on :data:`ARRAYS` with the Tensor arguments as
    their arrays and the result wrapped as Tensors (:func:`as_tensors`)."""
    if active_tape() is not None:
        return compute(TENSORS, *args, **kwargs)
    args = tuple(a._data if isinstance(a, Tensor) else a for a in args)
    kwargs = {k: v._data if isinstance(v, Tensor) else v for k, v in kwargs.items()}
    return as_tensors(compute(ARRAYS, *args, **kwargs))
