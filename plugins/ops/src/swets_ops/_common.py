"""Helpers shared by the elementwise, reduction, linear-algebra and shape ops.

Everything here is internal to swets-ops: argument normalisation (axes, shapes), dtype rules and the
error messages, which always name the op and the shapes involved.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from swets_core.autograd import OpDef
from swets_core.errors import DTypeError, OpError, ShapeError

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)
ndarray = np.ndarray

try:
    # what np.einsum runs when it is not asked to optimise, without its Python wrapper (about half
    # a microsecond a call: a batch-1 forecast makes a dozen); the same results
    from numpy._core.multiarray import c_einsum as einsum
except ImportError:  # another numpy layout: the public function
    einsum = np.einsum


def fmt_shape(x: Any) -> str:
    """The shape of an array (``(2, 3)``) or the type name of a scalar, for messages."""
    if isinstance(x, np.ndarray | np.generic):
        return str(tuple(x.shape))
    return f"{type(x).__name__} scalar"


def as_array(x: Any) -> np.ndarray:
    """``x`` as a numpy array; Python floats become float32 and Python ints int64 (the swets rule)."""
    if type(x) is ndarray:
        return x
    if isinstance(x, np.ndarray | np.generic):
        return np.asarray(x)
    if isinstance(x, bool):
        return np.asarray(x)
    if isinstance(x, int):
        return np.asarray(x, dtype=np.int64)
    if isinstance(x, float):
        return np.asarray(x, dtype=np.float32)
    arr = np.asarray(x)
    if arr.dtype == F64:
        arr = arr.astype(F32)
    if arr.dtype.kind not in "biuf":
        raise DTypeError(f"cannot use data of numpy dtype {arr.dtype} in an op")
    return arr


def as_float(x: Any) -> np.ndarray:
    """``x`` as a float array: float32/float64 kept, integers and booleans converted to float32."""
    if type(x) is not ndarray:
        x = as_array(x)
    if x.dtype.kind != "f":
        return x.astype(F32)
    return x


def is_float(x: Any) -> bool:
    """True for a floating-point array or scalar."""
    if isinstance(x, np.ndarray | np.generic):
        return x.dtype.kind == "f"
    return isinstance(x, float)


def is64(x: Any) -> bool:
    """True when ``x`` is a float64 array or numpy float64 scalar (not a Python float)."""
    return isinstance(x, np.ndarray | np.generic) and x.dtype == F64


def demote(out: np.ndarray, a: Any, b: Any) -> np.ndarray:
    """Keep float32 the default: a float64 result that no float64 input asked for becomes float32.

    numpy promotes ``int_array * 0.5`` or ``int_array / 2`` to float64; swets (like PyTorch) gives
    float32 there.
    """
    if out.dtype == F64 and not is64(a) and not is64(b):
        return out.astype(F32)
    return out


def broadcast_error(op: str, *xs: Any) -> ShapeError:
    """The error for operands whose shapes do not broadcast together."""
    shapes = " and ".join(fmt_shape(x) for x in xs)
    return ShapeError(f"{op}: cannot broadcast shapes {shapes} together")


def axis_index(
    op: str, axis: Any, ndim: int, shape: tuple[int, ...] | None = None, of: str = "input"
) -> int:
    """Normalise one axis to ``0 <= axis < ndim``; raise :class:`ShapeError` when out of range.

    ``shape`` is the input's shape, for the message; ``of="output"`` says that ``ndim`` counts the
    dimensions of the output (``stack``, ``unsqueeze``).
    """
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise OpError(f"{op}: axis must be an int, got {axis!r}")
    a = int(axis)
    if not -ndim <= a < ndim:
        if shape is None:
            where = ""
        elif of == "input":
            where = f" of shape {shape}"
        else:
            where = f" (input shape {shape})"
        raise ShapeError(
            f"{op}: axis {a} is out of range for a {ndim}-d {of}{where} "
            f"(valid: {-ndim} to {ndim - 1})"
        )
    return a + ndim if a < 0 else a


def axes_tuple(
    op: str, axis: Any, ndim: int, shape: tuple[int, ...] | None = None, of: str = "input"
) -> tuple[int, ...] | None:
    """Normalise ``axis`` (None, an int or a sequence of ints) to a sorted tuple, or None for all."""
    if axis is None:
        return None
    if isinstance(axis, int | np.integer) and not isinstance(axis, bool):
        return (axis_index(op, axis, ndim, shape, of),)
    if not isinstance(axis, Sequence):
        raise OpError(f"{op}: axis must be None, an int or a sequence of ints, got {axis!r}")
    out = tuple(axis_index(op, a, ndim, shape, of) for a in axis)
    if len(set(out)) != len(out):
        raise OpError(f"{op}: axis {tuple(axis)} repeats an axis")
    return tuple(sorted(out))


def shape_tuple(op: str, shape: Any, name: str = "shape") -> tuple[int, ...]:
    """Normalise a shape attribute (an int or a sequence of ints) to a tuple of ints."""
    if type(shape) is tuple and all(type(s) is int for s in shape):
        return shape  # the common case, already normal
    if isinstance(shape, int | np.integer) and not isinstance(shape, bool):
        return (int(shape),)
    if not isinstance(shape, Sequence | np.ndarray):
        raise OpError(f"{op}: {name} must be a sequence of ints, got {shape!r}")
    try:
        out = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise OpError(f"{op}: {name} must be a sequence of ints, got {shape!r}") from None
    for s, orig in zip(out, shape):
        if isinstance(orig, bool) or s != orig:
            raise OpError(f"{op}: {name} must be a sequence of ints, got {shape!r}")
    return out


def kept_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape of a reduction over ``axes`` with ``keepdims=True``."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def reduced_count(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> int:
    """How many elements each output of a reduction over ``axes`` combines."""
    if axes is None:
        return int(np.prod(shape, dtype=np.int64))
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def require_array(op: str, name: str, x: Any) -> np.ndarray:
    """``x`` as an array; scalars are accepted (converted by :func:`as_array`)."""
    if type(x) is ndarray:
        return x
    if x is None:
        raise OpError(f"{op}: {name} is None; expected a tensor")
    return as_array(x)


def opdef(name: str, forward: Callable[..., Any], infer: Callable[..., Any] | None = None) -> OpDef:
    """An :class:`OpDef` whose doc is the first line of ``forward``'s docstring."""
    return OpDef(name, forward, infer=infer)


__all__ = [
    "F32",
    "F64",
    "as_array",
    "as_float",
    "axes_tuple",
    "axis_index",
    "broadcast_error",
    "demote",
    "fmt_shape",
    "is64",
    "is_float",
    "kept_shape",
    "opdef",
    "reduced_count",
    "require_array",
    "shape_tuple",
]
