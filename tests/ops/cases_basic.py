"""Gradient-check cases for the elementwise, reduction, linear-algebra and shape ops.

Every case runs :func:`swets_core.testing.gradcheck` (float64 central differences). Between them they
cover broadcast shapes, transposed (non-contiguous) inputs, Python-scalar operands and the same array
passed twice. Inputs are kept away from kinks (0 for relu/abs, the clip bounds...) so that the finite
differences are meaningful.
"""

from __future__ import annotations

import numpy as np

from swets_core import ops
from swets_core.testing import GradCase

_rng = np.random.default_rng(20240611)


def _n(*shape: int) -> np.ndarray:
    """Standard normal float64 values."""
    return _rng.standard_normal(shape)


def _away(*shape: int, gap: float = 0.2) -> np.ndarray:
    """Values with ``|v| >= gap``: no finite-difference step crosses 0."""
    v = _rng.standard_normal(shape)
    return np.sign(v + (v == 0)) * (gap + np.abs(v))


def _pos(*shape: int) -> np.ndarray:
    """Values in [0.5, 2)."""
    return _rng.uniform(0.5, 2.0, shape)


def _distinct(*shape: int) -> np.ndarray:
    """A permutation of well separated values: no ties for max/min."""
    n = int(np.prod(shape))
    return (_rng.permutation(n) * 0.37 - n * 0.15).reshape(shape)


X = _n(3, 4)  # shared by the "same array twice" cases
XT = _n(4, 3).T  # transposed: shape (3, 4), not C-contiguous
P = _pos(3, 4)
A = _away(3, 4)

CASES: list[GradCase] = []


def case(op: str, fn, *inputs, name: str = "", **kw) -> None:
    CASES.append(GradCase(op, fn, inputs, name=name, **kw))


# -- binary arithmetic -----------------------------------------------------------------------------
for _op in ("add", "sub", "mul", "maximum", "minimum"):
    _f = getattr(ops, _op)
    first = _away(3, 1) if _op in ("maximum", "minimum") else _n(3, 1)
    case(_op, lambda a, b, f=_f: f(a, b), first, _away(4) + 3.0, name="broadcast (3,1)x(4,)")
    case(_op, lambda a, b, f=_f: f(a, b), XT, _n(2, 1, 4), name="transposed x (2,1,4)")
    case(_op, lambda a, f=_f: f(a, 0.5), _away(2, 3) + 0.5, name="python scalar")
    case(_op, lambda a, b, f=_f: f(a, b), X, X, name="same array twice")
case("div", lambda a, b: ops.div(a, b), _n(3, 1), _away(4), name="broadcast (3,1)x(4,)")
case("div", lambda a, b: ops.div(a, b), XT, _away(2, 1, 4), name="transposed x (2,1,4)")
case("div", lambda a: ops.div(2.0, a), _away(2, 3), name="python scalar numerator")
case("div", lambda a, b: ops.div(a, b), A, A, name="same array twice")
case("pow", lambda a, b: ops.pow(a, b), _pos(3, 1), _n(4), name="broadcast base and exponent")
case("pow", lambda a: ops.pow(a, 3.0), _n(2, 3), name="python exponent 3")
case("pow", lambda a: ops.pow(a, 2.0), XT, name="square of transposed")
case("pow", lambda a: ops.pow(a, 0.5), _pos(5), name="python exponent 0.5")
case("pow", lambda a: ops.pow(2.0, a), _n(5), name="python base")
case("pow", lambda a, b: ops.pow(a, b), P, P, name="same array twice")
case(
    "maximum", lambda a, b: ops.maximum(a, b), _distinct(2, 3), _distinct(2, 3) + 0.1, name="mixed"
)

