"""Recurrent ops: ``lstm_cell``, ``lstm``, ``gru_cell`` and ``gru``, with PyTorch's weight layouts.

Weights are PyTorch's: ``w_ih (G * H, I)``, ``w_hh (G * H, H)``, optional ``b_ih``, ``b_hh (G * H,)``,
with the gates stacked in the order i, f, g, o (LSTM) or r, z, n (GRU).

The sequence ops (``lstm``, ``gru``) are one tape node each:

* the input projection ``x @ w_ih^T + b`` of every step is one matrix product, done before the
  time loop; each step then adds one product of the state with ``w_hh`` for all gates at once;
* the pre-activations are kept gate-major, ``(gates, L, N, H)``, so every gate block of a step is
  contiguous; the weight rows are reordered and scaled (by -1 for sigmoid gates, -2 for the LSTM's
  g gate) so that one ``exp``, ``+ 1``, ``reciprocal`` sequence activates every sigmoid gate of a
  step (``tanh(z) = 2 * sigmoid(2z) - 1`` for g);
* backpropagation through time precomputes every gate-derivative factor for all steps in bulk, so
  the backward loop is a handful of elementwise products and one ``(N, G * H) @ (G * H, H)`` product
  per step; the input and weight gradients are then single matrix products over all steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from swets_core.autograd import OpDef
from swets_core.errors import ShapeError
from swets_ops.fused_common import float_array, same_dtype, scratch, sigmoid
from swets_ops.jit import LSTM_MAX_BATCH, kernels

# ------------------------------------------------------------------------------------------------
# argument checks
# ------------------------------------------------------------------------------------------------


def _weights(
    op: str, gates: int, In: int, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None, int]:
    names = "i, f, g, o" if gates == 4 else "r, z, n"
    w_ih = float_array(op, "w_ih", w_ih)
    w_hh = float_array(op, "w_hh", w_hh)
    if w_ih.ndim != 2 or w_ih.shape[0] % gates or w_ih.shape[0] == 0:
        raise ShapeError(
            f"{op}: w_ih must be ({gates} * hidden_size, input_size) (gates {names}), got {w_ih.shape}"
        )
    H = w_ih.shape[0] // gates
    if w_ih.shape[1] != In:
        raise ShapeError(
            f"{op}: w_ih {w_ih.shape} expects input_size {w_ih.shape[1]} but x has {In} features"
        )
    if w_hh.shape != (gates * H, H):
        raise ShapeError(
            f"{op}: w_hh must have shape {(gates * H, H)} for hidden_size {H} (from w_ih "
            f"{w_ih.shape}), got {w_hh.shape}"
        )
    if b_ih is not None:
        b_ih = float_array(op, "b_ih", b_ih)
        if b_ih.shape != (gates * H,):
            raise ShapeError(f"{op}: b_ih must have shape ({gates * H},), got {b_ih.shape}")
    if b_hh is not None:
        b_hh = float_array(op, "b_hh", b_hh)
        if b_hh.shape != (gates * H,):
            raise ShapeError(f"{op}: b_hh must have shape ({gates * H},), got {b_hh.shape}")
    return w_ih, w_hh, b_ih, b_hh, H


def _state(
    op: str, name: str, s: Any, N: int, H: int, dtype: np.dtype, batched: bool
) -> np.ndarray:
    if s is None:
        return np.zeros((N, H) if batched else (H,), dtype=dtype)
    s = float_array(op, name, s)
    want = (N, H) if batched else (H,)
    if s.shape != want:
        raise ShapeError(f"{op}: {name} must have shape {want} (batch, hidden_size), got {s.shape}")
    return s


def _sequence(op: str, x: Any) -> np.ndarray:
    x = float_array(op, "x", x)
    if x.ndim != 3:
        raise ShapeError(f"{op}: x must be 3-d (batch, length, input_size), got shape {x.shape}")
    if x.shape[1] == 0:
        raise ShapeError(f"{op}: x must have at least one time step, got shape {x.shape}")
    return x


def _bias_grads(
    needs: tuple[bool, ...], first: int, g_ih: Any, g_hh: Any
) -> list[np.ndarray | None]:
    out: list[np.ndarray | None] = []
    if len(needs) > first:
        out.append(g_ih() if needs[first] else None)
    if len(needs) > first + 1:
        out.append(g_hh() if needs[first + 1] else None)
    return out


# ------------------------------------------------------------------------------------------------
# LSTM
# ------------------------------------------------------------------------------------------------


def _lstm_cell(
    x: Any,
    h: Any,
    c: Any,
    w_ih: Any,
    w_hh: Any,
    b_ih: Any = None,
    b_hh: Any = None,
    *,
    _record: bool = True,
) -> tuple[tuple[np.ndarray, np.ndarray], Any]:
    op = "lstm_cell"
    x = float_array(op, "x", x)
    if x.ndim not in (1, 2):
        raise ShapeError(f"{op}: x must be (batch, input_size) or (input_size,), got {x.shape}")
    batched = x.ndim == 2
    w_ih, w_hh, b_ih, b_hh, H = _weights(op, 4, x.shape[-1], w_ih, w_hh, b_ih, b_hh)
    N = x.shape[0] if batched else 1
    dtype = same_dtype(op, x=x, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh)
    h = _state(op, "h", h, N, H, dtype, batched)
    c = _state(op, "c", c, N, H, dtype, batched)
    same_dtype(op, x=x, h=h, c=c)
    x2, h2, c2 = x.reshape(N, -1), h.reshape(N, H), c.reshape(N, H)
    z = np.matmul(x2, w_ih.T)  # all four gates in one product per input
    z += np.matmul(h2, w_hh.T)
    if b_ih is not None:
        z += b_ih
    if b_hh is not None:
        z += b_hh
    act = np.empty_like(z)
    sigmoid(z[:, : 2 * H], out=act[:, : 2 * H])
    np.tanh(z[:, 2 * H : 3 * H], out=act[:, 2 * H : 3 * H])
    sigmoid(z[:, 3 * H :], out=act[:, 3 * H :])
    i, f, g, o = act[:, :H], act[:, H : 2 * H], act[:, 2 * H : 3 * H], act[:, 3 * H :]
    c_new = f * c2
    c_new += i * g
    tc = np.tanh(c_new)
    h_new = o * tc
    outs = (h_new.reshape(h.shape), c_new.reshape(c.shape))
    if not _record:
        return outs, None

    def backward(grads: tuple[Any, Any], needs: tuple[bool, ...]) -> tuple[np.ndarray | None, ...]:
        gh_new, gc_new = grads
        dc = np.zeros((N, H), dtype=dtype) if gc_new is None else gc_new.reshape(N, H).copy()
        dz = np.empty((N, 4 * H), dtype=dtype)
        if gh_new is not None:
            gh2 = gh_new.reshape(N, H)
            dc += gh2 * o * (1.0 - tc * tc)
            np.multiply(gh2 * tc, o * (1.0 - o), out=dz[:, 3 * H :])
        else:
            dz[:, 3 * H :] = 0.0
        np.multiply(dc * g, i * (1.0 - i), out=dz[:, :H])
        np.multiply(dc * c2, f * (1.0 - f), out=dz[:, H : 2 * H])
        np.multiply(dc * i, 1.0 - g * g, out=dz[:, 2 * H : 3 * H])
        res: list[np.ndarray | None] = [
            np.matmul(dz, w_ih).reshape(x.shape) if needs[0] else None,
            np.matmul(dz, w_hh).reshape(h.shape) if needs[1] else None,
            (dc * f).reshape(c.shape) if needs[2] else None,
            np.matmul(dz.T, x2) if needs[3] else None,
            np.matmul(dz.T, h2) if needs[4] else None,
        ]
        res += _bias_grads(needs, 5, lambda: dz.sum(axis=0), lambda: dz.sum(axis=0))
        return tuple(res)

    return outs, backward


def lstm_cell(
    x: np.ndarray,
    h: np.ndarray,
    c: np.ndarray,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray | None = None,
    b_hh: np.ndarray | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], Any]:
    """One LSTM step, as PyTorch's ``LSTMCell``; returns ``(h', c')``.

    ``i, f, g, o = split(x @ w_ih^T + b_ih + h @ w_hh^T + b_hh)`` (i, f, o sigmoid, g tanh),
    ``c' = f * c + i * g``, ``h' = o * tanh(c')``.

    Args:
        x: ``(N, I)`` (or unbatched ``(I,)``); h, c: ``(N, H)`` (or ``(H,)``), None for zeros.
        w_ih: ``(4H, I)``; w_hh: ``(4H, H)``; b_ih, b_hh: optional ``(4H,)``.
    """
    return _lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh)


def _lstm_cell_infer(*inputs: Any, **attrs: Any) -> tuple[np.ndarray, np.ndarray]:
    return _lstm_cell(*inputs, _record=False, **attrs)[0]


# internal LSTM gate order: o, i, f, g (sigmoid gates first; i, f, g - the ones scaled by dc - last)
def _lstm_perm(H: int) -> np.ndarray:
    return np.concatenate(
        [np.arange(3 * H, 4 * H), np.arange(0, H), np.arange(H, 2 * H), np.arange(2 * H, 3 * H)]
    )


def _lstm_args(
    x: Any, h0: Any, c0: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any
) -> tuple[Any, ...]:
    """The ``lstm`` op's inputs checked (shapes, one float dtype) and as arrays, zero states for
    None: ``(x, h0, c0, w_ih, w_hh, b_ih, b_hh)``."""
    op = "lstm"
    x = _sequence(op, x)
    N, _, In = x.shape
    w_ih, w_hh, b_ih, b_hh, H = _weights(op, 4, In, w_ih, w_hh, b_ih, b_hh)
    dtype = same_dtype(op, x=x, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh)
    h0 = _state(op, "h0", h0, N, H, dtype, True)
    c0 = _state(op, "c0", c0, N, H, dtype, True)
    same_dtype(op, x=x, h0=h0, c0=c0)
    return x, h0, c0, w_ih, w_hh, b_ih, b_hh


def _lstm(
    x: Any,
    h0: Any,
    c0: Any,
    w_ih: Any,
    w_hh: Any,
    b_ih: Any = None,
    b_hh: Any = None,
    *,
    _record: bool = True,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], Any]:
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = _lstm_args(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    N, L, In = x.shape
    H = w_hh.shape[1]
    dtype = x.dtype
    perm = _lstm_perm(H)
    wih_p = w_ih[perm]  # (4H, In), gate rows o, i, f, g
    whh_p = w_hh[perm]  # (4H, H)
    # exp-form activations: the pre-activations are scaled by -1 (sigmoid gates) and -2 (g), so
    # 1 / (1 + exp(a)) is sigmoid(z) for o, i, f and sigmoid(2z) = (tanh(z) + 1) / 2 for g
    scale = np.full((4, 1, 1), -1.0, dtype=dtype)
    scale[3] = -2.0
    wih4 = wih_p.reshape(4, H, In).transpose(0, 2, 1) * scale  # (4, In, H)
    whh4 = np.ascontiguousarray(whh_p.reshape(4, H, H).transpose(0, 2, 1) * scale)  # (4, H, H)
    xt = np.ascontiguousarray(x.transpose(1, 0, 2)).reshape(L * N, In)
    # gate-major pre-activations of every step: A[k, t] is gate k at step t, (N, H) contiguous;
    # activated in place by the loop
    A = np.matmul(xt, wih4).reshape(4, L, N, H)
    if b_ih is not None or b_hh is not None:
        b = np.zeros(4 * H, dtype=dtype)
        if b_ih is not None:
            b += b_ih
        if b_hh is not None:
            b += b_hh
        A += b[perm].reshape(4, 1, 1, H) * scale[:, :, :, None]
    Cs = np.empty((L + 1, N, H), dtype=dtype)
    Hs = np.empty((L + 1, N, H), dtype=dtype)
    Tc = np.empty((L, N, H), dtype=dtype)
    Cs[0] = c0
    Hs[0] = h0
    rec = np.empty((4, N, H), dtype=dtype)
    ig = np.empty((N, H), dtype=dtype)
    jit = kernels() if dtype == np.float32 else None
    if jit is not None:  # the elementwise part of every step as one compiled pass
        step = jit.lstm_step_f32
        for t in range(L):
            np.matmul(Hs[t], whh4, out=rec)
            step(A, t, rec, Cs, Tc, Hs)
    else:
        with np.errstate(over="ignore", under="ignore"):  # exp: inf and 0 are exact limits
            for t in range(L):
                a = A[:, t]
                np.matmul(Hs[t], whh4, out=rec)
                a += rec
                np.exp(a, out=a)
                a += 1.0
                np.reciprocal(a, out=a)  # o, i, f = sigmoid; a[3] = sigmoid(2 z_g)
                g = a[3]
                g *= 2.0
                g -= 1.0  # tanh(z_g)
                c_t = Cs[t + 1]
                np.multiply(a[2], Cs[t], out=c_t)  # f * c
                np.multiply(a[1], g, out=ig)  # i * g
                c_t += ig
                np.tanh(c_t, out=Tc[t])
                np.multiply(a[0], Tc[t], out=Hs[t + 1])  # o * tanh(c)
    y = Hs[1:].transpose(1, 0, 2)  # (N, L, H) view of the time-major states
    outs = (y, Hs[L].copy(), Cs[L].copy())
    if not _record:
        return outs, None

    def backward(grads: tuple[Any, Any, Any], needs: tuple[bool, ...]) -> tuple[Any, ...]:
        gy, gh_n, gc_n = grads
        o, i, f, g = A[0], A[1], A[2], A[3]  # (L, N, H) each, contiguous
        # derivative factors of every step, in bulk
        # every array below but the returned gradients is a scratch temporary (no fresh pages)
        P1 = scratch("lstm.P1", (L, N, H), dtype)
        P2 = scratch("lstm.P2", (L, N, H), dtype)
        Q = scratch("lstm.Q", (3, L, N, H), dtype)  # dz_{i, f, g} = dc * Q
        dZ = scratch("lstm.dZ", (L, N, 4, H), dtype)  # per step (N, 4H): rows of the w_hh product
        dh_rec = np.zeros((N, H), dtype=dtype) if gh_n is None else np.array(gh_n, dtype=dtype)
        dc = np.zeros((N, H), dtype=dtype) if gc_n is None else np.array(gc_n, dtype=dtype)
        gyt = None
        if gy is not None:
            gyt = scratch("lstm.gy", (L, N, H), dtype)
            np.copyto(gyt, gy.transpose(1, 0, 2))
        if jit is not None:  # the same arithmetic as below, compiled: one pass each
            jit.lstm_backward_factors_f32(A, Tc, Cs, P1, P2, Q)
            gy_arr = P1 if gyt is None else gyt
            for t in range(L - 1, -1, -1):
                jit.lstm_backward_step_f32(t, gy_arr, gyt is not None, dh_rec, dc, P1, P2, Q, A, dZ)
                np.matmul(dZ[t].reshape(N, 4 * H), whh_p, out=dh_rec)
            return _lstm_grads(needs, dZ, dh_rec, dc, xt, Hs, wih_p, whh_p, perm, N, L, In, H)
        np.multiply(Tc, Tc, out=P1)
        np.subtract(1.0, P1, out=P1)
        P1 *= o  # dc += dh * P1
        np.subtract(1.0, o, out=P2)
        P2 *= o
        P2 *= Tc  # dz_o = dh * P2
        np.subtract(1.0, i, out=Q[0])
        Q[0] *= i
        Q[0] *= g
        np.subtract(1.0, f, out=Q[1])
        Q[1] *= f
        Q[1] *= Cs[:L]
        np.multiply(g, g, out=Q[2])
        np.subtract(1.0, Q[2], out=Q[2])
        Q[2] *= i
        dh = np.empty((N, H), dtype=dtype)
        tmp = np.empty((N, H), dtype=dtype)
        for t in range(L - 1, -1, -1):
            if gyt is not None:
                np.add(gyt[t], dh_rec, out=dh)
            else:
                dh[...] = dh_rec
            np.multiply(dh, P1[t], out=tmp)
            dc += tmp
            dz = dZ[t]
            np.multiply(dh, P2[t], out=dz[:, 0])
            np.multiply(dc, Q[:, t], out=dz[:, 1:].transpose(1, 0, 2))
            dc *= f[t]  # the cell gradient flowing to step t - 1
            np.matmul(dz.reshape(N, 4 * H), whh_p, out=dh_rec)
        return _lstm_grads(needs, dZ, dh_rec, dc, xt, Hs, wih_p, whh_p, perm, N, L, In, H)

    return outs, backward


def _lstm_grads(
    needs: tuple[bool, ...],
    dZ: np.ndarray,
    dh_rec: np.ndarray,
    dc: np.ndarray,
    xt: np.ndarray,
    Hs: np.ndarray,
    wih_p: np.ndarray,
    whh_p: np.ndarray,
    perm: np.ndarray,
    N: int,
    L: int,
    In: int,
    H: int,
) -> tuple[Any, ...]:
    """The ``lstm`` op's input gradients from the gate gradients ``dZ`` ``(L, N, 4, H)`` of every
    step (gate rows permuted by ``perm``) and the state gradients left at step 0."""
    dZ2 = dZ.reshape(L * N, 4 * H)
    inv = np.argsort(perm)
    gx = gw_ih = gw_hh = None
    if needs[0]:
        gx = np.matmul(dZ2, wih_p).reshape(L, N, In).transpose(1, 0, 2)
    if needs[3]:
        gw_ih = np.matmul(xt.T, dZ2).T[inv]
    if needs[4]:
        gw_hh = np.matmul(Hs[:L].reshape(L * N, H).T, dZ2).T[inv]
    res: list[Any] = [
        gx,
        dh_rec if needs[1] else None,
        dc if needs[2] else None,
        gw_ih,
        gw_hh,
    ]
    gb: list[np.ndarray] = []

    def bias_grad() -> np.ndarray:
        if not gb:
            gb.append(dZ2.sum(axis=0)[inv])
        return gb[0]

    res += _bias_grads(needs, 5, bias_grad, bias_grad)
    return tuple(res)


def lstm(
    x: np.ndarray,
    h0: np.ndarray | None,
    c0: np.ndarray | None,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray | None = None,
    b_hh: np.ndarray | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], Any]:
    """One LSTM layer over a whole batch-first sequence; returns ``(y, h_n, c_n)``.

    The recurrence of :func:`lstm_cell` over ``t = 0 .. L - 1``, as PyTorch's single-layer,
    unidirectional ``nn.LSTM(batch_first=True)``, in one tape node with a hand-written
    backpropagation through time.

    Args:
        x: ``(N, L, I)``; h0, c0: ``(N, H)`` initial states (None for zeros).
        w_ih: ``(4H, I)``; w_hh: ``(4H, H)``; b_ih, b_hh: optional ``(4H,)``; gates i, f, g, o.

    Returns:
        ``y (N, L, H)`` (every step's hidden state), ``h_n (N, H)``, ``c_n (N, H)``.
    """
    return _lstm(x, h0, c0, w_ih, w_hh, b_ih, b_hh)


def _lstm_infer(
    x: Any,
    h0: Any,
    c0: Any,
    w_ih: Any,
    w_hh: Any,
    b_ih: Any = None,
    b_hh: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = _lstm_args(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    weights = [(w_ih, w_hh, b_ih, b_hh)]
    y, h_n, c_n = lstm_stack_infer(x, weights, h0[None], c0[None], op="lstm")
    return y, h_n[0], c_n[0]


def lstm_stack_infer(
    x: Any,
    weights: Sequence[tuple[Any, Any, Any, Any]],
    h0: Any = None,
    c0: Any = None,
    *,
    op: str = "lstm",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inference (nothing recorded) through a stack of unidirectional LSTM layers in one time loop.

    Layer ``l`` runs step ``t`` at iteration ``t + l`` (a wavefront): every iteration reads only
    what the previous one wrote, so one matrix product per iteration serves every layer - the
    recurrent product of each layer, the input product of every layer above the first, the first
    layer's input product and the biases - and each elementwise stage is one call across layers.
    Sigmoid gates use ``sigmoid(z) = (1 + tanh(z / 2)) / 2`` so one ``tanh`` activates all four
    gates. ``L + layers - 1`` iterations of nine numpy calls each.

    Args:
        x: ``(N, L, I)``.
        weights: per layer ``(w_ih, w_hh, b_ih, b_hh)`` in PyTorch's layout (gates i, f, g, o;
            biases may be None); layer ``l > 0`` reads the hidden state of layer ``l - 1``.
        h0, c0: ``(layers, N, H)`` initial states, or None for zeros.

    Returns:
        ``y (N, L, H)`` (the last layer's hidden states), ``h_n``, ``c_n`` ``(layers, N, H)``.
    """
    x = _sequence(op, x)
    N, L, In = x.shape
    nl = len(weights)
    if nl == 0:
        raise ShapeError(f"{op}: needs at least one layer of weights")
    checked = []
    H = 0
    for layer, (w_ih, w_hh, b_ih, b_hh) in enumerate(weights):
        n_in = In if layer == 0 else H
        w_ih, w_hh, b_ih, b_hh, h = _weights(op, 4, n_in, w_ih, w_hh, b_ih, b_hh)
        if layer and h != H:
            raise ShapeError(
                f"{op}: layer {layer} has hidden size {h} but layer 0 has {H}; a stack needs one "
                "hidden size"
            )
        H = h
        checked.append((w_ih, w_hh, b_ih, b_hh))
    dtype = x.dtype
    for layer, arrays in enumerate(checked):
        if any(a is not None and a.dtype != dtype for a in arrays):
            names = (f"w_ih_l{layer}", f"w_hh_l{layer}", f"b_ih_l{layer}", f"b_hh_l{layer}")
            same_dtype(op, x=x, **dict(zip(names, arrays)))
    states = []
    for name, s in (("h0", h0), ("c0", c0)):
        if s is None:
            states.append(np.zeros((nl, N, H), dtype))
            continue
        s = float_array(op, name, s)
        if s.shape != (nl, N, H):
            raise ShapeError(
                f"{op}: {name} must have shape {(nl, N, H)} (layers, batch, hidden_size), got "
                f"{s.shape}"
            )
        if s.dtype != dtype:
            same_dtype(op, x=x, **{name: s})
        states.append(s)
    h0, c0 = states
    jit = kernels() if N <= LSTM_MAX_BATCH else None
    if jit is not None:
        return _lstm_stack_compiled(jit, x, checked, h0, c0)
    S = nl * H  # one gate of every layer
    D = S + In + 1  # one iteration's input row: every layer's h, the step's x, a 1 for the biases
    K = L + nl - 1
    # product columns gate-major across layers (o of every layer, then i, f, g), so each gate of
    # every layer is one contiguous block; the sigmoid gates' columns are halved
    W = np.zeros((D, 4 * S), dtype)
    order = (3, 0, 1, 2)  # o, i, f, g from PyTorch's i, f, g, o
    for layer, (w_ih, w_hh, b_ih, b_hh) in enumerate(checked):
        in_rows = slice(S, S + In) if layer == 0 else slice((layer - 1) * H, layer * H)
        for slot, gate in enumerate(order):
            cols = slice(slot * S + layer * H, slot * S + (layer + 1) * H)
            rows = slice(gate * H, (gate + 1) * H)
            factor = 1.0 if gate == 2 else 0.5
            W[layer * H : (layer + 1) * H, cols] = w_hh[rows].T * factor
            W[in_rows, cols] = w_ih[rows].T * factor
            if b_ih is not None:
                W[D - 1, cols] += b_ih[rows] * factor
            if b_hh is not None:
                W[D - 1, cols] += b_hh[rows] * factor
    V = np.zeros((K + 1, N, D), dtype)
    V[:L, :, S : S + In] = x.transpose(1, 0, 2)
    V[:, :, D - 1] = 1.0
    h0_rows = h0.transpose(1, 0, 2).reshape(N, S)
    c0_rows = c0.transpose(1, 0, 2).reshape(N, S)
    V[0, :, :S] = h0_rows
    Z = np.empty((N, 4 * S), dtype)
    sig, o, i, f, g = Z[:, : 3 * S], Z[:, :S], Z[:, S : 2 * S], Z[:, 2 * S : 3 * S], Z[:, 3 * S :]
    C = c0_rows.copy()  # (N, layers * H), updated in place (never the caller's c0)
    T = np.empty((N, S), dtype)
    P = np.empty((N, S), dtype)
    c_n = np.empty((nl, N, H), dtype)
    rows_in = V[:K]
    h_out = V[1:, :, :S]
    dot, tanh, multiply = np.dot, np.tanh, np.multiply  # local names: the loop is call-bound
    ramp_up, ramp_down = nl - 1, L - 1
    for k in range(K):
        dot(rows_in[k], W, out=Z)
        tanh(Z, out=Z)
        sig *= 0.5
        sig += 0.5  # o, i, f
        C *= f
        multiply(i, g, out=P)
        C += P
        tanh(C, out=T)
        multiply(o, T, out=h_out[k])
        if k < ramp_up:  # layers above k have not started: they keep their initial states
            h_out[k, :, (k + 1) * H :] = h0_rows[:, (k + 1) * H :]
            C[:, (k + 1) * H :] = c0_rows[:, (k + 1) * H :]
        if k >= ramp_down:  # layer k - (L - 1) has just run its last step
            layer = k - ramp_down
            c_n[layer] = C[:, layer * H : (layer + 1) * H]
    h_n = np.empty((nl, N, H), dtype)
    for layer in range(nl):
        h_n[layer] = V[L + layer, :, layer * H : (layer + 1) * H]
    y = V[nl : L + nl, :, (nl - 1) * H : S].transpose(1, 0, 2)
    return y, h_n, c_n


def _lstm_stack_compiled(
    jit: Any,
    x: np.ndarray,
    weights: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]],
    h0: np.ndarray,
    c0: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`lstm_stack_infer` layer by layer with the compiled kernel of :mod:`swets_ops.jit`:
    one matrix product gives every step's input product (plus the biases), then the kernel runs the
    time loop. Arguments already checked; returns ``y (N, L, H)``, ``h_n``, ``c_n``."""
    N, L, _ = x.shape
    dtype = x.dtype
    h_n = np.array(h0, order="C")  # (layers, N, H); the kernel updates each layer's rows in place
    c_n = np.array(c0, order="C")
    inp = x
    last = len(weights) - 1
    for layer, (w_ih, w_hh, b_ih, b_hh) in enumerate(weights):
        G, H = w_hh.shape[0], w_hh.shape[1]
        # temporaries in per-thread scratch buffers: no fresh pages per call
        pre = scratch("lstm_jit.pre", (N * L, G), dtype)
        np.matmul(inp.reshape(N * L, inp.shape[2]), w_ih.T, out=pre)
        if b_ih is None:
            bias = np.zeros(G, dtype) if b_hh is None else b_hh
        else:
            bias = b_ih if b_hh is None else b_ih + b_hh
        # the output of a layer below the last is read by the next layer's product only
        y = (
            np.empty((N, L, H), dtype)
            if layer == last
            else scratch(f"lstm_jit.y{layer % 2}", (N, L, H), dtype)
        )
        w_hh_t = scratch("lstm_jit.w_hh_t", (H, G), dtype)
        jit.lstm_layer(pre.reshape(N, L, G), bias, w_hh, w_hh_t, h_n[layer], c_n[layer], y)
        inp = y
    return inp, h_n, c_n


# ------------------------------------------------------------------------------------------------
# GRU
# ------------------------------------------------------------------------------------------------


def _gru_cell(
    x: Any,
    h: Any,
    w_ih: Any,
    w_hh: Any,
    b_ih: Any = None,
    b_hh: Any = None,
    *,
    _record: bool = True,
) -> tuple[np.ndarray, Any]:
    op = "gru_cell"
    x = float_array(op, "x", x)
    if x.ndim not in (1, 2):
        raise ShapeError(f"{op}: x must be (batch, input_size) or (input_size,), got {x.shape}")
    batched = x.ndim == 2
    w_ih, w_hh, b_ih, b_hh, H = _weights(op, 3, x.shape[-1], w_ih, w_hh, b_ih, b_hh)
    N = x.shape[0] if batched else 1
    dtype = same_dtype(op, x=x, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh)
    h = _state(op, "h", h, N, H, dtype, batched)
    same_dtype(op, x=x, h=h)
    x2, h2 = x.reshape(N, -1), h.reshape(N, H)
    zi = np.matmul(x2, w_ih.T)  # (N, 3H): r, z, n from the input, one product
    zh = np.matmul(h2, w_hh.T)  # (N, 3H): r, z, n from the state, one product
    if b_ih is not None:
        zi += b_ih
    if b_hh is not None:
        zh += b_hh
    rz = sigmoid(zi[:, : 2 * H] + zh[:, : 2 * H])
    r, z = rz[:, :H], rz[:, H:]
    hn = zh[:, 2 * H :]
    n = np.tanh(zi[:, 2 * H :] + r * hn)
    h_new = n + z * (h2 - n)
    out = h_new.reshape(h.shape)
    if not _record:
        return out, None

    def backward(gh: np.ndarray, needs: tuple[bool, ...]) -> tuple[np.ndarray | None, ...]:
        gh2 = gh.reshape(N, H)
        dxz = np.empty((N, 3 * H), dtype=dtype)  # input-side pre-activation gradients r, z, n
        dn = gh2 * (1.0 - z) * (1.0 - n * n)
        dxz[:, 2 * H :] = dn
        np.multiply(dn * hn, r * (1.0 - r), out=dxz[:, :H])
        np.multiply(gh2 * (h2 - n), z * (1.0 - z), out=dxz[:, H : 2 * H])
        dhz = dxz.copy()  # state side: the same except n, scaled by r
        np.multiply(dn, r, out=dhz[:, 2 * H :])
        res: list[np.ndarray | None] = [
            np.matmul(dxz, w_ih).reshape(x.shape) if needs[0] else None,
            (np.matmul(dhz, w_hh) + gh2 * z).reshape(h.shape) if needs[1] else None,
            np.matmul(dxz.T, x2) if needs[2] else None,
            np.matmul(dhz.T, h2) if needs[3] else None,
        ]
        res += _bias_grads(needs, 4, lambda: dxz.sum(axis=0), lambda: dhz.sum(axis=0))
        return tuple(res)

    return out, backward


def gru_cell(
    x: np.ndarray,
    h: np.ndarray,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray | None = None,
    b_hh: np.ndarray | None = None,
) -> tuple[np.ndarray, Any]:
    """One GRU step, as PyTorch's ``GRUCell``; returns ``h'``.

    ``r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)``, ``z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)``,
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.

    Args:
        x: ``(N, I)`` (or ``(I,)``); h: ``(N, H)`` (or ``(H,)``), None for zeros.
        w_ih: ``(3H, I)``; w_hh: ``(3H, H)``; b_ih, b_hh: optional ``(3H,)``; gates r, z, n.
    """
    return _gru_cell(x, h, w_ih, w_hh, b_ih, b_hh)


def _gru_cell_infer(*inputs: Any, **attrs: Any) -> np.ndarray:
    return _gru_cell(*inputs, _record=False, **attrs)[0]


def _gru(
    x: Any,
    h0: Any,
    w_ih: Any,
    w_hh: Any,
    b_ih: Any = None,
    b_hh: Any = None,
    *,
    _record: bool = True,
) -> tuple[tuple[np.ndarray, np.ndarray], Any]:
    op = "gru"
    x = _sequence(op, x)
    N, L, In = x.shape
    w_ih, w_hh, b_ih, b_hh, H = _weights(op, 3, In, w_ih, w_hh, b_ih, b_hh)
    dtype = same_dtype(op, x=x, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh)
    h0 = _state(op, "h0", h0, N, H, dtype, True)
    same_dtype(op, x=x, h0=h0)
    # exp-form sigmoid: the r and z pre-activations are negated, so 1 / (1 + exp(a)) = sigmoid(z)
    scale = np.array([-1.0, -1.0, 1.0], dtype=dtype).reshape(3, 1, 1)
    wih3 = w_ih.reshape(3, H, In).transpose(0, 2, 1) * scale  # (3, In, H)
    whh3 = np.ascontiguousarray(w_hh.reshape(3, H, H).transpose(0, 2, 1) * scale)  # (3, H, H)
    xt = np.ascontiguousarray(x.transpose(1, 0, 2)).reshape(L * N, In)
    # gate-major: XZ[k, t] is gate k (r, z, n) at step t, (N, H) contiguous; r and z become the
    # activated gates and the n slot becomes n itself, in place
    XZ = np.matmul(xt, wih3).reshape(3, L, N, H)
    if b_ih is not None:
        XZ += b_ih.reshape(3, 1, 1, H) * scale[:, :, :, None]
    if b_hh is not None:
        XZ[:2] -= b_hh[: 2 * H].reshape(2, 1, 1, H)  # r, z: both biases enter the same sum
        bhn = b_hh[2 * H :]
    else:
        bhn = None
    Hs = np.empty((L + 1, N, H), dtype=dtype)
    Hs[0] = h0
    HN = np.empty((L, N, H), dtype=dtype)  # W_hn h + b_hn, kept for the backward
    rec = np.empty((3, N, H), dtype=dtype)
    tmp = np.empty((N, H), dtype=dtype)
    with np.errstate(over="ignore", under="ignore"):  # exp: inf and 0 are exact limits
        for t in range(L):
            np.matmul(Hs[t], whh3, out=rec)
            rz = XZ[:2, t]
            rz += rec[:2]
            np.exp(rz, out=rz)
            rz += 1.0
            np.reciprocal(rz, out=rz)  # r, z
            hn = HN[t]
            if bhn is not None:
                np.add(rec[2], bhn, out=hn)
            else:
                hn[...] = rec[2]
            n = XZ[2, t]
            np.multiply(rz[0], hn, out=tmp)
            n += tmp
            np.tanh(n, out=n)
            h_t = Hs[t + 1]
            np.subtract(Hs[t], n, out=h_t)
            h_t *= rz[1]
            h_t += n  # n + z * (h - n)
    y = Hs[1:].transpose(1, 0, 2)
    outs = (y, Hs[L].copy())
    if not _record:
        return outs, None

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
        res += _bias_grads(needs, 4, lambda: dX2.sum(axis=0), lambda: dH2.sum(axis=0))
        return tuple(res)

    return outs, backward


def gru(
    x: np.ndarray,
    h0: np.ndarray | None,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray | None = None,
    b_hh: np.ndarray | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], Any]:
    """One GRU layer over a whole batch-first sequence; returns ``(y, h_n)``.

    The recurrence of :func:`gru_cell` over ``t = 0 .. L - 1``, as PyTorch's single-layer,
    unidirectional ``nn.GRU(batch_first=True)``, in one tape node.

    Args:
        x: ``(N, L, I)``; h0: ``(N, H)`` (None for zeros).
        w_ih: ``(3H, I)``; w_hh: ``(3H, H)``; b_ih, b_hh: optional ``(3H,)``; gates r, z, n.

    Returns:
        ``y (N, L, H)``, ``h_n (N, H)``.
    """
    return _gru(x, h0, w_ih, w_hh, b_ih, b_hh)


def _gru_infer(*inputs: Any, **attrs: Any) -> tuple[np.ndarray, np.ndarray]:
    return _gru(*inputs, _record=False, **attrs)[0]


OPS = [
    OpDef("lstm_cell", lstm_cell, infer=_lstm_cell_infer),
    OpDef("lstm", lstm, infer=_lstm_infer),
    OpDef("gru_cell", gru_cell, infer=_gru_cell_infer),
    OpDef("gru", gru, infer=_gru_infer),
]
