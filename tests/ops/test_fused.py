"""Behaviour of the fused ops: numpy references, one tape node each, state updates, dtypes, errors."""

from __future__ import annotations

import numpy as np
import pytest

from swets_core import GradientTape, Parameter, Tensor, no_grad, ops
from swets_core.errors import DTypeError, OpError, ShapeError, SwetsError


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(11)


# -- numpy references (direct, loop-based definitions) ---------------------------------------------
def conv1d_reference(x, w, b, stride, pad, dilation, groups):
    n = x.shape[0]
    o, cg, k = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), pad))
    lout = (xp.shape[2] - dilation * (k - 1) - 1) // stride + 1
    og = o // groups
    y = np.zeros((n, o, lout))
    for oc in range(o):
        g = oc // og
        for t in range(lout):
            for j in range(k):
                pos = t * stride + j * dilation
                y[:, oc, t] += xp[:, g * cg : (g + 1) * cg, pos] @ w[oc, :, j]
    return y + (0 if b is None else b[:, None])


def attention_reference(q, k, v, allowed):
    out = np.zeros((*q.shape[:-1], v.shape[-1]))
    for idx in np.ndindex(q.shape[:-2]):
        for i in range(q.shape[-2]):
            keep = allowed[i]
            if not keep.any():
                continue
            s = k[idx] @ q[idx][i] / np.sqrt(q.shape[-1])
            p = np.exp(s[keep] - s[keep].max())
            out[idx][i] = (p / p.sum()) @ v[idx][keep]
    return out


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# -- conv1d ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("stride", "pad", "dilation", "groups"),
    [(1, (0, 0), 1, 1), (2, (3, 1), 2, 1), (1, (4, 0), 2, 2), (3, (1, 1), 1, 4)],
)
def test_conv1d_matches_the_definition(rng, stride, pad, dilation, groups) -> None:
    x = rng.standard_normal((2, 4, 12))
    w = rng.standard_normal((8, 4 // groups, 3))
    b = rng.standard_normal(8)
    y = ops.conv1d(x, w, b, stride=stride, padding=pad, dilation=dilation, groups=groups)
    np.testing.assert_allclose(
        y.numpy(), conv1d_reference(x, w, b, stride, pad, dilation, groups), atol=1e-12
    )


def test_conv1d_padding_forms(rng) -> None:
    x, w = rng.standard_normal((1, 2, 9)), rng.standard_normal((3, 2, 4))
    same = ops.conv1d(x, w, padding="same", dilation=2).numpy()
    assert same.shape == (1, 3, 9)
    # total padding d * (K - 1) = 6, split 3 / 3
    np.testing.assert_allclose(same, ops.conv1d(x, w, padding=(3, 3), dilation=2).numpy())
    np.testing.assert_allclose(
        ops.conv1d(x, w, padding="valid").numpy(), ops.conv1d(x, w, padding=0).numpy()
    )
    np.testing.assert_allclose(
        ops.conv1d(x, w, padding=2).numpy(), ops.conv1d(x, w, padding=(2, 2)).numpy()
    )
    # unbatched input gives an unbatched output
    np.testing.assert_allclose(
        ops.conv1d(x[0], w, padding=1).numpy(), ops.conv1d(x, w, padding=1).numpy()[0]
    )


def test_conv1d_is_one_tape_node_and_keeps_float32(rng) -> None:
    x = Tensor(rng.standard_normal((2, 3, 10)).astype(np.float32))
    w = Parameter(rng.standard_normal((4, 3, 3)).astype(np.float32))
    b = Parameter(np.zeros(4, np.float32))
    with GradientTape() as tape:
        tape.watch(x)
        y = ops.conv1d(x, w, b, padding=(4, 0), dilation=2)
    assert tape.op_names == ["conv1d"]
    assert y.dtype.value == "float32" and y.shape == (2, 4, 10)
    grads = tape.backward(y)
    assert all(grads[t.id].dtype.value == "float32" for t in (x, w, b))
    assert grads[x.id].shape == x.shape and grads[w.id].shape == w.shape


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kwargs", "error", "needle"),
    [
        ((2, 3, 4), (5, 3, 3), {"dilation": 2}, ShapeError, "longer than the padded input"),
        ((2, 3, 4), (5, 3, 6), {"padding": (1, 0)}, ShapeError, "(2, 3, 4)"),
        ((2, 3, 8), (5, 2, 3), {}, ShapeError, "C_in"),
        ((2, 4, 8), (6, 2, 3), {"groups": 4}, ShapeError, "C_in"),
        ((2, 4, 8), (5, 2, 3), {"groups": 2}, ShapeError, "groups=2"),
        ((3, 8), (5, 3, 3, 1), {}, ShapeError, "weight"),
        ((2, 2, 3, 8), (5, 3, 3), {}, ShapeError, "(2, 2, 3, 8)"),
        ((2, 3, 8), (5, 3, 3), {"stride": 0}, OpError, "stride"),
        ((2, 3, 8), (5, 3, 3), {"padding": "full"}, OpError, "padding"),
        ((2, 3, 8), (5, 3, 3), {"padding": "same", "stride": 2}, OpError, "stride=1"),
        ((2, 3, 8), (5, 3, 3), {"padding": (-1, 0)}, OpError, "padding"),
    ],
)
def test_conv1d_rejects_bad_input(x_shape, w_shape, kwargs, error, needle) -> None:
    with pytest.raises(error) as info:
        ops.conv1d(np.zeros(x_shape), np.zeros(w_shape), **kwargs)
    assert "conv1d" in str(info.value) and needle in str(info.value)


def test_conv1d_rejects_bad_bias_and_dtypes() -> None:
    x, w = np.zeros((1, 2, 5)), np.zeros((3, 2, 2))
    with pytest.raises(ShapeError, match=r"conv1d: bias must have shape \(3,\)"):
        ops.conv1d(x, w, np.zeros(4))
    with pytest.raises(DTypeError, match=r"conv1d.*float32"):
        ops.conv1d(x.astype(np.float32), w)
    with pytest.raises(DTypeError, match="conv1d: x must be float"):
        ops.conv1d(np.zeros((1, 2, 5), dtype=np.int64), w)


# -- scaled_dot_product_attention ------------------------------------------------------------------
def test_attention_matches_the_definition_with_masks(rng) -> None:
    q, k, v = (
        rng.standard_normal((2, 4, 3)),
        rng.standard_normal((2, 5, 3)),
        rng.standard_normal((2, 5, 2)),
    )
    allowed = rng.random((4, 5)) > 0.5
    allowed[1] = False
    got = ops.scaled_dot_product_attention(q, k, v, allowed).numpy()
    np.testing.assert_allclose(got, attention_reference(q, k, v, allowed), atol=1e-12)
    # a float mask of 0 / -inf is the same as the boolean mask
    fmask = np.where(allowed, 0.0, -np.inf)
    np.testing.assert_allclose(
        ops.scaled_dot_product_attention(q, k, v, fmask).numpy(), got, atol=1e-12
    )
    causal = ops.scaled_dot_product_attention(q, k, v, is_causal=True).numpy()
    np.testing.assert_allclose(
        causal, attention_reference(q, k, v, np.tri(4, 5, dtype=bool)), atol=1e-12
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("lq", "lk", "e"),
    [(1, 6, 4), (6, 6, 4), (2, 3, 8), (9, 9, 2)],  # scores fewer or more than q and k together
)
@pytest.mark.parametrize("size", [0.5, 40.0, 400.0])
def test_attention_softmax_is_stable_for_every_score_size(rng, dtype, lq, lk, e, size) -> None:
    # scores from about 1 to far beyond exp's range: the unshifted and the shifted softmax paths
    q = rng.standard_normal((2, lq, e)) * size
    k = rng.standard_normal((2, lk, e))
    v = rng.standard_normal((2, lk, 3))
    want = attention_reference(q, k, v, np.ones((lq, lk), dtype=bool))
    tol = 1e-4 if dtype == "float32" else 1e-10
    qt, kt, vt = (Tensor(a.astype(dtype)) for a in (q, k, v))
    with no_grad():
        free = ops.scaled_dot_product_attention(qt, kt, vt).numpy()
    with GradientTape(watch=[qt]):
        recorded = ops.scaled_dot_product_attention(qt, kt, vt).numpy()
    for got in (free, recorded):
        assert got.dtype == dtype and np.isfinite(got).all()
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * max(1.0, np.abs(v).max()))


