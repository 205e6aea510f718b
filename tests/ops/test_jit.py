"""The ``jit`` extra: the compiled kernels compute what the numpy paths compute, are used only where
they apply, and can be turned off."""

from __future__ import annotations

import math

import numpy as np
import pytest

from swets_core import GradientTape, Parameter, Tensor, ops
from swets_core.errors import ShapeError
from swets_ops import jit
from swets_ops.fused_lstm import lstm_stack_infer

numba = pytest.importorskip("numba")

# These tests check the compiled kernels, which SWETS_JIT=0 turns off for the whole process.
needs_jit = pytest.mark.skipif(
    not jit.enabled(), reason="SWETS_JIT disables the compiled kernels these tests check"
)


def _stack(rng, layers, n_in, hidden, dtype, bias=True):
    weights = []
    k = 1.0 / np.sqrt(hidden)
    for layer in range(layers):
        cols = n_in if layer == 0 else hidden
        w_ih = rng.uniform(-k, k, (4 * hidden, cols)).astype(dtype)
        w_hh = rng.uniform(-k, k, (4 * hidden, hidden)).astype(dtype)
        b_ih = rng.uniform(-k, k, 4 * hidden).astype(dtype) if bias else None
        b_hh = rng.uniform(-k, k, 4 * hidden).astype(dtype) if bias else None
        weights.append((w_ih, w_hh, b_ih, b_hh))
    return weights


@needs_jit
def test_the_kernels_are_used_when_numba_is_installed(monkeypatch) -> None:
    assert jit.kernels() is not None
    assert jit.status().startswith("on (numba ")
    monkeypatch.setenv("SWETS_JIT", "0")
    assert jit.kernels() is None and not jit.enabled()
    assert jit.status() == "off (SWETS_JIT is set to disable it)"


@needs_jit
def test_warm_up_loads_every_kernel_and_respects_the_switch(monkeypatch) -> None:
    assert jit.warm_up() is True
    kernels = jit.kernels()
    for name in ("lstm_layer", "lstm_step_f32", "lstm_backward_step_f32"):
        assert getattr(kernels, name).signatures, name  # compiled (or loaded from the cache)
    monkeypatch.setenv("SWETS_JIT", "off")
    assert jit.warm_up() is False


@needs_jit
def test_float32_tanh_approximation_is_accurate_everywhere() -> None:
    kernels = jit.kernels()
    x = np.concatenate(
        [
            np.linspace(-12.0, 12.0, 200_001),
            [0.0, -0.0, 1e-30, -1e-30, 8.99, 9.0, 9.01, 1e30, -1e30, np.inf, -np.inf, np.nan],
        ]
    ).astype(np.float32)
    out = np.empty_like(x)
    kernels.tanh32_array(x, out)
    want = np.tanh(x.astype(np.float64))
    finite = ~np.isnan(x)
    assert np.abs(out[finite] - want[finite]).max() < 4e-7
    small = finite & (np.abs(x) < 0.5) & (x != 0)
    assert (np.abs(out[small] - want[small]) / np.abs(want[small])).max() < 3e-7
    assert np.isnan(out[-1]) and out[-3] == 1.0 and out[-2] == -1.0
    assert np.all(np.abs(out[finite]) <= 1.0)
    assert np.array_equal(np.sign(out[finite]), np.sign(want[finite]))  # odd, no sign flips


@needs_jit
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("batch", "layers", "hidden", "bias", "states"),
    [
        (1, 1, 8, True, False),
        (1, 2, 16, True, True),
        (2, 3, 5, False, True),
        (1, 2, 7, True, False),
    ],
)
def test_compiled_stack_equals_the_numpy_path(
    monkeypatch, dtype, batch, layers, hidden, bias, states
) -> None:
    rng = np.random.default_rng(batch * 100 + layers * 10 + hidden)
    n_in, length = 3, 11
    weights = _stack(rng, layers, n_in, hidden, dtype, bias)
    x = rng.standard_normal((length, batch, n_in)).astype(dtype).transpose(1, 0, 2)  # a view
    h0 = c0 = None
    if states:
        h0 = rng.standard_normal((layers, batch, hidden)).astype(dtype)
        c0 = rng.standard_normal((layers, batch, hidden)).astype(dtype)
    h0_copy = None if h0 is None else h0.copy()
    got = lstm_stack_infer(x, weights, h0, c0)
    monkeypatch.setenv("SWETS_JIT", "0")
    want = lstm_stack_infer(x, weights, h0, c0)
    tol = 2e-6 if dtype == "float32" else 1e-12
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)
    if h0 is not None:
        np.testing.assert_array_equal(h0, h0_copy)  # the caller's states are not overwritten


