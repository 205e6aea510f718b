"""The LSTM ops: ``lstm_cell`` (one step), ``lstm`` (one layer over a sequence) and ``lstm_stack``
(a stack of unidirectional layers), each one tape node with a hand-written backward.

**One definition.** A step of the recurrence, with PyTorch's gates i, f, g, o::

    i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o)      g = tanh(z_g)
    c' = f * c + i * g                                      h' = o * tanh(c')

for ``z = x W_ih^T + b_ih + h W_hh^T + b_hh``, is :func:`lstm_step`, and every path runs it:

* the pre-activations are **packed**: gate-major in the order o, i, f, g (the sigmoid gates first,
  so one block holds all three), with the sigmoid gates' rows of the weights and biases halved
  (:data:`PACKED_ORDER`, :data:`PACKED_SCALE`: exact, a power of two), so that
  ``sigmoid(z) = (1 + tanh(z / 2)) / 2`` lets one ``tanh`` call activate all four gates;
* ``lstm_cell`` packs its one step; ``lstm`` (recorded) projects every step's input with one
  matrix product before the time loop, keeps the packed pre-activations ``(4, L, N, H)`` and runs
  the step per time step; :func:`lstm_stack_infer` (inference of ``lstm`` and ``lstm_stack``) runs
  a whole stack as a wavefront whose iterations are one matrix product and one step across layers;
* with the ``jit`` extra (numba), the compiled kernels of :mod:`swets_ops._jit_kernels` replace the
  step of the recorded float32 ``lstm`` and the time loop of :func:`lstm_stack_infer` for batches of
  at most :data:`swets_ops.jit.LSTM_MAX_BATCH` sequences. numpy's per-call cost is what they remove,
  so they cannot call :func:`lstm_step`: each applies its per-element form, ``lstm_point``, to the
  same packed pre-activations, and ``tests/ops/test_jit.py`` holds both forms to each other.

``lstm_stack``'s recorded forward chains the ``lstm`` op layer by layer (its backward chains theirs),
so a stack and its layers are one computation.

Backpropagation through time precomputes every gate-derivative factor for all steps in bulk, so the
backward loop is a handful of elementwise products and one ``(N, 4H) @ (4H, H)`` product per step; the
input and weight gradients are then single matrix products over all steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from swets_core.errors import ShapeError
from swets_ops.fused_common import float_array, fused_op, same_dtype, scratch
from swets_ops.fused_rnn import (
    bias_grads,
    cell_weight_grads,
    check_weights,
    recurrent_args,
    sequence_input,
)
from swets_ops.jit import LSTM_MAX_BATCH, kernels

Arr = np.ndarray

PACKED_ORDER = (3, 0, 1, 2)
"""The packed gates o, i, f, g as indices into PyTorch's order i, f, g, o."""

PACKED_SCALE = (0.5, 0.5, 0.5, 1.0)
"""The factor of each packed gate's pre-activation: the sigmoid gates o, i, f are halved."""


_PACKING = tuple(enumerate(zip(PACKED_ORDER, PACKED_SCALE)))


def packed_cols(w: np.ndarray, H: int, out: np.ndarray | None = None) -> np.ndarray:
    """A PyTorch-layout weight ``(4H, cols)`` (or bias ``(4H,)``, one column) packed and transposed:
    ``out[:, k]`` is packed gate ``k`` (:data:`PACKED_ORDER`) of ``w``, transposed and scaled by
    :data:`PACKED_SCALE`, ``(cols, 4, H)``, so a product ``v @ out.reshape(cols, 4 * H)`` gives
    packed pre-activations. ``out`` may be a view to fill, e.g. a block of a larger matrix."""
    w4 = w.reshape(4, H, -1)
    if out is None:
        out = np.empty((w4.shape[2], 4, H), w.dtype)
    for slot, (gate, scale) in _PACKING:  # contiguous writes: numpy reads the transposed input
        np.multiply(w4[gate].T, scale, out=out[:, slot])
    return out


def gate_views(z: np.ndarray, width: int | None = None) -> tuple[np.ndarray, ...]:
    """``(z, sigmoid gates, o, i, f, g)``: the views :func:`lstm_step` works on, of packed
    pre-activations ``z`` with the gates on the first axis (``(4, N, H)``), or, given ``width``, in
    consecutive column blocks of that width (``(N, 4 * width)``, the wavefront's layout)."""
    if width is None:
        return z, z[:3], z[0], z[1], z[2], z[3]
    w = width
    return z, z[:, : 3 * w], z[:, :w], z[:, w : 2 * w], z[:, 2 * w : 3 * w], z[:, 3 * w :]


