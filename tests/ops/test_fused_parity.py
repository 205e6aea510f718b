"""Parity of the fused ops with PyTorch in float64: forward values and every gradient within 1e-8.

Each test runs the same computation in swets (on a gradient tape) and in torch, feeds the same random
gradient into every output, and compares outputs and input gradients.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

from swets_core import GradientTape, Tensor, ops

torch = pytest.importorskip("torch")
F = torch.nn.functional

pytestmark = pytest.mark.parity

RTOL, ATOL = 1e-8, 1e-10


def _close(got: np.ndarray, want: Any, what: str) -> None:
    want = want.detach().numpy() if hasattr(want, "detach") else np.asarray(want)
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL, err_msg=what)


def _as_tuple(out: Any) -> tuple:
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def compare(
    swets_fn: Callable[..., Any],
    torch_fn: Callable[..., Any],
    inputs: Sequence[np.ndarray],
    seed: int = 0,
) -> None:
    """Outputs and gradients (w.r.t. every input) of both functions agree."""
    ts = [Tensor(a) for a in inputs]
    with GradientTape(watch=ts, persistent=True) as tape:
        outs = _as_tuple(swets_fn(*ts))
    tt = [torch.tensor(a, requires_grad=True) for a in inputs]
    touts = _as_tuple(torch_fn(*tt))
    assert len(outs) == len(touts)
    rng = np.random.default_rng(seed)
    seeds = [rng.standard_normal(o.shape) for o in outs]
    got: dict[int, np.ndarray] = {}
    for k, (o, to, g) in enumerate(zip(outs, touts, seeds)):
        _close(o.numpy(), to, f"output {k}")
        for tid, grad in tape.backward(o, grad=g, sources=ts).items():
            got[tid] = got[tid] + grad.numpy() if tid in got else grad.numpy()
    torch.autograd.backward(list(touts), [torch.tensor(g) for g in seeds])
    for k, (t, tt_) in enumerate(zip(ts, tt)):
        assert t.id in got, f"no gradient for input {k}"
        _close(got[t.id], tt_.grad, f"gradient of input {k}")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


# -- conv1d ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("n", "c", "length", "o", "k", "stride", "padding", "dilation", "groups"),
    [
        (2, 3, 11, 4, 3, 1, 0, 1, 1),
        (2, 4, 16, 6, 3, 1, (8, 0), 4, 1),  # causal, dilated
        (3, 4, 13, 8, 2, 2, (3, 1), 2, 2),
        (2, 6, 9, 6, 3, 3, 2, 1, 6),  # depthwise, strided
        (1, 2, 7, 3, 4, 1, "same", 2, 1),
        (2, 2, 5, 2, 3, 1, (4, 4), 1, 1),  # padding wider than the kernel
    ],
)
def test_conv1d(rng, n, c, length, o, k, stride, padding, dilation, groups) -> None:
    x = rng.standard_normal((n, c, length))
    w = rng.standard_normal((o, c // groups, k))
    b = rng.standard_normal(o)

    def torch_conv(x, w, b):
        if isinstance(padding, tuple):
            return F.conv1d(
                F.pad(x, padding), w, b, stride=stride, dilation=dilation, groups=groups
            )
        return F.conv1d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)

    compare(
        lambda x, w, b: ops.conv1d(
            x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups
        ),
        torch_conv,
        [x, w, b],
    )


def test_conv1d_no_bias_transposed_input(rng) -> None:
    x = rng.standard_normal((9, 3, 2)).transpose(2, 1, 0)  # (2, 3, 9), not contiguous
    w = rng.standard_normal((5, 3, 3))
    compare(
        lambda x, w: ops.conv1d(x, w, padding=1, dilation=2),
        lambda x, w: F.conv1d(x, w, padding=1, dilation=2),
        [x, w],
    )


# -- scaled_dot_product_attention ------------------------------------------------------------------
def test_attention_plain_and_scale(rng) -> None:
    q, k, v = (
        rng.standard_normal((2, 3, 5, 4)),
        rng.standard_normal((2, 3, 7, 4)),
        rng.standard_normal((2, 3, 7, 6)),
    )
    compare(
        lambda q, k, v: ops.scaled_dot_product_attention(q, k, v),
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v),
        [q, k, v],
    )
    compare(
        lambda q, k, v: ops.scaled_dot_product_attention(q, k, v, scale=0.3),
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, scale=0.3),
        [q, k, v],
    )


@pytest.mark.parametrize(("length", "source"), [(6, 6), (4, 6), (6, 4)])
def test_attention_causal(rng, length, source) -> None:
    q = rng.standard_normal((2, 2, length, 3))
    k = rng.standard_normal((2, 2, source, 3))
    v = rng.standard_normal((2, 2, source, 2))
    compare(
        lambda q, k, v: ops.scaled_dot_product_attention(q, k, v, is_causal=True),
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        [q, k, v],
    )


def test_attention_bool_mask_with_fully_masked_row(rng) -> None:
    q, k, v = (
        rng.standard_normal((2, 4, 3)),
        rng.standard_normal((2, 5, 3)),
        rng.standard_normal((2, 5, 2)),
    )
    mask = rng.random((2, 4, 5)) > 0.4
    mask[1, 2] = False  # a query that may attend nowhere
    compare(
        lambda q, k, v: ops.scaled_dot_product_attention(q, k, v, mask),
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=torch.tensor(mask)),
        [q, k, v],
    )


def test_attention_float_mask_gradient(rng) -> None:
    q, k, v = (
        rng.standard_normal((2, 4, 3)),
        rng.standard_normal((2, 5, 3)),
        rng.standard_normal((2, 5, 2)),
    )
    m = rng.standard_normal((4, 5))
    compare(
        lambda q, k, v, m: ops.scaled_dot_product_attention(q, k, v, m),
        lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
        [q, k, v, m],
    )


# -- layer_norm -----------------------------------------------------------------------------------
@pytest.mark.parametrize("nd", [1, 2])
def test_layer_norm(rng, nd) -> None:
    x = rng.standard_normal((3, 4, 6)) * 2.0 + 0.5
    shape = x.shape[-nd:]
    w, b = rng.standard_normal(shape), rng.standard_normal(shape)
    compare(
        lambda x, w, b: ops.layer_norm(x, w, b, normalized_ndim=nd, eps=1e-4),
        lambda x, w, b: F.layer_norm(x, shape, w, b, eps=1e-4),
        [x, w, b],
    )


def test_layer_norm_no_affine(rng) -> None:
    x = rng.standard_normal((5, 7))
    compare(lambda x: ops.layer_norm(x), lambda x: F.layer_norm(x, (7,)), [x])


# -- batch_norm -----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm(rng, shape, training) -> None:
    x = rng.standard_normal(shape) * 1.5 + 0.3
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    rm0, rv0 = rng.standard_normal(3), rng.uniform(0.5, 2.0, 3)
    rm, rv = rm0.copy(), rv0.copy()
    trm, trv = torch.tensor(rm0), torch.tensor(rv0)
    compare(
        lambda x, w, b: ops.batch_norm(
            x, w, b, running_mean=rm, running_var=rv, training=training, momentum=0.2
        ),
        lambda x, w, b: F.batch_norm(x, trm, trv, w, b, training=training, momentum=0.2),
        [x, w, b],
    )
    _close(rm, trm, "running_mean")
    _close(rv, trv, "running_var")


# -- lstm_cell / lstm -----------------------------------------------------------------------------
def _rnn_weights(rng, gates: int, n_in: int, hidden: int) -> list[np.ndarray]:
    s = 1.0 / np.sqrt(hidden)
    return [
        rng.uniform(-s, s, (gates * hidden, n_in)) * 2,
        rng.uniform(-s, s, (gates * hidden, hidden)) * 2,
        rng.uniform(-s, s, gates * hidden),
        rng.uniform(-s, s, gates * hidden),
    ]


def test_lstm_cell(rng) -> None:
    x, h, c = rng.standard_normal((4, 5)), rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    weights = _rnn_weights(rng, 4, 5, 3)
    compare(
        lambda *a: ops.lstm_cell(*a),
        lambda x, h, c, wi, wh, bi, bh: torch._VF.lstm_cell(x, (h, c), wi, wh, bi, bh),
        [x, h, c, *weights],
    )


def _torch_rnn(kind: str, x, states, wi, wh, bi=None, bh=None):
    n_in, hidden = x.shape[-1], wh.shape[1]
    cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
    torch.manual_seed(0)  # the module's own initial weights are replaced by ours below
    mod = cls(n_in, hidden, batch_first=True, bias=bi is not None).double()
    # functional call with our tensors as the parameters, so their gradients are tracked
    params = {"weight_ih_l0": wi, "weight_hh_l0": wh}
    if bi is not None:
        params.update(bias_ih_l0=bi, bias_hh_l0=bh)
    hx = tuple(s[None] for s in states) if kind == "lstm" else states[0][None]
    y, hn = torch.func.functional_call(mod, params, (x, hx))
    if kind == "lstm":
        return y, hn[0][0], hn[1][0]
    return y, hn[0]


@pytest.mark.parametrize("bias", [True, False])
def test_lstm(rng, bias) -> None:
    x = rng.standard_normal((3, 6, 4))
    h0, c0 = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    weights = _rnn_weights(rng, 4, 4, 5)[: 4 if bias else 2]
    compare(
        lambda x, h, c, *w: ops.lstm(x, h, c, *w),
        lambda x, h, c, *w: _torch_rnn("lstm", x, (h, c), *w),
        [x, h0, c0, *weights],
    )


def test_gru_cell(rng) -> None:
    x, h = rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
    weights = _rnn_weights(rng, 3, 5, 3)
    compare(
        lambda *a: ops.gru_cell(*a),
        lambda x, h, wi, wh, bi, bh: torch._VF.gru_cell(x, h, wi, wh, bi, bh),
        [x, h, *weights],
    )


@pytest.mark.parametrize("bias", [True, False])
def test_gru(rng, bias) -> None:
    x = rng.standard_normal((3, 6, 4))
    h0 = rng.standard_normal((3, 5))
    weights = _rnn_weights(rng, 3, 4, 5)[: 4 if bias else 2]
    compare(
        lambda x, h, *w: ops.gru(x, h, *w),
        lambda x, h, *w: _torch_rnn("gru", x, (h,), *w),
        [x, h0, *weights],
    )


# -- embedding ------------------------------------------------------------------------------------
def test_embedding_padding_idx(rng) -> None:
    w = rng.standard_normal((6, 4))
    idx = np.array([[0, 3, 3], [5, 0, 1]])
    compare(
        lambda w: ops.embedding(w, idx, padding_idx=3),
        lambda w: F.embedding(torch.tensor(idx), w, padding_idx=3),
        [w],
    )


@pytest.mark.parametrize("bias", [True, False])
def test_lstm_stack(rng, bias) -> None:
    layers, n_in, hidden = 3, 4, 5
    x = rng.standard_normal((2, 6, n_in))
    h0, c0 = rng.standard_normal((layers, 2, hidden)), rng.standard_normal((layers, 2, hidden))
    weights: list[Any] = []
    for layer in range(layers):
        w = _rnn_weights(rng, 4, n_in if layer == 0 else hidden, hidden)
        weights += w if bias else [w[0], w[1]]

    def swets_fn(x, h, c, *w):
        per_layer = [
            w[k : k + 4] if bias else (*w[k : k + 2], None, None)
            for k in range(0, len(w), 4 if bias else 2)
        ]
        return ops.lstm_stack(x, h, c, *[a for ws in per_layer for a in ws])

    def torch_fn(x, h, c, *w):
        mod = torch.nn.LSTM(n_in, hidden, num_layers=layers, batch_first=True, bias=bias).double()
        names = ("weight_ih_l{}", "weight_hh_l{}", "bias_ih_l{}", "bias_hh_l{}")[: 4 if bias else 2]
        params = {
            name.format(layer): w[layer * len(names) + k]
            for layer in range(layers)
            for k, name in enumerate(names)
        }
        y, (h_n, c_n) = torch.func.functional_call(mod, params, (x, (h, c)))
        return y, h_n, c_n

    compare(swets_fn, torch_fn, [x, h0, c0, *weights])


@pytest.mark.parametrize("shape", [(4, 3, 2), (5, 3)])
def test_weight_norm(rng, shape) -> None:
    v = rng.standard_normal(shape)
    g = rng.standard_normal((shape[0],) + (1,) * (len(shape) - 1))
    compare(
        lambda v, g: ops.weight_norm(v, g),
        lambda v, g: torch._weight_norm(v, g, 0),
        [v, g],
    )