def test_compiled_lstm_op_equals_the_recorded_op() -> None:
    rng = np.random.default_rng(5)
    ((w_ih, w_hh, b_ih, b_hh),) = _stack(rng, 1, 4, 6, "float32")
    x = rng.standard_normal((1, 9, 4)).astype(np.float32)
    h0 = rng.standard_normal((1, 6)).astype(np.float32)
    c0 = rng.standard_normal((1, 6)).astype(np.float32)
    free = [t.numpy() for t in ops.lstm(x, h0, c0, w_ih, w_hh, b_ih, b_hh)]
    with GradientTape(watch=[Tensor(x)]):
        recorded = [t.numpy() for t in ops.lstm(Tensor(x), h0, c0, w_ih, w_hh, b_ih, b_hh)]
    for a, b in zip(free, recorded):
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=2e-6)


@needs_jit
def test_larger_batches_keep_the_numpy_path(monkeypatch) -> None:
    calls = []
    kernels = jit.kernels()
    real = kernels.lstm_layer

    def spy(*args):
        calls.append(args[0].shape[0])
        return real(*args)

    monkeypatch.setattr(kernels, "lstm_layer", spy)
    rng = np.random.default_rng(0)
    weights = _stack(rng, 2, 3, 4, "float32")
    for batch in (1, jit.LSTM_MAX_BATCH, jit.LSTM_MAX_BATCH + 1, 16):
        lstm_stack_infer(rng.standard_normal((batch, 5, 3)).astype(np.float32), weights)
    assert calls == [1, 1, jit.LSTM_MAX_BATCH, jit.LSTM_MAX_BATCH]  # two layers each


def test_bad_input_is_rejected_before_any_kernel_runs() -> None:
    rng = np.random.default_rng(1)
    weights = _stack(rng, 2, 3, 4, "float32")
    with pytest.raises(ShapeError, match="lstm: w_ih"):
        lstm_stack_infer(np.zeros((1, 5, 2), np.float32), weights)
    with pytest.raises(ShapeError, match=r"lstm: h0 must have shape \(2, 1, 4\)"):
        lstm_stack_infer(np.zeros((1, 5, 3), np.float32), weights, np.zeros((1, 1, 4), np.float32))


@needs_jit
@pytest.mark.parametrize("with_gy", [True, False])
def test_recorded_float32_lstm_with_kernels_equals_the_numpy_path(monkeypatch, with_gy) -> None:
    rng = np.random.default_rng(7)
    ((w_ih, w_hh, b_ih, b_hh),) = _stack(rng, 1, 3, 8, "float32")
    x = rng.standard_normal((4, 12, 3)).astype(np.float32)
    h0 = rng.standard_normal((4, 8)).astype(np.float32)
    c0 = rng.standard_normal((4, 8)).astype(np.float32)
    weights = [Parameter(a) for a in (w_ih, w_hh, b_ih, b_hh)]

    def run():
        xt, h0t, c0t = Tensor(x), Tensor(h0), Tensor(c0)
        with GradientTape(watch=[xt, h0t, c0t]) as tape:
            y, h_n, c_n = ops.lstm(xt, h0t, c0t, *weights)
            loss = ops.sum(ops.square(h_n)) + ops.sum(c_n)
            if with_gy:
                loss = loss + ops.sum(ops.mul(y, y))
        grads = tape.backward(loss)
        return [y.numpy(), h_n.numpy(), c_n.numpy()], [
            grads[t.id].numpy() for t in (xt, h0t, c0t, *weights)
        ]

    outs, grads = run()
    monkeypatch.setenv("SWETS_JIT", "0")
    want_outs, want_grads = run()
    for got, want in zip(outs, want_outs):
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-6)
    for got, want in zip(grads, want_grads):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@needs_jit
def test_float32_exp_is_within_an_ulp_down_to_the_smallest_normal() -> None:
    kernels = jit.kernels()
    tiny_log = np.float32(np.log(np.finfo(np.float32).tiny))
    x = np.concatenate(
        [
            np.linspace(-120.0, 0.0, 400_001),
            -np.logspace(-40, 2, 4_001),
            [0.0, -0.0, tiny_log, -np.inf, np.nan],
        ]
    ).astype(np.float32)
    out = np.empty_like(x)
    kernels.exp32_array(x, out)
    want = np.exp(x.astype(np.float64))
    normal = x >= np.float32(-87.336544)  # ln(2 ** -126), rounded to float32
    ulp = np.spacing(want[normal].astype(np.float32)).astype(np.float64)
    assert (np.abs(out[normal] - want[normal]) / ulp).max() <= 1.0
    assert np.all(out[~normal & ~np.isnan(x)] == 0.0)  # below: 0, never garbage
    assert np.all(out[x == 0.0] == 1.0)
    assert np.isnan(out[-1])


def _gelu_inputs(rng) -> np.ndarray:
    return np.concatenate(
        [
            rng.standard_normal(50_000) * 4,
            np.linspace(-30.0, 30.0, 6_001),
            [0.0, -0.0, 1e-30, -1e-30, 19.99, 20.0, 20.01, 1e30, -1e30, np.inf, -np.inf, np.nan],
        ]
    ).astype(np.float32)


