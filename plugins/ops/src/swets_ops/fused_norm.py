"""``layer_norm`` and ``batch_norm`` with PyTorch semantics and hand-written backward passes.

Both normalise with the biased variance and ``eps`` inside the square root:
``xhat = (x - mean) / sqrt(var + eps)``, ``y = xhat * weight + bias``. The input gradient is the
closed form ``rstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat))`` with ``gxhat = g * weight``,
the means taken over the normalised elements.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from swets_core.autograd import Tensor
from swets_core.errors import OpError, ShapeError
from swets_ops._common import F32, F64, einsum
from swets_ops.fused_common import float_array, fused_op, positive_int, probability, same_dtype
from swets_ops.jit import kernels


def _eps(op: str, eps: Any) -> float:
    try:
        value = float(eps)
    except (TypeError, ValueError):
        raise OpError(f"{op}: eps must be a positive number, got {eps!r}") from None
    if not value > 0.0:
        raise OpError(f"{op}: eps must be > 0, got {eps!r}")
    return value


# ------------------------------------------------------------------------------------------------
# layer_norm
# ------------------------------------------------------------------------------------------------

_MEAN_VECTORS: dict[tuple[int, np.dtype], np.ndarray] = {}
_NONE = {F32: np.zeros(0, F32), F64: np.zeros(0, F64)}  # no weight or no bias, for the kernel


def _mean_vector(d: int, dtype: np.dtype) -> np.ndarray:
    """A read-only ``(d,)`` vector of ``1 / d`` (a row mean is a product with it), cached."""
    key = (d, dtype)
    vec = _MEAN_VECTORS.get(key)
    if vec is None:
        vec = np.full(d, 1.0 / d, dtype=dtype) if d else np.zeros(0, dtype=dtype)
        vec.setflags(write=False)
        if len(_MEAN_VECTORS) < 64:
            _MEAN_VECTORS[key] = vec
    return vec


def layer_norm(
    x: Any,
    weight: Any = None,
    bias: Any = None,
    *,
    normalized_ndim: int = 1,
    eps: float = 1e-5,
    _record: bool = True,
) -> tuple[np.ndarray, Any]:
    """Layer normalisation over the last ``normalized_ndim`` dimensions, as PyTorch's.

    Args:
        x: ``(*, *normalized_shape)``.
        weight: optional ``normalized_shape`` scale (None: no scale).
        bias: optional ``normalized_shape`` shift (None: no shift).
        normalized_ndim: how many trailing dimensions form ``normalized_shape``.
        eps: added to the biased variance inside the square root.

    Returns:
        ``(x - mean) / sqrt(var + eps) * weight + bias``, the shape of ``x``.
    """
    op = "layer_norm"
    if type(x) is not np.ndarray or (x.dtype is not F32 and x.dtype is not F64):
        x = float_array(op, "x", x)
    if weight is not None and type(weight) is not np.ndarray:
        weight = float_array(op, "weight", weight)
    if bias is not None and type(bias) is not np.ndarray:
        bias = float_array(op, "bias", bias)
    if (weight is not None and weight.dtype is not x.dtype) or (
        bias is not None and bias.dtype is not x.dtype
    ):  # float_array on a float array checks its dtype, same_dtype that they agree
        weight = None if weight is None else float_array(op, "weight", weight)
        bias = None if bias is None else float_array(op, "bias", bias)
        same_dtype(op, x=x, weight=weight, bias=bias)
    nd = normalized_ndim
    if type(nd) is not int or nd < 1:
        nd = positive_int(op, "normalized_ndim", normalized_ndim)
    if type(eps) is not float or not eps > 0.0:
        eps = _eps(op, eps)
    if x.ndim < nd:
        raise ShapeError(
            f"{op}: x of shape {x.shape} has fewer than normalized_ndim={nd} dimensions"
        )
    norm_shape = x.shape[x.ndim - nd :]
    if (weight is not None and weight.shape != norm_shape) or (
        bias is not None and bias.shape != norm_shape
    ):
        name, p = (
            ("weight", weight)
            if weight is not None and weight.shape != norm_shape
            else ("bias", bias)
        )
        raise ShapeError(
            f"{op}: {name} must have the normalized shape {norm_shape} (the last "
            f"{nd} dimension(s) of x {x.shape}), got {p.shape}"
        )
    D = norm_shape[0] if nd == 1 else math.prod(norm_shape)
    R = x.size // D if D else 0
    x2 = x.reshape(R, D)
    jit = None if _record or not R or not D else kernels()
    if jit is not None:  # the inference in one compiled pass (swets_ops.jit), same arithmetic
        out = np.empty((R, D), x.dtype)
        w1 = _NONE.get(x.dtype) if weight is None else weight.reshape(D)
        b1 = _NONE.get(x.dtype) if bias is None else bias.reshape(D)
        jit.layer_norm_rows(np.ascontiguousarray(x2), w1, b1, eps, out)
        return out.reshape(x.shape)
    dt = x.dtype.type
    # row reductions as matrix-vector products (BLAS), much faster than short-axis reductions;
    # rstd = 1 / sqrt(ss / D + eps) = sqrt(D) / sqrt(ss + D eps) for the sum of squares ss
    inv_d = _MEAN_VECTORS.get((D, x.dtype))
    if inv_d is None:
        inv_d = _mean_vector(D, x.dtype)
    xc = x2 - (x2 @ inv_d)[:, None]
    var = einsum("ij,ij->i", xc, xc)
    var += dt(D * eps)
    rstd = np.sqrt(var, out=var)
    np.divide(dt(math.sqrt(D)), rstd, out=rstd)
    xhat = xc
    xhat *= rstd[:, None]
    w2 = None if weight is None else weight.reshape(D)
    if not _record:  # xhat is not kept: scale and shift it in place
        if w2 is not None:
            xhat *= w2
        if bias is not None:
            xhat += bias.reshape(D)
        return xhat.reshape(x.shape)
    if w2 is not None:
        y = xhat * w2
        if bias is not None:
            y += bias.reshape(D)
    elif bias is not None:
        y = xhat + bias.reshape(D)
    else:
        y = xhat.copy()
    out = y.reshape(x.shape)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[np.ndarray | None, ...]:
        g2 = g.reshape(R, D)
        grads: list[np.ndarray | None] = [None] * len(needs)
        if needs[0]:
            gxhat = g2 * w2 if w2 is not None else g2
            # rstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)), per row
            m1 = gxhat @ inv_d
            m2 = einsum("ij,ij->i", gxhat, xhat)
            m2 *= dt(1.0 / D)
            m1 *= rstd
            m2 *= rstd
            gx = xhat * m2[:, None]
            if w2 is not None:
                gxhat *= rstd[:, None]  # our own array: scaled in place
            else:
                gxhat = g2 * rstd[:, None]
            np.subtract(gxhat, gx, out=gx)
            gx -= m1[:, None]
            grads[0] = gx.reshape(x.shape)
        ones = None
        if len(needs) > 1 and needs[1] and weight is not None:
            ones = np.ones(R, dtype=g2.dtype)
            grads[1] = (ones @ (g2 * xhat)).reshape(norm_shape)
        if len(needs) > 2 and needs[2] and bias is not None:
            ones = np.ones(R, dtype=g2.dtype) if ones is None else ones
            grads[2] = (ones @ g2).reshape(norm_shape)
        return tuple(grads)

    return out, backward


# ------------------------------------------------------------------------------------------------
# batch_norm
# ------------------------------------------------------------------------------------------------


def _running(op: str, name: str, arr: Any, C: int, dtype: np.dtype) -> np.ndarray | None:
    if arr is None:
        return None
    if isinstance(arr, Tensor):
        arr = arr._data
    if not isinstance(arr, np.ndarray):
        raise OpError(
            f"{op}: {name} must be a numpy array or Tensor updated in place, got {type(arr).__name__}"
        )
    if arr.dtype.kind != "f":
        raise OpError(f"{op}: {name} must be a float array, got dtype {arr.dtype}")
    if arr.shape != (C,):
        raise ShapeError(
            f"{op}: {name} must have shape ({C},) (one value per channel), got {arr.shape}"
        )
    return arr


def batch_norm(
    x: Any,
    weight: Any = None,
    bias: Any = None,
    *,
    running_mean: Any = None,
    running_var: Any = None,
    training: bool | None = None,
    momentum: float = 0.1,
    eps: float = 1e-5,
    _record: bool = True,
) -> tuple[np.ndarray, Any]:
    """Batch normalisation per channel of ``(N, C)`` or ``(N, C, L)`` input, as PyTorch's.

    Args:
        x: ``(N, C)`` or ``(N, C, L)`` (more trailing dimensions are accepted).
        weight: optional ``(C,)`` scale; bias: optional ``(C,)`` shift.
        running_mean, running_var: ``(C,)`` float arrays (or Tensors), or None for no running
            statistics. In training they are updated **in place**:
            ``running = (1 - momentum) * running + momentum * batch_stat`` with the batch's
            **unbiased** variance, as PyTorch.
        training: True normalises with the batch statistics (biased variance); False with the
            running statistics (or the batch statistics when none are given).
        momentum: weight of the new batch statistic in the running average.
        eps: added to the variance inside the square root.

    Returns:
        The normalised ``x``, same shape.

    Raises:
        ShapeError: ``x`` of rank < 2, statistics or affine parameters not of shape ``(C,)``, or one
            value per channel in training.
    """
    op = "batch_norm"
    if training is None:
        raise OpError(
            f"{op}: training= is required (True: batch statistics and running-stat update; "
            f"False: running statistics)"
        )
    x = float_array(op, "x", x)
    if weight is not None:
        weight = float_array(op, "weight", weight)
    if bias is not None:
        bias = float_array(op, "bias", bias)
    dtype = same_dtype(op, x=x, weight=weight, bias=bias)
    if x.ndim < 2:
        raise ShapeError(f"{op}: x must be (N, C) or (N, C, L), got shape {x.shape}")
    N, C = x.shape[0], x.shape[1]
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and p.shape != (C,):
            raise ShapeError(
                f"{op}: {name} must have shape ({C},) for x {x.shape} (C = x.shape[1]), got {p.shape}"
            )
    rm = _running(op, "running_mean", running_mean, C, dtype)
    rv = _running(op, "running_var", running_var, C, dtype)
    if (rm is None) != (rv is None):
        raise OpError(f"{op}: give both running_mean and running_var, or neither")
    momentum = probability(op, "momentum", momentum)
    eps = _eps(op, eps)
    training = bool(training)
    # (N, C, S): S = product of the trailing dimensions (1 for (N, C) inputs)
    S = x.size // (N * C) if N * C else 0
    x3 = x.reshape(N, C, S)
    count = N * S
    use_batch = training or rm is None
    if use_batch:
        if count <= 1 and training:
            raise ShapeError(
                f"{op}: expected more than 1 value per channel when training, got x of shape "
                f"{x.shape}"
            )
        mean = x3.mean(axis=(0, 2))
        xc = x3 - mean[:, None]
        var = einsum("ncs,ncs->c", xc, xc) / count
        rstd = 1.0 / np.sqrt(var + eps)
        if training and rm is not None:
            # PyTorch: running statistics use the unbiased variance
            unbiased = var * (count / (count - 1))
            rm *= 1.0 - momentum
            rm += momentum * mean
            rv *= 1.0 - momentum
            rv += momentum * unbiased
        xhat = xc
        xhat *= rstd[:, None]
    else:
        rstd = (1.0 / np.sqrt(rv + eps)).astype(dtype, copy=False)
        xhat = (x3 - rm.astype(dtype, copy=False)[:, None]) * rstd[:, None]
    rstd = rstd.astype(dtype, copy=False)
    if weight is not None:
        y = xhat * weight[:, None]
        if bias is not None:
            y += bias[:, None]
    elif bias is not None:
        y = xhat + bias[:, None]
    else:
        y = xhat.copy() if _record else xhat
    out = y.reshape(x.shape)
    if not _record:
        return out

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[np.ndarray | None, ...]:
        g3 = g.reshape(N, C, S)
        grads: list[np.ndarray | None] = [None] * len(needs)
        if needs[0]:
            scale = rstd if weight is None else rstd * weight
            if use_batch:
                # rstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)), per channel
                m1 = g3.sum(axis=(0, 2)) / count
                m2 = einsum("ncs,ncs->c", g3, xhat) / count
                gx = xhat * m2[:, None]
                np.subtract(g3, gx, out=gx)
                gx -= m1[:, None]
                gx *= scale[:, None]
            else:
                gx = g3 * scale[:, None]
            grads[0] = gx.reshape(x.shape)
        if len(needs) > 1 and needs[1] and weight is not None:
            grads[1] = einsum("ncs,ncs->c", g3, xhat)
        if len(needs) > 2 and needs[2] and bias is not None:
            grads[2] = g3.sum(axis=(0, 2))
        return tuple(grads)

    return out, backward


OPS = [fused_op("layer_norm", layer_norm), fused_op("batch_norm", batch_norm)]