_tanh, _multiply = np.tanh, np.multiply


def lstm_step(gates: tuple[Arr, ...], c_prev: Arr, c: Arr, tc: Arr, h: Arr, ig: Arr) -> None:
    """One LSTM step in place: the definition every LSTM op runs.

    Args:
        gates: :func:`gate_views` of the step's packed pre-activations; they become the activated
            gates o, i, f (sigmoid) and g (tanh), which the backward pass reads.
        c_prev: ``(N, H)`` the cell state before the step (may be ``c`` itself).
        c: receives the new cell state ``f * c_prev + i * g``.
        tc: receives ``tanh(c)``.
        h: receives the new hidden state ``o * tanh(c)``.
        ig: ``(N, H)`` scratch space.
    """
    # call-bound at small batches: module-level ufuncs, the output positional (numpy parses it
    # faster than ``out=``)
    z, sig, o, i, f, g = gates
    _tanh(z, z)
    sig *= 0.5
    sig += 0.5
    _multiply(f, c_prev, c)
    _multiply(i, g, ig)
    c += ig
    _tanh(c, tc)
    _multiply(o, tc, h)


# ------------------------------------------------------------------------------------------------
# lstm_cell
# ------------------------------------------------------------------------------------------------


def lstm_cell(
    x: Any, h: Any, c: Any, w_ih: Any, w_hh: Any, *biases: Any, _record: bool = True
) -> tuple[tuple[np.ndarray, np.ndarray], Any]:
    """One LSTM step, as PyTorch's ``LSTMCell``; returns ``(h', c')``.

    ``i, f, g, o = split(x @ w_ih^T + b_ih + h @ w_hh^T + b_hh)`` (i, f, o sigmoid, g tanh),
    ``c' = f * c + i * g``, ``h' = o * tanh(c')``.

    Args:
        x: ``(N, I)`` (or unbatched ``(I,)``); h, c: ``(N, H)`` (or ``(H,)``), None for zeros.
        w_ih: ``(4H, I)``; w_hh: ``(4H, H)``; biases: optional ``b_ih``, ``b_hh`` ``(4H,)``.
    """
    x, (h, c), w_ih, w_hh, b_ih, b_hh = recurrent_args(
        "lstm_cell", 4, x, {"h": h, "c": c}, w_ih, w_hh, biases, sequence=False
    )
    H = w_hh.shape[1]
    N = x.shape[0] if x.ndim == 2 else 1
    dtype = x.dtype
    x2, h2, c2 = x.reshape(N, -1), h.reshape(N, H), c.reshape(N, H)
    z = np.matmul(x2, w_ih.T)  # all four gates in one product per input
    z += np.matmul(h2, w_hh.T)
    if b_ih is not None:
        z += b_ih
    if b_hh is not None:
        z += b_hh
    act = packed_cols(z.T, H).reshape(N, 4 * H)  # packed, scaled
    c_new = np.empty((N, H), dtype=dtype)
    h_new = np.empty((N, H), dtype=dtype)
    tc = np.empty((N, H), dtype=dtype)
    gates = gate_views(act, H)
    lstm_step(gates, c2, c_new, tc, h_new, np.empty_like(tc))
    o, i, f, g = gates[2:]
    outs = (h_new.reshape(h.shape), c_new.reshape(c.shape))
    if not _record:
        return outs

    def backward(grads: tuple[Any, Any], needs: tuple[bool, ...]) -> tuple[np.ndarray | None, ...]:
        gh_new, gc_new = grads
        dc = np.zeros((N, H), dtype=dtype) if gc_new is None else gc_new.reshape(N, H).copy()
        dz = np.empty((N, 4 * H), dtype=dtype)  # PyTorch's gate order i, f, g, o
        if gh_new is not None:
            gh2 = gh_new.reshape(N, H)
            dc += gh2 * o * (1.0 - tc * tc)
            np.multiply(gh2 * tc, o * (1.0 - o), out=dz[:, 3 * H :])
        else:
            dz[:, 3 * H :] = 0.0
        np.multiply(dc * g, i * (1.0 - i), out=dz[:, :H])
        np.multiply(dc * c2, f * (1.0 - f), out=dz[:, H : 2 * H])
        np.multiply(dc * i, 1.0 - g * g, out=dz[:, 2 * H : 3 * H])
        gx = np.matmul(dz, w_ih).reshape(x.shape) if needs[0] else None
        gh = np.matmul(dz, w_hh).reshape(h.shape) if needs[1] else None
        gc = (dc * f).reshape(c.shape) if needs[2] else None
        return (gx, gh, gc, *cell_weight_grads(needs, 3, dz, dz, x2, h2))

    return outs, backward


