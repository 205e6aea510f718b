"""The GRU ops: ``gru_cell`` (one step) and ``gru`` (one layer over a whole sequence, one tape node).

One step of the recurrence, with PyTorch's gate order r, z, n::

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)      z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))   h' = n + z * (h - n)

is :func:`gru_step`, which both ops run: the cell once, the sequence op once per time step. The
sigmoid gates are computed as ``sigmoid(v) = (1 + tanh(v / 2)) / 2`` from pre-activations already
halved (exactly: a power of two), so one ``tanh`` call activates both.

The sequence op projects every step's input with one matrix product before the time loop and keeps
the pre-activations gate-major, ``(3, L, N, H)``, so each gate block of a step is contiguous;
backpropagation through time precomputes every gate-derivative factor in bulk (see ``gru``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from swets_ops.fused_common import fused_op
from swets_ops.fused_rnn import bias_grads, cell_weight_grads, recurrent_args

Arr = np.ndarray

_HALF_RZ = (0.5, 0.5, 1.0)  # the factor of each gate's pre-activation (r, z halved; n as is)


_tanh, _add, _multiply, _subtract = np.tanh, np.add, np.multiply, np.subtract


def gru_step(
    gates: tuple[Arr, Arr, Arr], n_in: Arr, hn: Arr, n: Arr, h_prev: Arr, h: Arr, tmp: Arr
) -> None:
    """One GRU step in place: the definition every GRU op runs.

    Args:
        gates: ``(rz, r, z)``: ``rz`` holds the halved pre-activations of the gates r and z (any
            layout), ``r`` and ``z`` are its views ``(N, H)``; they become the gates.
        n_in: ``(N, H)`` the input part ``W_in x + b_in`` of the candidate.
        hn: ``(N, H)`` the state part ``W_hn h + b_hn`` (kept: the backward pass needs it).
        n: ``(N, H)`` receives the candidate ``n`` (may be ``n_in`` itself).
        h_prev: ``(N, H)`` the state before the step; h: ``(N, H)`` receives ``h'``.
        tmp: ``(N, H)`` scratch space.
    """
    # call-bound at small batches: module-level ufuncs, the output positional (faster than ``out=``)
    rz, r, z = gates
    _tanh(rz, rz)
    rz *= 0.5
    rz += 0.5  # r, z
    _multiply(r, hn, tmp)
    _add(n_in, tmp, n)
    _tanh(n, n)
    _subtract(h_prev, n, h)
    h *= z
    h += n  # n + z * (h - n)


def gru_cell(
    x: Any, h: Any, w_ih: Any, w_hh: Any, *biases: Any, _record: bool = True
) -> tuple[np.ndarray, Any]:
    """One GRU step, as PyTorch's ``GRUCell``; returns ``h'``.

    ``r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)``, ``z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)``,
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.

    Args:
        x: ``(N, I)`` (or ``(I,)``); h: ``(N, H)`` (or ``(H,)``), None for zeros.
        w_ih: ``(3H, I)``; w_hh: ``(3H, H)``; biases: optional ``b_ih``, ``b_hh`` ``(3H,)``; gates
            r, z, n.
    """
    x, (h,), w_ih, w_hh, b_ih, b_hh = recurrent_args(
        "gru_cell", 3, x, {"h": h}, w_ih, w_hh, biases, sequence=False
    )
    H = w_hh.shape[1]
    N = x.shape[0] if x.ndim == 2 else 1
    dtype = x.dtype
    x2, h2 = x.reshape(N, -1), h.reshape(N, H)
    zi = np.matmul(x2, w_ih.T)  # (N, 3H): r, z, n from the input, one product
    zh = np.matmul(h2, w_hh.T)  # (N, 3H): r, z, n from the state, one product
    if b_ih is not None:
        zi += b_ih
    if b_hh is not None:
        zh += b_hh
    rz = np.add(zi[:, : 2 * H], zh[:, : 2 * H])
    rz *= 0.5
    r, z = rz[:, :H], rz[:, H:]
    hn = zh[:, 2 * H :]
    n = np.empty((N, H), dtype=dtype)  # contiguous (tanh in place on a strided view is slower)
    h_new = np.empty((N, H), dtype=dtype)
    # the state's r-part of zh is spent: its columns are the step's scratch space
    gru_step((rz, r, z), zi[:, 2 * H :], hn, n, h2, h_new, zh[:, :H])
    out = h_new.reshape(h.shape)
    if not _record:
        return out

    def backward(gh: np.ndarray, needs: tuple[bool, ...]) -> tuple[np.ndarray | None, ...]:
        gh2 = gh.reshape(N, H)
        dxz = np.empty((N, 3 * H), dtype=dtype)  # input-side pre-activation gradients r, z, n
        dn = gh2 * (1.0 - z) * (1.0 - n * n)
        dxz[:, 2 * H :] = dn
        np.multiply(dn * hn, r * (1.0 - r), out=dxz[:, :H])
        np.multiply(gh2 * (h2 - n), z * (1.0 - z), out=dxz[:, H : 2 * H])
        dhz = dxz.copy()  # state side: the same except n, scaled by r
        np.multiply(dn, r, out=dhz[:, 2 * H :])
        gx = np.matmul(dxz, w_ih).reshape(x.shape) if needs[0] else None
        gh = (np.matmul(dhz, w_hh) + gh2 * z).reshape(h.shape) if needs[1] else None
        return (gx, gh, *cell_weight_grads(needs, 2, dxz, dhz, x2, h2))

    return out, backward


def gru(
    x: Any, h0: Any, w_ih: Any, w_hh: Any, *biases: Any, _record: bool = True
) -> tuple[tuple[np.ndarray, np.ndarray], Any]:
    """One GRU layer over a whole batch-first sequence; returns ``(y, h_n)``.

    The recurrence of :func:`gru_cell` over ``t = 0 .. L - 1``, as PyTorch's single-layer,
    unidirectional ``nn.GRU(batch_first=True)``, in one tape node.

    Args:
        x: ``(N, L, I)``; h0: ``(N, H)`` (None for zeros).
        w_ih: ``(3H, I)``; w_hh: ``(3H, H)``; biases: optional ``b_ih``, ``b_hh`` ``(3H,)``; gates
            r, z, n.

    Returns:
        ``y (N, L, H)``, ``h_n (N, H)``.
    """
    x, (h0,), w_ih, w_hh, b_ih, b_hh = recurrent_args(
        "gru", 3, x, {"h0": h0}, w_ih, w_hh, biases, sequence=True
    )
    N, L, In = x.shape
    H = w_hh.shape[1]
    dtype = x.dtype
    scale = np.array(_HALF_RZ, dtype=dtype).reshape(3, 1, 1)
    wih3 = w_ih.reshape(3, H, In).transpose(0, 2, 1) * scale  # (3, In, H)
    whh3 = np.ascontiguousarray(w_hh.reshape(3, H, H).transpose(0, 2, 1) * scale)  # (3, H, H)
    xt = np.ascontiguousarray(x.transpose(1, 0, 2)).reshape(L * N, In)
    # gate-major: XZ[k, t] is gate k (r, z, n) at step t, (N, H) contiguous; r and z become the
    # activated gates and the n slot becomes n itself, in place
    XZ = np.matmul(xt, wih3).reshape(3, L, N, H)
    if b_ih is not None:
        XZ += b_ih.reshape(3, 1, 1, H) * scale[:, :, :, None]
    if b_hh is not None:
        XZ[:2] += b_hh[: 2 * H].reshape(2, 1, 1, H) * scale[:2, :, :, None]  # same sum as b_ih
        bhn = b_hh[2 * H :]
    else:
        bhn = None
    Hs = np.empty((L + 1, N, H), dtype=dtype)
    Hs[0] = h0
    HN = np.empty((L, N, H), dtype=dtype)  # W_hn h + b_hn, kept for the backward
    rec = np.empty((3, N, H), dtype=dtype)
    tmp = np.empty((N, H), dtype=dtype)
    for t in range(L):
        np.matmul(Hs[t], whh3, out=rec)
        rz = XZ[:2, t]
        rz += rec[:2]
        hn = HN[t]
        if bhn is not None:
            np.add(rec[2], bhn, out=hn)
        else:
            hn[...] = rec[2]
        n = XZ[2, t]  # becomes the candidate in place
        gru_step((rz, rz[0], rz[1]), n, hn, n, Hs[t], Hs[t + 1], tmp)
    y = Hs[1:].transpose(1, 0, 2)
    outs = (y, Hs[L].copy())
    if not _record:
        return outs

    def backward(grads: tuple[Any, Any], needs: tuple[bool, ...]) -> tuple[Any, ...]:
        gy, gh_n = grads
        r, z, n = XZ[0], XZ[1], XZ[2]  # (L, N, H) each, contiguous
        # every pre-activation gradient is dh times a factor known after the forward pass
        An = n * n
        np.subtract(1.0, An, out=An)
        An *= 1.0 - z  # dn_pre = dh * An
        Fx = np.empty((3, L, N, H), dtype=dtype)  # input side: r, z, n
        np.subtract(1.0, r, out=Fx[0])
        Fx[0] *= r
        Fx[0] *= HN
        Fx[0] *= An
        np.subtract(1.0, z, out=Fx[1])
        Fx[1] *= z
        Fx[1] *= Hs[:L] - n
        Fx[2] = An
        Fh = Fx.copy()  # state side: the n gradient is scaled by r
        Fh[2] *= r
        dX = np.empty((L, N, 3, H), dtype=dtype)  # per step (N, 3H)
        dHz = np.empty((L, N, 3, H), dtype=dtype)
        dh_rec = np.zeros((N, H), dtype=dtype) if gh_n is None else np.array(gh_n, dtype=dtype)
        gyt = None if gy is None else np.ascontiguousarray(gy.transpose(1, 0, 2))
        dh = np.empty((N, H), dtype=dtype)
        for t in range(L - 1, -1, -1):
            if gyt is not None:
                np.add(gyt[t], dh_rec, out=dh)
            else:
                dh[...] = dh_rec
            np.multiply(dh, Fx[:, t], out=dX[t].transpose(1, 0, 2))
            np.multiply(dh, Fh[:, t], out=dHz[t].transpose(1, 0, 2))
            np.matmul(dHz[t].reshape(N, 3 * H), w_hh, out=dh_rec)
            np.multiply(dh, z[t], out=dh)
            dh_rec += dh
        dX2 = dX.reshape(L * N, 3 * H)
        dH2 = dHz.reshape(L * N, 3 * H)
        res: list[Any] = [
            np.matmul(dX2, w_ih).reshape(L, N, In).transpose(1, 0, 2) if needs[0] else None,
            dh_rec if needs[1] else None,
            np.matmul(xt.T, dX2).T if needs[2] else None,
            np.matmul(Hs[:L].reshape(L * N, H).T, dH2).T if needs[3] else None,
        ]
        res += bias_grads(needs, 4, lambda: dX2.sum(axis=0), lambda: dH2.sum(axis=0))
        return tuple(res)

    return outs, backward


OPS = [fused_op("gru_cell", gru_cell), fused_op("gru", gru)]