# -- where, clip -----------------------------------------------------------------------------------
_cond = _rng.random((3, 1)) > 0.5
_cond[0, 0], _cond[1, 0] = True, False
case("where", lambda c, a, b: ops.where(c, a, b), _cond, _n(3, 4), _n(4), name="broadcast")
case(
    "where", lambda c, a, b: ops.where(c, a, b), _rng.random((3, 4)) > 0.5, XT, X, name="transposed"
)
case("where", lambda c, a: ops.where(c, a, 0.0), _rng.random((5,)) > 0.5, _n(5), name="scalar b")
_cm = _rng.random((3, 4)) > 0.5
case("where", lambda c, a, b: ops.where(c, a, b), _cm, X, X, name="same array twice")
_clip_x = np.array([[-2.0, -0.8, -0.3, 0.1], [0.45, 0.9, 1.7, -1.1], [0.2, -0.55, 2.5, 0.0]])
case("clip", lambda a: ops.clip(a, min=-0.5, max=0.6), _clip_x, name="both bounds")
case("clip", lambda a: ops.clip(a, min=-0.5), _clip_x.T, name="min only, transposed")
case("clip", lambda a: ops.clip(a, max=0.6), _clip_x, name="max only")
case(
    "clip",
    lambda a: ops.clip(a, min=np.array([-1.0, 0.0, -0.5, -0.25]), max=1.0),
    _clip_x,
    name="array bound",
)

# -- unary math -------------------------------------------------------------------------------------
case("neg", lambda a: ops.neg(a), XT, name="transposed")
case("abs", lambda a: ops.abs(a), _away(3, 4), name="away from 0")
case("exp", lambda a: ops.exp(a), XT, name="transposed")
case("log", lambda a: ops.log(a), _pos(3, 4), name="positive")
case("log1p", lambda a: ops.log1p(a), _rng.uniform(-0.5, 2.0, (3, 4)), name="above -1")
case("sqrt", lambda a: ops.sqrt(a), _pos(4, 3).T, name="positive transposed")
case("square", lambda a: ops.square(a), X, name="plain")
case("exp", lambda a, b: ops.add(ops.exp(a), ops.mul(a, b)), X, X, name="same array twice")
case("sign", lambda a: ops.sign(a), _away(3, 4), name="no gradient", non_differentiable=True)
case(
    "cast",
    lambda a: ops.mul(ops.cast(a, dtype="float32"), 3.0),
    _n(3, 4),
    name="float64 to float32",
    eps=1e-2,
    atol=1e-4,
)
case("cast", lambda a: ops.cast(a, dtype="float64"), XT, name="float64 to float64 transposed")
case("cast", lambda a: ops.cast(a, dtype="int64"), _n(3), name="to int64", non_differentiable=True)
for _op in ("less", "less_equal", "greater", "greater_equal", "equal", "not_equal"):
    _f = getattr(ops, _op)
    case(
        _op, lambda a, b, f=_f: f(a, b), _n(3, 1), _n(4), name="broadcast", non_differentiable=True
    )

# -- activations ------------------------------------------------------------------------------------
case("relu", lambda a: ops.relu(a), _away(3, 4), name="away from 0")
case("relu", lambda a: ops.relu(a), _away(4, 3).T, name="transposed")
case("leaky_relu", lambda a: ops.leaky_relu(a, negative_slope=0.2), _away(3, 4), name="slope 0.2")
case("leaky_relu", lambda a: ops.leaky_relu(a), _away(4, 3).T, name="default transposed")
case("elu", lambda a: ops.elu(a, alpha=1.5), _away(3, 4), name="alpha 1.5")
case("gelu", lambda a: ops.gelu(a), _n(3, 4) * 2, name="exact")
case("gelu", lambda a: ops.gelu(a, approximate="tanh"), _n(4, 3).T * 2, name="tanh transposed")
case(
    "gelu",
    lambda a: ops.gelu(a),
    np.array([-9.0, -6.0, -3.0, -1.0, -0.5, 0.5, 1.0, 3.0, 9.0]),
    name="tails",
)
case("silu", lambda a: ops.silu(a), _n(3, 4) * 2, name="plain")
case(
    "sigmoid",
    lambda a: ops.sigmoid(a),
    np.array([-30.0, -5.0, -0.3, 0.0, 0.7, 4.0, 30.0]),
    name="wide range",
)
case("sigmoid", lambda a: ops.sigmoid(a), XT, name="transposed")
case("tanh", lambda a: ops.tanh(a), XT, name="transposed")
case("tanh", lambda a, b: ops.mul(ops.tanh(a), b), X, X, name="same array twice")
case(
    "softplus",
    lambda a: ops.softplus(a, beta=2.0, threshold=1.0),
    np.array([-3.0, -0.4, 0.1, 0.3, 0.7, 2.0]),
    name="both branches",
)
case("softplus", lambda a: ops.softplus(a), _n(3, 4) * 3, name="default")
case("lgamma", lambda a: ops.lgamma(a), _rng.uniform(0.05, 30.0, (3, 4)), name="positive")
case(
    "lgamma",
    lambda a: ops.lgamma(a),
    np.array([-3.7, -2.4, -1.5, -0.6, -0.2, 0.3, 0.55, 9.9, 10.2]),
    name="reflection and shift edges",
)

