"""Shape ops: views and re-arrangements whose backward moves the gradient back into place.

``reshape``, ``transpose``, ``broadcast_to``/``expand``, ``squeeze``, ``unsqueeze``, ``flip`` and
basic ``getitem`` return views sharing storage with the input (as numpy and PyTorch do); ``concat``,
``stack``, ``pad``, ``gather`` and advanced ``getitem`` copy.

Conventions worth knowing:

* ``split(x, sections=, axis=0)``: an int is the number of equal sections (the axis length must be
  divisible by it); a sequence gives the size of each section (the sizes must add up to the axis
  length). It returns a tuple of tensors.
* ``pad(x, pad_width=, value=0.0)`` follows ``numpy.pad``: ``pad_width`` is an int, a
  ``(before, after)`` pair for every axis, or one pair per axis, first axis first.
* ``squeeze(x, axis=)`` leaves an axis whose length is not 1 unchanged (as PyTorch).
* ``broadcast_to``/``expand`` accept ``-1`` for "keep this dimension" (as PyTorch's ``expand``).
* ``getitem`` accepts ints, slices, None, Ellipsis, integer arrays and bool masks; repeated integer
  indices accumulate their gradients.
* ``gather(x, index, axis=)`` is PyTorch's: ``out[i][j] = x[index[i][j]][j]`` for ``axis=0``;
  ``index`` has the same number of dimensions as ``x`` and no larger size on the other axes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from swets_core.autograd import Tensor
from swets_core.errors import DTypeError, OpError, ShapeError
from swets_ops._common import as_array, axes_tuple, axis_index, opdef, shape_tuple

# ------------------------------------------------------------------------------------------------
# reshape, transpose, broadcast
# ------------------------------------------------------------------------------------------------


def _reshape_out(x: Any, shape: Any = None) -> np.ndarray:
    x = as_array(x)
    if shape is None:
        raise OpError("reshape: the shape attribute is required")
    target = shape_tuple("reshape", shape)
    try:
        return np.reshape(x, target)
    except ValueError:
        raise ShapeError(
            f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {target}"
        ) from None


def reshape(x: Any, shape: Any = None) -> tuple[np.ndarray, Any]:
    """reshape(x, shape=): the same elements in a new shape (``-1`` infers one dimension)."""
    out = _reshape_out(x, shape)
    xshape = np.shape(x)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (np.reshape(g, xshape),)

    return out, backward


def _perm(x: np.ndarray, axes: Any) -> tuple[int, ...]:
    if axes is None:
        return tuple(range(x.ndim - 1, -1, -1))
    n = x.ndim
    if (
        type(axes) is tuple
        and len(axes) == n
        and all(type(a) is int and 0 <= a < n for a in axes)
        and len(set(axes)) == n
    ):
        return axes  # the common case: already a permutation of non-negative axes
    if isinstance(axes, int | np.integer):
        axes = (axes,)
    perm = tuple(axis_index("transpose", a, x.ndim, x.shape) for a in axes)
    if sorted(perm) != list(range(x.ndim)):
        raise ShapeError(
            f"transpose: axes {tuple(axes)} is not a permutation of the {x.ndim} axes of a tensor "
            f"of shape {x.shape}"
        )
    return perm


def transpose(x: Any, axes: Any = None) -> tuple[np.ndarray, Any]:
    """transpose(x, axes=None): permute the axes (``out.shape[i] == x.shape[axes[i]]``); reverse
    them when None (PyTorch's ``permute``)."""
    x = as_array(x)
    perm = _perm(x, axes)
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    inverse = tuple(inv)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (np.transpose(g, inverse),)

    return np.transpose(x, perm), backward


def _transpose_infer(x: Any, axes: Any = None) -> np.ndarray:
    x = as_array(x)
    return np.transpose(x, _perm(x, axes))


def _broadcast_out(name: str, x: Any, shape: Any) -> np.ndarray:
    x = as_array(x)
    if shape is None:
        raise OpError(f"{name}: the shape attribute is required")
    target = list(shape_tuple(name, shape))
    lead = len(target) - x.ndim
    if lead < 0:
        raise ShapeError(
            f"{name}: cannot broadcast shape {x.shape} to {tuple(target)} with fewer dimensions"
        )
    for i, s in enumerate(target):
        if s == -1:
            if i < lead:
                raise ShapeError(
                    f"{name}: -1 is not allowed for the new leading dimension {i} of "
                    f"{tuple(target)} (input shape {x.shape})"
                )
            target[i] = x.shape[i - lead]
    try:
        return np.broadcast_to(x, tuple(target))
    except ValueError:
        raise ShapeError(f"{name}: cannot broadcast shape {x.shape} to {tuple(target)}") from None


def _broadcast_op(name: str) -> tuple[Any, Any]:
    def forward(x: Any, shape: Any = None) -> tuple[np.ndarray, Any]:
        out = _broadcast_out(name, x, shape)

        def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
            return (g,)  # the tape sums the broadcast dimensions back to the input's shape

        return out, backward

    def infer(x: Any, shape: Any = None) -> np.ndarray:
        return _broadcast_out(name, x, shape)

    forward.__name__ = name
    forward.__doc__ = (
        f"{name}(x, shape=): a read-only broadcast view of ``x`` with ``shape`` (``-1`` keeps a "
        "dimension); the gradient is summed over the broadcast dimensions."
    )
    return forward, infer


def _squeeze_out(x: Any, axis: Any = None) -> np.ndarray:
    x = as_array(x)
    if axis is None:
        return np.squeeze(x)
    axes = axes_tuple("squeeze", axis, x.ndim, x.shape) or ()
    ones = tuple(a for a in axes if x.shape[a] == 1)
    return np.squeeze(x, axis=ones) if ones else x.view()


def squeeze(x: Any, axis: Any = None) -> tuple[np.ndarray, Any]:
    """squeeze(x, axis=None): remove length-1 axes (all of them when None; a listed axis whose
    length is not 1 is left as is)."""
    out = _squeeze_out(x, axis)
    xshape = np.shape(x)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (np.reshape(g, xshape),)

    return out, backward


def _unsqueeze_out(x: Any, axis: Any = None) -> np.ndarray:
    x = as_array(x)
    if axis is None:
        raise OpError("unsqueeze: the axis attribute is required")
    count = 1 if isinstance(axis, int | np.integer) else len(axis)
    axes = axes_tuple("unsqueeze", axis, x.ndim + count, x.shape, of="output")
    return np.expand_dims(x, axes)


def unsqueeze(x: Any, axis: Any = None) -> tuple[np.ndarray, Any]:
    """unsqueeze(x, axis=): insert a length-1 axis at ``axis`` (an int, or several ints) of the
    output; ``axis`` ranges over ``-x.ndim - 1 .. x.ndim``."""
    out = _unsqueeze_out(x, axis)
    xshape = np.shape(x)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (np.reshape(g, xshape),)

    return out, backward


def _flip_out(x: Any, axis: Any) -> tuple[np.ndarray, Any]:
    x = as_array(x)
    axes = axes_tuple("flip", axis, x.ndim, x.shape)
    return np.flip(x, axes), axes


def flip(x: Any, axis: Any = None) -> tuple[np.ndarray, Any]:
    """flip(x, axis=): reverse the order of elements along ``axis`` (an int or ints; all axes when
    None)."""
    out, axes = _flip_out(x, axis)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (np.flip(g, axes),)

    return out, backward


# ------------------------------------------------------------------------------------------------
# concat, stack, split
# ------------------------------------------------------------------------------------------------


def _gather_inputs(name: str, xs: tuple[Any, ...]) -> list[np.ndarray]:
    if not xs:
        raise OpError(f"{name}: needs at least one tensor")
    arrays = [as_array(x) for x in xs]
    return arrays


def _concat_out(xs: tuple[Any, ...], axis: Any) -> tuple[np.ndarray, list[np.ndarray], int]:
    arrays = _gather_inputs("concat", xs)
    first = arrays[0]
    shapes = ", ".join(str(a.shape) for a in arrays)
    if first.ndim == 0:
        raise ShapeError(f"concat: cannot concatenate 0-d tensors (shapes {shapes})")
    ax = axis_index("concat", axis, first.ndim, first.shape)
    for a in arrays[1:]:
        if a.ndim != first.ndim or any(
            s != t for i, (s, t) in enumerate(zip(a.shape, first.shape)) if i != ax
        ):
            raise ShapeError(f"concat: shapes must match except along axis {ax}, got {shapes}")
    return np.concatenate(arrays, axis=ax), arrays, ax


def concat(*xs: Any, axis: int = 0) -> tuple[np.ndarray, Any]:
    """concat(*xs, axis=0): join tensors along an existing axis."""
    out, arrays, ax = _concat_out(xs, axis)
    bounds = np.cumsum([a.shape[ax] for a in arrays])[:-1].tolist()

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any, ...]:
        pieces = np.split(g, bounds, axis=ax)
        return tuple(p if n else None for p, n in zip(pieces, needs))

    return out, backward


