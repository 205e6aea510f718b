"""``dropout`` (inverted scaling, explicit Generator), ``embedding`` (scatter-add backward) and
``weight_norm`` (a kernel re-parameterised by direction and magnitude)."""

from __future__ import annotations

from typing import Any

import numpy as np

from swets_core.errors import DTypeError, OpError, ShapeError
from swets_ops._common import F32, F64, einsum
from swets_ops.fused_common import (
    check_ndim,
    check_rng,
    float_array,
    fused_op,
    keep_mask,
    like_layout,
    probability,
    same_dtype,
)

# ------------------------------------------------------------------------------------------------
# dropout
# ------------------------------------------------------------------------------------------------


def dropout(
    x: Any,
    *,
    p: float = 0.5,
    rng: np.random.Generator | None = None,
    training: bool = True,
    _record: bool = True,
) -> tuple[np.ndarray, Any]:
    """Inverted dropout: zero each element with probability ``p``, scale the rest by ``1 / (1 - p)``.

    Args:
        x: any shape.
        p: drop probability in ``[0, 1]`` (``p = 1`` gives zeros, as PyTorch).
        rng: the :class:`numpy.random.Generator` drawing the mask (required when ``training`` and
            ``0 < p``); the same generator state gives the same mask.
        training: False (evaluation) returns ``x`` unchanged, as does ``p = 0``.

    Returns:
        An array of the shape of ``x``; the gradient is masked and scaled the same way.
    """
    op = "dropout"
    x = float_array(op, "x", x)
    p = probability(op, "p", p)
    if not training or p == 0.0:
        return x if not _record else (x, lambda g, needs: (g,))
    if p == 1.0:  # everything dropped (PyTorch returns zeros)
        zeros = np.zeros_like(x)
        return zeros if not _record else (zeros, lambda g, needs: (np.zeros_like(g),))
    rng = check_rng(op, rng)
    # bool: a quarter of the memory a float mask would keep
    keep = like_layout(keep_mask(rng, x.shape, p), x)
    scale = x.dtype.type(1.0 / (1.0 - p))
    out = np.multiply(x, keep)
    out *= scale
    if not _record:
        return out

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[np.ndarray]:
        gx = np.multiply(g, keep)
        gx *= scale
        return (gx,)

    return out, backward


# ------------------------------------------------------------------------------------------------
# embedding
# ------------------------------------------------------------------------------------------------


def _indices(op: str, indices: Any, num: int) -> np.ndarray:
    idx = indices if isinstance(indices, np.ndarray) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"{op}: indices must be integers, got dtype {idx.dtype}")
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= num:
            bad = lo if lo < 0 else hi
            raise OpError(
                f"{op}: index {bad} is out of range [0, {num}) for weight with {num} rows "
                f"(indices of shape {idx.shape})"
            )
    return idx


def embedding(
    weight: Any, indices: Any, *, padding_idx: int | None = None, _record: bool = True
) -> tuple[np.ndarray, Any]:
    """Row lookup ``weight[indices]``; the backward scatter-adds into the looked-up rows.

    Args:
        weight: ``(num_embeddings, embedding_dim)``.
        indices: integers of any shape ``(*)``, each in ``[0, num_embeddings)``; no gradient.
        padding_idx: optional row that receives no gradient (as PyTorch's ``padding_idx``).

    Returns:
        ``(*, embedding_dim)``.

    Raises:
        DTypeError: non-integer indices. OpError: an index out of range.
    """
    op = "embedding"
    weight = float_array(op, "weight", weight)
    check_ndim(op, "weight", weight, (2,), "(num_embeddings, embedding_dim)")
    num, dim = weight.shape
    idx = _indices(op, indices, num)
    if padding_idx is not None:
        if not -num <= int(padding_idx) < num:
            raise OpError(f"{op}: padding_idx {padding_idx} is out of range for {num} rows")
        padding_idx = int(padding_idx) % num
    out = np.take(weight, idx, axis=0)
    if not _record:
        return out

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[np.ndarray | None, None]:
        if not needs[0]:
            return None, None
        gw = np.zeros((num, dim), dtype=g.dtype)
        np.add.at(gw, idx.reshape(-1), g.reshape(-1, dim))  # rows looked up twice accumulate
        if padding_idx is not None:
            gw[padding_idx] = 0.0
        return gw, None

    return out, backward


