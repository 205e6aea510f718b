"""Parity with PyTorch in float64: identical weights (copied from torch's state_dict), outputs and
gradients of the inputs and of every parameter within 1e-8 relative."""

from __future__ import annotations

import numpy as np
import pytest

import swets_nn as nn
from swets_core import GradientTape, Tensor, no_grad
from tests.nn.helpers import assert_close, copy_torch_state, parity

torch = pytest.importorskip("torch")
F = torch.nn.functional
tnn = torch.nn

pytestmark = pytest.mark.parity

F64 = "float64"


@pytest.fixture(autouse=True)
def _torch_seed() -> None:
    torch.manual_seed(0)


def _x(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape)


# -- Linear ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 6), (2, 3, 6), (6,)])
def test_linear(rng, bias, shape):
    layer = nn.Linear(6, 4, bias=bias, dtype=F64)
    parity(layer, tnn.Linear(6, 4, bias=bias).double(), [_x(rng, *shape)])


# -- activations -----------------------------------------------------------------------------------

ACTIVATIONS = [
    (nn.ReLU(), tnn.ReLU()),
    (nn.LeakyReLU(0.2), tnn.LeakyReLU(0.2)),
    (nn.ELU(0.7), tnn.ELU(0.7)),
    (nn.GELU(), tnn.GELU()),
    (nn.GELU("tanh"), tnn.GELU("tanh")),
    (nn.SiLU(), tnn.SiLU()),
    (nn.Sigmoid(), tnn.Sigmoid()),
    (nn.Tanh(), tnn.Tanh()),
    (nn.Softplus(), tnn.Softplus()),
    (nn.Softplus(beta=2.0, threshold=3.0), tnn.Softplus(beta=2.0, threshold=3.0)),
]


@pytest.mark.parametrize("pair", ACTIVATIONS, ids=lambda p: repr(p[0]))
def test_activation(rng, pair):
    layer, tlayer = pair
    x = _x(rng, 4, 7) * 3.0
    x[0, :3] = [0.5, -0.5, 2.0]  # no exact kinks
    parity(layer, tlayer, [x])


# -- Conv1d ----------------------------------------------------------------------------------------

CONV_CASES = [
    dict(kernel_size=3),
    dict(kernel_size=3, padding=1),
    dict(kernel_size=4, padding="same"),
    dict(kernel_size=3, padding="same", dilation=2),
    dict(kernel_size=2, stride=2, padding=1),
    dict(kernel_size=3, dilation=3, padding=2),
    dict(kernel_size=3, groups=2),
    dict(kernel_size=3, groups=2, bias=False),
    dict(kernel_size=3, padding=2, padding_mode="reflect"),
    dict(kernel_size=3, padding=2, padding_mode="replicate"),
    dict(kernel_size=3, padding=2, padding_mode="circular"),
    dict(kernel_size=4, padding="same", padding_mode="reflect"),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize(
    "cfg", CONV_CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items())
)
def test_conv1d(rng, cfg):
    layer = nn.Conv1d(4, 6, dtype=F64, **cfg)
    tlayer = tnn.Conv1d(4, 6, **cfg).double()
    parity(layer, tlayer, [_x(rng, 3, 4, 11)])


def test_conv1d_asymmetric_padding_strided_grouped(rng):
    layer = nn.Conv1d(4, 6, 3, stride=3, dilation=2, groups=2, padding=(2, 1), dtype=F64)
    tlayer = tnn.Conv1d(4, 6, 3, stride=3, dilation=2, groups=2).double()
    parity(layer, tlayer, [_x(rng, 2, 4, 13)], tcall=lambda m, x: m(F.pad(x, (2, 1))))


def test_conv1d_unbatched(rng):
    parity(nn.Conv1d(4, 2, 3, dtype=F64), tnn.Conv1d(4, 2, 3).double(), [_x(rng, 4, 9)])


@pytest.mark.parametrize("dilation", [1, 4])
def test_conv1d_causal(rng, dilation):
    # causal = left padding of dilation * (K - 1), no right padding
    layer = nn.Conv1d(3, 5, 3, padding="causal", dilation=dilation, dtype=F64)
    tlayer = tnn.Conv1d(3, 5, 3, dilation=dilation).double()
    pad = dilation * 2
    outs, _ = parity(layer, tlayer, [_x(rng, 2, 3, 12)], tcall=lambda m, x: m(F.pad(x, (pad, 0))))
    assert outs[0].shape == (2, 5, 12)