def test_attention_propagates_nan_inputs(rng) -> None:
    q = rng.standard_normal((1, 2, 4))
    q[0, 1, 2] = np.nan
    k = rng.standard_normal((1, 5, 4))
    v = rng.standard_normal((1, 5, 3))
    with no_grad():
        out = ops.scaled_dot_product_attention(q, k, v).numpy()
    assert np.isnan(out[0, 1]).all() and np.isfinite(out[0, 0]).all()


def test_attention_fully_masked_rows_are_zero_not_nan(rng) -> None:
    q = Tensor(rng.standard_normal((1, 3, 4)))
    k = Tensor(rng.standard_normal((1, 3, 4)))
    v = Tensor(rng.standard_normal((1, 3, 2)))
    mask = np.ones((3, 3), dtype=bool)
    mask[0] = False
    with GradientTape(watch=[q, k, v]) as tape:
        out = ops.scaled_dot_product_attention(q, k, v, mask)
    assert np.all(out.numpy()[0, 0] == 0.0) and np.isfinite(out.numpy()).all()
    grads = tape.backward(out)
    for t in (q, k, v):
        assert np.isfinite(grads[t.id].numpy()).all()
    assert np.all(grads[q.id].numpy()[0, 0] == 0.0)


def test_attention_dropout_is_reproducible_and_off_by_default(rng) -> None:
    q, k, v = (rng.standard_normal((2, 6, 4)) for _ in range(3))
    a = ops.scaled_dot_product_attention(q, k, v, dropout_p=0.5, rng=np.random.default_rng(3))
    b = ops.scaled_dot_product_attention(q, k, v, dropout_p=0.5, rng=np.random.default_rng(3))
    plain = ops.scaled_dot_product_attention(q, k, v)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.allclose(a.numpy(), plain.numpy())
    with pytest.raises(OpError, match="rng"):
        ops.scaled_dot_product_attention(q, k, v, dropout_p=0.5)


