"""Compiled kernels of the ``jit`` extra (numba). Imported only through :mod:`swets_ops.jit`, which
falls back to the numpy implementations when numba is missing or disabled.

Every kernel computes exactly what the numpy path computes, in the same dtype, to the rounding of
its elementwise functions: float64 uses the C library's ``tanh``; float32 a clamped rational
approximation of ``tanh`` (odd degree 13 over even degree 6 in ``x``: absolute error below 4e-7 on
the whole line, largest near ``|x| = 6``, relative error below 3e-7 near 0, where numpy's float32
``tanh`` is within 6e-8; exact limits at +-inf, NaN in -> NaN out) that the compiler can vectorise.

``error_model="numpy"`` gives IEEE semantics to division (no zero check, which would keep the loops
scalar); no fast-math flags, so results do not depend on the CPU's vector width.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

_OPTS = {"cache": True, "nogil": True, "error_model": "numpy"}

# tanh(x) ~ x P(x^2) / Q(x^2) on [-9, 9] (|tanh(x)| rounds to 1 in float32 beyond); P, Q highest
# power first
_P = (
    -2.76076847742355e-16,
    2.00018790482477e-13,
    -8.60467152213735e-11,
    5.12229709037114e-08,
    1.48572235717979e-05,
    6.37261928875436e-04,
    4.89352455891786e-03,
)
_Q = (1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03, 4.89352518554385e-03)
_P6, _P5, _P4, _P3, _P2, _P1, _P0 = (np.float32(c) for c in _P)
_Q3, _Q2, _Q1, _Q0 = (np.float32(c) for c in _Q)
_CLAMP = np.float32(9.0)
_ONE = np.float32(1.0)


@njit(inline="always", **_OPTS)
def tanh32(x: np.float32) -> np.float32:
    """float32 ``tanh`` (rational approximation, see the module docstring)."""
    x = min(max(x, -_CLAMP), _CLAMP)
    x2 = x * x
    p = _P6
    p = p * x2 + _P5
    p = p * x2 + _P4
    p = p * x2 + _P3
    p = p * x2 + _P2
    p = p * x2 + _P1
    p = p * x2 + _P0
    q = _Q3
    q = q * x2 + _Q2
    q = q * x2 + _Q1
    q = q * x2 + _Q0
    return min(max(x * p / q, -_ONE), _ONE)  # the ratio overshoots 1 by an ulp near the clamp


@njit(inline="always", **_OPTS)
def _transpose_into(w: np.ndarray, out: np.ndarray) -> None:
    """``out[:] = w.T`` (the recurrent product streams the rows of the transposed weight)."""
    rows, cols = w.shape
    for r in range(rows):
        for k in range(cols):
            out[k, r] = w[r, k]


@njit(inline="always", **_OPTS)
def _recurrent_product(
    z: np.ndarray, pre: np.ndarray, t: int, bias: np.ndarray, h: np.ndarray, w_t: np.ndarray
):
    """``z[n] = pre[n, t] + bias + h[n] @ w_t`` for every batch row (``w_t`` is ``(H, G)``).

    Four rows of ``w_t`` per pass over ``z`` (a quarter of the loads and stores of ``z``), summed
    pairwise in a fixed order."""
    N, G = z.shape
    H = w_t.shape[0]
    for n in range(N):
        for j in range(G):
            z[n, j] = pre[n, t, j] + bias[j]
    d = 0
    while d + 4 <= H:
        for n in range(N):
            r0, r1, r2, r3 = h[n, d], h[n, d + 1], h[n, d + 2], h[n, d + 3]
            for j in range(G):
                z[n, j] += (r0 * w_t[d, j] + r1 * w_t[d + 1, j]) + (
                    r2 * w_t[d + 2, j] + r3 * w_t[d + 3, j]
                )
        d += 4
    while d < H:
        for n in range(N):
            r = h[n, d]
            for j in range(G):
                z[n, j] += r * w_t[d, j]
        d += 1


def tanh(x: float) -> float:
    """``tanh`` for the kernels: :func:`tanh32` on float32, the C library's on float64 (chosen when
    a kernel is compiled, see the overload below)."""
    return math.tanh(x)


# no annotations here: numba compares the overload's signature with its implementations'
@overload(tanh, inline="always", jit_options={"error_model": "numpy", "nogil": True})
def _tanh_by_type(x):
    if x == types.float32:
        return lambda x: tanh32(x)
    return lambda x: math.tanh(x)


_HALF = np.float32(0.5)  # exact: keeps float32 arithmetic float32, float64 float64


@njit(inline="always", **_OPTS)
def lstm_point(o, i, f, g, c):
    """:func:`swets_ops.fused_lstm.lstm_step` for one element: the packed pre-activations ``o, i, f``
    (halved) and ``g`` and the cell state ``c`` give ``(o, i, f, g, c', tanh(c'), h')``, the
    activated gates, the new cell state, its tanh and the new hidden state, by the step's arithmetic
    in its order."""
    o = _HALF * tanh(o) + _HALF  # sigmoid(z) = (1 + tanh(z / 2)) / 2
    i = _HALF * tanh(i) + _HALF
    f = _HALF * tanh(f) + _HALF
    g = tanh(g)
    c = f * c + i * g
    tc = tanh(c)
    return o, i, f, g, c, tc, o * tc


@njit(**_OPTS)
def lstm_layer(
    pre: np.ndarray,
    bias: np.ndarray,
    w_hh: np.ndarray,
    w_hh_t: np.ndarray,
    h: np.ndarray,
    c: np.ndarray,
    y: np.ndarray,
) -> None:
    """One LSTM layer over a sequence, in the arrays' dtype (float32 or float64).

    Args:
        pre: ``(N, L, 4H)`` input products ``x @ w_ih.T``, gates i, f, g, o (PyTorch's order).
        bias: ``(4H,)`` both biases summed.
        w_hh: ``(4H, H)`` the recurrent weight.
        w_hh_t: ``(H, 4H)`` scratch space, receives ``w_hh.T``.
        h, c: ``(N, H)`` initial states, overwritten with the final ones.
        y: ``(N, L, H)`` receives the hidden state of every step.

    Each step is :func:`lstm_point` on the packed pre-activations (the sigmoid gates halved here,
    exactly: a power of two).
    """
    N, L, G = pre.shape
    H = G // 4
    _transpose_into(w_hh, w_hh_t)
    z = np.empty((N, G), pre.dtype)
    for t in range(L):
        _recurrent_product(z, pre, t, bias, h, w_hh_t)
        for n in range(N):
            for s in range(H):
                _, _, _, _, cs, _, hs = lstm_point(
                    _HALF * z[n, 3 * H + s],
                    _HALF * z[n, s],
                    _HALF * z[n, H + s],
                    z[n, 2 * H + s],
                    c[n, s],
                )
                c[n, s] = cs
                h[n, s] = hs
                y[n, t, s] = hs


@njit(**_OPTS)
def lstm_step_f32(
    A: np.ndarray, t: int, rec: np.ndarray, Cs: np.ndarray, Tc: np.ndarray, Hs: np.ndarray
) -> None:
    """Step ``t`` of the recorded float32 ``lstm`` op's forward, after its recurrent product:
    :func:`lstm_point` on ``A[:, t] + rec``.

    Args:
        A: ``(4, L, N, H)`` packed input pre-activations of every step (gates o, i, f, g, the
            sigmoid gates halved); step ``t`` is overwritten with the activated gates, which the
            backward pass reads.
        t: the step.
        rec: ``(4, N, H)`` the step's recurrent product, in the same layout and scaling.
        Cs, Hs: ``(L + 1, N, H)`` cell and hidden states; reads row ``t``, writes row ``t + 1``.
        Tc: ``(L, N, H)`` receives ``tanh`` of the new cell state in row ``t``.
    """
    N, H = rec.shape[1], rec.shape[2]
    for n in range(N):
        for s in range(H):
            o, i, f, g, c, tc, h = lstm_point(
                A[0, t, n, s] + rec[0, n, s],
                A[1, t, n, s] + rec[1, n, s],
                A[2, t, n, s] + rec[2, n, s],
                A[3, t, n, s] + rec[3, n, s],
                Cs[t, n, s],
            )
            A[0, t, n, s] = o
            A[1, t, n, s] = i
            A[2, t, n, s] = f
            A[3, t, n, s] = g
            Cs[t + 1, n, s] = c
            Tc[t, n, s] = tc
            Hs[t + 1, n, s] = h


@njit(**_OPTS)
def lstm_backward_factors_f32(
    A: np.ndarray,
    Tc: np.ndarray,
    Cs: np.ndarray,
    P1: np.ndarray,
    P2: np.ndarray,
    Q: np.ndarray,
) -> None:
    """The derivative factors of every step of the float32 ``lstm`` op's backward, in one pass
    (the numpy path's arithmetic in the same order: identical values).

    ``A`` ``(4, L, N, H)`` activated gates o, i, f, g; ``Tc`` ``(L, N, H)``; ``Cs`` ``(L + 1, N, H)``.
    Writes ``P1 = (1 - Tc^2) o`` and ``P2 = (1 - o) o Tc`` ``(L, N, H)``, ``Q`` ``(3, L, N, H)``:
    ``(1 - i) i g``, ``(1 - f) f c_prev``, ``(1 - g^2) i``.
    """
    _, L, N, H = A.shape
    one = np.float32(1.0)
    for t in range(L):
        for n in range(N):
            for s in range(H):
                o = A[0, t, n, s]
                i = A[1, t, n, s]
                f = A[2, t, n, s]
                g = A[3, t, n, s]
                tc = Tc[t, n, s]
                P1[t, n, s] = (one - tc * tc) * o
                P2[t, n, s] = (one - o) * o * tc
                Q[0, t, n, s] = (one - i) * i * g
                Q[1, t, n, s] = (one - f) * f * Cs[t, n, s]
                Q[2, t, n, s] = (one - g * g) * i


@njit(**_OPTS)
def lstm_backward_step_f32(
    t: int,
    gy: np.ndarray,
    has_gy: bool,
    dh_rec: np.ndarray,
    dc: np.ndarray,
    P1: np.ndarray,
    P2: np.ndarray,
    Q: np.ndarray,
    A: np.ndarray,
    dZ: np.ndarray,
) -> None:
    """The elementwise part of step ``t`` of the float32 ``lstm`` op's backward (the numpy path's
    arithmetic in the same order): ``dh = gy[t] + dh_rec``; ``dc += dh P1[t]``; the gate gradients
    ``dZ[t]`` ``(N, 4, H)`` (o: ``dh P2[t]``; i, f, g: ``dc Q[:, t]``); then ``dc *= f[t]``, the cell
    gradient for step ``t - 1``. ``gy`` ``(L, N, H)`` is read only when ``has_gy``."""
    N, H = dc.shape
    for n in range(N):
        for s in range(H):
            dh = dh_rec[n, s]
            if has_gy:
                dh = gy[t, n, s] + dh
            c = dc[n, s] + dh * P1[t, n, s]
            dZ[t, n, 0, s] = dh * P2[t, n, s]
            dZ[t, n, 1, s] = c * Q[0, t, n, s]
            dZ[t, n, 2, s] = c * Q[1, t, n, s]
            dZ[t, n, 3, s] = c * Q[2, t, n, s]
            dc[n, s] = c * A[2, t, n, s]


@njit(**_OPTS)
def tanh32_array(x: np.ndarray, out: np.ndarray) -> None:
    """:func:`tanh32` over a flat float32 array (for tests of the approximation)."""
    for i in range(x.shape[0]):
        out[i] = tanh32(x[i])


# -- the inference kernels of the Transformer's elementwise and row-wise ops -----------------------
#
# exp(x) for float32 in a form the compiler vectorises (numba's exp is a call into the C library per
# element): x = n ln 2 + r with |r| <= ln(2) / 2 (Cody and Waite's two-part ln 2, so n ln 2 is
# exact), exp(r) by Cephes' expf polynomial (relative error about 1e-7, an ulp), and 2**n built
# from its exponent bits: within an ulp of the exact value down to ln(2 ** -126) (about -87.34);
# below, where numpy's float32 exp gives subnormals or 0, the result is 0. NaN stays NaN. Arguments
# above 0 are out of its range (2 ** n would leave the exponent's bits); the callers never pass them.


@intrinsic
def _float32_from_bits(typingctx, bits):
    """The float32 whose IEEE bits are the int32 ``bits`` (a bit cast, no conversion)."""
    sig = types.float32(types.int32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return sig, codegen


_LOG2E = np.float32(1.4426950408889634)
_LN2_HI = np.float32(0.693359375)  # exact in float32: n * _LN2_HI is exact for |n| <= 128
_LN2_LO = np.float32(-2.12194440e-4)
_EXP_P = tuple(
    np.float32(c)
    for c in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1)
)
_EXP_P5 = np.float32(5.0000001201e-1)
_EXP_MIN = np.float32(-87.336544)  # ln of the smallest normal float32 (2 ** -126)


@njit(inline="always", **_OPTS)
def exp32(x: np.float32) -> np.float32:
    """float32 ``exp`` for arguments ``<= 0`` (see above); 0 below ln(2 ** -126), NaN for NaN."""
    small = x < _EXP_MIN
    x = max(x, _EXP_MIN)  # NaN stays NaN through the arithmetic below (NaN < _EXP_MIN is False)
    n = np.floor(x * _LOG2E + _HALF)  # float32 (math.floor would give an int, then float64)
    r = x - n * _LN2_HI
    r = r - n * _LN2_LO
    p = _EXP_P[0]
    p = p * r + _EXP_P[1]
    p = p * r + _EXP_P[2]
    p = p * r + _EXP_P[3]
    p = p * r + _EXP_P[4]
    p = p * r + _EXP_P5
    y = p * (r * r) + r + _ONE
    scale = _float32_from_bits(np.int32((np.int32(n) + np.int32(127)) << np.int32(23)))
    return np.float32(0.0) if small else y * scale


@njit(**_OPTS)
def exp32_array(x: np.ndarray, out: np.ndarray) -> None:
    """:func:`exp32` over a flat float32 array (for tests of the approximation)."""
    for i in range(x.shape[0]):
        out[i] = exp32(x[i])


_GELU_CLAMP = np.float32(20.0)


@njit(**_OPTS)
def gelu32(x: np.ndarray, p: np.float32, a: tuple, out: np.ndarray) -> None:
    """:func:`swets_ops.special.gelu_f32`'s value over a flat float32 array, element by element in
    its order: ``relu(x) - |x| Phi(-|x|)`` with ``Phi(-|x|) = t (a1 + t (a2 + ...)) exp(-x^2 / 2)``
    and ``t = 1 / (1 + p |x|)``, ``|x|`` clamped at 20 (``p`` and the five coefficients ``a`` as
    that function's). NaN gives NaN; the caller sets the values at infinities."""
    a1, a2, a3, a4, a5 = a
    zero = np.float32(0.0)
    for i in range(x.shape[0]):
        xi = x[i]
        ax = min(abs(xi), _GELU_CLAMP)
        t = _ONE / (ax * p + _ONE)
        h = t * a5
        h = (h + a4) * t
        h = (h + a3) * t
        h = (h + a2) * t
        h = (h + a1) * t
        h = h * exp32(xi * xi * np.float32(-0.5))
        o = max(xi, zero) - ax * h
        out[i] = xi if xi != xi else o


@njit(inline="always", **_OPTS)
def _sum(x: np.ndarray, scale):
    """``sum_j x[j] * scale`` over a 1-D array in eight interleaved partial sums (a fixed order,
    whatever the vector width)."""
    n = x.shape[0]
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = scale - scale  # 0 in the dtype (scale is finite)
    j = 0
    while j + 8 <= n:
        s0 += x[j] * scale
        s1 += x[j + 1] * scale
        s2 += x[j + 2] * scale
        s3 += x[j + 3] * scale
        s4 += x[j + 4] * scale
        s5 += x[j + 5] * scale
        s6 += x[j + 6] * scale
        s7 += x[j + 7] * scale
        j += 8
    while j < n:
        s0 += x[j] * scale
        j += 1
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@njit(inline="always", **_OPTS)
def _sum_squares(x: np.ndarray, zero):
    """``sum_j x[j]^2`` over a 1-D array in eight interleaved partial sums from ``zero`` (a 0 of
    the array's dtype)."""
    n = x.shape[0]
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = zero
    j = 0
    while j + 8 <= n:
        s0 += x[j] * x[j]
        s1 += x[j + 1] * x[j + 1]
        s2 += x[j + 2] * x[j + 2]
        s3 += x[j + 3] * x[j + 3]
        s4 += x[j + 4] * x[j + 4]
        s5 += x[j + 5] * x[j + 5]
        s6 += x[j + 6] * x[j + 6]
        s7 += x[j + 7] * x[j + 7]
        j += 8
    while j < n:
        s0 += x[j] * x[j]
        j += 1
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@njit(inline="always", **_OPTS)
def _max(x: np.ndarray):
    """``max_j x[j]`` over a 1-D array in eight interleaved partial maxima."""
    n = x.shape[0]
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = x[0]
    j = 0
    while j + 8 <= n:
        m0 = max(m0, x[j])
        m1 = max(m1, x[j + 1])
        m2 = max(m2, x[j + 2])
        m3 = max(m3, x[j + 3])
        m4 = max(m4, x[j + 4])
        m5 = max(m5, x[j + 5])
        m6 = max(m6, x[j + 6])
        m7 = max(m7, x[j + 7])
        j += 8
    while j < n:
        m0 = max(m0, x[j])
        j += 1
    return max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))


