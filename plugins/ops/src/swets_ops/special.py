"""Special-function numerics for the elementwise ops: ``erfc``, the float32 GELU, ``lgamma``.

- :func:`erfc` evaluates the complementary error function in float64 to ~1e-16 (the rational
  approximations of the Cephes library), for the exact GELU of float64 inputs.
- :func:`gelu_f32` evaluates the exact GELU ``x Phi(x)`` of float32 inputs (and its derivative) with
  Abramowitz and Stegun 7.1.26 for ``Phi(-|x|)`` (absolute error <= 1.5e-7, the approximation
  PyTorch's vectorized CPU kernel uses), in cache-sized blocks.
- :func:`sigmoid` and :func:`sigmoid_pair` evaluate the logistic function without overflow.
- :func:`lgamma` and :func:`digamma` evaluate ``log |Gamma(x)|`` and its derivative in float64
  (Stirling's series after the recurrence, reflection below 1/2), for the likelihoods of the
  Student-t and negative binomial distributions.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from swets_ops.jit import kernels

__all__ = [
    "INV_SQRT_2PI",
    "SQRT_2_OVER_PI",
    "SQRT_HALF",
    "digamma",
    "erfc",
    "gelu_f32",
    "lgamma",
    "sigmoid",
    "sigmoid_pair",
]

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


SQRT_HALF = math.sqrt(0.5)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def sigmoid_pair(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
_F32_INV_SQRT_2PI = np.float32(INV_SQRT_2PI)
_GELU_BLOCK = 32768  # elements per pass: the scratch arrays stay in the CPU's cache


def gelu_f32(x: np.ndarray, record: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Exact GELU of a float32 array and, when ``record``, its derivative ``Phi(x) + x phi(x)``.

    ``gelu(x) = relu(x) - |x| Phi(-|x|)`` (no cancellation in either tail). The work runs in blocks
    of ``_GELU_BLOCK`` elements through small scratch arrays, so the dozen elementwise passes
    stay in the cache and no large temporary is allocated. Without ``record``, the compiled
    kernel of the ``jit`` extra (:func:`swets_ops._jit_kernels.gelu32`) computes the same
    arithmetic element by element in one pass, with its own ``exp`` (within an ulp of numpy's).
    """
    f32 = np.float32
    xf = np.ascontiguousarray(x).reshape(-1)
    n = xf.size
    out = np.empty(n, f32)
    jit = None if record else kernels()
    if jit is not None:  # the same arithmetic per element, one compiled pass (swets_ops.jit)
        jit.gelu32(xf, _AS_P, _AS_A, out)
        return out.reshape(x.shape), None
    deriv = np.empty(n, f32) if record else None
    c = max(1, min(_GELU_BLOCK, n))
    a, t, h, e = (np.empty(c, f32) for _ in range(4))
    pos = np.empty(c, bool)
    a5, a4, a3, a2, a1 = _AS_A[4], _AS_A[3], _AS_A[2], _AS_A[1], _AS_A[0]
    # exp(-x^2 / 2) below the smallest float is 0 (x^2 may overflow to inf on the way); the
    # derivative at +-inf is NaN (inf * 0), as PyTorch's and the float64 path's
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
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


def sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))``, stable for large ``|x|`` in both directions (never exponentiates a
    positive number)."""
    e = np.exp(-np.abs(x))
    r = 1 / (1 + e)
    return np.where(x >= 0, r, e * r)


# lgamma and digamma: shift the argument up to >= _SHIFT_TO by the recurrences
# Gamma(x + 1) = x Gamma(x) and psi(x + 1) = psi(x) + 1 / x, then evaluate Stirling's asymptotic
# series (absolute error below 1e-15 for x >= 10 with these terms); negative arguments by the
# reflection formulas Gamma(x) Gamma(1 - x) = pi / sin(pi x), psi(1 - x) - psi(x) = pi cot(pi x).
_SHIFT_TO = 10.0
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
# B_2k / (2k (2k - 1)) for k = 1..7: the terms of Stirling's series for log Gamma
_STIRLING = (
    1.0 / 12.0,
    -1.0 / 360.0,
    1.0 / 1260.0,
    -1.0 / 1680.0,
    1.0 / 1188.0,
    -691.0 / 360360.0,
    1.0 / 156.0,
)
# B_2k / (2k) for k = 1..7: the terms of the asymptotic series of psi
_DIGAMMA = (
    1.0 / 12.0,
    -1.0 / 120.0,
    1.0 / 252.0,
    -1.0 / 240.0,
    1.0 / 132.0,
    -691.0 / 32760.0,
    1.0 / 12.0,
)


def _shifted(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(z, log_prod, inv_sum)`` with ``z = x + n >= _SHIFT_TO``, ``log_prod = sum log(x + i)`` and
    ``inv_sum = sum 1 / (x + i)`` over ``i < n`` (``x > 0``)."""
    z = x.copy()
    log_prod = np.zeros_like(x)
    inv_sum = np.zeros_like(x)
    low = z < _SHIFT_TO
    while low.any():
        zl = np.where(low, z, 1.0)
        log_prod += np.where(low, np.log(zl), 0.0)
        inv_sum += np.where(low, 1.0 / zl, 0.0)
        z = np.where(low, z + 1.0, z)
        low = z < _SHIFT_TO
    return z, log_prod, inv_sum