# -- recurrent -------------------------------------------------------------------------------------

RNN_CASES = [
    dict(num_layers=1),
    dict(num_layers=2),
    dict(num_layers=2, bidirectional=True),
    dict(num_layers=1, bias=False),
    dict(num_layers=2, batch_first=False),
]


def _rnn_pair(cls, tcls, cfg):
    batch_first = cfg.get("batch_first", True)
    layer = cls(3, 5, dtype=F64, **cfg)
    tlayer = tcls(3, 5, **{**cfg, "batch_first": batch_first}).double()
    return layer, tlayer


@pytest.mark.parametrize("cfg", RNN_CASES, ids=str)
def test_lstm(rng, cfg):
    layer, tlayer = _rnn_pair(nn.LSTM, tnn.LSTM, cfg)
    x = _x(rng, 4, 6, 3) if cfg.get("batch_first", True) else _x(rng, 6, 4, 3)
    parity(layer, tlayer, [x])


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 5, 3), (3, 1, 3)])
def test_rnn_degenerate_sizes(rng, shape):
    for cls, tcls in ((nn.LSTM, tnn.LSTM), (nn.GRU, tnn.GRU)):
        layer, tlayer = _rnn_pair(cls, tcls, dict(num_layers=2, bidirectional=True))
        parity(layer, tlayer, [_x(rng, *shape)])


def test_lstm_initial_state(rng):
    layer, tlayer = _rnn_pair(nn.LSTM, tnn.LSTM, dict(num_layers=2, bidirectional=True))
    x, h0, c0 = _x(rng, 4, 6, 3), _x(rng, 4, 4, 5), _x(rng, 4, 4, 5)
    parity(
        layer,
        tlayer,
        [x, h0, c0],
        call=lambda m, x, h, c: m(x, (h, c)),
        tcall=lambda m, x, h, c: m(x, (h, c)),
    )


def test_lstm_unbatched(rng):
    layer, tlayer = _rnn_pair(nn.LSTM, tnn.LSTM, dict(num_layers=2))
    x, h0, c0 = _x(rng, 6, 3), _x(rng, 2, 5), _x(rng, 2, 5)
    parity(layer, tlayer, [x, h0, c0], call=lambda m, x, h, c: m(x, (h, c)),
           tcall=lambda m, x, h, c: m(x, (h, c)))  # fmt: skip


INFER_CASES = [
    *RNN_CASES,
    dict(num_layers=3),
    dict(num_layers=3, dropout=0.5),  # eval mode: no dropout
]


@pytest.mark.parametrize("cfg", INFER_CASES, ids=str)
@pytest.mark.parametrize("state", [False, True], ids=["zero state", "given state"])
def test_lstm_inference_without_tape(rng, cfg, state):
    # without a tape the unidirectional stack runs as one wavefront loop (lstm_stack_infer)
    layer, tlayer = _rnn_pair(nn.LSTM, tnn.LSTM, cfg)
    layer.eval()
    tlayer.eval()
    copy_torch_state(layer, tlayer)
    rows = cfg["num_layers"] * (2 if cfg.get("bidirectional") else 1)
    for shape in ((4, 6, 3), (1, 9, 3), (6, 3)):
        x = _x(rng, *shape)
        if len(shape) == 3 and not cfg.get("batch_first", True):
            x = x.transpose(1, 0, 2).copy()
        hx = None
        if state:
            sshape = (rows, 5) if len(shape) == 2 else (rows, shape[0], 5)
            hx = (_x(rng, *sshape), _x(rng, *sshape))
        with no_grad():
            out, (h_n, c_n) = layer(Tensor(x), None if hx is None else tuple(map(Tensor, hx)))
        with torch.no_grad():
            t_hx = None if hx is None else tuple(map(torch.from_numpy, hx))
            t_out, (t_h, t_c) = tlayer(torch.from_numpy(x), t_hx)
        for what, a, b in (("output", out, t_out), ("h_n", h_n, t_h), ("c_n", c_n, t_c)):
            assert a.shape == tuple(b.shape), what
            assert_close(a.numpy(), b.numpy(), what)