@njit(**_OPTS)
def layer_norm_rows(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float, out: np.ndarray
) -> None:
    """:func:`swets_ops.fused_norm.layer_norm`'s inference over the rows of ``x`` ``(R, D)``, in
    the array's dtype: ``xc = x - mean``, ``rstd = sqrt(D) / sqrt(sum(xc^2) + D eps)``,
    ``out = xc rstd w + b`` (``weight``/``bias`` of length 0: none). The sums run in eight
    partial sums."""
    R, D = x.shape
    consts = np.empty(3, x.dtype)  # in the array's dtype, rounded as the numpy path rounds them
    consts[0], consts[1], consts[2] = 1.0 / D, math.sqrt(D), D * eps
    inv_d, root_d, d_eps = consts[0], consts[1], consts[2]
    has_w, has_b = weight.shape[0] > 0, bias.shape[0] > 0
    for r in range(R):
        xr, yr = x[r], out[r]
        mean = _sum(xr, inv_d)
        for j in range(D):
            yr[j] = xr[j] - mean
        rstd = root_d / np.sqrt(_sum_squares(yr, inv_d - inv_d) + d_eps)
        for j in range(D):
            yr[j] = yr[j] * rstd
        if has_w:
            for j in range(D):
                yr[j] = yr[j] * weight[j]
        if has_b:
            for j in range(D):
                yr[j] = yr[j] + bias[j]


@njit(**_OPTS)
def softmax_rows32(scores: np.ndarray, inv: np.ndarray) -> None:
    """The unnormalised softmax of every row of the float32 ``scores`` ``(R, S)``, in place:
    ``exp(s - max(s))``, and ``inv[r]`` = 1 / the row's sum (1 for a row of ``-inf`` only, whose
    weights are all 0). Three passes over the rows (maxima, exponentials, sums): each loop
    vectorises alone."""
    R, S = scores.shape
    zero = np.float32(0.0)
    for r in range(R):
        m = _max(scores[r])
        inv[r] = zero if m == np.float32(-np.inf) else m
    for r in range(R):
        row, m = scores[r], inv[r]
        for j in range(S):
            row[j] = exp32(row[j] - m)
    for r in range(R):
        total = _sum(scores[r], _ONE)
        inv[r] = _ONE / total if total > zero else _ONE
