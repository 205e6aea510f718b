"""``dropout`` (inverted scaling, explicit Generator) and ``embedding`` (scatter-add backward)."""

from __future__ import annotations

from typing import Any

import numpy as np

from swets_core.autograd import OpDef
from swets_core.errors import DTypeError, OpError
from swets_ops.fused_common import (
    check_ndim,
    check_rng,
    float_array,
    keep_mask,
    like_layout,
    probability,
)

# ------------------------------------------------------------------------------------------------
# dropout
# ------------------------------------------------------------------------------------------------


def _dropout(
    x: Any,
    *,
    p: float = 0.5,
    rng: np.random.Generator | None = None,
    training: bool = True,
    _record: bool = True,
) -> tuple[np.ndarray, Any]:
    op = "dropout"
    x = float_array(op, "x", x)
    p = probability(op, "p", p)
    if not training or p == 0.0:
        return x, (lambda g, needs: (g,))
    if p == 1.0:  # everything dropped (PyTorch returns zeros)
        return np.zeros_like(x), (lambda g, needs: (np.zeros_like(g),))
    rng = check_rng(op, rng)
    keep = like_layout(
        keep_mask(rng, x.shape, p), x
    )  # bool: a quarter of the memory a float mask would keep
    scale = x.dtype.type(1.0 / (1.0 - p))
    out = np.multiply(x, keep)
    out *= scale
    if not _record:
        return out, None

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[np.ndarray]:
        gx = np.multiply(g, keep)
        gx *= scale
        return (gx,)

    return out, backward


def dropout(
    x: np.ndarray,
    *,
    p: float = 0.5,
    rng: np.random.Generator | None = None,
    training: bool = True,
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
    return _dropout(x, p=p, rng=rng, training=training)


def _dropout_infer(x: Any, **attrs: Any) -> np.ndarray:
    return _dropout(x, _record=False, **attrs)[0]


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


def _embedding(
    weight: Any, indices: Any, *, padding_idx: int | None = None, _record: bool = True
) -> tuple[np.ndarray, Any]:
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
        return out, None

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[np.ndarray | None, None]:
        if not needs[0]:
            return None, None
        gw = np.zeros((num, dim), dtype=g.dtype)
        np.add.at(gw, idx.reshape(-1), g.reshape(-1, dim))  # rows looked up twice accumulate
        if padding_idx is not None:
            gw[padding_idx] = 0.0
        return gw, None

    return out, backward


def embedding(
    weight: np.ndarray, indices: np.ndarray, *, padding_idx: int | None = None
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
    return _embedding(weight, indices, padding_idx=padding_idx)


def _embedding_infer(weight: Any, indices: Any, **attrs: Any) -> np.ndarray:
    return _embedding(weight, indices, _record=False, **attrs)[0]


OPS = [
    OpDef("dropout", dropout, infer=_dropout_infer),
    OpDef("embedding", embedding, infer=_embedding_infer),
]
