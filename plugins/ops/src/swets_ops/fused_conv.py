"""``conv1d``: a 1-d convolution as matrix products over the channels-last input.

Layout: the input ``(N, C_in, L)`` is moved once to channels-last ``(N, L_pad, C_in)`` (padding is
written in the same copy). The result is returned as a transposed view ``(N, C_out, L_out)`` of a
channels-last buffer, so a following conv1d starts from a channels-last array.

Stride 1, one group (the TCN's convolutions): one matrix product per kernel tap, ``(N * L_pad -
span + 1, C_in) @ (C_in, C_out)`` over flat, shifted row ranges of the padded input, summed into one
buffer (:func:`_tap_products`); the rows that run into the next sample land in rows no output
reads. No column matrix is built: measured on one core, the products with ``C_in`` inner columns
and the sums cost no more than one product with ``K * C_in`` inner columns and the copy of the
receptive fields (a quarter less with OpenBLAS's AVX2 kernels). The backward is the same pattern: the input gradient is the correlation of the
zero-padded output gradient with the tap-reversed kernel (a product per tap), the weight gradient a
product per tap of the shifted input rows with the output gradient (:func:`_weight_grad_flat`).

Otherwise (a larger stride, groups): a strided view ``(N, L_out, K, C_in)`` of the padded input
holds every receptive field; it is copied into the ``(N * L_out, K * C_in)`` column matrix and
multiplied by the reshaped weight in one matrix product (one per group, batched in the same call).
The weight gradient is the column matrix times the output gradient; the input gradient the product
of the output gradient with the weight, scatter-added over the ``K`` taps (strided) or a product
over the column matrix of the padded output gradient (groups).

Nearly all of the time is in the matrix products: their speed is that of numpy's BLAS (see
docs/performance.md, "The conv path").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from swets_core.errors import OpError, ShapeError
from swets_ops.fused_common import (
    check_ndim,
    float_array,
    fused_op,
    positive_int,
    same_dtype,
    scratch,
)

_OP = "conv1d"


def _padding(padding: Any, kernel_span: int, stride: int) -> tuple[int, int]:
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0
        if padding == "same":
            if stride != 1:
                raise OpError(f"{_OP}: padding='same' needs stride=1, got stride={stride}")
            total = kernel_span - 1
            return total // 2, total - total // 2
        raise OpError(
            f"{_OP}: padding must be an int, (left, right), 'same' or 'valid', got {padding!r}"
        )
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        p = positive_int(_OP, "padding", padding, minimum=0)
        return p, p
    if isinstance(padding, Sequence) and len(padding) == 2:
        return (
            positive_int(_OP, "padding[0] (left)", padding[0], minimum=0),
            positive_int(_OP, "padding[1] (right)", padding[1], minimum=0),
        )
    raise OpError(
        f"{_OP}: padding must be an int, (left, right), 'same' or 'valid', got {padding!r}"
    )


def _strided(a: np.ndarray, shape: tuple[int, ...], strides: tuple[int, ...]) -> np.ndarray:
    """A read-only strided view of ``a`` (the ndarray constructor on a contiguous buffer is about
    twenty times cheaper than ``as_strided``)."""
    if a.flags.c_contiguous:
        view = np.ndarray(shape, a.dtype, buffer=a, strides=strides)
        view.flags.writeable = False
        return view
    return as_strided(a, shape=shape, strides=strides, writeable=False)


def conv1d(
    x: Any,
    weight: Any,
    bias: Any = None,
    *,
    stride: int = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int = 1,
    groups: int = 1,
    _record: bool = True,
) -> tuple[np.ndarray, Any]:
    """1-d convolution (cross-correlation, as PyTorch): x (N, C_in, L), weight (C_out, C_in/groups, K).

    Args:
        x: ``(N, C_in, L)`` (or unbatched ``(C_in, L)``).
        weight: ``(C_out, C_in / groups, K)``.
        bias: optional ``(C_out,)``.
        stride: step between output positions.
        padding: zeros added on both sides (int), ``(left, right)`` (``(d * (K - 1), 0)`` is causal
            padding), ``"valid"`` (none) or ``"same"`` (output length = input length, stride 1;
            the odd extra zero goes on the right, as PyTorch).
        dilation: spacing between kernel taps.
        groups: split the channels into ``groups`` independent convolutions.

    Returns:
        ``(N, C_out, L_out)`` with ``L_out = (L + left + right - dilation * (K - 1) - 1) // stride + 1``.

    Raises:
        ShapeError: wrong ranks, ``C_in`` not matching ``weight`` and ``groups``, a bias of the wrong
            size, or a kernel longer than the padded input.
        DTypeError: non-float inputs or mixed float32/float64.
    """
    x = float_array(_OP, "x", x)
    weight = float_array(_OP, "weight", weight)
    if bias is not None:
        bias = float_array(_OP, "bias", bias)
    dtype = same_dtype(_OP, x=x, weight=weight, bias=bias)
    check_ndim(_OP, "x", x, (2, 3), "(N, C_in, L) or (C_in, L)")
    check_ndim(_OP, "weight", weight, (3,), "(C_out, C_in / groups, K)")
    unbatched = x.ndim == 2
    if unbatched:
        x = x[None]
    stride = positive_int(_OP, "stride", stride)
    dilation = positive_int(_OP, "dilation", dilation)
    groups = positive_int(_OP, "groups", groups)
    N, C, L = x.shape
    Co, Cg, K = weight.shape
    G = groups
    if C % G or Co % G:
        raise ShapeError(
            f"{_OP}: groups={G} must divide both C_in={C} and C_out={Co} "
            f"(x {x.shape}, weight {weight.shape})"
        )
    if Cg * G != C:
        raise ShapeError(
            f"{_OP}: weight {weight.shape} expects C_in / groups = {Cg}, i.e. C_in = {Cg * G} with "
            f"groups={G}, but x {x.shape} has C_in = {C}"
        )
    if bias is not None and bias.shape != (Co,):
        raise ShapeError(
            f"{_OP}: bias must have shape ({Co},) for weight {weight.shape}, got {bias.shape}"
        )
    span = dilation * (K - 1) + 1
    pl, pr = _padding(padding, span, stride)
    Lp = L + pl + pr
    if Lp < span:
        raise ShapeError(
            f"{_OP}: the kernel (size {K}, dilation {dilation}: spans {span} positions) is longer than "
            f"the padded input (length {L} + padding ({pl}, {pr}) = {Lp}); x {x.shape}, weight "
            f"{weight.shape}"
        )
    Lout = (Lp - span) // stride + 1
    Og = Co // G
    M = N * Lout

    # channels-last, padded input (one copy)
    if pl or pr:
        xp = np.empty((N, Lp, C), dtype=dtype)
        xp[:, :pl] = 0.0
        xp[:, pl + L :] = 0.0
        xp[:, pl : pl + L, :] = x.transpose(0, 2, 1)
    else:
        xp = x.transpose(0, 2, 1)
    # stride 1, one group: the output is a product per kernel tap over flat row ranges of the
    # padded input (no column matrix), and the backward takes the weight gradient from the padded
    # input itself, so the padded input is what is kept
    flat = stride == 1 and G == 1
    if flat:
        if not xp.flags.c_contiguous:
            xp = np.ascontiguousarray(xp)
        taps = np.ascontiguousarray(weight.transpose(2, 1, 0))  # (K, C_in, C_out)
        out_cl = _tap_products(xp, taps, dilation, Lout)
        if bias is not None:
            out_cl += bias
        out = out_cl.transpose(0, 2, 1)  # (N, C_out, L_out) view of the channels-last buffer
        if unbatched:
            out = out[0]
        if not _record:
            return out
        cols = None
    else:
        out, cols = _column_product(xp, weight, bias, N, Lout, K, stride, dilation, G)
        if unbatched:
            out = out[0]
        if not _record:
            return out

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[np.ndarray | None, ...]:
        if unbatched:
            g = g[None]
        # the output gradient as (G, M, Og), rows in (n, t) order
        gt = g.transpose(0, 2, 1)  # (N, L_out, C_out): free when g is channels-last
        if G == 1:
            gG = gt.reshape(1, M, Co)
        else:
            gG = np.ascontiguousarray(gt.reshape(M, G, Og).transpose(1, 0, 2))
        gx = gw = gb = None
        if needs[0]:
            gx = _input_grad(gG, weight, N, L, Lout, Lp, pl, stride, dilation, dtype)
            if unbatched:
                gx = gx[0]
        if needs[1]:
            if flat:
                gw = _weight_grad_flat(xp, gG[0], N, Lout, Lp, K, dilation)
            else:
                gwm = np.matmul(cols.transpose(0, 2, 1), gG)  # (G, K * Cg, Og)
                gw = gwm.reshape(G, K, Cg, Og).transpose(0, 3, 2, 1).reshape(Co, Cg, K)
        if len(needs) > 2 and needs[2]:
            gb = gG.sum(axis=1).reshape(Co)
        return (gx, gw) if len(needs) == 2 else (gx, gw, gb)

    return out, backward


def _tap_products(a: np.ndarray, taps: np.ndarray, dilation: int, n_out: int) -> np.ndarray:
    """``out[n, t] = sum_k a[n, t + k * dilation] @ taps[k]`` for ``t < n_out``: a stride-1
    correlation of the C-ordered ``a (N, R, C)`` with ``taps (K, C, D)``, as ``(N, n_out, D)``.

    One matrix product per tap over flat, shifted row ranges of ``a`` (``N * R - (K - 1) *
    dilation`` rows: the rows that run into the next sample land in rows ``n_out .. R - 1`` of
    a sample, which are left out), summed into one buffer: no column matrix is built. The result
    is a view of an ``(N, R, D)`` buffer."""
    N, R, C = a.shape
    K, _, D = taps.shape
    rows = N * R - (K - 1) * dilation
    buf = np.empty((N, R, D), dtype=a.dtype)
    flat_a = a.reshape(N * R, C)
    acc = buf.reshape(N * R, D)[:rows]
    np.matmul(flat_a[:rows], taps[0], out=acc)
    if K > 1:
        tap = scratch("conv1d.tap", (rows, D), a.dtype)
        for k in range(1, K):
            np.matmul(flat_a[k * dilation : k * dilation + rows], taps[k], out=tap)
            acc += tap
    return buf[:, :n_out]


def _column_product(
    xp: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    N: int,
    Lout: int,
    K: int,
    stride: int,
    dilation: int,
    G: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The convolution as one product of the column matrix and the weight (a larger stride, or
    groups): ``(out (N, C_out, L_out), cols (G, N * L_out, K * Cg))``, the output a view of a
    channels-last buffer."""
    Co, Cg, _ = weight.shape
    Og = Co // G
    M = N * Lout
    sN, sL, sC = xp.strides
    # every receptive field: (N, L_out, K, G, Cg), no copy
    fields = _strided(xp, (N, Lout, K, G, Cg), (sN, stride * sL, dilation * sL, Cg * sC, sC))
    # the column matrix (G, N * L_out, K * Cg): the one copy of the receptive fields
    if G == 1:
        cols = fields.reshape(1, M, K * Cg)
    else:
        cols = np.ascontiguousarray(fields.transpose(3, 0, 1, 2, 4)).reshape(G, M, K * Cg)
    # weight as (G, K * Cg, Og)
    wmat = weight.reshape(G, Og, Cg, K).transpose(0, 3, 2, 1).reshape(G, K * Cg, Og)
    prod = np.matmul(cols, wmat)  # (G, M, Og)
    if G == 1:
        out_cl = prod.reshape(N, Lout, Co)
    else:
        out_cl = prod.transpose(1, 0, 2).reshape(N, Lout, Co)
    if bias is not None:
        out_cl += bias
    return out_cl.transpose(0, 2, 1), cols