# ------------------------------------------------------------------------------------------------
# lstm
# ------------------------------------------------------------------------------------------------


def lstm(
    x: Any, h0: Any, c0: Any, w_ih: Any, w_hh: Any, *biases: Any, _record: bool = True
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], Any]:
    """One LSTM layer over a whole batch-first sequence; returns ``(y, h_n, c_n)``.

    The recurrence of :func:`lstm_cell` over ``t = 0 .. L - 1``, as PyTorch's single-layer,
    unidirectional ``nn.LSTM(batch_first=True)``, in one tape node with a hand-written
    backpropagation through time.

    Args:
        x: ``(N, L, I)``; h0, c0: ``(N, H)`` initial states (None for zeros).
        w_ih: ``(4H, I)``; w_hh: ``(4H, H)``; biases: optional ``b_ih``, ``b_hh`` ``(4H,)``;
            gates i, f, g, o.

    Returns:
        ``y (N, L, H)`` (every step's hidden state), ``h_n (N, H)``, ``c_n (N, H)``.
    """
    x, (h0, c0), w_ih, w_hh, b_ih, b_hh = recurrent_args(
        "lstm", 4, x, {"h0": h0, "c0": c0}, w_ih, w_hh, biases, sequence=True
    )
    if not _record:
        y, h_n, c_n = _stack_infer(x, [(w_ih, w_hh, b_ih, b_hh)], h0[None], c0[None])
        return y, h_n[0], c_n[0]
    N, L, In = x.shape
    H = w_hh.shape[1]
    dtype = x.dtype
    perm = np.concatenate([np.arange(k * H, (k + 1) * H) for k in PACKED_ORDER])
    wih_p = w_ih[perm]  # (4H, In), packed gate order, unscaled (the backward's)
    whh_p = w_hh[perm]  # (4H, H)
    wih4 = packed_cols(w_ih, H).transpose(1, 0, 2)  # (4, In, H)
    whh4 = np.ascontiguousarray(packed_cols(w_hh, H).transpose(1, 0, 2))  # (4, H, H)
    xt = np.ascontiguousarray(x.transpose(1, 0, 2)).reshape(L * N, In)
    # A[k, t] is packed gate k at step t, (N, H) contiguous; activated in place by the steps
    A = np.matmul(xt, wih4).reshape(4, L, N, H)
    if b_ih is not None or b_hh is not None:
        b = np.zeros(4 * H, dtype=dtype)
        if b_ih is not None:
            b += b_ih
        if b_hh is not None:
            b += b_hh
        A += packed_cols(b, H).reshape(4, 1, 1, H)
    Cs = np.empty((L + 1, N, H), dtype=dtype)
    Hs = np.empty((L + 1, N, H), dtype=dtype)
    Tc = np.empty((L, N, H), dtype=dtype)
    Cs[0] = c0
    Hs[0] = h0
    rec = np.empty((4, N, H), dtype=dtype)
    jit = kernels() if dtype == np.float32 else None
    if jit is not None:  # the step's elementwise part as one compiled pass
        step = jit.lstm_step_f32
    else:
        ig = np.empty((N, H), dtype=dtype)

        def step(A: Any, t: int, rec: Any, Cs: Any, Tc: Any, Hs: Any) -> None:
            a = A[:, t]
            a += rec
            lstm_step(gate_views(a), Cs[t], Cs[t + 1], Tc[t], Hs[t + 1], ig)

    for t in range(L):
        np.matmul(Hs[t], whh4, out=rec)
        step(A, t, rec, Cs, Tc, Hs)
    y = Hs[1:].transpose(1, 0, 2)  # (N, L, H) view of the time-major states
    outs = (y, Hs[L].copy(), Cs[L].copy())

    def backward(grads: tuple[Any, Any, Any], needs: tuple[bool, ...]) -> tuple[Any, ...]:
        gy, gh_n, gc_n = grads
        # every array below but the returned gradients is a scratch temporary (no fresh pages)
        P1 = scratch("lstm.P1", (L, N, H), dtype)  # dc += dh * P1
        P2 = scratch("lstm.P2", (L, N, H), dtype)  # dz_o = dh * P2
        Q = scratch("lstm.Q", (3, L, N, H), dtype)  # dz_{i, f, g} = dc * Q
        dZ = scratch("lstm.dZ", (L, N, 4, H), dtype)  # per step (N, 4H): rows of the w_hh product
        dh_rec = np.zeros((N, H), dtype=dtype) if gh_n is None else np.array(gh_n, dtype=dtype)
        dc = np.zeros((N, H), dtype=dtype) if gc_n is None else np.array(gc_n, dtype=dtype)
        gyt = P1  # not read when there is no output gradient
        if gy is not None:
            gyt = scratch("lstm.gy", (L, N, H), dtype)
            np.copyto(gyt, gy.transpose(1, 0, 2))
        if jit is not None:  # the same arithmetic, compiled: one pass each
            factors, back_step = jit.lstm_backward_factors_f32, jit.lstm_backward_step_f32
        else:
            factors, back_step = _backward_factors, _backward_step
        factors(A, Tc, Cs, P1, P2, Q)
        for t in range(L - 1, -1, -1):
            back_step(t, gyt, gy is not None, dh_rec, dc, P1, P2, Q, A, dZ)
            np.matmul(dZ[t].reshape(N, 4 * H), whh_p, out=dh_rec)
        return _lstm_grads(needs, dZ, dh_rec, dc, xt, Hs, wih_p, whh_p, perm, N, L, In, H)

    return outs, backward


