"""Forward results of the non-fused ops against numpy's own definitions, plus dtype rules,
tie handling, gradient values at special points and the Tensor-operator/functional entry points."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest

from swets_core import GradientTape, Parameter, Tensor, ops
from swets_ops.elementwise import erfc

rng = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def _generator_per_test(request) -> None:
    """Each test draws from its own stream, seeded by its name: its data does not depend on which
    tests ran before it (a test run alone, with -k, sees what it sees in the whole suite)."""
    global rng
    rng = np.random.default_rng(zlib.crc32(request.node.name.encode()))


X = rng.standard_normal((3, 4))
Y = rng.standard_normal((3, 4))
POS = rng.uniform(0.5, 2.0, (3, 4))


def run(name: str, *inputs, **attrs):
    out = getattr(ops, name)(
        *[Tensor(i) if isinstance(i, np.ndarray) else i for i in inputs], **attrs
    )
    if isinstance(out, tuple):
        return [o.numpy() for o in out]
    return out.numpy()


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _gelu_exact(x):
    return np.array([v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x.ravel()]).reshape(
        x.shape
    )


UNARY = [
    ("neg", {}, X, lambda x: -x),
    ("abs", {}, X, np.abs),
    ("exp", {}, X, np.exp),
    ("log", {}, POS, np.log),
    ("log1p", {}, POS, np.log1p),
    ("sqrt", {}, POS, np.sqrt),
    ("square", {}, X, np.square),
    ("sign", {}, X, np.sign),
    ("relu", {}, X, lambda x: np.maximum(x, 0)),
    ("leaky_relu", {"negative_slope": 0.1}, X, lambda x: np.where(x > 0, x, 0.1 * x)),
    ("elu", {"alpha": 0.5}, X, lambda x: np.where(x > 0, x, 0.5 * (np.exp(x) - 1))),
    ("gelu", {}, X * 3, _gelu_exact),
    (
        "gelu",
        {"approximate": "tanh"},
        X * 3,
        lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
    ),
    ("silu", {}, X, lambda x: x * _sigmoid(x)),
    ("sigmoid", {}, X * 10, _sigmoid),
    ("tanh", {}, X, np.tanh),
    ("softplus", {}, X * 10, lambda x: np.where(x > 20, x, np.log1p(np.exp(x)))),
    (
        "softplus",
        {"beta": 2.0, "threshold": 3.0},
        X * 3,
        lambda x: np.where(2 * x > 3, x, np.log1p(np.exp(2 * x)) / 2),
    ),
    ("lgamma", {}, X * 4, lambda x: np.vectorize(math.lgamma)(x)),
    ("lgamma", {}, np.exp(X * 5), lambda x: np.vectorize(math.lgamma)(x)),
    ("clip", {"min": -0.5, "max": 0.3}, X, lambda x: np.clip(x, -0.5, 0.3)),
    ("clip", {"min": -0.5}, X, lambda x: np.maximum(x, -0.5)),
]


@pytest.mark.parametrize(
    ("name", "attrs", "x", "ref"), UNARY, ids=lambda v: v if isinstance(v, str) else ""
)
def test_unary_matches_numpy(name, attrs, x, ref) -> None:
    np.testing.assert_allclose(run(name, x, **attrs), ref(x), rtol=1e-12, atol=1e-14)


BINARY = [
    ("add", np.add),
    ("sub", np.subtract),
    ("mul", np.multiply),
    ("div", np.divide),
    ("maximum", np.maximum),
    ("minimum", np.minimum),
    ("less", np.less),
    ("less_equal", np.less_equal),
    ("greater", np.greater),
    ("greater_equal", np.greater_equal),
    ("equal", np.equal),
    ("not_equal", np.not_equal),
]


@pytest.mark.parametrize(("name", "ref"), BINARY, ids=[b[0] for b in BINARY])
def test_binary_matches_numpy_with_broadcasting(name, ref) -> None:
    a, b = X[:, :1], Y[0]
    b = b.copy()
    b[0] = a[0, 0]  # one tie for the comparisons
    np.testing.assert_array_equal(run(name, a, b), ref(a, b))


def test_pow_and_where() -> None:
    np.testing.assert_allclose(run("pow", POS, X), POS**X, rtol=1e-14)
    cond = X > 0
    np.testing.assert_array_equal(run("where", cond, X, Y[0]), np.where(cond, X, Y[0]))


REDUCTIONS = [
    ("sum", {}, lambda x: np.sum(x)),
    ("sum", {"axis": (0, 2), "keepdims": True}, lambda x: np.sum(x, axis=(0, 2), keepdims=True)),
    ("mean", {"axis": -1}, lambda x: np.mean(x, axis=-1)),
    ("max", {"axis": 1}, lambda x: np.max(x, axis=1)),
    ("min", {}, lambda x: np.min(x)),
    ("var", {}, lambda x: np.var(x, ddof=1)),
    ("var", {"axis": 1, "correction": 0}, lambda x: np.var(x, axis=1)),
    (
        "std",
        {"axis": (0, 1), "keepdims": True},
        lambda x: np.std(x, axis=(0, 1), ddof=1, keepdims=True),
    ),
    ("logsumexp", {"axis": 2}, lambda x: np.log(np.sum(np.exp(x), axis=2))),
    ("softmax", {"axis": 1}, lambda x: np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)),
    ("log_softmax", {}, lambda x: x - np.log(np.exp(x).sum(axis=-1, keepdims=True))),
]


@pytest.mark.parametrize(
    ("name", "attrs", "ref"), REDUCTIONS, ids=lambda v: v if isinstance(v, str) else ""
)
def test_reductions_match_numpy(name, attrs, ref) -> None:
    x = rng.standard_normal((2, 3, 4))
    got = run(name, x, **attrs)
    want = ref(x)
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_softmax_family_is_stable_for_large_inputs() -> None:
    x = np.array([[1000.0, 1001.0, 999.0], [-1e4, -1e4, -1e4]], dtype=np.float32)
    s = run("softmax", x)
    assert np.isfinite(s).all()
    np.testing.assert_allclose(s.sum(axis=-1), 1, rtol=1e-6)
    np.testing.assert_allclose(run("log_softmax", x), np.log(s), rtol=1e-5)
    np.testing.assert_allclose(
        run("logsumexp", x, axis=1), [1001.40760596, -1e4 + np.log(3)], rtol=1e-6
    )
    assert run("logsumexp", np.array([-np.inf, -np.inf]))[()] == -np.inf


def test_sigmoid_and_softplus_do_not_overflow() -> None:
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = run("sigmoid", x)
        sp = run("softplus", x)
    np.testing.assert_allclose(s, [0, 1.9287498e-22, 0.5, 1, 1], rtol=1e-6)
    np.testing.assert_allclose(sp, [0, 1.9287498e-22, np.log(2), 50, 1000], rtol=1e-6)


def test_erfc_matches_math_over_the_range() -> None:
    x = np.concatenate([np.linspace(-7, 7, 281), [-30.0, -8.0, 8.0, 8.5, 30.0, 0.0, 1.0, -1.0]])
    want = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(erfc(x), want, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(
        erfc(x.astype(np.float32)), want.astype(np.float32), rtol=1e-5, atol=1e-30
    )


def test_gelu_float32_tails_and_limits_match_float64() -> None:
    # the float32 path (Abramowitz-Stegun erfc in blocks) against the float64 one (Cephes), over
    # several blocks, both tails, signed zeros, infinities and NaN
    x = np.concatenate(
        [np.linspace(-30, 30, 70001), [-np.inf, np.inf, np.nan, -0.0, 0.0, 1e-30, -1e-30]]
    )
    p32, p64 = Parameter(x.astype(np.float32)), Parameter(x)
    with GradientTape() as tape:
        y32 = ops.gelu(p32)
    g32 = tape.backward(y32, grad=np.ones(x.shape, np.float32))[p32.id].numpy()
    with GradientTape() as tape, np.errstate(invalid="ignore"):
        y64 = ops.gelu(p64)
        g64 = tape.backward(y64, grad=np.ones(x.shape))[p64.id].numpy()
    fin = np.isfinite(x)
    ref = y64[fin].astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(y32.numpy()[fin], ref, rtol=2e-6, atol=3e-7)
    np.testing.assert_allclose(g32[fin], g64[fin], rtol=2e-6, atol=3e-7)
    # the documented values at the infinities and NaN, in both dtypes: gelu(inf) = inf (the limit),
    # gelu(-inf) = -inf * Phi(-inf) = -inf * 0 = nan, gelu(nan) = nan. Not PyTorch's output, which
    # depends on the CPU: its float32 gelu(inf) is nan where oneDNN runs AVX-512 kernels, inf elsewhere
    for y in (y32.numpy(), y64.numpy()):
        np.testing.assert_array_equal(y[-7:-4], np.array([np.nan, np.inf, np.nan], y.dtype))
    # far negative tail: tiny negative values of the right size, not zero (no cancellation)
    tail = (x > -13) & (x < -6)
    assert np.all(y32.numpy()[tail] < 0)
    np.testing.assert_allclose(y32.numpy()[tail], y64[tail], rtol=0.05)
    assert y32.dtype.value == "float32"


def test_var_std_with_too_few_elements_give_nan_like_torch() -> None:
    with np.errstate(all="raise"):
        assert np.isnan(run("var", np.array([1.5])))
        assert np.isnan(run("std", np.array([[1.0, 2.0]]), axis=0)).all()


# -- linear algebra ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sa", "sb"),
    [
        ((3, 4), (4, 5)),
        ((2, 3, 4), (4, 5)),
        ((1, 3, 4), (2, 4, 2)),
        ((4,), (4, 3)),
        ((3, 4), (4,)),
        ((4,), (4,)),
        ((4,), (2, 4, 3)),
    ],
)
def test_matmul_matches_numpy(sa, sb) -> None:
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    got = run("matmul", a, b)
    np.testing.assert_allclose(got, a @ b, rtol=1e-12)
    assert got.shape == np.shape(a @ b)


def test_linear_matches_definition() -> None:
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)
    np.testing.assert_allclose(run("linear", x, w, b), x @ w.T + b, rtol=1e-12)
    np.testing.assert_allclose(run("linear", x[0, 0], w), w @ x[0, 0], rtol=1e-12)
    assert run("linear", x.astype(np.float32), w.astype(np.float32)).dtype == np.float32


def test_linear_backward_values() -> None:
    x = Parameter(rng.standard_normal((2, 3, 4)))
    w, b = Parameter(rng.standard_normal((5, 4))), Parameter(rng.standard_normal(5))
    g = rng.standard_normal((2, 3, 5))
    with GradientTape() as tape:
        y = ops.linear(x, w, b)
    grads = tape.backward(y, grad=g)
    np.testing.assert_allclose(grads[x.id].numpy(), g @ w.numpy(), rtol=1e-12)
    np.testing.assert_allclose(
        grads[w.id].numpy(), np.einsum("bto,bti->oi", g, x.numpy()), rtol=1e-12
    )
    np.testing.assert_allclose(grads[b.id].numpy(), g.sum(axis=(0, 1)), rtol=1e-12)


# -- shape ------------------------------------------------------------------------------------------


def test_shape_ops_match_numpy() -> None:
    x = rng.standard_normal((2, 3, 4))
    np.testing.assert_array_equal(run("reshape", x, shape=(4, -1)), x.reshape(4, -1))
    np.testing.assert_array_equal(run("transpose", x, axes=(2, 0, 1)), x.transpose(2, 0, 1))
    np.testing.assert_array_equal(run("transpose", x), x.T)
    np.testing.assert_array_equal(
        run("broadcast_to", x[:, :1], shape=(5, 2, 3, 4)), np.broadcast_to(x[:, :1], (5, 2, 3, 4))
    )
    assert run("expand", x[:, :1], shape=(-1, 6, -1)).shape == (2, 6, 4)
    assert run("squeeze", x[:, :1, None]).shape == (2, 4)
    assert run("squeeze", x[:1], axis=(0, 1)).shape == (3, 4)  # axis 1 has length 3: kept
    assert run("unsqueeze", x, axis=-1).shape == (2, 3, 4, 1)
    assert run("unsqueeze", x, axis=3).shape == (2, 3, 4, 1)
    np.testing.assert_array_equal(
        run("concat", x, x[:, :1], axis=1), np.concatenate([x, x[:, :1]], axis=1)
    )
    np.testing.assert_array_equal(run("stack", x, x, axis=-1), np.stack([x, x], axis=-1))
    pieces = run("split", x, sections=2, axis=2)
    assert [p.shape for p in pieces] == [(2, 3, 2), (2, 3, 2)]
    pieces = run("split", x, sections=[1, 0, 2], axis=1)
    assert [p.shape for p in pieces] == [(2, 1, 4), (2, 0, 4), (2, 2, 4)]
    np.testing.assert_array_equal(pieces[2], x[:, 1:])
    np.testing.assert_array_equal(run("getitem", x, index=(0, slice(None, None, -1))), x[0, ::-1])
    np.testing.assert_array_equal(
        run("pad", x, pad_width=((0, 0), (1, 2), (0, 1)), value=-1.0),
        np.pad(x, ((0, 0), (1, 2), (0, 1)), constant_values=-1.0),
    )
    np.testing.assert_array_equal(run("flip", x, axis=(0, 2)), x[::-1, :, ::-1])
    idx = np.array([[[0, 3], [1, 1]], [[2, 2], [3, 0]]])
    np.testing.assert_array_equal(
        run("gather", x, idx, axis=2), np.take_along_axis(x[:, :2], idx, axis=2)
    )


def test_functional_concat_accepts_a_list() -> None:
    a = Tensor(np.ones((2, 2)))
    assert ops.concat([a, a], axis=0).shape == (4, 2)
    assert ops.stack([a, a, a]).shape == (3, 2, 2)


def _grad(fn, x, g=None):
    p = Parameter(x)
    with GradientTape() as tape:
        y = fn(p)
    return tape.backward(y, grad=g)[p.id].numpy()


def test_getitem_accumulates_repeated_indices() -> None:
    x = np.zeros((3, 2))
    g = _grad(lambda p: p[np.array([0, 2, 0, 0])], x, np.ones((4, 2)))
    np.testing.assert_array_equal(g, [[3, 3], [0, 0], [1, 1]])
    g = _grad(lambda p: p[[1, 1], [0, 0]], x, np.array([2.0, 5.0]))
    np.testing.assert_array_equal(g, [[0, 0], [7, 0], [0, 0]])


def test_gather_accumulates_repeated_indices() -> None:
    g = _grad(
        lambda p: ops.gather(p, np.array([[1, 1, 1], [0, 2, 0]]), axis=1),
        np.zeros((2, 3)),
        np.ones((2, 3)),
    )
    np.testing.assert_array_equal(g, [[0, 3, 0], [2, 0, 1]])


# -- conventions ------------------------------------------------------------------------------------


def test_max_min_split_ties_evenly() -> None:
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    np.testing.assert_allclose(
        _grad(lambda p: ops.max(p, axis=1), x, np.array([1.0, 3.0])), [[0, 0.5, 0.5], [1, 1, 1]]
    )
    np.testing.assert_allclose(
        _grad(lambda p: ops.min(p), x, np.array(6.0)), [[6, 0, 0], [0, 0, 0]]
    )
    np.testing.assert_allclose(
        _grad(lambda p: ops.maximum(p, 2.0), x, np.ones((2, 3))), [[0, 1, 1], [0.5, 0.5, 0.5]]
    )
    np.testing.assert_allclose(
        _grad(lambda p: ops.minimum(p, 2.0), x, np.ones((2, 3))), [[1, 0, 0], [0.5, 0.5, 0.5]]
    )


def test_max_gradient_goes_to_nan() -> None:
    x = np.array([1.0, np.nan, 3.0])
    np.testing.assert_array_equal(_grad(lambda p: ops.max(p), x, np.array(1.0)), [0, 1, 0])


def test_kink_conventions_match_pytorch() -> None:
    z = np.array([0.0, -1.0, 1.0])
    np.testing.assert_array_equal(_grad(ops.relu, z, np.ones(3)), [0, 0, 1])
    np.testing.assert_array_equal(_grad(ops.abs, z, np.ones(3)), [0, -1, 1])
    np.testing.assert_allclose(
        _grad(lambda p: ops.leaky_relu(p, negative_slope=0.1), z, np.ones(3)), [0.1, 0.1, 1]
    )
    np.testing.assert_array_equal(
        _grad(lambda p: ops.clip(p, min=-1.0, max=0.0), z, np.ones(3)), [1, 1, 0]
    )
    np.testing.assert_array_equal(_grad(lambda p: ops.pow(p, 0.0), z, np.ones(3)), [0, 0, 0])
    # d/db of a**b at a == 0 is 0 for b >= 0
    b = Parameter(np.array([2.0, 0.5]))
    with GradientTape() as tape:
        y = ops.pow(np.zeros(2), b)
    np.testing.assert_array_equal(tape.backward(y, grad=np.ones(2))[b.id].numpy(), [0, 0])


def test_dtypes_follow_the_float32_default() -> None:
    f32 = Tensor(np.ones((2, 2), dtype=np.float32))
    i64 = Tensor(np.arange(4).reshape(2, 2))
    assert (f32 * 2.5).dtype.value == "float32"
    assert (i64 / 2).dtype.value == "float32"
    assert (i64 * 0.5).dtype.value == "float32"
    assert (i64 + 1).dtype.value == "int64"
    assert ops.exp(i64).dtype.value == "float32"
    assert ops.mean(i64).dtype.value == "float32"
    assert (f32 * np.ones(2, dtype=np.float64)).dtype.value == "float64"
    assert ops.sum(f32).numpy().shape == ()
    assert isinstance(ops.sum(f32).numpy(), np.ndarray)
    assert (f32 < 1).dtype.value == "bool"


def test_float32_parameter_gets_float32_gradient_through_cast() -> None:
    p = Parameter(np.ones(3, dtype=np.float32))
    with GradientTape() as tape:
        y = ops.sum(ops.cast(p, dtype="float64") * 2.0)
    g = tape.backward(y)[p.id]
    assert g.dtype.value == "float32"
    np.testing.assert_array_equal(g.numpy(), [2, 2, 2])


def test_integer_and_comparison_outputs_are_not_recorded() -> None:
    p = Parameter(np.array([1.5, -2.0]))
    with GradientTape() as tape:
        c = p > 0
        s = ops.sign(p)
        i = ops.cast(p, dtype="int64")
        m = ops.max(i)
    assert tape.op_names == []
    assert c.dtype.value == "bool" and i.dtype.value == "int64" and int(m.item()) == 1
    assert s.numpy().tolist() == [1.0, -1.0]


def test_tensor_operators_reach_the_ops() -> None:
    a = Parameter(np.array([[1.0, 2.0], [3.0, 4.0]]))
    with GradientTape() as tape:
        y = ((a @ a.T - 1.0) / 2.0 + (-a) ** 2.0 + abs(a))[0].sum()
    assert tape.op_names == [
        "transpose",
        "matmul",
        "sub",
        "div",
        "neg",
        "pow",
        "add",
        "abs",
        "add",
        "getitem",
        "sum",
    ]
    np.testing.assert_allclose(
        y.numpy(), ((np.array([[5, 11]]) - 1) / 2 + np.array([1, 4]) + np.array([1, 2])).sum()
    )
    assert tape.backward(y)[a.id].shape == (2, 2)


def test_lgamma_special_values_and_digamma() -> None:
    """Poles and infinities; the gradient is digamma: psi(1) = -Euler's gamma, the recurrence
    psi(x + 1) = psi(x) + 1 / x and the reflection psi(1 - x) - psi(x) = pi cot(pi x)."""
    from swets_ops.special import digamma

    out = run("lgamma", np.array([0.0, -1.0, -3.0, np.inf, -np.inf, np.nan]))
    assert np.all(out[:5] == np.inf) and np.isnan(out[5])
    np.testing.assert_allclose(
        run("lgamma", np.array([0.5])), [0.5 * math.log(math.pi)], rtol=1e-14
    )
    np.testing.assert_allclose(digamma(np.array([1.0])), [-0.5772156649015329], rtol=1e-14)
    x = np.array([0.01, 0.3, 1.7, 4.2, 9.5, 10.5, 55.0])
    np.testing.assert_allclose(digamma(x + 1), digamma(x) + 1 / x, rtol=1e-13, atol=1e-13)
    y = np.array([0.2, 0.45, 0.7, 0.9, 2.3, -1.6])
    np.testing.assert_allclose(
        digamma(1 - y) - digamma(y), math.pi / np.tan(math.pi * y), rtol=1e-12, atol=1e-12
    )
    assert np.isnan(digamma(np.array([0.0, -2.0]))).all()