def _series(coefs: tuple[float, ...], r2: np.ndarray) -> np.ndarray:
    """``sum_k coefs[k] * r2**k`` by Horner's rule."""
    series = np.zeros_like(r2)
    for c in reversed(coefs):
        series = series * r2 + c
    return series


def _lgamma_positive(x: np.ndarray) -> np.ndarray:
    z, log_prod, _ = _shifted(x)
    r = 1.0 / z
    series = _series(_STIRLING, r * r)
    return (z - 0.5) * np.log(z) - z + _HALF_LOG_2PI + series * r - log_prod


def _digamma_positive(x: np.ndarray) -> np.ndarray:
    z, _, inv_sum = _shifted(x)
    r2 = 1.0 / (z * z)
    return np.log(z) - 0.5 / z - _series(_DIGAMMA, r2) * r2 - inv_sum


def _lgamma_reflected(a: np.ndarray) -> np.ndarray:
    """``log |Gamma(a)|`` for ``a <= 1/2``: ``log(pi / |sin(pi a)|) - log Gamma(1 - a)``."""
    with np.errstate(divide="ignore"):
        s = np.abs(np.sin(math.pi * (a - np.floor(a))))  # |sin(pi a)|, exact 0 at integers
        return np.log(math.pi / s) - _lgamma_positive(1.0 - a)


def _digamma_reflected(a: np.ndarray) -> np.ndarray:
    """``psi(a)`` for ``a <= 1/2``: ``psi(1 - a) - pi cot(pi a)`` (NaN at the poles)."""
    frac = a - np.floor(a)
    with np.errstate(divide="ignore", invalid="ignore"):
        cot = np.where(frac == 0.0, np.nan, 1.0 / np.tan(math.pi * frac))
    return _digamma_positive(1.0 - a) - math.pi * cot


def _by_reflection(
    x: np.ndarray,
    positive: Callable[[np.ndarray], np.ndarray],
    reflected: Callable[[np.ndarray], np.ndarray],
    at_minus_inf: float,
) -> np.ndarray:
    """A function of the gamma family elementwise in float64, returned in ``x``'s dtype:
    ``positive`` above 1/2, ``reflected`` (the reflection formula) at the other finite values,
    ``+inf`` at ``+inf``, ``at_minus_inf`` at ``-inf`` and NaN at NaN."""
    v = np.asarray(x, dtype=np.float64)
    out = np.empty_like(v)
    pos = (v > 0.5) & np.isfinite(v)
    out[pos] = positive(v[pos])
    neg = ~pos & np.isfinite(v)
    if neg.any():
        out[neg] = reflected(v[neg])
    out[v == np.inf] = np.inf
    out[v == -np.inf] = at_minus_inf
    out[np.isnan(v)] = np.nan
    return out.astype(np.asarray(x).dtype, copy=False)


def lgamma(x: np.ndarray) -> np.ndarray:
    """``log |Gamma(x)|`` elementwise, computed in float64 and returned in ``x``'s dtype; ``inf`` at
    the poles (0, -1, -2, ...) and at ``±inf`` (``+inf``), NaN for NaN."""
    return _by_reflection(x, _lgamma_positive, _lgamma_reflected, np.inf)


def digamma(x: np.ndarray) -> np.ndarray:
    """``psi(x) = d log Gamma(x) / dx`` elementwise in float64 (returned in ``x``'s dtype); NaN at the
    poles (0, -1, -2, ...), ``+inf`` at ``+inf``."""
    return _by_reflection(x, _digamma_positive, _digamma_reflected, np.nan)
