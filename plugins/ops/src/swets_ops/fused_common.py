"""What the fused ops share: the OpDef of one definition, validation helpers, dropout masks and
scratch buffers."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from swets_core.autograd import OpDef
from swets_core.checks import check_generator
from swets_core.errors import DTypeError, OpError, ShapeError


def fused_op(name: str, forward: Callable[..., Any]) -> OpDef:
    """The :class:`OpDef` of a fused op from its one definition.

    ``forward(*inputs, **attrs)`` computes the output and returns ``(output, backward)``; called
    with ``_record=False`` it returns the output alone and may skip what only the backward pass
    needs. That call is the op's inference function, so the recorded and the inference paths are
    one computation (and the inference costs no extra call: a ``functools.partial``).
    """
    infer = functools.partial(forward, _record=False)
    return OpDef(name, forward, infer=infer)


_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


def float_array(op: str, name: str, a: Any) -> np.ndarray:
    """``a`` as a float32/float64 numpy array, or a :class:`DTypeError` naming ``op`` and ``name``."""
    if type(a) is np.ndarray and (a.dtype is _F32 or a.dtype is _F64):
        return a  # the common case, at a glance
    if not isinstance(a, np.ndarray):
        if isinstance(a, (float, int)) or a is None:
            raise DTypeError(f"{op}: {name} must be a float tensor, got {type(a).__name__}")
        a = np.asarray(a)
    if a.dtype != np.float32 and a.dtype != np.float64:
        raise DTypeError(f"{op}: {name} must be float32 or float64, got {a.dtype}")
    return a


def same_dtype(op: str, **arrays: np.ndarray | None) -> np.dtype:
    """Check every given (non-None) array has one dtype; return it."""
    dtype = None
    first = ""
    for name, a in arrays.items():
        if a is None:
            continue
        if dtype is None:
            dtype, first = a.dtype, name
        elif a.dtype != dtype:
            raise DTypeError(
                f"{op}: {name} has dtype {a.dtype} but {first} has dtype {dtype}; "
                f"cast them to one float dtype"
            )
    assert dtype is not None
    return dtype


def check_ndim(op: str, name: str, a: np.ndarray, ndims: tuple[int, ...], layout: str) -> None:
    """Raise a :class:`ShapeError` unless ``a.ndim`` is one of ``ndims``."""
    if a.ndim not in ndims:
        want = " or ".join(f"{n}-d" for n in ndims)
        raise ShapeError(f"{op}: {name} must be {want} {layout}, got shape {a.shape}")


def check_shape(op: str, name: str, a: np.ndarray, shape: tuple[int, ...], why: str = "") -> None:
    """Raise a :class:`ShapeError` unless ``a.shape == shape``."""
    if a.shape != shape:
        extra = f" ({why})" if why else ""
        raise ShapeError(f"{op}: {name} must have shape {shape}{extra}, got {a.shape}")


def positive_int(op: str, name: str, value: Any, minimum: int = 1) -> int:
    """An int attribute ``>= minimum``, or an :class:`OpError`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise OpError(f"{op}: {name} must be an int, got {value!r}")
    if value < minimum:
        raise OpError(f"{op}: {name} must be >= {minimum}, got {value}")
    return int(value)


def probability(op: str, name: str, value: Any, allow_one: bool = True) -> float:
    """A float attribute in ``[0, 1]`` (or ``[0, 1)``), or an :class:`OpError`."""
    try:
        p = float(value)
    except (TypeError, ValueError):
        raise OpError(f"{op}: {name} must be a number in [0, 1], got {value!r}") from None
    if not (0.0 <= p <= 1.0) or (p == 1.0 and not allow_one):
        bound = "[0, 1]" if allow_one else "[0, 1)"
        raise OpError(f"{op}: {name} must be in {bound}, got {value!r}")
    return p


def check_rng(op: str, rng: Any) -> np.random.Generator:
    """``rng`` if it is a :class:`numpy.random.Generator`, else an :class:`OpError`."""
    return check_generator(rng, op, error=OpError)


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Logistic sigmoid computed as ``0.5 * tanh(x / 2) + 0.5`` (stable, no overflow warnings)."""
    out = np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def keep_mask(rng: np.random.Generator, shape: tuple[int, ...], p: float) -> np.ndarray:
    """A boolean dropout mask of ``shape``: each element True (kept) with probability ``1 - p``.

    Each element compares 32 random bits of ``rng``'s bit generator with ``round(p * 2**32)``, so the
    keep probability is exact to ``2**-33`` (a float32 uniform would give ``2**-24``). Drawing raw
    64-bit words (two elements each) is about three times faster than drawing float32 uniforms. The
    bits fill the mask in C order of ``shape``, whatever the memory layout of the array it masks, so
    a generator state gives one mask on every code path.
    """
    n = 1
    for s in shape:
        n *= s
    threshold = round(p * 2.0**32)
    if threshold >= 2**32:
        return np.zeros(shape, dtype=bool)
    raw = rng.bit_generator.random_raw((n + 1) // 2)
    bits = raw.view(np.uint32)[:n].reshape(shape)
    return np.greater_equal(bits, np.uint32(threshold))


def like_layout(mask: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``mask`` (C-contiguous) with the same values laid out in memory like ``like`` when ``like`` is
    a transposed contiguous array (e.g. the channels-last output of ``conv1d``), so that an
    elementwise product walks both in memory order and keeps ``like``'s layout (mixing layouts
    makes numpy's loops several times slower, and the ops that follow too)."""
    if like.ndim < 2 or like.flags.c_contiguous:
        return mask
    perm = sorted(range(like.ndim), key=lambda a: -like.strides[a])
    if not like.transpose(perm).flags.c_contiguous:
        return mask
    inverse = [0] * like.ndim
    for i, a in enumerate(perm):
        inverse[a] = i
    return np.ascontiguousarray(mask.transpose(perm)).transpose(inverse)


_SCRATCH = threading.local()
_SCRATCH_LIMIT = 256 * 1024 * 1024  # larger temporaries are allocated (and freed) as usual


def scratch(name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A reusable uninitialised array for a temporary that never leaves the function asking for it.

    Each thread keeps one growing buffer per ``name``; asking again returns a view of the same
    memory, so a large temporary costs no allocation (and no fresh pages from the kernel) after the
    first call. The caller must not let the array (or a view of it) escape: no output, no saved
    state for a backward pass. Two live temporaries need two names.
    """
    n = 1
    for s in shape:
        n *= s
    nbytes = n * np.dtype(dtype).itemsize
    if nbytes > _SCRATCH_LIMIT:
        return np.empty(shape, dtype=dtype)
    bufs = getattr(_SCRATCH, "bufs", None)
    if bufs is None:
        bufs = _SCRATCH.bufs = {}
    buf = bufs.get(name)
    if buf is None or buf.nbytes < nbytes:
        buf = np.empty(max(nbytes, 64), dtype=np.uint8)
        bufs[name] = buf
    return buf[:nbytes].view(dtype).reshape(shape)