def test_lstm_inference_keeps_the_given_state_and_matches_the_taped_float32_path(rng):
    layer = nn.LSTM(5, 64, num_layers=2, rng=0)
    x = Tensor(_x(rng, 1, 64, 5).astype(np.float32))
    h0, c0 = (_x(rng, 2, 1, 64).astype(np.float32) for _ in range(2))
    h_copy, c_copy = h0.copy(), c0.copy()
    with no_grad():
        out, (h_n, c_n) = layer(x, (Tensor(h0), Tensor(c0)))
    np.testing.assert_array_equal(h0, h_copy)
    np.testing.assert_array_equal(c0, c_copy)
    with GradientTape():
        ref, (ref_h, ref_c) = layer(x, (Tensor(h0), Tensor(c0)))
    assert out.dtype == ref.dtype
    for a, b in ((out, ref), (h_n, ref_h), (c_n, ref_c)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=2e-5)


@pytest.mark.parametrize("cfg", RNN_CASES, ids=str)
def test_gru(rng, cfg):
    layer, tlayer = _rnn_pair(nn.GRU, tnn.GRU, cfg)
    x = _x(rng, 4, 6, 3) if cfg.get("batch_first", True) else _x(rng, 6, 4, 3)
    parity(layer, tlayer, [x])


def test_gru_initial_state_unbatched(rng):
    layer, tlayer = _rnn_pair(nn.GRU, tnn.GRU, dict(num_layers=2, bidirectional=True))
    parity(layer, tlayer, [_x(rng, 4, 6, 3), _x(rng, 4, 4, 5)])
    parity(layer, tlayer, [_x(rng, 6, 3), _x(rng, 4, 5)])


@pytest.mark.parametrize("bias", [True, False])
def test_lstm_cell(rng, bias):
    layer = nn.LSTMCell(3, 5, bias=bias, dtype=F64)
    tlayer = tnn.LSTMCell(3, 5, bias=bias).double()
    parity(layer, tlayer, [_x(rng, 4, 3)])
    parity(layer, tlayer, [_x(rng, 4, 3), _x(rng, 4, 5), _x(rng, 4, 5)],
           call=lambda m, x, h, c: m(x, (h, c)), tcall=lambda m, x, h, c: m(x, (h, c)))  # fmt: skip
    parity(layer, tlayer, [_x(rng, 3)])


@pytest.mark.parametrize("bias", [True, False])
def test_gru_cell(rng, bias):
    layer = nn.GRUCell(3, 5, bias=bias, dtype=F64)
    tlayer = tnn.GRUCell(3, 5, bias=bias).double()
    parity(layer, tlayer, [_x(rng, 4, 3)])
    parity(layer, tlayer, [_x(rng, 4, 3), _x(rng, 4, 5)])
    parity(layer, tlayer, [_x(rng, 3), _x(rng, 5)])


def test_lstm_matches_a_loop_of_lstm_cells(rng):
    # the stacked layer and the cell share equations and parameter layout
    lstm = nn.LSTM(3, 5, dtype=F64, rng=1)
    cell = nn.LSTMCell(3, 5, dtype=F64)
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in lstm.state_dict().items()})
    x = Tensor(_x(rng, 2, 4, 3))
    y, (_, c) = lstm(x)
    hc = None
    for t in range(4):
        hc = cell(x[:, t], hc)
        assert_close(hc[0].numpy(), y.numpy()[:, t], f"step {t}")
    assert_close(hc[1].numpy(), c.numpy()[0], "c_n")


# -- normalisation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cfg",
    [
        dict(normalized_shape=6),
        dict(normalized_shape=(3, 6), eps=1e-3),
        dict(normalized_shape=6, elementwise_affine=False),
        dict(normalized_shape=6, bias=False),
    ],
    ids=str,
)
def test_layer_norm(rng, cfg):
    layer = nn.LayerNorm(dtype=F64, **cfg)
    tlayer = tnn.LayerNorm(**cfg).double()
    with torch.no_grad():
        for p in tlayer.parameters():
            p.add_(torch.randn(p.shape, dtype=p.dtype) * 0.5)
    parity(layer, tlayer, [_x(rng, 2, 3, 6) * 2.0 + 1.0])