def test_attention_rejects_bad_input(rng) -> None:
    q, k, v = (
        rng.standard_normal((2, 4, 3)),
        rng.standard_normal((2, 5, 3)),
        rng.standard_normal((2, 5, 2)),
    )
    sdpa = ops.scaled_dot_product_attention
    with pytest.raises(ShapeError, match=r"scaled_dot_product_attention: q \(2, 4, 3\) and k"):
        sdpa(q, rng.standard_normal((2, 5, 4)), v)
    with pytest.raises(ShapeError, match="source length"):
        sdpa(q, k, rng.standard_normal((2, 6, 2)))
    with pytest.raises(ShapeError, match="do not broadcast"):
        sdpa(q, rng.standard_normal((3, 5, 3)), rng.standard_normal((3, 5, 2)))
    with pytest.raises(ShapeError, match=r"mask \(4, 4\)"):
        sdpa(q, k, v, np.ones((4, 4), dtype=bool))
    with pytest.raises(OpError, match="not both"):
        sdpa(q, k, v, np.ones((4, 5), dtype=bool), is_causal=True)
    with pytest.raises(DTypeError, match="mask must be bool"):
        sdpa(q, k, v, np.ones((4, 5), dtype=np.int64))
    with pytest.raises(ShapeError, match="at least 2-d"):
        sdpa(np.zeros(3), k, v)


# -- layer_norm -----------------------------------------------------------------------------------
def test_layer_norm_normalises_the_trailing_dims(rng) -> None:
    x = rng.standard_normal((3, 4, 5)) * 3.0 + 2.0
    y = ops.layer_norm(x, None, None, normalized_ndim=2, eps=0.0 + 1e-12).numpy()
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(1, 2)), 1.0, rtol=1e-9)
    w, b = rng.standard_normal(5), rng.standard_normal(5)
    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    want = (x - mu) / np.sqrt(var + 1e-5) * w + b
    np.testing.assert_allclose(ops.layer_norm(x, w, b).numpy(), want, atol=1e-12)