def _stack_out(xs: tuple[Any, ...], axis: Any) -> tuple[np.ndarray, int]:
    arrays = _gather_inputs("stack", xs)
    first = arrays[0]
    for a in arrays[1:]:
        if a.shape != first.shape:
            shapes = ", ".join(str(b.shape) for b in arrays)
            raise ShapeError(f"stack: every tensor must have the same shape, got {shapes}")
    ax = axis_index("stack", axis, first.ndim + 1, first.shape, of="output")
    return np.stack(arrays, axis=ax), ax


def stack(*xs: Any, axis: int = 0) -> tuple[np.ndarray, Any]:
    """stack(*xs, axis=0): join same-shaped tensors along a new axis."""
    out, ax = _stack_out(xs, axis)
    lead = (slice(None),) * ax

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any, ...]:
        return tuple(g[(*lead, i)] if n else None for i, n in enumerate(needs))

    return out, backward


def _split_sizes(x: np.ndarray, sections: Any, axis: Any) -> tuple[list[int], int]:
    if x.ndim == 0:
        raise ShapeError("split: cannot split a 0-d tensor")
    ax = axis_index("split", axis, x.ndim, x.shape)
    n = x.shape[ax]
    if isinstance(sections, int | np.integer) and not isinstance(sections, bool):
        k = int(sections)
        if k <= 0:
            raise OpError(f"split: sections must be a positive int, got {k}")
        if n % k:
            raise ShapeError(
                f"split: axis {ax} of length {n} (shape {x.shape}) cannot be split into {k} equal "
                "sections; pass a list of section sizes instead"
            )
        return [n // k] * k, ax
    if not isinstance(sections, Sequence | np.ndarray) or isinstance(sections, str):
        raise OpError(
            f"split: sections must be an int (number of equal sections) or a sequence of sizes, "
            f"got {sections!r}"
        )
    sizes = list(shape_tuple("split", sections, "sections"))
    if not sizes or any(s < 0 for s in sizes) or sum(sizes) != n:
        raise ShapeError(
            f"split: section sizes {tuple(sizes)} must be non-negative and add up to the length "
            f"{n} of axis {ax} (shape {x.shape})"
        )
    return sizes, ax


def _split_out(x: Any, sections: Any, axis: Any) -> tuple[tuple[np.ndarray, ...], list[int], int]:
    x = as_array(x)
    if sections is None:
        raise OpError("split: the sections attribute is required")
    sizes, ax = _split_sizes(x, sections, axis)
    lead = (slice(None),) * ax
    outs = []
    start = 0
    for size in sizes:
        outs.append(x[(*lead, slice(start, start + size))])
        start += size
    return tuple(outs), sizes, ax


def split(x: Any, sections: Any = None, axis: int = 0) -> tuple[tuple[np.ndarray, ...], Any]:
    """split(x, sections=, axis=0): a tuple of pieces along ``axis``; ``sections`` is the number of
    equal pieces (int) or the size of each piece (sequence)."""
    outs, _sizes, ax = _split_out(x, sections, axis)

    def backward(gs: tuple[Any, ...], needs: tuple[bool, ...]) -> tuple[Any]:
        dtype = next(g.dtype for g in gs if g is not None)
        pieces = [g if g is not None else np.zeros(o.shape, dtype=dtype) for g, o in zip(gs, outs)]
        return (np.concatenate(pieces, axis=ax),)

    return outs, backward


# ------------------------------------------------------------------------------------------------
# indexing, gather, pad
# ------------------------------------------------------------------------------------------------


def _unwrap_index(index: Any) -> Any:
    if isinstance(index, Tensor):
        return index._data
    if type(index) is tuple:
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    return index


def _describe_index(index: Any) -> str:
    def one(i: Any) -> str:
        if isinstance(i, np.ndarray):
            return f"{i.dtype} array of shape {i.shape}"
        if isinstance(i, list):
            return f"list of length {len(i)}"
        return repr(i)

    if type(index) is tuple:
        return "(" + ", ".join(one(i) for i in index) + ")"
    return one(index)


def _may_repeat(index: Any) -> bool:
    """True when the index can select one element more than once (integer arrays or lists)."""
    parts = index if type(index) is tuple else (index,)
    for i in parts:
        if isinstance(i, np.ndarray):
            if i.dtype.kind != "b":
                return True
        elif isinstance(i, list | range):
            return True
    return False


def _getitem_out(x: Any, index: Any) -> tuple[np.ndarray, Any]:
    x = as_array(x)
    index = _unwrap_index(index)
    try:
        return x[index], index
    except IndexError as exc:
        raise OpError(
            f"getitem: {exc} (input shape {x.shape}, index {_describe_index(index)})"
        ) from None


def _layout(x: Any) -> tuple[int, ...] | None:
    """The axis order of a transposed contiguous array (e.g. the channels-last output of conv1d),
    None for C order or any other layout."""
    if not isinstance(x, np.ndarray) or x.ndim < 2 or x.flags.c_contiguous:
        return None
    perm = tuple(sorted(range(x.ndim), key=lambda a: -x.strides[a]))
    return perm if x.transpose(perm).flags.c_contiguous else None


def _zeros(shape: tuple[int, ...], dtype: np.dtype, layout: tuple[int, ...] | None) -> np.ndarray:
    """Zeros of ``shape`` laid out in memory in the axis order ``layout`` (C order when None), so a
    gradient keeps its tensor's layout and the elementwise backward passes that follow read both
    in memory order."""
    if layout is None:
        return np.zeros(shape, dtype=dtype)
    inverse = [0] * len(layout)
    for i, a in enumerate(layout):
        inverse[a] = i
    return np.zeros(tuple(shape[a] for a in layout), dtype=dtype).transpose(inverse)


def getitem(x: Any, index: Any = None) -> tuple[np.ndarray, Any]:
    """getitem(x, index=): ``x[index]`` with ints, slices, None, Ellipsis, integer arrays or bool
    masks; repeated indices accumulate their gradients."""
    out, index = _getitem_out(x, index)
    xshape = np.shape(x)
    repeats = _may_repeat(index)
    layout = _layout(x)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        gx = _zeros(xshape, g.dtype, layout)
        if repeats:
            np.add.at(gx, index, g)
        else:
            gx[index] = g
        return (gx,)

    return out, backward


def _gather_index(x: Any, index: Any, axis: Any) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    x = as_array(x)
    index = as_array(index)
    if index.dtype.kind not in "iu":
        raise DTypeError(f"gather: index must be an integer tensor, got dtype {index.dtype}")
    if index.ndim != x.ndim:
        raise ShapeError(
            f"gather: index must have as many dimensions as x, got index shape {index.shape} "
            f"for x of shape {x.shape}"
        )
    if axis is None:
        raise OpError("gather: the axis attribute is required")
    ax = axis_index("gather", axis, x.ndim, x.shape)
    for d in range(x.ndim):
        if d != ax and index.shape[d] > x.shape[d]:
            raise ShapeError(
                f"gather: index shape {index.shape} is larger than x shape {x.shape} on axis {d} "
                f"(only axis {ax} may differ freely)"
            )
    n = x.shape[ax]
    if index.size:
        lo, hi = int(index.min()), int(index.max())
        if lo < 0 or hi >= n:
            raise OpError(
                f"gather: index values must be in [0, {n}) for axis {ax} of x shape {x.shape}, "
                f"got values from {lo} to {hi}"
            )
    fancy = tuple(
        index
        if d == ax
        else np.arange(index.shape[d]).reshape([-1 if e == d else 1 for e in range(x.ndim)])
        for d in range(x.ndim)
    )
    return x, fancy


def gather(x: Any, index: Any, axis: Any = None) -> tuple[np.ndarray, Any]:
    """gather(x, index, axis=): ``out[i][j] = x[index[i][j]][j]`` for ``axis=0`` (PyTorch's gather);
    the integer ``index`` has x's number of dimensions. Gradients accumulate at repeated indices."""
    x, fancy = _gather_index(x, index, axis)
    out = x[fancy]
    xshape = x.shape

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any, Any]:
        if not g.size:
            return np.zeros(xshape, dtype=g.dtype), None
        flat = np.ravel_multi_index(fancy, xshape)
        flat = np.broadcast_to(flat, g.shape).ravel()
        gx = np.bincount(flat, weights=g.ravel(), minlength=x.size)
        return gx.reshape(xshape).astype(g.dtype, copy=False), None

    return out, backward