@pytest.mark.parametrize("shape", [(8, 4), (5, 4, 7)])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm1d_training(rng, shape, momentum):
    layer = nn.BatchNorm1d(4, momentum=momentum, dtype=F64)
    tlayer = tnn.BatchNorm1d(4, momentum=momentum).double()
    with torch.no_grad():
        tlayer.weight.add_(torch.randn(4, dtype=torch.float64))
        tlayer.bias.add_(torch.randn(4, dtype=torch.float64))
    copy_torch_state(layer, tlayer)
    for step in range(3):
        x = _x(rng, *shape) * 2.0 + 0.5
        parity(layer, tlayer, [x], copy_state=False, seed=step)
    for key, value in tlayer.state_dict().items():
        assert_close(layer.state_dict()[key], value.numpy(), key)
    assert int(layer.num_batches_tracked) == 3


def test_batch_norm1d_eval(rng):
    layer = nn.BatchNorm1d(4, dtype=F64)
    tlayer = tnn.BatchNorm1d(4).double()
    with torch.no_grad():
        tlayer.running_mean.copy_(torch.randn(4, dtype=torch.float64))
        tlayer.running_var.copy_(torch.rand(4, dtype=torch.float64) + 0.5)
    layer.eval()
    tlayer.eval()
    parity(layer, tlayer, [_x(rng, 5, 4, 3)])
    assert int(layer.num_batches_tracked) == 0


def test_batch_norm1d_without_running_stats(rng):
    layer = nn.BatchNorm1d(4, affine=False, track_running_stats=False, dtype=F64).eval()
    tlayer = tnn.BatchNorm1d(4, affine=False, track_running_stats=False).double().eval()
    parity(layer, tlayer, [_x(rng, 6, 4)])


# -- embedding -------------------------------------------------------------------------------------


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding(rng, padding_idx):
    layer = nn.Embedding(7, 4, padding_idx=padding_idx, dtype=F64)
    tlayer = tnn.Embedding(7, 4, padding_idx=padding_idx).double()
    with torch.no_grad():  # a non-zero padding row: still looked up, still no gradient
        tlayer.weight.add_(1.0)
    idx = np.array([[0, 2, 6, 2], [1, 1, 3, 6]])
    parity(layer, tlayer, [idx])


# -- attention -------------------------------------------------------------------------------------


def _mha_pair(e=8, h=2, **cfg):
    layer = nn.MultiheadAttention(e, h, dtype=F64, **cfg)
    tcfg = {"batch_first": True, **cfg}
    tlayer = tnn.MultiheadAttention(e, h, **tcfg).double()
    with torch.no_grad():  # PyTorch zeroes the biases; make them count
        for name, p in tlayer.named_parameters():
            if "bias" in name:
                p.add_(torch.randn(p.shape, dtype=p.dtype) * 0.1)
    return layer, tlayer


def _self_attn(**kw):
    return lambda m, x: m(x, x, x, **kw)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("average", [True, False])
def test_mha_self_attention(rng, need_weights, average):
    layer, tlayer = _mha_pair()
    kw = dict(need_weights=need_weights, average_attn_weights=average)
    parity(layer, tlayer, [_x(rng, 3, 5, 8)], call=_self_attn(**kw), tcall=_self_attn(**kw))