def _backward_factors(A: Arr, Tc: Arr, Cs: Arr, P1: Arr, P2: Arr, Q: Arr) -> None:
    """The derivative factors of every step in bulk, from the activated gates ``A`` ``(4, L, N, H)``
    (o, i, f, g), ``Tc = tanh(c)`` and the cell states ``Cs``: ``P1 = (1 - Tc^2) o``,
    ``P2 = (1 - o) o Tc``, ``Q = ((1 - i) i g, (1 - f) f c_prev, (1 - g^2) i)``."""
    L = Tc.shape[0]
    o, i, f, g = A[0], A[1], A[2], A[3]
    np.multiply(Tc, Tc, out=P1)
    np.subtract(1.0, P1, out=P1)
    P1 *= o
    np.subtract(1.0, o, out=P2)
    P2 *= o
    P2 *= Tc
    np.subtract(1.0, i, out=Q[0])
    Q[0] *= i
    Q[0] *= g
    np.subtract(1.0, f, out=Q[1])
    Q[1] *= f
    Q[1] *= Cs[:L]
    np.multiply(g, g, out=Q[2])
    np.subtract(1.0, Q[2], out=Q[2])
    Q[2] *= i


def _backward_step(
    t: int, gy: Arr, has_gy: bool, dh_rec: Arr, dc: Arr, P1: Arr, P2: Arr, Q: Arr, A: Arr, dZ: Arr
) -> None:
    """The elementwise part of backward step ``t``: ``dh = gy[t] + dh_rec``, ``dc += dh P1[t]``, the
    gate gradients ``dZ[t]`` (o: ``dh P2[t]``; i, f, g: ``dc Q[:, t]``), then ``dc *= f[t]``."""
    dh = np.add(gy[t], dh_rec) if has_gy else dh_rec
    dc += dh * P1[t]
    dz = dZ[t]
    np.multiply(dh, P2[t], out=dz[:, 0])
    np.multiply(dc, Q[:, t], out=dz[:, 1:].transpose(1, 0, 2))
    dc *= A[2, t]  # the cell gradient flowing to step t - 1


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
    res: list[Any] = [gx, dh_rec if needs[1] else None, dc if needs[2] else None, gw_ih, gw_hh]
    gb: list[np.ndarray] = []

    def bias_grad() -> np.ndarray:
        if not gb:
            gb.append(dZ2.sum(axis=0)[inv])
        return gb[0]

    res += bias_grads(needs, 5, bias_grad, bias_grad)
    return tuple(res)


