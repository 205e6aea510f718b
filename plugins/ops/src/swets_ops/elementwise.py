"""Elementwise ops: arithmetic, comparisons, unary math, activations and ``cast``.

Binary ops broadcast like numpy; the tape sums broadcast gradients back to each input's shape, so a
backward here returns gradients of the broadcast shape. Python scalars are accepted as operands
(``x * 2.0``) and, as in PyTorch, do not promote a float32 tensor to float64; an integer tensor
combined with a Python float gives float32.

Gradient conventions at kinks (the PyTorch ones): ``relu'(0) = 0``, ``abs'(0) = 0``,
``leaky_relu'(0) = negative_slope``, ``clip`` passes the gradient where ``min <= x <= max``
(inclusive), ``maximum``/``minimum`` split the gradient evenly between equal operands, ``pow``'s
``d/da`` is 0 where ``b == 0`` and its ``d/db`` 0 where ``a == 0`` and ``b >= 0`` (NaN for negative
``a``). ``sign`` and the comparisons have no gradient.

The binary ops (arithmetic and comparisons) come from one factory, :func:`binary_op`, and one table
(:data:`BINARY`): each row names the op, its numpy ufunc and its gradient rule; the plain unary
ops likewise (:func:`unary_op`, :data:`UNARY`). The special-function
numerics (``erfc``, the float32 GELU) live in :mod:`swets_ops.special`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from swets_core.autograd import OpDef, Tensor
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
from swets_ops.special import (
    INV_SQRT_2PI,
    SQRT_2_OVER_PI,
    SQRT_HALF,
    erfc,
    gelu_f32,
    sigmoid_pair,
)
from swets_ops.special import digamma as _digamma
from swets_ops.special import lgamma as _lgamma
from swets_ops.special import sigmoid as _sigmoid

ndarray = np.ndarray

# ------------------------------------------------------------------------------------------------
# binary ops: one factory, one table
# ------------------------------------------------------------------------------------------------

GradRule = Callable[[Any, Any, np.ndarray, np.ndarray, tuple[bool, ...]], tuple[Any, Any]]
"""``rule(a, b, out, g, needs) -> (grad_a, grad_b)``: the backward of a binary op (gradients of the
broadcast shape; the tape reduces them), bound to the values it reads (``a``, ``b``, ``out``, the
others None) by :func:`functools.partial`, so the tape's call ``backward(g, needs)`` runs the rule
directly."""


def _bin_error(name: str, a: Any, b: Any, exc: Exception) -> Exception:
    try:
        np.broadcast_shapes(np.shape(a), np.shape(b))
    except ValueError:
        return broadcast_error(name, a, b)
    return OpError(f"{name}: {exc} (inputs: {fmt_shape(a)}, {fmt_shape(b)})")


def binary_op(name: str, ufunc: np.ufunc, grad: GradRule | None, saves: str, doc: str) -> OpDef:
    """The :class:`OpDef` of a broadcasting binary op: ``ufunc(a, b)`` (a float64 result that no
    float64 input asked for is float32, see :func:`~swets_ops._common.demote`), numpy's errors as
    swets errors naming the op and the shapes, and the gradient by ``grad`` (None: no gradient),
    which reads the values ``saves`` names (``a``, ``b``, ``o`` for the output): only those are
    kept for the backward pass, the others are None to the rule."""
    keep_a, keep_b, keep_out = "a" in saves, "b" in saves, "o" in saves
    fixed = partial(grad, None, None, None) if grad is not None and not saves else None

    def infer(a: Any, b: Any) -> np.ndarray:
        try:
            out = ufunc(a, b)
        except (ValueError, TypeError) as exc:
            raise _bin_error(name, a, b, exc) from None
        return demote(out, a, b) if out.dtype is F64 else out

    if grad is None:

        def forward(a: Any, b: Any) -> tuple[np.ndarray, Any]:
            return infer(a, b), None

    else:

        def forward(a: Any, b: Any) -> tuple[np.ndarray, Any]:
            try:
                out = ufunc(a, b)
            except (ValueError, TypeError) as exc:
                raise _bin_error(name, a, b, exc) from None
            if out.dtype is F64:
                out = demote(out, a, b)
            if fixed is not None:
                return out, fixed
            # the tape calls it with (g, needs) and keeps it until then: bound to what it reads
            a = a if keep_a else None
            b = b if keep_b else None
            return out, partial(grad, a, b, out if keep_out else None)

    forward.__name__ = forward.__qualname__ = name
    forward.__doc__ = doc
    infer.__name__ = infer.__qualname__ = f"{name}_infer"
    return OpDef(name, forward, infer=infer)


def _add_grad(a: Any, b: Any, out: Any, g: np.ndarray, needs: tuple[bool, ...]) -> tuple:
    return (g if needs[0] else None, g if needs[1] else None)


def _sub_grad(a: Any, b: Any, out: Any, g: np.ndarray, needs: tuple[bool, ...]) -> tuple:
    return (g if needs[0] else None, np.negative(g) if needs[1] else None)


def _mul_grad(a: Any, b: Any, out: Any, g: np.ndarray, needs: tuple[bool, ...]) -> tuple:
    return (g * b if needs[0] else None, g * a if needs[1] else None)


def _div_grad(a: Any, b: Any, out: Any, g: np.ndarray, needs: tuple[bool, ...]) -> tuple:
    ga = g / b if needs[0] else None
    gb = np.negative(g * out) / b if needs[1] else None
    return ga, gb


def _pow_grad(a: Any, b: Any, out: Any, g: np.ndarray, needs: tuple[bool, ...]) -> tuple:
    # PyTorch's: d/da = b * a**(b-1) (0 where b == 0), d/db = a**b * log(a) (0 where a == 0 and
    # b >= 0; NaN for negative a)
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


def _extreme_grad(first: np.ufunc) -> GradRule:
    """maximum/minimum: the gradient goes to the operand that is ``first`` (greater or less);
    equal operands share it evenly."""

    def rule(a: Any, b: Any, out: Any, g: np.ndarray, needs: tuple[bool, ...]) -> tuple:
        w = first(a, b).astype(g.dtype)
        ties = np.equal(a, b)
        if ties.any():
            w[np.broadcast_to(ties, w.shape)] = 0.5
        return (g * w if needs[0] else None, g * (1 - w) if needs[1] else None)

    return rule


BINARY: tuple[tuple[str, np.ufunc, GradRule | None, str, str], ...] = (
    ("add", np.add, _add_grad, "", "add(a, b): ``a + b`` elementwise with numpy broadcasting."),
    (
        "sub",
        np.subtract,
        _sub_grad,
        "",
        "sub(a, b): ``a - b`` elementwise with numpy broadcasting.",
    ),
    (
        "mul",
        np.multiply,
        _mul_grad,
        "ab",
        "mul(a, b): ``a * b`` elementwise with numpy broadcasting.",
    ),
    (
        "div",
        np.true_divide,
        _div_grad,
        "bo",
        "div(a, b): true division ``a / b`` elementwise with numpy broadcasting (ints give "
        "float32).",
    ),
    (
        "pow",
        np.power,
        _pow_grad,
        "abo",
        "pow(a, b): ``a ** b`` elementwise with numpy broadcasting.",
    ),
    (
        "maximum",
        np.maximum,
        _extreme_grad(np.greater),
        "ab",
        "maximum(a, b): elementwise maximum (NaN propagates); equal operands share the gradient.",
    ),
    (
        "minimum",
        np.minimum,
        _extreme_grad(np.less),
        "ab",
        "minimum(a, b): elementwise minimum (NaN propagates); equal operands share the gradient.",
    ),
    *(
        (
            name,
            ufunc,
            None,
            "",
            f"{name}(a, b): ``a {symbol} b`` elementwise as a bool tensor; no gradient.",
        )
        for name, ufunc, symbol in (
            ("less", np.less, "<"),
            ("less_equal", np.less_equal, "<="),
            ("greater", np.greater, ">"),
            ("greater_equal", np.greater_equal, ">="),
            ("equal", np.equal, "=="),
            ("not_equal", np.not_equal, "!="),
        )
    ),
)
"""``(name, ufunc, gradient rule or None, the values it reads, doc)`` of every binary op (see
:func:`binary_op`)."""


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


UnaryGrad = Callable[[np.ndarray, np.ndarray, np.ndarray, tuple[bool, ...]], tuple[np.ndarray]]
"""``rule(x, out, g, needs) -> (grad_x,)``: the backward of a unary op (bound to ``x`` or ``out`` by
:func:`functools.partial`, so the tape's call ``backward(g, needs)`` runs the rule directly)."""


def unary_op(
    name: str,
    ufunc: np.ufunc,
    to_float: bool,
    grad: UnaryGrad | None,
    saves: str,
    doc: str,
    quiet: tuple[str, ...] = (),
) -> OpDef:
    """The :class:`OpDef` of an elementwise unary op ``ufunc(x)``: the input as an array (integers
    and booleans as float32 when ``to_float``), the gradient by ``grad`` (None: no gradient), which
    reads what ``saves`` names (``x``, or ``o`` for the output; only that is kept for the backward
    pass, the other is None to the rule), and the floating-point conditions of ``quiet``
    (``"divide"``, ``"invalid"``) not warned about (their results, inf and NaN, are the op's values
    there, as numpy's and PyTorch's)."""
    convert = as_float if to_float else as_array
    keep_x = saves == "x"
    errstate = dict.fromkeys(quiet, "ignore")

    def infer(x: Any) -> np.ndarray:
        if not errstate:
            return ufunc(convert(x))
        with np.errstate(**errstate):
            return ufunc(convert(x))

    def forward(x: Any) -> tuple[np.ndarray, Any]:
        x = convert(x)
        if errstate:
            with np.errstate(**errstate):
                out = ufunc(x)
        else:
            out = ufunc(x)
        if grad is None:
            return out, None
        # the tape calls it with (g, needs) and keeps it until then: bound to what it reads
        return out, partial(grad, x, None) if keep_x else partial(grad, None, out)

    forward.__name__ = forward.__qualname__ = name
    forward.__doc__ = doc
    infer.__name__ = infer.__qualname__ = f"{name}_infer"
    return OpDef(name, forward, infer=infer)


def _sqrt_grad(x: np.ndarray, out: np.ndarray, g: np.ndarray, needs: tuple[bool, ...]) -> tuple:
    with np.errstate(divide="ignore"):  # the derivative at 0 is inf
        return (g / (out + out),)


UNARY: tuple[tuple[Any, ...], ...] = (
    (
        "abs",
        np.abs,
        False,
        lambda x, out, g, needs: (g * np.sign(x),),
        "x",
        "abs(x): ``|x|``; the gradient is ``sign(x)`` (0 at 0).",
    ),
    (
        "exp",
        np.exp,
        True,
        lambda x, out, g, needs: (g * out,),
        "o",
        "exp(x): ``e ** x`` (integer inputs give float32).",
    ),
    (
        "log",
        np.log,
        True,
        lambda x, out, g, needs: (g / x,),
        "x",
        "log(x): natural logarithm (``-inf`` at 0, NaN below, as numpy and PyTorch).",
        ("divide", "invalid"),
    ),
    (
        "log1p",
        np.log1p,
        True,
        lambda x, out, g, needs: (g / (1 + x),),
        "x",
        "log1p(x): ``log(1 + x)``, accurate for small ``x``.",
        ("divide", "invalid"),
    ),
    (
        "sqrt",
        np.sqrt,
        True,
        _sqrt_grad,
        "o",
        "sqrt(x): square root (NaN for negative inputs); the gradient is ``1 / (2 sqrt(x))``.",
        ("invalid",),
    ),
    (
        "square",
        np.square,
        False,
        lambda x, out, g, needs: (g * (x + x),),
        "x",
        "square(x): ``x * x``.",
    ),
    ("sign", np.sign, False, None, "", "sign(x): -1, 0 or 1 (NaN stays NaN); no gradient."),
    (
        "tanh",
        np.tanh,
        True,
        lambda x, out, g, needs: (g * (1 - out * out),),
        "o",
        "tanh(x): hyperbolic tangent.",
    ),
)
"""``(name, ufunc, to_float, gradient rule or None, what it reads, doc[, quiet])`` of the
table-made unary ops (see :func:`unary_op`)."""


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


_GELU_C = 0.044715


def _gelu_parts(x: np.ndarray, approximate: str) -> tuple[np.ndarray, Any]:
    if approximate == "none":
        cdf = 0.5 * erfc(-x * SQRT_HALF)
        return x * cdf, cdf
    if approximate == "tanh":
        # 0.5 (1 + tanh(u)) == sigmoid(2u): the sigmoid form keeps full precision in both tails
        s, sc = sigmoid_pair(2 * SQRT_2_OVER_PI * (x + _GELU_C * (x * x * x)))
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
        out, deriv = gelu_f32(x, record=True)
        _gelu_infinities(x, out)

        def backward_f32(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
            return (g * deriv,)

        return out, backward_f32
    out, aux = _gelu_parts(x, approximate)
    if approximate == "none":
        _gelu_infinities(x, out)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        if approximate == "none":
            pdf = np.exp(-0.5 * x * x) * INV_SQRT_2PI
            return (g * (aux + x * pdf),)
        s, sc = aux
        du = (2 * SQRT_2_OVER_PI) * (1 + 3 * _GELU_C * x * x)
        return (g * (s + x * s * sc * du),)

    return out, backward


def _gelu_infer(x: Any, approximate: str = "none") -> np.ndarray:
    if type(x) is not np.ndarray or x.dtype.kind != "f":
        x = as_float(x)
    if approximate == "none":
        out = gelu_f32(x, record=False)[0] if x.dtype == F32 else _gelu_parts(x, "none")[0]
        _gelu_infinities(x, out)
        return out
    return _gelu_parts(x, approximate)[0]


def _gelu_infinities(x: np.ndarray, out: np.ndarray) -> None:
    """PyTorch's values at infinities: ``gelu(inf) = inf``, ``gelu(-inf) = nan`` (``-inf * 0``)."""
    if np.isinf(x).any():
        out[x == np.inf] = np.inf
        out[x == -np.inf] = np.nan


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


def lgamma(x: Any) -> tuple[np.ndarray, Any]:
    """lgamma(x): ``log |Gamma(x)|`` (``inf`` at the poles 0, -1, -2, ...); the gradient is the
    digamma function ``psi(x)``."""
    x = as_float(x)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (g * _digamma(x),)

    return _lgamma(x), backward


def _softplus_infer(x: Any, beta: float = 1.0, threshold: float = 20.0) -> np.ndarray:
    if beta == 0:
        raise OpError("softplus: beta must be non-zero")
    return _softplus_out(as_float(x), beta, threshold)[0]


# ------------------------------------------------------------------------------------------------
# comparisons and cast
# ------------------------------------------------------------------------------------------------


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
    defs = [binary_op(*row) for row in BINARY]
    defs += [unary_op(*row) for row in UNARY]
    defs += [
        opdef("where", where, _where_infer),
        opdef("clip", clip, _clip_infer),
        opdef("neg", neg, _neg_infer),
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
        opdef("softplus", softplus, _softplus_infer),
        opdef("lgamma", lgamma, lambda x: _lgamma(as_float(x))),
    ]
    return defs


def register_all(register: Any) -> None:
    """Register the elementwise ops (arithmetic, comparisons, math, activations, cast)."""
    for d in _defs():
        register(d.name, d)


__all__ = ["BINARY", "UNARY", "binary_op", "erfc", "register_all", "unary_op"]