def test_mha_default_key_value_is_query(rng):
    layer, tlayer = _mha_pair()
    parity(layer, tlayer, [_x(rng, 3, 5, 8)], call=lambda m, x: m(x), tcall=_self_attn())


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_bool_attn_mask_and_key_padding_mask(rng, need_weights):
    layer, tlayer = _mha_pair()
    attn = rng.random((5, 5)) < 0.3
    np.fill_diagonal(attn, False)
    kpm = np.zeros((3, 5), bool)
    kpm[0, 3:] = True
    kpm[2, 0] = True

    def call(m, x):
        return m(x, x, x, attn_mask=attn, key_padding_mask=kpm, need_weights=need_weights)

    def tcall(m, x):
        return m(x, x, x, attn_mask=torch.tensor(attn), key_padding_mask=torch.tensor(kpm),
                 need_weights=need_weights)  # fmt: skip

    parity(layer, tlayer, [_x(rng, 3, 5, 8)], call=call, tcall=tcall)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_float_3d_mask(rng, need_weights):
    layer, tlayer = _mha_pair()
    mask = rng.standard_normal((3 * 2, 4, 5))
    kpm = rng.standard_normal((3, 5))

    def call(m, q, kv):
        return m(q, kv, kv, attn_mask=mask, key_padding_mask=kpm, need_weights=need_weights)

    def tcall(m, q, kv):
        return m(q, kv, kv, attn_mask=torch.tensor(mask), key_padding_mask=torch.tensor(kpm),
                 need_weights=need_weights)  # fmt: skip

    parity(layer, tlayer, [_x(rng, 3, 4, 8), _x(rng, 3, 5, 8)], call=call, tcall=tcall)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_causal(rng, need_weights):
    layer, tlayer = _mha_pair()
    tmask = tnn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    call = _self_attn(is_causal=True, need_weights=need_weights)
    tcall = _self_attn(attn_mask=tmask, is_causal=True, need_weights=need_weights)
    parity(layer, tlayer, [_x(rng, 3, 5, 8)], call=call, tcall=tcall)
    # the helper mask is the same as PyTorch's
    np.testing.assert_array_equal(nn.causal_mask(5, F64), tmask.numpy())
    call = _self_attn(attn_mask=nn.causal_mask(5, F64), need_weights=need_weights)
    parity(layer, tlayer, [_x(rng, 3, 5, 8)], call=call, tcall=tcall)


def test_mha_causal_with_key_padding(rng):
    layer, tlayer = _mha_pair()
    kpm = np.zeros((3, 5), bool)
    kpm[1, 4] = True
    tmask = torch.ones(5, 5, dtype=torch.bool).triu(1)
    call = _self_attn(is_causal=True, key_padding_mask=kpm, need_weights=False)
    tcall = _self_attn(attn_mask=tmask, key_padding_mask=torch.tensor(kpm), need_weights=False)
    parity(layer, tlayer, [_x(rng, 3, 5, 8)], call=call, tcall=tcall)


def test_mha_cross_attention_kv_same(rng):
    layer, tlayer = _mha_pair()
    call = lambda m, q, kv: m(q, kv, kv)  # noqa: E731
    parity(layer, tlayer, [_x(rng, 2, 4, 8), _x(rng, 2, 6, 8)], call=call, tcall=call)


def test_mha_cross_attention_distinct(rng):
    layer, tlayer = _mha_pair()
    parity(layer, tlayer, [_x(rng, 2, 4, 8), _x(rng, 2, 6, 8), _x(rng, 2, 6, 8)])


def test_mha_kdim_vdim(rng):
    layer, tlayer = _mha_pair(kdim=3, vdim=5)
    parity(layer, tlayer, [_x(rng, 2, 4, 8), _x(rng, 2, 6, 3), _x(rng, 2, 6, 5)])


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_bias_kv_zero_attn(rng, need_weights):
    layer, tlayer = _mha_pair(add_bias_kv=True, add_zero_attn=True)
    kpm = np.zeros((2, 5), bool)
    kpm[0, 0] = True
    mask = rng.random((5, 5)) < 0.2
    np.fill_diagonal(mask, False)
    call = _self_attn(key_padding_mask=kpm, attn_mask=mask, need_weights=need_weights)
    tcall = _self_attn(
        key_padding_mask=torch.tensor(kpm), attn_mask=torch.tensor(mask), need_weights=need_weights
    )
    parity(layer, tlayer, [_x(rng, 2, 5, 8)], call=call, tcall=tcall)


def test_mha_no_bias_seq_first_unbatched(rng):
    layer, tlayer = _mha_pair(bias=False, batch_first=False)
    parity(layer, tlayer, [_x(rng, 5, 2, 8)], call=_self_attn(), tcall=_self_attn())
    parity(layer, tlayer, [_x(rng, 5, 8)], call=_self_attn(), tcall=_self_attn())


