"""``scaled_dot_product_attention`` with PyTorch semantics, as one tape node.

``softmax(q @ k^T * scale + bias) @ v`` where ``bias`` comes from the mask: a boolean mask keeps the
positions where it is True (the others get ``-inf``), a float mask is added to the scores, and
``is_causal`` keeps ``j <= i`` (PyTorch's top-left aligned lower triangle).

A row whose positions are all masked (every key excluded) has no distribution to attend with; as in
PyTorch (since 2.5), its attention weights are taken as zero, so its output row is zero and its
gradients are zero, instead of NaN.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from swets_core.errors import DTypeError, OpError, ShapeError
from swets_ops._common import F32, F64, einsum
from swets_ops.fused_common import (
    check_rng,
    float_array,
    fused_op,
    keep_mask,
    probability,
    same_dtype,
)
from swets_ops.jit import kernels

_OP = "scaled_dot_product_attention"


def scaled_dot_product_attention(
    q: Any,
    k: Any,
    v: Any,
    mask: Any = None,
    *,
    is_causal: bool = False,
    scale: float | None = None,
    dropout_p: float = 0.0,
    rng: np.random.Generator | None = None,
    _record: bool = True,
) -> tuple[np.ndarray, Any]:
    """Scaled dot-product attention ``softmax(q k^T * scale + mask) v``, as PyTorch's.

    Args:
        q: ``(..., L, E)`` queries; k: ``(..., S, E)`` keys; v: ``(..., S, Ev)`` values. The
            leading (batch, head) dimensions broadcast.
        mask: optional, broadcastable to ``(..., L, S)``: bool (True = attend) or float (added to
            the scores; it receives a gradient).
        is_causal: mask out keys after the query position (``j > i``); not with ``mask``.
        scale: multiplies ``q k^T``; default ``1 / sqrt(E)``.
        dropout_p: dropout on the attention weights (training only; needs ``rng``).
        rng: :class:`numpy.random.Generator` for the dropout mask.

    Returns:
        ``(..., L, Ev)``. A query row with every key masked gets zero weights: a zero output row
        and zero gradients (as PyTorch), never NaN.
    """
    if type(q) is not np.ndarray or (q.dtype is not F32 and q.dtype is not F64):
        q = float_array(_OP, "q", q)
    dtype = q.dtype
    if type(k) is not np.ndarray or type(v) is not np.ndarray:
        k = float_array(_OP, "k", k)
        v = float_array(_OP, "v", v)
    if k.dtype is not dtype or v.dtype is not dtype:
        k = float_array(_OP, "k", k)
        v = float_array(_OP, "v", v)
        same_dtype(_OP, q=q, k=k, v=v)
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        name, a = next((n, a) for n, a in (("q", q), ("k", k), ("v", v)) if a.ndim < 2)
        raise ShapeError(
            f"{_OP}: {name} must be at least 2-d (..., length, features), got {a.shape}"
        )
    L, E = q.shape[-2:]
    S, Ek = k.shape[-2:]
    if Ek != E:
        raise ShapeError(f"{_OP}: q {q.shape} and k {k.shape} must share the last dimension (E)")
    if v.shape[-2] != S:
        raise ShapeError(
            f"{_OP}: k {k.shape} and v {v.shape} must share the source length (dimension -2)"
        )
    batch = q.shape[:-2]
    try:
        if k.shape[:-2] != batch or v.shape[:-2] != batch:
            np.broadcast_shapes(batch, k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ShapeError(
            f"{_OP}: the batch dimensions of q {q.shape}, k {k.shape} and v {v.shape} do not broadcast"
        ) from None
    bool_mask = False
    if mask is not None:
        if is_causal:
            raise OpError(f"{_OP}: give either a mask or is_causal=True, not both")
        if not isinstance(mask, np.ndarray):
            mask = np.asarray(mask)
        if mask.dtype == np.bool_:
            bool_mask = True
        elif mask.dtype.kind == "f":
            if mask.dtype != dtype:
                raise DTypeError(
                    f"{_OP}: a float mask must have the dtype of q ({dtype}), got {mask.dtype}"
                )
        else:
            raise DTypeError(
                f"{_OP}: mask must be bool (True = attend) or float (added), got {mask.dtype}"
            )
        try:
            np.broadcast_shapes(mask.shape, (*q.shape[:-1], S))
        except ValueError:
            raise ShapeError(
                f"{_OP}: mask {mask.shape} does not broadcast to the scores (..., L={L}, S={S}) of "
                f"q {q.shape} and k {k.shape}"
            ) from None
    elif is_causal:
        mask = np.tri(L, S, dtype=bool)
        bool_mask = True
    if scale is None:
        scale = 1.0 / math.sqrt(E) if E else 1.0
    scale = float(scale)
    if dropout_p != 0.0 or type(dropout_p) is not float:
        dropout_p = probability(_OP, "dropout_p", dropout_p)
    if dropout_p > 0.0:
        rng = check_rng(_OP, rng)

    # scores of the pre-scaled queries, masked in place
    qs = q * dtype.type(scale)
    scores = np.matmul(qs, k.swapaxes(-1, -2))
    maybe_empty = False
    float_mask = False
    if mask is not None:
        fits = np.broadcast_shapes(mask.shape, scores.shape) == scores.shape
        if bool_mask:
            maybe_empty = True
            if fits:
                np.copyto(scores, dtype.type(-np.inf), where=~mask)
            else:
                scores = np.where(mask, scores, dtype.type(-np.inf))
        else:
            float_mask = True
            maybe_empty = bool(np.isinf(mask).any())
            if fits:
                scores += mask
            else:
                scores = scores + mask
    if not _record and dropout_p == 0.0 and dtype is F32 and scores.size:
        jit = kernels()
        if jit is not None:  # the softmax below in one compiled call (swets_ops.jit)
            rows = scores.reshape(-1, S)  # scores are a fresh C-ordered array: a view
            inv = np.empty(rows.shape[0], dtype)
            jit.softmax_rows32(rows, inv)  # exp(s - max), 1 / the sums: as below, one pass each
            out = np.matmul(rows.reshape(scores.shape), v)
            out *= inv.reshape((*scores.shape[:-1], 1))
            return out
    # softmax along the keys. Shifting by the row maximum only guards exp against overflow; when
    # |q_i . k_j| * scale is bounded by a small constant for every pair, exp can neither overflow
    # nor underflow (no floating-point state to guard) and the shift is skipped
    if not float_mask and _bounded(qs, k, None if bool_mask else scores, dtype):
        probs = np.exp(scores, out=scores)
    else:
        row_max = scores.max(axis=-1, keepdims=True)
        if maybe_empty:
            row_max[~np.isfinite(row_max)] = 0.0  # a fully masked row: exp(-inf) = 0 everywhere
        scores -= row_max
        with np.errstate(under="ignore"):  # weights below the smallest float are 0
            probs = np.exp(scores, out=scores)
    denom = _row_sums(probs)
    if maybe_empty:
        denom[denom == 0.0] = 1.0  # fully masked rows: weights 0, output 0
    inv = np.reciprocal(denom, out=denom)
    keep = None  # the dropout mask (bool); the 1 / (1 - p) scale is applied to the smaller arrays
    drop_scale = dtype.type(1.0)
    if dropout_p > 0.0:
        keep = keep_mask(rng, probs.shape, dropout_p)
        if dropout_p < 1.0:
            drop_scale = dtype.type(1.0 / (1.0 - dropout_p))
    if not _record:
        # normalise (and scale) the (smaller) output instead of the weights
        out = np.matmul(probs if keep is None else np.multiply(probs, keep, out=probs), v)
        out *= inv if keep is None else inv * drop_scale
        return out
    probs *= inv
    weights = probs if keep is None else probs * keep  # unscaled: out and gv are scaled instead
    out = np.matmul(weights, v)
    if keep is not None:
        out *= drop_scale

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[np.ndarray | None, ...]:
        gq = gk = gv = gm = None
        gs = g if keep is None else g * drop_scale
        if needs[2]:
            gv = np.matmul(weights.swapaxes(-1, -2), gs)
        if needs[0] or needs[1] or (len(needs) > 3 and needs[3]):
            gp = np.matmul(gs, v.swapaxes(-1, -2))
            if keep is not None:
                gp *= keep
            # softmax backward: dS = P * (dP - rowsum(dP * P)), and rowsum(dP * P) = rowsum(g * out)
            row = einsum("...i,...i->...", g, out)[..., None]
            gp -= row
            gp *= probs
            if float_mask and len(needs) > 3 and needs[3]:
                gm = gp.copy()
            if needs[0]:
                gq = np.matmul(gp, k)
                gq *= dtype.type(scale)
            if needs[1]:
                gk = np.matmul(gp.swapaxes(-1, -2), qs)
        if len(needs) > 3:
            return gq, gk, gv, gm
        return gq, gk, gv

    return out, backward


_ONES: dict[tuple[int, np.dtype], np.ndarray] = {}
_max, _min = np.maximum.reduce, np.minimum.reduce


def _row_sums(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=-1, keepdims=True)`` as a matrix-vector product (several times faster than a
    reduction along a short last axis)."""
    n = a.shape[-1]
    if not a.flags.c_contiguous or a.size == 0:
        return a.sum(axis=-1, keepdims=True)
    key = (n, a.dtype)
    ones = _ONES.get(key)
    if ones is None:
        ones = np.ones(n, dtype=a.dtype)
        ones.setflags(write=False)
        if len(_ONES) < 64:
            _ONES[key] = ones
    return np.matmul(a.reshape(-1, n), ones).reshape((*a.shape[:-1], 1))


def _bounded(qs: np.ndarray, k: np.ndarray, scores: np.ndarray | None, dtype: np.dtype) -> bool:
    """True when every score ``qs_i . k_j`` is within +-60 (float32) or +-600 (float64).

    Read off the unmasked ``scores`` themselves when they are no larger than the queries and keys
    together (two reductions), else bounded by Cauchy-Schwarz on the row norms."""
    if qs.size == 0 or k.size == 0:
        return True
    limit = 60.0 if dtype == np.float32 else 600.0
    # (the reductions called directly: ndarray.max and .min add a Python call each)
    if scores is not None and scores.size <= qs.size + k.size:
        lo, hi = float(_min(scores, axis=None)), float(_max(scores, axis=None))
        return -limit <= lo and hi <= limit  # False for NaN
    q2 = float(_max(einsum("...i,...i->...", qs, qs), axis=None))
    k2 = float(_max(einsum("...i,...i->...", k, k), axis=None))
    return q2 * k2 <= limit * limit  # False for NaN or infinite inputs


OPS = [fused_op(_OP, scaled_dot_product_attention)]