def test_layer_norm_rejects_bad_input() -> None:
    with pytest.raises(
        ShapeError, match=r"layer_norm: weight must have the normalized shape \(4,\)"
    ):
        ops.layer_norm(np.zeros((2, 4)), np.ones(3), np.zeros(4))
    with pytest.raises(ShapeError, match="fewer than normalized_ndim=3"):
        ops.layer_norm(np.zeros((2, 4)), normalized_ndim=3)
    with pytest.raises(OpError, match="eps"):
        ops.layer_norm(np.zeros((2, 4)), eps=-1.0)


# -- batch_norm -----------------------------------------------------------------------------------
def test_batch_norm_training_updates_running_stats_in_place(rng) -> None:
    x = rng.standard_normal((8, 3, 5)) * 2.0 + 1.0
    rm, rv = np.zeros(3), np.ones(3)
    rm_id, rv_id = id(rm), id(rv)
    w = Parameter(np.ones(3))
    with GradientTape():
        y = ops.batch_norm(
            x, w, None, running_mean=rm, running_var=rv, training=True, momentum=0.25
        )
    mean = x.mean(axis=(0, 2))
    unbiased = x.var(axis=(0, 2), ddof=1)
    np.testing.assert_allclose(rm, 0.25 * mean, rtol=1e-12)
    np.testing.assert_allclose(rv, 0.75 + 0.25 * unbiased, rtol=1e-12)
    assert id(rm) == rm_id and id(rv) == rv_id
    # normalised with the biased batch variance
    want = (x - mean[:, None]) / np.sqrt(x.var(axis=(0, 2))[:, None] + 1e-5)
    np.testing.assert_allclose(y.numpy(), want, atol=1e-12)


def test_batch_norm_updates_once_without_a_tape_and_buffers_as_tensors(rng) -> None:
    x = rng.standard_normal((4, 2))
    rm, rv = Tensor(np.zeros(2)), Tensor(np.ones(2))
    ops.batch_norm(x, None, None, running_mean=rm, running_var=rv, training=True, momentum=0.5)
    np.testing.assert_allclose(rm.numpy(), 0.5 * x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), 0.5 + 0.5 * x.var(0, ddof=1), rtol=1e-12)


def test_batch_norm_eval_uses_running_stats_and_leaves_them(rng) -> None:
    x = rng.standard_normal((5, 2, 3))
    rm, rv = np.array([0.5, -1.0]), np.array([2.0, 0.5])
    y = ops.batch_norm(
        x,
        np.array([2.0, 1.0]),
        np.array([0.0, 1.0]),
        running_mean=rm,
        running_var=rv,
        training=False,
    )
    want = (x - rm[:, None]) / np.sqrt(rv[:, None] + 1e-5) * np.array([2.0, 1.0])[
        :, None
    ] + np.array([0.0, 1.0])[:, None]
    np.testing.assert_allclose(y.numpy(), want, atol=1e-12)
    np.testing.assert_array_equal(rm, [0.5, -1.0])
    np.testing.assert_array_equal(rv, [2.0, 0.5])


def test_batch_norm_rejects_bad_input() -> None:
    with pytest.raises(ShapeError, match="more than 1 value per channel"):
        ops.batch_norm(np.zeros((1, 3)), training=True)
    with pytest.raises(ShapeError, match=r"batch_norm: x must be \(N, C\)"):
        ops.batch_norm(np.zeros(3), training=True)
    with pytest.raises(ShapeError, match=r"running_mean must have shape \(3,\)"):
        ops.batch_norm(
            np.zeros((4, 3)), running_mean=np.zeros(2), running_var=np.ones(3), training=True
        )
    with pytest.raises(ShapeError, match=r"weight must have shape \(3,\)"):
        ops.batch_norm(np.zeros((4, 3)), np.ones(4), training=True)
    with pytest.raises(OpError, match="both"):
        ops.batch_norm(np.zeros((4, 3)), running_mean=np.zeros(3), training=True)
    with pytest.raises(OpError, match="momentum"):
        ops.batch_norm(np.zeros((4, 3)), training=True, momentum=1.5)


# -- dropout --------------------------------------------------------------------------------------
def test_dropout_statistics_scaling_and_gradient() -> None:
    x = Tensor(np.ones((200, 500), dtype=np.float32))
    with GradientTape(watch=[x]) as tape:
        y = ops.dropout(x, p=0.3, rng=np.random.default_rng(0))
    data = y.numpy()
    assert data.dtype == np.float32
    kept = data != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(data[kept], 1.0 / 0.7, rtol=1e-6)
    g = tape.backward(y)[x.id].numpy()
    np.testing.assert_array_equal(g, data)  # gradient = mask / (1 - p)