# ------------------------------------------------------------------------------------------------
# lstm_stack
# ------------------------------------------------------------------------------------------------


def _stack_args(
    op: str, x: Any, weights: Sequence[Sequence[Any]], h0: Any, c0: Any
) -> tuple[np.ndarray, list[tuple[Any, ...]], np.ndarray, np.ndarray]:
    """A stack's inputs checked: ``x (N, L, I)``, per layer ``(w_ih, w_hh, b_ih, b_hh)`` with one
    hidden size, states ``(layers, N, H)`` (None: zeros), one float dtype."""
    x = sequence_input(op, x)
    if not weights:
        raise ShapeError(f"{op}: needs at least one layer of weights")
    N, _, In = x.shape
    nl = len(weights)
    checked = []
    H = 0
    for layer, w in enumerate(weights):
        if len(w) != 4:
            raise ShapeError(
                f"{op}: layer {layer} needs 4 weights (w_ih, w_hh, b_ih, b_hh; biases may be None), "
                f"got {len(w)}"
            )
        w_ih, w_hh, b_ih, b_hh, h = check_weights(op, 4, In if layer == 0 else H, *w)
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
    return x, checked, states[0], states[1]


def lstm_stack(
    x: Any, h0: Any, c0: Any, *weights: Any, _record: bool = True
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], Any]:
    """A stack of unidirectional LSTM layers over a batch-first sequence; returns
    ``(y, h_n, c_n)``.

    Layer ``l > 0`` reads the hidden states of layer ``l - 1``, as PyTorch's multi-layer,
    unidirectional ``nn.LSTM(batch_first=True)`` without dropout. Recorded, it chains :func:`lstm`
    layer by layer; when nothing records it runs :func:`lstm_stack_infer` (the whole stack in one
    time loop).

    Args:
        x: ``(N, L, I)``; h0, c0: ``(layers, N, H)`` initial states (None for zeros).
        weights: 4 per layer, ``w_ih (4H, I or H), w_hh (4H, H), b_ih, b_hh (4H,)`` (biases may be
            None), in PyTorch's gate order i, f, g, o.

    Returns:
        ``y (N, L, H)`` (the last layer's hidden states), ``h_n``, ``c_n`` ``(layers, N, H)``.
    """
    op = "lstm_stack"
    if len(weights) % 4:
        raise ShapeError(
            f"{op}: weights come 4 per layer (w_ih, w_hh, b_ih, b_hh; biases may be None), got "
            f"{len(weights)}"
        )
    layers = [weights[k : k + 4] for k in range(0, len(weights), 4)]
    x, checked, h0, c0 = _stack_args(op, x, layers, h0, c0)
    if not _record:
        return _stack_infer(x, checked, h0, c0)
    inp = x
    backwards = []
    h_n, c_n = np.empty_like(h0), np.empty_like(c0)
    for layer, w in enumerate(checked):
        (inp, h_n[layer], c_n[layer]), layer_backward = lstm(inp, h0[layer], c0[layer], *w)
        backwards.append(layer_backward)

    def backward(grads: tuple[Any, Any, Any], needs: tuple[bool, ...]) -> tuple[Any, ...]:
        gy, gh_n, gc_n = grads
        gh0, gc0 = np.empty_like(h0), np.empty_like(c0)
        weight_grads: list[tuple[Any, ...]] = []
        for layer in range(len(checked) - 1, -1, -1):  # layer l's input gradient is l - 1's gy
            out_grads = (
                gy,
                None if gh_n is None else gh_n[layer],
                None if gc_n is None else gc_n[layer],
            )
            layer_needs = (layer > 0 or needs[0], needs[1], needs[2])
            g = backwards[layer](out_grads, layer_needs + needs[3 + 4 * layer : 7 + 4 * layer])
            gy = g[0]
            if needs[1]:
                gh0[layer] = g[1]
            if needs[2]:
                gc0[layer] = g[2]
            weight_grads.insert(0, g[3:])
        res: list[Any] = [gy, gh0 if needs[1] else None, gc0 if needs[2] else None]
        for g in weight_grads:
            res += g
        return tuple(res)

    return (inp, h_n, c_n), backward