# -- reductions -------------------------------------------------------------------------------------
for _op in ("sum", "mean"):
    _f = getattr(ops, _op)
    case(_op, lambda a, f=_f: f(a), XT, name="all axes transposed")
    case(_op, lambda a, f=_f: f(a, axis=1), _n(2, 3, 4), name="axis 1")
    case(_op, lambda a, f=_f: f(a, axis=(0, -1), keepdims=True), _n(2, 3, 4), name="axes keepdims")
    case(_op, lambda a, b, f=_f: f(ops.mul(a, b), axis=-1), X, X, name="same array twice")
for _op in ("max", "min"):
    _f = getattr(ops, _op)
    case(_op, lambda a, f=_f: f(a), _distinct(3, 4), name="all axes")
    case(_op, lambda a, f=_f: f(a, axis=0), _distinct(4, 3).T, name="axis 0 transposed")
    case(
        _op,
        lambda a, f=_f: f(a, axis=(1, 2), keepdims=True),
        _distinct(2, 3, 4),
        name="axes keepdims",
    )
for _op in ("var", "std"):
    _f = getattr(ops, _op)
    case(_op, lambda a, f=_f: f(a), XT, name="all axes transposed")
    case(_op, lambda a, f=_f: f(a, axis=1, correction=0), _n(2, 3, 4), name="axis 1 correction 0")
    case(_op, lambda a, f=_f: f(a, axis=(0, 2), keepdims=True), _n(2, 3, 4), name="axes keepdims")
case("logsumexp", lambda a: ops.logsumexp(a), XT, name="all axes transposed")
case(
    "logsumexp",
    lambda a: ops.logsumexp(a, axis=-1, keepdims=True),
    _n(2, 3, 4) * 5,
    name="last axis",
)
case("logsumexp", lambda a: ops.logsumexp(a, axis=(0, 1)), _n(2, 3, 4), name="two axes")
case("softmax", lambda a: ops.softmax(a), _n(2, 3, 4) * 3, name="last axis")
case("softmax", lambda a: ops.softmax(a, axis=0), XT, name="axis 0 transposed")
case("log_softmax", lambda a: ops.log_softmax(a), _n(2, 3, 4) * 3, name="last axis")
case("log_softmax", lambda a: ops.log_softmax(a, axis=1), XT, name="axis 1 transposed")
case("softmax", lambda a, b: ops.softmax(ops.add(a, b)), X, X, name="same array twice")

# -- linear algebra ----------------------------------------------------------------------------------
_mm = lambda a, b: ops.matmul(a, b)  # noqa: E731
case("matmul", _mm, _n(3, 4), _n(4, 2), name="2-d")
case("matmul", _mm, _n(2, 3, 4), _n(4, 5), name="batch x matrix")
case("matmul", _mm, _n(1, 3, 4), _n(2, 1, 4, 2), name="broadcast batch")
case("matmul", _mm, _n(3, 4), _n(2, 4, 2), name="matrix x batch")
case("matmul", _mm, _n(4), _n(4, 3), name="vector x matrix")
case("matmul", _mm, _n(3, 4), _n(4), name="matrix x vector")
case("matmul", _mm, _n(4), _n(4), name="vector x vector")
case("matmul", _mm, _n(4), _n(2, 4, 3), name="vector x batch")
case("matmul", _mm, _n(2, 3, 4), _n(4), name="batch x vector")
case("matmul", _mm, _n(4, 3).T, _n(2, 4).T, name="transposed operands")
_SQ = _n(3, 3)
case("matmul", _mm, _SQ, _SQ, name="same array twice")
case(
    "linear",
    lambda x, w, b: ops.linear(x, w, b),
    _n(2, 3, 4),
    _n(5, 4),
    _n(5),
    name="3-d x with bias",
)
case("linear", lambda x, w: ops.linear(x, w), _n(3, 4), _n(5, 4), name="no bias")
case("linear", lambda x, w, b: ops.linear(x, w, b), _n(4), _n(5, 4), _n(5), name="1-d x")
case(
    "linear",
    lambda x, w, b: ops.linear(x, w, b),
    _n(4, 3).T,
    _n(4, 5).T,
    _n(5),
    name="transposed x and weight",
)
_LW = _n(4, 4)
case("linear", lambda x, w: ops.linear(x, w), _LW, _LW, name="same array twice")