def test_dropout_identity_and_reproducibility(rng) -> None:
    x = rng.standard_normal((4, 6))
    np.testing.assert_array_equal(ops.dropout(x, p=0.5, training=False).numpy(), x)
    np.testing.assert_array_equal(ops.dropout(x, p=0.0, rng=np.random.default_rng(0)).numpy(), x)
    np.testing.assert_array_equal(ops.dropout(x, p=1.0, rng=np.random.default_rng(0)).numpy(), 0.0)
    a = ops.dropout(x, p=0.5, rng=np.random.default_rng(9)).numpy()
    b = ops.dropout(x, p=0.5, rng=np.random.default_rng(9)).numpy()
    np.testing.assert_array_equal(a, b)


def test_dropout_mask_depends_on_the_generator_state_not_the_memory_layout() -> None:
    x = np.random.default_rng(1).standard_normal((4, 6, 5)).astype(np.float32)
    x_t = np.ascontiguousarray(x.transpose(0, 2, 1)).transpose(0, 2, 1)  # same values, other layout
    a = ops.dropout(x, p=0.3, rng=np.random.default_rng(7)).numpy()
    b = ops.dropout(x_t, p=0.3, rng=np.random.default_rng(7)).numpy()
    np.testing.assert_array_equal(a, b)
    kept = ops.dropout(np.ones(400_000, np.float32), p=0.1, rng=np.random.default_rng(0)).numpy()
    assert abs((kept != 0).mean() - 0.9) < 0.002


def test_dropout_rejects_bad_input() -> None:
    with pytest.raises(OpError, match=r"dropout: rng must be a numpy\.random\.Generator"):
        ops.dropout(np.ones(3), p=0.5)
    with pytest.raises(OpError, match=r"dropout: p must be in \[0, 1\]"):
        ops.dropout(np.ones(3), p=1.5, rng=np.random.default_rng(0))


# -- lstm / gru -----------------------------------------------------------------------------------
def _weights(rng, gates, n_in, hidden):
    return [
        rng.standard_normal((gates * hidden, n_in)) * 0.5,
        rng.standard_normal((gates * hidden, hidden)) * 0.5,
        rng.standard_normal(gates * hidden) * 0.5,
        rng.standard_normal(gates * hidden) * 0.5,
    ]


def test_lstm_cell_matches_the_equations(rng) -> None:
    x, h, c = rng.standard_normal((3, 4)), rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    wi, wh, bi, bh = _weights(rng, 4, 4, 2)
    z = x @ wi.T + bi + h @ wh.T + bh
    i, f, g, o = _sigmoid(z[:, :2]), _sigmoid(z[:, 2:4]), np.tanh(z[:, 4:6]), _sigmoid(z[:, 6:])
    c1 = f * c + i * g
    h1, c1_got = ops.lstm_cell(x, h, c, wi, wh, bi, bh)
    np.testing.assert_allclose(c1_got.numpy(), c1, atol=1e-12)
    np.testing.assert_allclose(h1.numpy(), o * np.tanh(c1), atol=1e-12)


def test_lstm_is_one_node_and_equals_the_cell_loop(rng) -> None:
    x = rng.standard_normal((2, 5, 3))
    h0, c0 = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    weights = [Parameter(w) for w in _weights(rng, 4, 3, 4)]
    with GradientTape() as tape:
        y, h_n, c_n = ops.lstm(x, h0, c0, *weights)
    assert tape.op_names == ["lstm"]
    h, c = h0, c0
    for t in range(5):
        h, c = ops.lstm_cell(x[:, t], h, c, *weights)
        np.testing.assert_allclose(y.numpy()[:, t], h.numpy(), atol=1e-12)
    np.testing.assert_allclose(h_n.numpy(), h.numpy(), atol=1e-12)
    np.testing.assert_allclose(c_n.numpy(), c.numpy(), atol=1e-12)