def _weight_grad_flat(
    xp: np.ndarray, g: np.ndarray, N: int, Lout: int, Lp: int, K: int, dilation: int
) -> np.ndarray:
    """The weight gradient ``(C_out, C_in, K)`` of a stride-1, one-group convolution from the padded
    channels-last input ``xp (N, Lp, C_in)`` and the output gradient ``g (N * L_out, C_out)``.

    With the output gradient written into rows ``0 .. L_out - 1`` of each sample's ``Lp`` rows (the
    rest zero), tap ``k``'s gradient is one matrix product of the input rows shifted by
    ``k * dilation`` with those rows, both as contiguous ``(N * Lp - span + 1)``-row slices of the
    flattened arrays: the rows that run into the next sample meet zeros.
    """
    C = xp.shape[2]
    Co = g.shape[1]
    gpad = scratch("conv1d.gpad_w", (N, Lp, Co), xp.dtype)
    gpad[:, :Lout] = g.reshape(N, Lout, Co)
    gpad[:, Lout:] = 0.0
    rows = N * Lp - (K - 1) * dilation
    xflat = xp.reshape(N * Lp, C)
    gflat = gpad.reshape(N * Lp, Co)[:rows]
    gw = np.empty((Co, C, K), dtype=xp.dtype)
    tap = np.empty((C, Co), dtype=xp.dtype)
    for k in range(K):
        np.matmul(xflat[k * dilation : k * dilation + rows].T, gflat, out=tap)
        gw[:, :, k] = tap.T
    return gw