@needs_jit
def test_compiled_gelu_equals_the_numpy_path(monkeypatch) -> None:
    x = _gelu_inputs(np.random.default_rng(3)).reshape(3, -1)
    got = ops.gelu(x).numpy()  # nothing records: the compiled kernel
    monkeypatch.setenv("SWETS_JIT", "0")
    want = ops.gelu(x).numpy()
    assert got.dtype == np.float32 and got.shape == x.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=3e-7)
    assert np.array_equal(np.isnan(got), np.isnan(want))  # NaN and -inf give NaN
    assert np.array_equal(got[np.isinf(x)], want[np.isinf(x)], equal_nan=True)
    finite = np.isfinite(x)
    x64 = x[finite].astype(np.float64)
    exact = x64 * 0.5 * np.vectorize(math.erfc)(-x64 / math.sqrt(2))
    np.testing.assert_allclose(got[finite], exact, rtol=0, atol=2e-6)  # 20 * 0.75e-7 at most


@needs_jit
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("weight", "bias"), [(True, True), (True, False), (False, True), (False, False)]
)
def test_compiled_layer_norm_equals_the_numpy_path(monkeypatch, dtype, weight, bias) -> None:
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((3, 5, 37)) * 3 + 2).astype(dtype)[:, ::2]  # a strided view
    w = rng.standard_normal(37).astype(dtype) if weight else None
    b = rng.standard_normal(37).astype(dtype) if bias else None
    got = ops.layer_norm(x, w, b, eps=1e-5).numpy()
    monkeypatch.setenv("SWETS_JIT", "0")
    want = ops.layer_norm(x, w, b, eps=1e-5).numpy()
    assert got.dtype == x.dtype and got.shape == x.shape
    tol = 2e-6 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    x64 = x.astype(np.float64)
    ref = (x64 - x64.mean(-1, keepdims=True)) / np.sqrt(x64.var(-1, keepdims=True) + 1e-5)
    ref = ref * (1.0 if w is None else w) + (0.0 if b is None else b)
    np.testing.assert_allclose(got, ref, rtol=tol * 5, atol=tol * 5)


@needs_jit
def test_compiled_layer_norm_over_two_dimensions_and_constant_rows(monkeypatch) -> None:
    x = np.random.default_rng(12).standard_normal((4, 3, 6)).astype(np.float32)
    x[1] = 7.0  # a constant row: xc = 0, output = bias
    w = np.full((3, 6), 2.0, np.float32)
    b = np.arange(18, dtype=np.float32).reshape(3, 6)
    got = ops.layer_norm(x, w, b, normalized_ndim=2).numpy()
    monkeypatch.setenv("SWETS_JIT", "0")
    want = ops.layer_norm(x, w, b, normalized_ndim=2).numpy()
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-6)
    np.testing.assert_array_equal(got[1], b)


def _attention_inputs(rng, mask_kind):
    q = rng.standard_normal((2, 4, 5, 8)).astype(np.float32)
    k = rng.standard_normal((2, 4, 9, 8)).astype(np.float32) * 3
    v = rng.standard_normal((2, 4, 9, 6)).astype(np.float32)
    mask = None
    if mask_kind == "bool":
        mask = rng.random((5, 9)) > 0.3
        mask[2] = False  # a fully masked row: output 0
    elif mask_kind == "float":
        mask = rng.standard_normal((2, 1, 5, 9)).astype(np.float32)
        mask[0, 0, 1] = -np.inf
        mask[1, 0, 3, :4] = -np.inf
    elif mask_kind == "large":
        q = q * 40  # scores beyond exp's range without the shift
    return q, k, v, mask


@needs_jit
@pytest.mark.parametrize("mask_kind", [None, "bool", "float", "large"])
def test_compiled_softmax_of_attention_equals_the_recorded_path(mask_kind) -> None:
    q, k, v, mask = _attention_inputs(np.random.default_rng(13), mask_kind)
    free = ops.scaled_dot_product_attention(q, k, v, mask).numpy()  # the compiled softmax
    with GradientTape(watch=[Tensor(q)]):
        recorded = ops.scaled_dot_product_attention(Tensor(q), k, v, mask).numpy()
    assert np.isfinite(free).all()
    np.testing.assert_allclose(free, recorded, rtol=2e-6, atol=2e-6)
    s = np.einsum("bhle,bhse->bhls", q.astype(np.float64), k.astype(np.float64)) / math.sqrt(8)
    if mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == bool else s + mask
    m = s.max(-1, keepdims=True)
    p = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    denom = p.sum(-1, keepdims=True)
    want = (p / np.where(denom > 0, denom, 1.0)) @ v.astype(np.float64)
    np.testing.assert_allclose(free, want, rtol=1e-5, atol=1e-5)


@needs_jit
def test_warm_up_loads_the_transformer_kernels() -> None:
    assert jit.warm_up() is True
    kernels = jit.kernels()
    for name in ("gelu32", "layer_norm_rows", "softmax_rows32"):
        assert getattr(kernels, name).signatures, name