def test_gru_cell_matches_the_equations(rng) -> None:
    x, h = rng.standard_normal((3, 4)), rng.standard_normal((3, 2))
    wi, wh, bi, bh = _weights(rng, 3, 4, 2)
    zi, zh = x @ wi.T + bi, h @ wh.T + bh
    r, z = _sigmoid(zi[:, :2] + zh[:, :2]), _sigmoid(zi[:, 2:4] + zh[:, 2:4])
    n = np.tanh(zi[:, 4:] + r * zh[:, 4:])
    np.testing.assert_allclose(
        ops.gru_cell(x, h, wi, wh, bi, bh).numpy(), (1 - z) * n + z * h, atol=1e-12
    )


def test_gru_is_one_node_and_equals_the_cell_loop(rng) -> None:
    x = rng.standard_normal((2, 4, 3))
    h0 = rng.standard_normal((2, 5))
    weights = [Parameter(w) for w in _weights(rng, 3, 3, 5)]
    with GradientTape() as tape:
        y, h_n = ops.gru(x, h0, *weights)
    assert tape.op_names == ["gru"]
    h = h0
    for t in range(4):
        h = ops.gru_cell(x[:, t], h, *weights)
        np.testing.assert_allclose(y.numpy()[:, t], h.numpy(), atol=1e-12)
    np.testing.assert_allclose(h_n.numpy(), h.numpy(), atol=1e-12)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_recurrent_float32_in_float32_out(rng, kind) -> None:
    gates = 4 if kind == "lstm" else 3
    x = Tensor(rng.standard_normal((2, 3, 4)).astype(np.float32))
    weights = [Parameter(w.astype(np.float32)) for w in _weights(rng, gates, 4, 3)]
    states = [None, None] if kind == "lstm" else [None]
    with GradientTape(watch=[x]) as tape:
        outs = getattr(ops, kind)(x, *states, *weights)
    assert all(o.dtype.value == "float32" for o in outs)
    grads = tape.backward(outs[0])
    assert all(grads[t.id].dtype.value == "float32" for t in (x, *weights))


def test_recurrent_ops_reject_bad_input(rng) -> None:
    wi, wh, bi, bh = _weights(rng, 4, 3, 2)
    x = rng.standard_normal((2, 5, 3))
    h = np.zeros((2, 2))
    with pytest.raises(ShapeError, match=r"lstm: x must be 3-d \(batch, length, input_size\)"):
        ops.lstm(x[0], h, h, wi, wh)
    with pytest.raises(ShapeError, match=r"lstm: w_hh must have shape \(8, 2\)"):
        ops.lstm(x, h, h, wi, wh[:, :1])
    with pytest.raises(ShapeError, match="expects input_size 3 but x has 4"):
        ops.lstm(rng.standard_normal((2, 5, 4)), h, h, wi, wh)
    with pytest.raises(ShapeError, match=r"lstm: h0 must have shape \(2, 2\)"):
        ops.lstm(x, np.zeros((3, 2)), h, wi, wh)
    with pytest.raises(ShapeError, match=r"lstm: b_ih must have shape \(8,\)"):
        ops.lstm(x, h, h, wi, wh, bi[:4], bh)
    with pytest.raises(ShapeError, match=r"w_ih must be \(4 \* hidden_size"):
        ops.lstm_cell(x[:, 0], h, h, wi[:7], wh)
    with pytest.raises(ShapeError, match="at least one time step"):
        ops.lstm(x[:, :0], h, h, wi, wh)
    with pytest.raises(DTypeError, match="lstm"):
        ops.lstm(x.astype(np.float32), h, h, wi, wh)
    with pytest.raises(ShapeError, match=r"gru: w_ih must be \(3 \* hidden_size"):
        ops.gru(x, h, wi, wh)


# -- embedding ------------------------------------------------------------------------------------
def test_embedding_lookup_and_scatter_add(rng) -> None:
    w = Parameter(rng.standard_normal((5, 3)))
    idx = np.array([[4, 0], [4, 4]])
    with GradientTape() as tape:
        out = ops.embedding(w, idx, padding_idx=0)
    np.testing.assert_array_equal(out.numpy(), w.numpy()[idx])
    g = tape.backward(out)[w.id].numpy()
    np.testing.assert_array_equal(
        g[:, 0], [0.0, 0.0, 0.0, 0.0, 3.0]
    )  # row 4 used 3 times, 0 padded