def _input_grad(
    gG: np.ndarray,
    weight: np.ndarray,
    N: int,
    L: int,
    Lout: int,
    Lp: int,
    pl: int,
    stride: int,
    dilation: int,
    dtype: np.dtype,
) -> np.ndarray:
    """The transposed convolution: the gradient ``(N, C_in, L)`` of the input from ``gG``.

    ``gG`` is the output gradient as ``(G, N * L_out, Og)``. With stride 1 it is a correlation of the
    zero-padded output gradient with the tap-reversed, transposed kernel: one matrix product over a
    strided view, whose result is the input gradient itself. With a larger stride, the product of
    the output gradient with the kernel gives every tap's contribution at once, and those ``K``
    slabs are scatter-added into the padded input gradient.
    """
    _, Cg, K = weight.shape
    G, _, Og = gG.shape
    C = G * Cg
    span = dilation * (K - 1) + 1
    if stride == 1:
        # dx[n, s] = sum_j gpad[n, s + j * dilation] @ w[:, :, K - 1 - j]
        Lg = L + span - 1
        offset = span - 1 - pl  # gpad[u] = g[u - offset]
        gpad = scratch("conv1d.gpad", (G, N, Lg, Og), dtype)
        lo, hi = max(0, offset), min(Lg, offset + Lout)
        gpad[:, :, :lo] = 0.0
        gpad[:, :, max(lo, hi) :] = 0.0
        if hi > lo:
            gpad[:, :, lo:hi] = gG.reshape(G, N, Lout, Og)[:, :, lo - offset : hi - offset]
        if G == 1:  # one product per tap over flat row ranges, as the forward
            flip = np.ascontiguousarray(weight[:, :, ::-1].transpose(2, 0, 1))  # (K, Og, Cg)
            return _tap_products(gpad[0], flip, dilation, L).transpose(0, 2, 1)
        sG, sN, sL, sO = gpad.strides
        gfields = _strided(gpad, (G, N, L, K, Og), (sG, sN, sL, dilation * sL, sO))
        gcols = scratch("conv1d.gcols", (G, N, L, K, Og), dtype)
        np.copyto(gcols, gfields)
        gcols = gcols.reshape(G, N * L, K * Og)
        # wflip[g, j * Og + o, c] = weight[g * Og + o, c, K - 1 - j]
        wflip = (
            weight.reshape(G, Og, Cg, K)[:, :, :, ::-1].transpose(0, 3, 1, 2).reshape(G, K * Og, Cg)
        )
        dx = np.matmul(gcols, wflip)  # (G, N * L, Cg)
        if G == 1:
            return dx.reshape(N, L, C).transpose(0, 2, 1)
        return dx.reshape(G, N, L, Cg).transpose(1, 0, 3, 2).reshape(N, C, L)
    # strided: every tap's contribution in one product, then a scatter-add over the K taps
    wmat_t = weight.reshape(G, Og, Cg, K).transpose(0, 1, 3, 2).reshape(G, Og, K * Cg)
    dfields = np.matmul(gG, wmat_t).reshape(G, N, Lout, K, Cg)
    dxp = np.zeros((N, Lp, G, Cg), dtype=dtype)
    stop = stride * (Lout - 1) + 1
    for k in range(K):
        start = k * dilation
        target = dxp[:, start : start + stop : stride]
        if G == 1:
            target[:, :, 0, :] += dfields[0, :, :, k, :]
        else:
            target += dfields[:, :, :, k, :].transpose(1, 2, 0, 3)
    return dxp[:, pl : pl + L].reshape(N, L, C).transpose(0, 2, 1)


OPS = [fused_op(_OP, conv1d)]