# -- transformer -----------------------------------------------------------------------------------


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_transformer_encoder_layer(rng, norm_first, activation):
    cfg = dict(dim_feedforward=16, dropout=0.0, activation=activation, norm_first=norm_first)
    layer = nn.TransformerEncoderLayer(8, 2, dtype=F64, **cfg)
    tlayer = tnn.TransformerEncoderLayer(8, 2, batch_first=True, **cfg).double()
    kpm = np.zeros((3, 5), bool)
    kpm[2, 3:] = True

    def call(m, x):
        return m(x, src_key_padding_mask=kpm)

    def tcall(m, x):
        return m(x, src_key_padding_mask=torch.tensor(kpm))

    parity(layer, tlayer, [_x(rng, 3, 5, 8)], call=call, tcall=tcall)


def test_transformer_encoder_layer_eval_causal(rng):
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dtype=F64).eval()
    tlayer = tnn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True).double().eval()
    tmask = tnn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    parity(
        layer,
        tlayer,
        [_x(rng, 3, 5, 8)],
        call=lambda m, x: m(x, is_causal=True),
        tcall=lambda m, x: m(x, src_mask=tmask, is_causal=True),
    )


def test_transformer_encoder(rng):
    cfg = dict(dim_feedforward=16, dropout=0.0, norm_first=True)
    layer = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, dtype=F64, **cfg), 2, norm=nn.LayerNorm(8, dtype=F64)
    )
    tlayer = tnn.TransformerEncoder(
        tnn.TransformerEncoderLayer(8, 2, batch_first=True, **cfg),
        2,
        norm=tnn.LayerNorm(8),
        enable_nested_tensor=False,
    ).double()
    with torch.no_grad():  # make the copies differ
        for p in tlayer.parameters():
            p.add_(torch.randn(p.shape, dtype=p.dtype) * 0.05)
    parity(layer, tlayer, [_x(rng, 2, 5, 8)])


# -- containers ------------------------------------------------------------------------------------


def test_sequential(rng):
    layer = nn.Sequential(nn.Linear(4, 8, dtype=F64), nn.GELU(), nn.Linear(8, 3, dtype=F64))
    tlayer = tnn.Sequential(tnn.Linear(4, 8), tnn.GELU(), tnn.Linear(8, 3)).double()
    parity(layer, tlayer, [_x(rng, 5, 4)])


def test_nested_containers_state_dict_names():
    class TNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = tnn.ModuleList([tnn.Linear(3, 3), tnn.Linear(3, 2)])
            self.heads = tnn.ModuleDict({"a": tnn.Linear(2, 1), "b": tnn.LSTM(2, 4)})

    from swets_core import Module

    class SNet(Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.LayerList([nn.Linear(3, 3), nn.Linear(3, 2)])
            self.heads = nn.LayerDict({"a": nn.Linear(2, 1), "b": nn.LSTM(2, 4)})

    t, s = TNet(), SNet()
    assert list(s.state_dict()) == list(t.state_dict())
    copy_torch_state(s, t.float())
    for key, value in t.state_dict().items():
        np.testing.assert_array_equal(s.state_dict()[key], value.numpy())


def test_dropout_eval_is_identity(rng):
    x = _x(rng, 3, 4)
    layer = nn.Dropout(0.5).eval()
    tlayer = tnn.Dropout(0.5).eval()
    parity(layer, tlayer, [x])


def test_gradients_accumulate_over_reused_layer(rng):
    # one layer applied twice: the tape sums both contributions, as autograd does
    layer = nn.Linear(3, 3, dtype=F64)
    tlayer = tnn.Linear(3, 3).double()
    twice = lambda m, x: m(m(x))  # noqa: E731
    parity(layer, tlayer, [_x(rng, 2, 3)], call=twice, tcall=twice)


def test_float32_layers_are_close_to_torch(rng):
    layer = nn.LSTM(3, 5, num_layers=2)
    tlayer = tnn.LSTM(3, 5, num_layers=2, batch_first=True)
    copy_torch_state(layer, tlayer)
    x = rng.standard_normal((2, 7, 3)).astype(np.float32)
    with GradientTape():
        y, _ = layer(Tensor(x))
    ty, _ = tlayer(torch.tensor(x))
    assert y.dtype.value == "float32"
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-6)