def _gather_infer(x: Any, index: Any, axis: Any = None) -> np.ndarray:
    x, fancy = _gather_index(x, index, axis)
    return x[fancy]


def _pad_widths(x: np.ndarray, pad_width: Any) -> np.ndarray:
    if pad_width is None:
        raise OpError("pad: the pad_width attribute is required")
    pw = np.asarray(pad_width)
    if pw.dtype.kind not in "iu":
        raise OpError(f"pad: pad_width must be made of ints, got {pad_width!r}")
    try:
        pw = np.broadcast_to(pw, (x.ndim, 2))
    except ValueError:
        raise ShapeError(
            f"pad: pad_width {pad_width!r} does not fit a {x.ndim}-d input of shape {x.shape}; "
            "give an int, one (before, after) pair, or one pair per axis"
        ) from None
    if (pw < 0).any():
        raise OpError(f"pad: pad_width must be non-negative, got {pad_width!r}")
    return pw


def _pad_out(x: Any, pad_width: Any, value: Any) -> tuple[np.ndarray, tuple[slice, ...]]:
    x = as_array(x)
    pw = _pad_widths(x, pad_width).tolist()
    shape = tuple(s + b + a for s, (b, a) in zip(x.shape, pw))
    inner = tuple(slice(b, b + s) for s, (b, _) in zip(x.shape, pw))
    out = np.full(shape, value, dtype=x.dtype)
    out[inner] = x
    return out, inner