def test_embedding_rejects_bad_indices(rng) -> None:
    w = rng.standard_normal((5, 3))
    with pytest.raises(OpError, match=r"embedding: index 5 is out of range \[0, 5\)"):
        ops.embedding(w, np.array([1, 5]))
    with pytest.raises(OpError, match="index -1"):
        ops.embedding(w, np.array([-1]))
    with pytest.raises(DTypeError, match="embedding: indices must be integers"):
        ops.embedding(w, np.array([1.0]))
    with pytest.raises(ShapeError, match="embedding: weight must be 2-d"):
        ops.embedding(w[0], np.array([1]))


def test_every_fused_error_is_a_swets_error() -> None:
    with pytest.raises(SwetsError):
        ops.conv1d(np.zeros((1, 1, 2)), np.zeros((1, 1, 5)))


def test_batch_norm_requires_the_training_flag() -> None:
    with pytest.raises(OpError, match="batch_norm: training= is required"):
        ops.batch_norm(np.zeros((4, 3)))


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_recurrent_saturated_gates_stay_finite_without_warnings(rng, kind) -> None:
    gates = 4 if kind == "lstm" else 3
    x = rng.standard_normal((2, 4, 3)) * 300.0  # pre-activations far beyond exp's range
    wi, wh = rng.standard_normal((gates * 2, 3)), rng.standard_normal((gates * 2, 2)) * 50.0
    states = [np.zeros((2, 2))] * (2 if kind == "lstm" else 1)
    with np.errstate(all="raise"):
        y = getattr(ops, kind)(x, *states, wi, wh)[0].numpy()
    cell = getattr(ops, f"{kind}_cell")
    for t in range(4):
        out = cell(x[:, t], *states, wi, wh)
        states = list(out) if kind == "lstm" else [out]
        np.testing.assert_allclose(y[:, t], states[0].numpy(), atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch", [1, 5])
def test_lstm_stack_equals_chained_lstm_layers_recorded_or_not(dtype, batch) -> None:
    rng = np.random.default_rng(batch)
    layers, n_in, hidden = 3, 4, 6
    x = rng.standard_normal((batch, 7, n_in)).astype(dtype)
    h0 = rng.standard_normal((layers, batch, hidden)).astype(dtype)
    c0 = rng.standard_normal((layers, batch, hidden)).astype(dtype)
    weights = []
    for layer in range(layers):
        cols = n_in if layer == 0 else hidden
        weights.append(
            [rng.standard_normal(s).astype(dtype) * 0.4 for s in ((24, cols), (24, hidden), 24, 24)]
        )
    weights[1][2] = None  # a layer without b_ih
    flat = [w for ws in weights for w in ws]
    inp, hs, cs = x, [], []
    for layer, ws in enumerate(weights):
        inp, h, c = (t.numpy() for t in ops.lstm(inp, h0[layer], c0[layer], *ws))
        hs.append(h)
        cs.append(c)
    want = (inp, np.stack(hs), np.stack(cs))
    free = [t.numpy() for t in ops.lstm_stack(x, h0, c0, *flat)]
    xt = Tensor(x)
    with GradientTape(watch=[xt]):
        recorded = [t.numpy() for t in ops.lstm_stack(xt, h0, c0, *flat)]
    tol = 2e-6 if dtype == "float32" else 1e-12
    for got in (free, recorded):
        for g, w in zip(got, want):
            assert g.dtype == np.dtype(dtype)
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


def test_lstm_stack_errors_name_the_op() -> None:
    x = np.zeros((1, 3, 2), np.float32)
    w = [np.zeros((8, 2), np.float32), np.zeros((8, 2), np.float32), None, None]
    with pytest.raises(ShapeError, match="lstm_stack: weights come 4 per layer"):
        ops.lstm_stack(x, None, None, *w[:3])
    with pytest.raises(ShapeError, match=r"lstm_stack: h0 must have shape \(1, 1, 2\)"):
        ops.lstm_stack(x, np.zeros((2, 1, 2), np.float32), None, *w)
    with pytest.raises(DTypeError, match="lstm_stack"):
        ops.lstm_stack(x.astype(np.float64), None, None, *w)
