"""Elementwise ops: arithmetic, comparisons, unary math, activations and ``cast``.

Binary ops broadcast like numpy; the tape sums broadcast gradients back to each input's shape, so a
backward here returns gradients of the broadcast shape. Python scalars are accepted as operands
(``x * 2.0``) and, as in PyTorch, do not promote a float32 tensor to float64; an integer tensor
combined with a Python float gives float32.

Gradient conventions at kinks (the PyTorch ones): ``relu'(0) = 0``, ``abs'(0) = 0``,
``leaky_relu'(0) = negative_slope``, ``clip`` passes the gradient where ``min <= x <= max``
(inclusive), ``maximum``/``minimum`` split the gradient evenly between equal operands. ``sign`` and
the comparisons have no gradient.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from swets_core.autograd import Tensor
from swets_core.dtype import DType
from swets_core.errors import DTypeError, OpError
from swets_ops._common import (
    F32,
    F64,
    as_array,
    as_float,
    broadcast_error,
    demote,
    fmt_shape,
    is64,
    opdef,
)

ndarray = np.ndarray

# ------------------------------------------------------------------------------------------------
# binary arithmetic
# ------------------------------------------------------------------------------------------------


def _bin_error(name: str, a: Any, b: Any, exc: Exception) -> Exception:
    try:
        np.broadcast_shapes(np.shape(a), np.shape(b))
    except ValueError:
        return broadcast_error(name, a, b)
    return OpError(f"{name}: {exc} (inputs: {fmt_shape(a)}, {fmt_shape(b)})")


def _binary_infer(name: str, ufunc: np.ufunc) -> Any:
    def infer(a: Any, b: Any) -> np.ndarray:
        try:
            out = ufunc(a, b)
        except (ValueError, TypeError) as exc:
            raise _bin_error(name, a, b, exc) from None
        if out.dtype is F64:
            out = demote(out, a, b)
        return out

    infer.__name__ = f"{name}_infer"
    return infer


def add(a: Any, b: Any) -> tuple[np.ndarray, Any]:
    """add(a, b): ``a + b`` elementwise with numpy broadcasting."""
    try:
        out = np.add(a, b)
    except (ValueError, TypeError) as exc:
        raise _bin_error("add", a, b, exc) from None
    if out.dtype is F64:
        out = demote(out, a, b)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any, Any]:
        return (g if needs[0] else None, g if needs[1] else None)

    return out, backward


def sub(a: Any, b: Any) -> tuple[np.ndarray, Any]:
    """sub(a, b): ``a - b`` elementwise with numpy broadcasting."""
    try:
        out = np.subtract(a, b)
    except (ValueError, TypeError) as exc:
        raise _bin_error("sub", a, b, exc) from None
    if out.dtype is F64:
        out = demote(out, a, b)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any, Any]:
        return (g if needs[0] else None, np.negative(g) if needs[1] else None)

    return out, backward


def mul(a: Any, b: Any) -> tuple[np.ndarray, Any]:
    """mul(a, b): ``a * b`` elementwise with numpy broadcasting."""
    try:
        out = np.multiply(a, b)
    except (ValueError, TypeError) as exc:
        raise _bin_error("mul", a, b, exc) from None
    if out.dtype is F64:
        out = demote(out, a, b)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any, Any]:
        return (g * b if needs[0] else None, g * a if needs[1] else None)

    return out, backward


def div(a: Any, b: Any) -> tuple[np.ndarray, Any]:
    """div(a, b): true division ``a / b`` elementwise with numpy broadcasting (ints give float32)."""
    try:
        out = np.true_divide(a, b)
    except (ValueError, TypeError) as exc:
        raise _bin_error("div", a, b, exc) from None
    if out.dtype is F64:
        out = demote(out, a, b)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any, Any]:
        ga = g / b if needs[0] else None
        gb = np.negative(g * out) / b if needs[1] else None
        return ga, gb

    return out, backward


def _div_infer(a: Any, b: Any) -> np.ndarray:
    try:
        out = np.true_divide(a, b)
    except (ValueError, TypeError) as exc:
        raise _bin_error("div", a, b, exc) from None
    if out.dtype is F64:
        out = demote(out, a, b)
    return out


def pow(a: Any, b: Any) -> tuple[np.ndarray, Any]:
    """pow(a, b): ``a ** b`` elementwise with numpy broadcasting.

    Gradients (PyTorch's): ``d/da = b * a**(b-1)`` (0 where ``b == 0``), ``d/db = a**b * log(a)``
    (0 where ``a == 0`` and ``b >= 0``; NaN for negative ``a``).
    """
    try:
        out = np.power(a, b)
    except (ValueError, TypeError) as exc:
        raise _bin_error("pow", a, b, exc) from None
    if out.dtype is F64:
        out = demote(out, a, b)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any, Any]:
        ga = gb = None
        if needs[0]:
            if not isinstance(b, np.ndarray):
                if b == 0:
                    ga = np.zeros_like(g)
                elif b == 1:
                    ga = g
                elif b == 2:
                    ga = g * (a + a)
                else:
                    with np.errstate(divide="ignore", invalid="ignore"):
                        ga = g * (b * np.power(a, b - 1))
            else:
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    ga = g * (b * np.power(a, b - 1))
                ga = np.where(b == 0, 0, ga)
        if needs[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = g * (out * np.log(a))
            gb = np.where((np.equal(a, 0)) & (np.greater_equal(b, 0)), 0, gb)
        return ga, gb

    return out, backward


def _tie_weights(first: np.ndarray, ties: np.ndarray, dtype: np.dtype) -> np.ndarray:
    w = first.astype(dtype)
    if ties.any():
        w[np.broadcast_to(ties, w.shape)] = 0.5
    return w


def maximum(a: Any, b: Any) -> tuple[np.ndarray, Any]:
    """maximum(a, b): elementwise maximum (NaN propagates); equal operands share the gradient."""
    try:
        out = np.maximum(a, b)
    except (ValueError, TypeError) as exc:
        raise _bin_error("maximum", a, b, exc) from None
    if out.dtype is F64:
        out = demote(out, a, b)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any, Any]:
        w = _tie_weights(np.greater(a, b), np.equal(a, b), g.dtype)
        return (g * w if needs[0] else None, g * (1 - w) if needs[1] else None)

    return out, backward


def minimum(a: Any, b: Any) -> tuple[np.ndarray, Any]:
    """minimum(a, b): elementwise minimum (NaN propagates); equal operands share the gradient."""
    try:
        out = np.minimum(a, b)
    except (ValueError, TypeError) as exc:
        raise _bin_error("minimum", a, b, exc) from None
    if out.dtype is F64:
        out = demote(out, a, b)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any, Any]:
        w = _tie_weights(np.less(a, b), np.equal(a, b), g.dtype)
        return (g * w if needs[0] else None, g * (1 - w) if needs[1] else None)

    return out, backward


# ------------------------------------------------------------------------------------------------
# where, clip
# ------------------------------------------------------------------------------------------------


def _check_cond(cond: Any) -> np.ndarray:
    cond = as_array(cond)
    if cond.dtype.kind != "b":
        raise DTypeError(
            f"where: cond must be a bool tensor (e.g. from a comparison), got dtype {cond.dtype} "
            f"with shape {cond.shape}"
        )
    return cond


def _where_out(cond: np.ndarray, a: Any, b: Any) -> np.ndarray:
    try:
        out = np.where(cond, a, b)
    except ValueError:
        raise broadcast_error("where", cond, a, b) from None
    if out.dtype is F64:
        out = demote(out, a, b)
    return out


def where(cond: Any, a: Any, b: Any) -> tuple[np.ndarray, Any]:
    """where(cond, a, b): ``a`` where the bool ``cond`` is True, else ``b`` (all broadcast)."""
    cond = _check_cond(cond)
    out = _where_out(cond, a, b)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any, Any, Any]:
        ga = np.where(cond, g, 0) if needs[1] else None
        gb = np.where(cond, 0, g) if needs[2] else None
        return None, ga, gb

    return out, backward


def _where_infer(cond: Any, a: Any, b: Any) -> np.ndarray:
    return _where_out(_check_cond(cond), a, b)


def _bound(value: Any) -> Any:
    if isinstance(value, Tensor):
        return value._data
    return value


def _clip_out(x: Any, lo: Any, hi: Any) -> np.ndarray:
    if lo is None and hi is None:
        raise OpError("clip: at least one of min and max must be given")
    x = as_array(x)
    try:
        out = np.clip(x, lo, hi)
    except ValueError:
        raise broadcast_error("clip", x, *(v for v in (lo, hi) if v is not None)) from None
    if out.dtype == F64 and not is64(x) and not is64(lo) and not is64(hi):
        out = out.astype(F32)
    return out


def clip(x: Any, min: Any = None, max: Any = None) -> tuple[np.ndarray, Any]:
    """clip(x, min=None, max=None): clamp into ``[min, max]``; the gradient passes where
    ``min <= x <= max``. ``min > max`` gives ``max`` everywhere (as PyTorch)."""
    lo, hi = _bound(min), _bound(max)
    out = _clip_out(x, lo, hi)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        if lo is not None and hi is not None:
            mask = (x >= lo) & (x <= hi)
        elif lo is not None:
            mask = x >= lo
        else:
            mask = x <= hi
        return (np.where(mask, g, 0),)

    return out, backward


def _clip_infer(x: Any, min: Any = None, max: Any = None) -> np.ndarray:
    return _clip_out(x, _bound(min), _bound(max))


# ------------------------------------------------------------------------------------------------
# unary math
# ------------------------------------------------------------------------------------------------


def neg(x: Any) -> tuple[np.ndarray, Any]:
    """neg(x): ``-x``."""
    x = as_array(x)
    if x.dtype.kind == "b":
        raise DTypeError(f"neg: cannot negate a bool tensor of shape {x.shape}")

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (np.negative(g),)

    return np.negative(x), backward


def _neg_infer(x: Any) -> np.ndarray:
    x = as_array(x)
    if x.dtype.kind == "b":
        raise DTypeError(f"neg: cannot negate a bool tensor of shape {x.shape}")
    return np.negative(x)


def abs(x: Any) -> tuple[np.ndarray, Any]:
    """abs(x): ``|x|``; the gradient is ``sign(x)`` (0 at 0)."""
    x = as_array(x)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (g * np.sign(x),)

    return np.abs(x), backward


def exp(x: Any) -> tuple[np.ndarray, Any]:
    """exp(x): ``e ** x`` (integer inputs give float32)."""
    out = np.exp(as_float(x))

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (g * out,)

    return out, backward


def log(x: Any) -> tuple[np.ndarray, Any]:
    """log(x): natural logarithm (``-inf`` at 0, NaN below, as numpy and PyTorch)."""
    x = as_float(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(x)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (g / x,)

    return out, backward


def log1p(x: Any) -> tuple[np.ndarray, Any]:
    """log1p(x): ``log(1 + x)``, accurate for small ``x``."""
    x = as_float(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log1p(x)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (g / (1 + x),)

    return out, backward


def sqrt(x: Any) -> tuple[np.ndarray, Any]:
    """sqrt(x): square root (NaN for negative inputs); the gradient is ``1 / (2 sqrt(x))``."""
    x = as_float(x)
    with np.errstate(invalid="ignore"):
        out = np.sqrt(x)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        with np.errstate(divide="ignore"):
            return (g / (out + out),)

    return out, backward


def square(x: Any) -> tuple[np.ndarray, Any]:
    """square(x): ``x * x``."""
    x = as_array(x)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (g * (x + x),)

    return np.square(x), backward


def sign(x: Any) -> tuple[np.ndarray, None]:
    """sign(x): -1, 0 or 1 (NaN stays NaN); no gradient."""
    return np.sign(as_array(x)), None


def _unary_infer(ufunc: Any, to_float: bool) -> Any:
    if to_float:

        def infer(x: Any) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                return ufunc(as_float(x))

    else:

        def infer(x: Any) -> np.ndarray:
            return ufunc(as_array(x))

    return infer


# ------------------------------------------------------------------------------------------------
# activations
# ------------------------------------------------------------------------------------------------


def relu(x: Any) -> tuple[np.ndarray, Any]:
    """relu(x): ``max(x, 0)``; the gradient at 0 is 0."""
    out = np.maximum(as_array(x), 0)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (g * (out > 0),)

    return out, backward


def _leaky_out(x: np.ndarray, negative_slope: float) -> np.ndarray:
    return np.where(x > 0, x, x * negative_slope)


def leaky_relu(x: Any, negative_slope: float = 0.01) -> tuple[np.ndarray, Any]:
    """leaky_relu(x, negative_slope=0.01): ``x`` for ``x > 0``, else ``negative_slope * x``."""
    x = as_float(x)
    out = _leaky_out(x, negative_slope)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (np.where(x > 0, g, g * negative_slope),)

    return out, backward


def _elu_out(x: np.ndarray, alpha: float) -> np.ndarray:
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def elu(x: Any, alpha: float = 1.0) -> tuple[np.ndarray, Any]:
    """elu(x, alpha=1.0): ``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    x = as_float(x)
    out = _elu_out(x, alpha)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (np.where(x > 0, g, g * (out + alpha)),)

    return out, backward


# erf/erfc by the rational approximations of the Cephes library (relative error ~1e-16 in float64):
# erf(x) = x T(x^2) / U(x^2) for |x| <= 1; erfc(x) = exp(-x^2) P(x) / Q(x) for 1 <= x < 8 and
# exp(-x^2) R(x) / S(x) for x >= 8 (U, Q, S monic).
_ERF_T = (
    9.60497373987051638749e0,
    9.00260197203842689217e1,
    2.23200534594684319226e3,
    7.00332514112805075473e3,
    5.55923013010394962768e4,
)
_ERF_U = (
    1.0,
    3.35617141647503099647e1,
    5.21357949780152679795e2,
    4.59432382970980127987e3,
    2.26290000613890934246e4,
    4.92673942608635921086e4,
)
_ERFC_P = (
    2.46196981473530512524e-10,
    5.64189564831068821977e-1,
    7.46321056442269912687e0,
    4.86371970985681366614e1,
    1.96520832956077098242e2,
    5.26445194995477358631e2,
    9.34528527171957607540e2,
    1.02755188689515710272e3,
    5.57535335369399327526e2,
)
_ERFC_Q = (
    1.0,
    1.32281951154744992508e1,
    8.67072140885989742329e1,
    3.54937778887819891062e2,
    9.75708501743205489753e2,
    1.82390916687909736289e3,
    2.24633760818710981792e3,
    1.65666309194161350182e3,
    5.57535340817727675546e2,
)
_ERFC_R = (
    5.64189583547755073984e-1,
    1.27536670759978104416e0,
    5.01905042251180477414e0,
    6.16021097993053585195e0,
    7.40974269950448939160e0,
    2.97886665372100240670e0,
)
_ERFC_S = (
    1.0,
    2.26052863220117276590e0,
    9.39603524938001434673e0,
    1.20489539808096656605e1,
    1.70814450747565897222e1,
    9.60896809063285878198e0,
    3.36907645100081516050e0,
)


def _polyval(coefs: tuple[float, ...], x: np.ndarray) -> np.ndarray:
    acc = np.full_like(x, coefs[0])
    for c in coefs[1:]:
        acc *= x
        acc += c
    return acc


def erfc(x: np.ndarray) -> np.ndarray:
    """The complementary error function ``1 - erf(x)`` of a float array (same dtype), vectorized."""
    ax = np.abs(x)
    out = np.empty_like(x)
    small = ax < 1
    if small.any():
        xs = x[small]
        z = xs * xs
        out[small] = 1 - xs * _polyval(_ERF_T, z) / _polyval(_ERF_U, z)
    big = ~small
    if big.any():
        ab = ax[big]
        with np.errstate(over="ignore", under="ignore"):
            mid = ab < 8
            num = np.where(mid, _polyval(_ERFC_P, ab), _polyval(_ERFC_R, ab))
            den = np.where(mid, _polyval(_ERFC_Q, ab), _polyval(_ERFC_S, ab))
            y = np.exp(-ab * ab) * num / den
        out[big] = np.where(x[big] < 0, 2 - y, y)
    return out


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715


def _sigmoid_pair(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(sigmoid(z), sigmoid(-z))``, both without cancellation (one exp)."""
    e = np.exp(-np.abs(z))
    r = 1 / (1 + e)
    er = e * r
    pos = z >= 0
    return np.where(pos, r, er), np.where(pos, er, r)


# float32 exact GELU: Phi(-|x|) = erfc(|x| / sqrt 2) / 2 by Abramowitz and Stegun 7.1.26,
# erfc(z) ~ t (a1 + t (a2 + t (a3 + t (a4 + t a5)))) exp(-z^2) with t = 1 / (1 + p z), absolute error
# <= 1.5e-7 (the approximation PyTorch's vectorized CPU erf uses). The coefficients carry the 1/2.
_AS_P = np.float32(0.3275911 * math.sqrt(0.5))
_AS_A = tuple(
    np.float32(0.5 * a) for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
)
_F32_INV_SQRT_2PI = np.float32(_INV_SQRT_2PI)
_GELU_BLOCK = 32768  # elements per pass: the scratch arrays stay in the CPU's cache


def _gelu_f32(x: np.ndarray, record: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Exact GELU of a float32 array and, when ``record``, its derivative ``Phi(x) + x phi(x)``.

    ``gelu(x) = relu(x) - |x| Phi(-|x|)`` (no cancellation in either tail). The work runs in blocks
    of :data:`_GELU_BLOCK` elements through small scratch arrays, so the dozen elementwise passes
    stay in the cache and no large temporary is allocated.
    """
    f32 = np.float32
    xf = np.ascontiguousarray(x).reshape(-1)
    n = xf.size
    out = np.empty(n, f32)
    deriv = np.empty(n, f32) if record else None
    c = max(1, min(_GELU_BLOCK, n))
    a, t, h, e = (np.empty(c, f32) for _ in range(4))
    pos = np.empty(c, bool)
    a5, a4, a3, a2, a1 = _AS_A[4], _AS_A[3], _AS_A[2], _AS_A[1], _AS_A[0]
    # exp(-x^2 / 2) below the smallest float is 0; the derivative at +-inf is NaN (inf * 0), as
    # PyTorch's and the float64 path's
    with np.errstate(under="ignore", invalid="ignore"):
        for start in range(0, n, c):
            xs = xf[start : start + c]
            m = xs.size
            if m != c:
                a, t, h, e, pos = a[:m], t[:m], h[:m], e[:m], pos[:m]
            np.abs(xs, out=a)
            np.minimum(a, f32(20.0), out=a)  # Phi(-20) is 0 in float32; keeps inf * 0 out
            np.multiply(a, _AS_P, out=t)
            t += f32(1.0)
            np.reciprocal(t, out=t)
            np.multiply(t, a5, out=h)
            for coef in (a4, a3, a2, a1):
                h += coef
                h *= t
            np.multiply(xs, xs, out=e)
            e *= f32(-0.5)
            np.exp(e, out=e)
            h *= e  # Phi(-|x|)
            o = out[start : start + m]
            np.maximum(xs, f32(0.0), out=o)
            np.multiply(a, h, out=t)
            o -= t
            if deriv is not None:
                d = deriv[start : start + m]
                np.multiply(xs, e, out=d)
                d *= _F32_INV_SQRT_2PI  # x phi(x)
                np.greater(xs, f32(0.0), out=pos)
                np.multiply(pos, f32(-2.0), out=t)
                t += f32(1.0)
                t *= h
                t += pos  # Phi(x): 1 - Phi(-|x|) for x > 0, Phi(-|x|) otherwise
                d += t
    return out.reshape(x.shape), None if deriv is None else deriv.reshape(x.shape)


def _gelu_parts(x: np.ndarray, approximate: str) -> tuple[np.ndarray, Any]:
    if approximate == "none":
        cdf = 0.5 * erfc(-x * _SQRT_HALF)
        return x * cdf, cdf
    if approximate == "tanh":
        # 0.5 (1 + tanh(u)) == sigmoid(2u): the sigmoid form keeps full precision in both tails
        s, sc = _sigmoid_pair(2 * _SQRT_2_OVER_PI * (x + _GELU_C * (x * x * x)))
        return x * s, (s, sc)
    raise OpError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def gelu(x: Any, approximate: str = "none") -> tuple[np.ndarray, Any]:
    """gelu(x, approximate="none"|"tanh"): ``x * Phi(x)`` (exact, erf form) or its tanh
    approximation ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``, as PyTorch.

    float64 evaluates erf to ~1e-16 (Cephes' rational approximations); float32 uses
    Abramowitz-Stegun 7.1.26 (absolute error <= 1.5e-7, as PyTorch's CPU kernels) in cache-sized
    blocks."""
    x = as_float(x)
    if approximate == "none" and x.dtype == F32:
        out, deriv = _gelu_f32(x, record=True)
        _gelu_infinities(x, out)

        def backward_f32(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
            return (g * deriv,)

        return out, backward_f32
    out, aux = _gelu_parts(x, approximate)
    if approximate == "none":
        _gelu_infinities(x, out)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        if approximate == "none":
            pdf = np.exp(-0.5 * x * x) * _INV_SQRT_2PI
            return (g * (aux + x * pdf),)
        s, sc = aux
        du = (2 * _SQRT_2_OVER_PI) * (1 + 3 * _GELU_C * x * x)
        return (g * (s + x * s * sc * du),)

    return out, backward


def _gelu_infer(x: Any, approximate: str = "none") -> np.ndarray:
    x = as_float(x)
    if approximate == "none":
        out = _gelu_f32(x, record=False)[0] if x.dtype == F32 else _gelu_parts(x, "none")[0]
        _gelu_infinities(x, out)
        return out
    return _gelu_parts(x, approximate)[0]


def _gelu_infinities(x: np.ndarray, out: np.ndarray) -> None:
    """PyTorch's values at infinities: ``gelu(inf) = inf``, ``gelu(-inf) = nan`` (``-inf * 0``)."""
    if np.isinf(x).any():
        out[x == np.inf] = np.inf
        out[x == -np.inf] = np.nan


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # stable for large |x| in both directions: never exponentiates a positive number
    e = np.exp(-np.abs(x))
    r = 1 / (1 + e)
    return np.where(x >= 0, r, e * r)


def sigmoid(x: Any) -> tuple[np.ndarray, Any]:
    """sigmoid(x): ``1 / (1 + exp(-x))``, computed stably."""
    out = _sigmoid(as_float(x))

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (g * (out * (1 - out)),)

    return out, backward


def silu(x: Any) -> tuple[np.ndarray, Any]:
    """silu(x): ``x * sigmoid(x)`` (a.k.a. swish)."""
    x = as_float(x)
    s = _sigmoid(x)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (g * (s * (1 + x * (1 - s))),)

    return x * s, backward


def tanh(x: Any) -> tuple[np.ndarray, Any]:
    """tanh(x): hyperbolic tangent."""
    out = np.tanh(as_float(x))

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (g * (1 - out * out),)

    return out, backward


def _softplus_out(x: np.ndarray, beta: float, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    bx = x * beta
    return np.where(bx > threshold, x, np.logaddexp(0, bx) / beta), bx


def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> tuple[np.ndarray, Any]:
    """softplus(x, beta=1.0, threshold=20.0): ``log(1 + exp(beta x)) / beta``, linear where
    ``beta x > threshold`` (as PyTorch)."""
    if beta == 0:
        raise OpError("softplus: beta must be non-zero")
    out, bx = _softplus_out(as_float(x), beta, threshold)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (np.where(bx > threshold, g, g * _sigmoid(bx)),)

    return out, backward


def _softplus_infer(x: Any, beta: float = 1.0, threshold: float = 20.0) -> np.ndarray:
    if beta == 0:
        raise OpError("softplus: beta must be non-zero")
    return _softplus_out(as_float(x), beta, threshold)[0]


# ------------------------------------------------------------------------------------------------
# comparisons and cast
# ------------------------------------------------------------------------------------------------


def _comparison(name: str, ufunc: np.ufunc, symbol: str) -> Any:
    def forward(a: Any, b: Any) -> tuple[np.ndarray, None]:
        try:
            return ufunc(a, b), None
        except (ValueError, TypeError) as exc:
            raise _bin_error(name, a, b, exc) from None

    def infer(a: Any, b: Any) -> np.ndarray:
        try:
            return ufunc(a, b)
        except (ValueError, TypeError) as exc:
            raise _bin_error(name, a, b, exc) from None

    forward.__name__ = name
    forward.__doc__ = f"{name}(a, b): ``a {symbol} b`` elementwise as a bool tensor; no gradient."
    return forward, infer


def cast(x: Any, dtype: Any = None) -> tuple[np.ndarray, Any]:
    """cast(x, dtype=): convert to ``dtype`` (a DType or name); differentiable between floats."""
    if dtype is None:
        raise OpError("cast: the dtype attribute is required (e.g. dtype='float64')")
    target = DType.of(dtype).numpy
    x = as_array(x)
    out = x.astype(target)
    if target.kind != "f" or x.dtype.kind != "f":
        return out, None

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (g,)  # the tape casts it back to the input dtype

    return out, backward


def _cast_infer(x: Any, dtype: Any = None) -> np.ndarray:
    if dtype is None:
        raise OpError("cast: the dtype attribute is required (e.g. dtype='float64')")
    return as_array(x).astype(DType.of(dtype).numpy)


# ------------------------------------------------------------------------------------------------
# registration
# ------------------------------------------------------------------------------------------------


def _defs() -> list[Any]:
    defs = [
        opdef("add", add, _binary_infer("add", np.add)),
        opdef("sub", sub, _binary_infer("sub", np.subtract)),
        opdef("mul", mul, _binary_infer("mul", np.multiply)),
        opdef("div", div, _div_infer),
        opdef("pow", pow, _binary_infer("pow", np.power)),
        opdef("maximum", maximum, _binary_infer("maximum", np.maximum)),
        opdef("minimum", minimum, _binary_infer("minimum", np.minimum)),
        opdef("where", where, _where_infer),
        opdef("clip", clip, _clip_infer),
        opdef("neg", neg, _neg_infer),
        opdef("abs", abs, _unary_infer(np.abs, False)),
        opdef("exp", exp, _unary_infer(np.exp, True)),
        opdef("log", log, _unary_infer(np.log, True)),
        opdef("log1p", log1p, _unary_infer(np.log1p, True)),
        opdef("sqrt", sqrt, _unary_infer(np.sqrt, True)),
        opdef("square", square, _unary_infer(np.square, False)),
        opdef("sign", sign),
        opdef("cast", cast, _cast_infer),
        opdef("relu", relu, lambda x: np.maximum(as_array(x), 0)),
        opdef(
            "leaky_relu",
            leaky_relu,
            lambda x, negative_slope=0.01: _leaky_out(as_float(x), negative_slope),
        ),
        opdef("elu", elu, lambda x, alpha=1.0: _elu_out(as_float(x), alpha)),
        opdef("gelu", gelu, _gelu_infer),
        opdef("silu", silu, lambda x: as_float(x) * _sigmoid(as_float(x))),
        opdef("sigmoid", sigmoid, lambda x: _sigmoid(as_float(x))),
        opdef("tanh", tanh, _unary_infer(np.tanh, True)),
        opdef("softplus", softplus, _softplus_infer),
    ]
    for name, ufunc, symbol in (
        ("less", np.less, "<"),
        ("less_equal", np.less_equal, "<="),
        ("greater", np.greater, ">"),
        ("greater_equal", np.greater_equal, ">="),
        ("equal", np.equal, "=="),
        ("not_equal", np.not_equal, "!="),
    ):
        forward, infer = _comparison(name, ufunc, symbol)
        defs.append(opdef(name, forward, infer))
    return defs


def register_all(register: Any) -> None:
    """Register the elementwise ops (arithmetic, comparisons, math, activations, cast)."""
    for d in _defs():
        register(d.name, d)


__all__ = ["erfc", "register_all"]