def pad(x: Any, pad_width: Any = None, value: float = 0.0) -> tuple[np.ndarray, Any]:
    """pad(x, pad_width=, value=0.0): constant padding, ``numpy.pad`` convention for ``pad_width``
    (an int, one ``(before, after)`` pair, or a pair per axis)."""
    out, inner = _pad_out(x, pad_width, value)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (g[inner],)

    return out, backward


# ------------------------------------------------------------------------------------------------
# registration
# ------------------------------------------------------------------------------------------------


def register_all(register: Any) -> None:
    """Register the shape ops."""
    bt_f, bt_i = _broadcast_op("broadcast_to")
    ex_f, ex_i = _broadcast_op("expand")
    defs = [
        opdef("reshape", reshape, _reshape_out),
        opdef("transpose", transpose, _transpose_infer),
        opdef("broadcast_to", bt_f, bt_i),
        opdef("expand", ex_f, ex_i),
        opdef("squeeze", squeeze, _squeeze_out),
        opdef("unsqueeze", unsqueeze, _unsqueeze_out),
        opdef("concat", concat, lambda *xs, axis=0: _concat_out(xs, axis)[0]),
        opdef("stack", stack, lambda *xs, axis=0: _stack_out(xs, axis)[0]),
        opdef("split", split, lambda x, sections=None, axis=0: _split_out(x, sections, axis)[0]),
        opdef("getitem", getitem, lambda x, index=None: _getitem_out(x, index)[0]),
        opdef("pad", pad, lambda x, pad_width=None, value=0.0: _pad_out(x, pad_width, value)[0]),
        opdef("flip", flip, lambda x, axis=None: _flip_out(x, axis)[0]),
        opdef("gather", gather, _gather_infer),
    ]
    for d in defs:
        register(d.name, d)


__all__ = ["register_all"]