# ------------------------------------------------------------------------------------------------
# weight_norm
# ------------------------------------------------------------------------------------------------


def _weight_norm_args(v: Any, g: Any, axis: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """weight_norm's arguments checked in full: ``(v, g, axis)`` as arrays and an axis in range."""
    op = "weight_norm"
    v = float_array(op, "v", v)
    g = float_array(op, "g", g)
    same_dtype(op, v=v, g=g)
    nd = v.ndim
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not nd:
        raise OpError(
            f"{op}: axis must be an int and v at least 1-d, got axis={axis!r}, v {v.shape}"
        )
    if not -nd <= axis < nd:
        raise ShapeError(f"{op}: axis {axis} is out of range for v of shape {v.shape}")
    axis = int(axis) % nd
    norm_shape = (1,) * axis + (v.shape[axis],) + (1,) * (nd - axis - 1)
    if g.shape != norm_shape:
        raise ShapeError(
            f"{op}: g must have shape {norm_shape} (v's size along axis {axis}, 1 elsewhere) for v "
            f"of shape {v.shape}, got {g.shape}"
        )
    return v, g, axis


def weight_norm(v: Any, g: Any, *, axis: int = 0, _record: bool = True) -> tuple[np.ndarray, Any]:
    """weight_norm(v, g, axis=0): ``g * v / ||v||``, the norm over every axis of ``v`` but ``axis``
    (PyTorch's ``_weight_norm``, the kernel of ``torch.nn.utils.weight_norm``).

    Args:
        v: the direction, any shape with at least one dimension.
        g: the magnitude: ``v``'s size along ``axis`` and 1 along the others (``(C_out, 1, 1)`` for a
            convolution kernel ``(C_out, C_in, K)`` and ``axis=0``).

    Returns:
        The kernel, the shape of ``v``, computed as ``(g / sqrt(sum(v^2))) * v``; the backward is
        the chain rule through those steps.
    """
    nd = v.ndim if type(v) is np.ndarray else 0
    if not (  # the common case (a kernel normalised per output channel), valid at a glance
        nd
        and axis == 0
        and type(axis) is int
        and type(g) is np.ndarray
        and g.dtype is v.dtype
        and (v.dtype is F32 or v.dtype is F64)
        and g.shape == (v.shape[0],) + (1,) * (nd - 1)
    ):
        v, g, axis = _weight_norm_args(v, g, axis)
        nd = v.ndim
    size = v.shape[axis]
    norm_shape = g.shape
    if not _record:
        # the sum of squares as one contraction (it may round differently in the last bit)
        rows = (v if axis == 0 else np.moveaxis(v, axis, 0)).reshape(size, -1)
        norm = np.sqrt(einsum("ij,ij->i", rows, rows)).reshape(norm_shape)
        return np.multiply(np.true_divide(g, norm), v)
    # the steps of the composition square, sum, sqrt, div, mul, in their order
    others = tuple(a for a in range(nd) if a != axis)
    norm = np.sqrt(np.sum(np.square(v), axis=others, keepdims=True))
    scale = np.true_divide(g, norm)
    out = np.multiply(scale, v)

    def backward(grad: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any, Any]:
        g_scale = np.multiply(grad, v).sum(axis=others, keepdims=True)
        gv = gg = None
        if needs[0]:
            # through the norm: d||v|| / dv = v / ||v||
            g_norm = np.negative(g_scale * scale) / norm
            with np.errstate(divide="ignore"):
                g_sq = g_norm / (norm + norm)
            gv = grad * scale + g_sq * (v + v)
        if needs[1]:
            gg = g_scale / norm
        return gv, gg

    return out, backward


OPS = [
    fused_op("dropout", dropout),
    fused_op("embedding", embedding),
    fused_op("weight_norm", weight_norm),
]