# -- shape --------------------------------------------------------------------------------------------
case("reshape", lambda a: ops.reshape(a, shape=(2, -1)), XT, name="transposed to (2, -1)")
case("reshape", lambda a: ops.reshape(a, shape=(4, 1, 3)), X, name="insert axis")
case("transpose", lambda a: ops.transpose(a), _n(2, 3, 4), name="reverse")
case("transpose", lambda a: ops.transpose(a, axes=(1, 2, 0)), _n(2, 3, 4), name="permutation")
case("transpose", lambda a, b: ops.mul(ops.transpose(a), b), _SQ, _SQ, name="same array twice")
case(
    "broadcast_to",
    lambda a: ops.broadcast_to(a, shape=(2, 3, 4)),
    _n(3, 1),
    name="(3,1) to (2,3,4)",
)
case("broadcast_to", lambda a: ops.broadcast_to(a, shape=(3, 4)), _n(4, 1).T, name="transposed row")
case("expand", lambda a: ops.expand(a, shape=(2, -1, 4)), _n(3, 1), name="-1 keeps")
case("squeeze", lambda a: ops.squeeze(a), _n(1, 3, 1, 2), name="all")
case("squeeze", lambda a: ops.squeeze(a, axis=(0, 1)), _n(1, 3, 1), name="axis list incl. non-1")
case("unsqueeze", lambda a: ops.unsqueeze(a, axis=-1), XT, name="last transposed")
case("unsqueeze", lambda a: ops.unsqueeze(a, axis=0), _n(3), name="first")
case("concat", lambda a, b: ops.concat(a, b, axis=1), _n(3, 2), XT, name="transposed piece")
case("concat", lambda a, b: ops.concat(a, b, a, axis=0), X, _n(1, 4), name="same array twice")
case("stack", lambda a, b: ops.stack(a, b, axis=1), _n(3, 4), XT, name="axis 1")
case("stack", lambda a: ops.stack(a, a, axis=-1), _n(2, 3), name="same tensor twice")
case("split", lambda a: ops.split(a, sections=2, axis=1), XT, name="2 equal, transposed")
case("split", lambda a: ops.split(a, sections=[1, 2], axis=0), _n(3, 2), name="sizes")
case("split", lambda a: ops.split(a, sections=3, axis=0)[1], _n(3, 2), name="one piece used")
case(
    "getitem",
    lambda a: ops.getitem(a, index=(slice(1, None), slice(None, None, -2))),
    _n(3, 4),
    name="slices",
)
case("getitem", lambda a: ops.getitem(a, index=(Ellipsis, None, 1)), XT, name="ellipsis none int")
case(
    "getitem",
    lambda a: ops.getitem(a, index=np.array([2, 0, 2, 2])),
    _n(3, 4),
    name="repeated rows",
)
case(
    "getitem",
    lambda a: ops.getitem(a, index=(np.array([[0, 1], [1, 1]]), np.array([3, 3]))),
    _n(2, 4),
    name="paired arrays with repeats",
)
case("getitem", lambda a: ops.getitem(a, index=(slice(None), [0, 0, 3])), X, name="list on axis 1")
case("getitem", lambda a, m: ops.getitem(a, index=m), X, X > 0, name="bool mask")
case("pad", lambda a: ops.pad(a, pad_width=((1, 0), (2, 3))), XT, name="per axis transposed")
case("pad", lambda a: ops.pad(a, pad_width=1, value=2.0), _n(2, 3), name="int value 2")
case("flip", lambda a: ops.flip(a, axis=1), XT, name="axis 1 transposed")
case("flip", lambda a: ops.flip(a, axis=(0, 2)), _n(2, 3, 2), name="two axes")
case(
    "gather",
    lambda a, i: ops.gather(a, i, axis=1),
    _n(3, 4),
    np.array([[0, 0, 3], [1, 2, 1], [3, 3, 3]]),
    name="axis 1 repeats",
)
case(
    "gather",
    lambda a, i: ops.gather(a, i, axis=0),
    XT,
    np.array([[2, 0, 1], [2, 2, 0]]),
    name="axis 0 smaller index, transposed",
)