def lstm_stack_infer(
    x: Any,
    weights: Sequence[tuple[Any, Any, Any, Any]],
    h0: Any = None,
    c0: Any = None,
    *,
    op: str = "lstm",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inference (nothing recorded) through a stack of unidirectional LSTM layers in one time loop:
    what ``lstm_stack`` computes when nothing records (errors name ``op``).

    Args:
        x: ``(N, L, I)``.
        weights: per layer ``(w_ih, w_hh, b_ih, b_hh)`` in PyTorch's layout (gates i, f, g, o;
            biases may be None); layer ``l > 0`` reads the hidden state of layer ``l - 1``.
        h0, c0: ``(layers, N, H)`` initial states, or None for zeros.

    Returns:
        ``y (N, L, H)`` (the last layer's hidden states), ``h_n``, ``c_n`` ``(layers, N, H)``.
    """
    return _stack_infer(*_stack_args(op, x, weights, h0, c0))


def _stack_infer(
    x: np.ndarray,
    weights: Sequence[tuple[Any, Any, Any, Any]],
    h0: np.ndarray,
    c0: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`lstm_stack_infer` on checked arguments.

    Layer ``l`` runs step ``t`` at iteration ``t + l`` (a wavefront): every iteration reads only
    what the previous one wrote, so one matrix product per iteration serves every layer - the
    recurrent product of each layer, the input product of every layer above the first, the first
    layer's input product and the biases - and one :func:`lstm_step` across layers follows:
    ``L + layers - 1`` iterations of nine numpy calls. With the compiled kernels and at most
    :data:`~swets_ops.jit.LSTM_MAX_BATCH` sequences, layer by layer instead (see
    :func:`_stack_compiled`).
    """
    N, L, In = x.shape
    dtype = x.dtype
    jit = kernels() if N <= LSTM_MAX_BATCH else None
    if jit is not None:
        return _stack_compiled(jit, x, weights, h0, c0)
    nl = len(weights)
    H = weights[0][1].shape[1]
    S = nl * H  # one gate of every layer
    D = S + In + 1  # one iteration's input row: every layer's h, the step's x, a 1 for the biases
    K = L + nl - 1
    # product columns packed across layers (o of every layer, then i, f, g), so each gate of every
    # layer is one contiguous block
    W = np.zeros((D, 4, nl, H), dtype)
    for layer, (w_ih, w_hh, b_ih, b_hh) in enumerate(weights):
        in_rows = slice(S, S + In) if layer == 0 else slice((layer - 1) * H, layer * H)
        packed_cols(w_hh, H, out=W[layer * H : (layer + 1) * H, :, layer])
        packed_cols(w_ih, H, out=W[in_rows, :, layer])
        if b_ih is not None or b_hh is not None:
            b = b_hh if b_ih is None else b_ih if b_hh is None else b_ih + b_hh
            packed_cols(b, H, out=W[D - 1 :, :, layer])
    W = W.reshape(D, 4 * S)
    V = np.zeros((K + 1, N, D), dtype)
    V[:L, :, S : S + In] = x.transpose(1, 0, 2)
    V[:, :, D - 1] = 1.0
    h0_rows = h0.transpose(1, 0, 2).reshape(N, S)
    c0_rows = c0.transpose(1, 0, 2).reshape(N, S)
    V[0, :, :S] = h0_rows
    Z = np.empty((N, 4 * S), dtype)
    gates = gate_views(Z, S)
    C = c0_rows.copy()  # (N, layers * H), updated in place (never the caller's c0)
    T = np.empty((N, S), dtype)
    P = np.empty((N, S), dtype)
    c_n = np.empty((nl, N, H), dtype)
    rows_in = V[:K]
    h_out = V[1:, :, :S]
    dot, step = np.dot, lstm_step  # local names: the loop is call-bound
    ramp_up, ramp_down = nl - 1, L - 1
    for k in range(K):
        dot(rows_in[k], W, out=Z)
        step(gates, C, C, T, h_out[k], P)
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


def _stack_compiled(
    jit: Any,
    x: np.ndarray,
    weights: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]],
    h0: np.ndarray,
    c0: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_stack_infer` layer by layer with the compiled kernel of :mod:`swets_ops.jit`: one
    matrix product gives every step's input product (plus the biases), then the kernel runs the
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


OPS = [
    fused_op("lstm_cell", lstm_cell),
    fused_op("lstm", lstm),
    fused_op("lstm_stack", lstm_stack),
]
