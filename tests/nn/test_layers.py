"""Behaviour of the swets-nn layers: registry, state dicts, shapes and errors, initialisation,
dropout seeding, running statistics, containers, masks."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import swets_nn as nn
from swets_core import GradientTape, Module, Parameter, Tensor, registry
from swets_core.errors import (
    ConfigError,
    DTypeError,
    IndexOutOfRangeError,
    MissingKeyError,
    OpError,
    ShapeError,
    StateDictError,
)

# -- one small instance and a valid input per registered name ---------------------------------------

CASES = {
    "linear": (dict(in_features=4, out_features=3), (2, 5, 4)),
    "identity": (dict(), (2, 4)),
    "conv1d": (dict(in_channels=4, out_channels=3, kernel_size=3, padding="causal"), (2, 4, 7)),
    "lstm": (dict(input_size=4, hidden_size=3, num_layers=2), (2, 5, 4)),
    "lstm_cell": (dict(input_size=4, hidden_size=3), (2, 4)),
    "gru": (dict(input_size=4, hidden_size=3, bidirectional=True), (2, 5, 4)),
    "gru_cell": (dict(input_size=4, hidden_size=3), (2, 4)),
    "layer_norm": (dict(normalized_shape=4), (2, 5, 4)),
    "batch_norm1d": (dict(num_features=4), (3, 4, 5)),
    "dropout": (dict(p=0.3), (2, 4)),
    "embedding": (dict(num_embeddings=6, embedding_dim=4), None),
    "relu": (dict(), (2, 4)),
    "leaky_relu": (dict(negative_slope=0.2), (2, 4)),
    "elu": (dict(alpha=0.5), (2, 4)),
    "gelu": (dict(approximate="tanh"), (2, 4)),
    "silu": (dict(), (2, 4)),
    "sigmoid": (dict(), (2, 4)),
    "tanh": (dict(), (2, 4)),
    "softplus": (dict(beta=2.0), (2, 4)),
    "multihead_attention": (dict(embed_dim=4, num_heads=2), (2, 5, 4)),
    "transformer_encoder_layer": (dict(d_model=4, nhead=2, dim_feedforward=8), (2, 5, 4)),
    "transformer_encoder": (
        dict(encoder_layer=dict(d_model=4, nhead=2, dim_feedforward=8), num_layers=2, norm=True),
        (2, 5, 4),
    ),
    "sequential": (
        dict(),  # built positionally below
        (2, 4),
    ),
    "layer_list": (dict(layers=[{"layer": "linear", "in_features": 4, "out_features": 2}]), None),
    "layer_dict": (
        dict(layers={"a": {"layer": "linear", "in_features": 4, "out_features": 2}}),
        None,
    ),
}

REQUIRED = [
    "linear", "conv1d", "lstm", "lstm_cell", "gru", "gru_cell", "layer_norm", "batch_norm1d",
    "dropout", "embedding", "relu", "leaky_relu", "elu", "gelu", "silu", "sigmoid", "tanh",
    "softplus", "multihead_attention", "transformer_encoder_layer", "transformer_encoder",
    "sequential", "layer_list", "layer_dict",
]  # fmt: skip


def make(name: str, seed: int = 0, **extra) -> Module:
    cfg, _ = CASES[name]
    if name == "sequential":
        return registry.create(
            "layers",
            name,
            {"layer": "linear", "in_features": 4, "out_features": 3, "rng": seed},
            nn.ReLU(),
        )
    if name in ("linear", "conv1d", "lstm", "lstm_cell", "gru", "gru_cell", "embedding",
                "multihead_attention", "transformer_encoder_layer", "transformer_encoder"):  # fmt: skip
        extra = {"rng": seed, **extra}
    return registry.create("layers", name, **cfg, **extra)


def run(layer: Module, name: str, x: np.ndarray | None = None):
    if name == "embedding":
        return layer(np.array([[0, 5, 2], [1, 1, 3]]))
    if name in ("layer_list", "layer_dict"):
        sub = layer[0] if name == "layer_list" else layer["a"]
        return sub(Tensor(np.ones((2, 4), np.float32)))
    shape = CASES[name][1]
    if x is None:
        x = np.random.default_rng(5).standard_normal(shape).astype(np.float32)
    return layer(Tensor(x))


def first(out):
    while isinstance(out, tuple):
        out = out[0]
    return out


@pytest.mark.parametrize("name", REQUIRED)
def test_registered_and_creatable(name):
    assert name in registry.names("layers")
    assert registry.info("layers", name).distribution == "swets-nn"
    layer = make(name)
    assert isinstance(layer, Module)
    out = first(run(layer, name))
    assert isinstance(out, Tensor)
    assert out.dtype.value == "float32"
    assert np.all(np.isfinite(out.numpy()))


@pytest.mark.parametrize("name", REQUIRED)
def test_state_dict_round_trip_restores_outputs(name):
    a, b = make(name, seed=1), make(name, seed=2)
    a.eval()
    b.eval()
    if name == "batch_norm1d":  # non-trivial running statistics
        a.train()
        run(a, name)
        a.eval()
    noise = np.random.default_rng(3)
    for p in a.parameters():  # away from deterministic initial values (norm layers)
        p.numpy()[...] += noise.standard_normal(p.shape).astype(p.numpy().dtype) * 0.1
    state = a.state_dict()
    for value in state.values():  # copies, not views
        assert isinstance(value, np.ndarray)
    ids = [p.id for p in b.parameters()]
    if a.parameters():
        assert not np.array_equal(first(run(a, name)).numpy(), first(run(b, name)).numpy())
    b.load_state_dict(state)
    assert [p.id for p in b.parameters()] == ids  # loaded in place
    np.testing.assert_array_equal(first(run(a, name)).numpy(), first(run(b, name)).numpy())
    for key, value in b.state_dict().items():
        np.testing.assert_array_equal(value, state[key])


def test_strict_load_lists_every_problem():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    state = model.state_dict()
    del state["0.bias"]
    state["2.weight"] = np.zeros((3, 4), np.float32)
    state["1.running_mean"] = state["1.running_mean"].astype(np.float64)
    state["extra.weight"] = np.zeros(2, np.float32)
    with pytest.raises(StateDictError) as info:
        model.load_state_dict(state)
    msg = str(info.value)
    assert "4 problem" in msg
    assert "missing key '0.bias'" in msg
    assert "unexpected key 'extra.weight'" in msg
    assert "'2.weight': shape (3, 4)" in msg and "(2, 4)" in msg
    assert "'1.running_mean': dtype float64" in msg
    # nothing was loaded
    np.testing.assert_array_equal(model.state_dict()["2.weight"], model[2].weight.numpy())
    assert np.any(model[2].weight.numpy() != 0)


def test_non_strict_tolerates_missing_and_unexpected_but_not_mismatches():
    layer = nn.Linear(3, 2)
    layer.load_state_dict({"weight": np.ones((2, 3), np.float32), "other": 1}, strict=False)
    np.testing.assert_array_equal(layer.weight.numpy(), 1.0)
    with pytest.raises(StateDictError, match="shape"):
        layer.load_state_dict({"weight": np.ones((3, 3), np.float32)}, strict=False)


def test_parameter_names_follow_pytorch():
    lstm = nn.LSTM(2, 3, num_layers=2, bidirectional=True)
    assert [n for n, _ in lstm.named_parameters()] == [
        f"{kind}_{part}_l{k}{sfx}"
        for k in range(2)
        for sfx in ("", "_reverse")
        for kind, part in (("weight", "ih"), ("weight", "hh"), ("bias", "ih"), ("bias", "hh"))
    ]
    enc = nn.TransformerEncoder(dict(d_model=4, nhead=2, dim_feedforward=8), 2, norm=True)
    names = list(enc.state_dict())
    assert "layers.1.self_attn.in_proj_weight" in names
    assert "layers.0.self_attn.out_proj.bias" in names
    assert "layers.0.linear1.weight" in names and "layers.0.norm2.bias" in names
    assert "norm.weight" in names
    bn = nn.BatchNorm1d(3)
    assert list(bn.state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"
    ]  # fmt: skip


# -- shape errors ----------------------------------------------------------------------------------

BAD_INPUTS = [
    (nn.Linear(4, 3), (2, 5), "Linear", r"\(\*, 4\)", r"\(2, 5\)"),
    (nn.Linear(4, 3), (), "Linear", r"\(\*, 4\)", r"\(\)"),
    (nn.Conv1d(4, 3, 3), (2, 4), "Conv1d", r"\(N, 4, L\)", r"\(2, 4\)"),
    (nn.Conv1d(4, 3, 3), (2, 5, 7), "Conv1d", r"\(N, 4, L\)", r"\(2, 5, 7\)"),
    (nn.Conv1d(4, 3, 3), (1, 2, 4, 7), "Conv1d", r"\(N, 4, L\)", r"\(1, 2, 4, 7\)"),
    (nn.LSTM(4, 3), (2, 5, 3), "LSTM", r"\(N, L, 4\)", r"\(2, 5, 3\)"),
    (nn.LSTM(4, 3), (4,), "LSTM", r"\(N, L, 4\)", r"\(4,\)"),
    (nn.GRU(4, 3, batch_first=False), (2, 5, 3), "GRU", r"\(L, N, 4\)", r"\(2, 5, 3\)"),
    (nn.LSTMCell(4, 3), (2, 3), "LSTMCell", r"\(N, 4\)", r"\(2, 3\)"),
    (nn.GRUCell(4, 3), (2, 1, 4), "GRUCell", r"\(N, 4\)", r"\(2, 1, 4\)"),
    (nn.LayerNorm(4), (2, 5), "LayerNorm", r"\(\*, 4\)", r"\(2, 5\)"),
    (nn.LayerNorm((2, 4)), (4,), "LayerNorm", r"\(\*, 2, 4\)", r"\(4,\)"),
    (nn.BatchNorm1d(4), (4,), "BatchNorm1d", r"\(N, 4, \[L\]\)", r"\(4,\)"),
    (nn.BatchNorm1d(4), (2, 3, 5), "BatchNorm1d", r"\(N, 4, \[L\]\)", r"\(2, 3, 5\)"),
    (nn.MultiheadAttention(4, 2), (2, 5, 3), "MultiheadAttention", r"\(N, L, 4\)", r"\(2, 5, 3\)"),
    (nn.MultiheadAttention(4, 2), (4,), "MultiheadAttention", r"\(N, L, 4\)", r"\(4,\)"),
    (
        nn.TransformerEncoderLayer(4, 2, 8),
        (2, 5, 6),
        "TransformerEncoderLayer",
        r"\(N, L, 4\)",
        r"\(2, 5, 6\)",
    ),
]


@pytest.mark.parametrize("case", BAD_INPUTS, ids=lambda c: f"{c[2]}{c[1]}")
def test_wrong_rank_or_features_raise_shape_error(case):
    layer, shape, name, expected, received = case
    with pytest.raises(ShapeError) as info:
        layer(Tensor(np.zeros(shape, np.float32)))
    msg = str(info.value)
    assert msg.startswith(name + "("), msg
    assert re.search(expected, msg), msg
    assert re.search("got shape " + received, msg), msg


def test_state_shape_errors():
    lstm = nn.LSTM(2, 3, num_layers=2)
    x = Tensor(np.zeros((4, 5, 2), np.float32))
    h = Tensor(np.zeros((1, 4, 3), np.float32))
    with pytest.raises(ShapeError, match=r"h_0 of shape \(2, 4, 3\).*got shape \(1, 4, 3\)"):
        lstm(x, (h, h))
    with pytest.raises(ConfigError, match="pair"):
        lstm(x, h)
    with pytest.raises(ConfigError, match="h_0 must be a tensor"):
        nn.GRU(2, 3)(x, (h, h))
    cell = nn.GRUCell(2, 3)
    with pytest.raises(ShapeError, match=r"hx of shape \(4, 3\)"):
        cell(Tensor(np.zeros((4, 2), np.float32)), Tensor(np.zeros((4, 2), np.float32)))


def test_attention_mask_errors():
    mha = nn.MultiheadAttention(4, 2)
    x = Tensor(np.zeros((3, 5, 4), np.float32))
    with pytest.raises(ShapeError, match=r"attn_mask of shape \(5, 5\) or \(6, 5, 5\)"):
        mha(x, attn_mask=np.zeros((4, 5), bool))
    with pytest.raises(ShapeError, match=r"key_padding_mask of shape \(3, 5\)"):
        mha(x, key_padding_mask=np.zeros((3, 4), bool))
    with pytest.raises(DTypeError, match="bool or floating"):
        mha(x, attn_mask=np.zeros((5, 5), np.int64))
    with pytest.raises(ShapeError, match="batch size"):
        mha(x, Tensor(np.zeros((2, 5, 4), np.float32)))


def test_conv_too_short_and_dtype_errors():
    conv = nn.Conv1d(2, 2, 3, dilation=2)
    with pytest.raises(ShapeError, match="shorter than the dilated kernel span 5"):
        conv(Tensor(np.zeros((1, 2, 4), np.float32)))
    with pytest.raises(DTypeError, match="float64 but the parameters are float32"):
        conv(Tensor(np.zeros((1, 2, 9))))
    with pytest.raises(DTypeError, match="integers"):
        nn.Embedding(3, 2)(np.array([0.5]))
    with pytest.raises(OpError, match="index 3 is out of range"):
        nn.Embedding(3, 2)(np.array([0, 3]))


@pytest.mark.parametrize(
    "factory, pattern",
    [
        (lambda: nn.Conv1d(4, 3, 3, stride=2, padding="same"), "stride=1"),
        (lambda: nn.Conv1d(4, 3, 3, groups=3), "divisible by groups"),
        (lambda: nn.Conv1d(4, 3, 3, padding="full"), "padding must be"),
        (lambda: nn.Conv1d(4, 3, 3, padding_mode="mirror"), "padding_mode"),
        (lambda: nn.MultiheadAttention(6, 4), "divisible by num_heads"),
        (lambda: nn.Linear(-1, 3), "in_features must be >= 0"),
        (lambda: nn.LSTM(3, 0), "hidden_size must be > 0"),
        (lambda: nn.Dropout(1.5), r"p must be in \[0, 1\]"),
        (lambda: nn.GELU("fast"), "approximate"),
        (lambda: nn.TransformerEncoderLayer(4, 2, activation="nope"), "unknown activation"),
        (lambda: nn.Linear(3, 3, rng="seed"), "rng must be"),
        (lambda: nn.Embedding(3, 2, padding_idx=3), "padding_idx"),
        (lambda: nn.BatchNorm1d(3, momentum=2.0), "momentum"),
    ],
)
def test_config_errors(factory, pattern):
    with pytest.raises(ConfigError, match=pattern):
        factory()


def test_float_dtype_required():
    with pytest.raises(DTypeError, match="float32 or float64"):
        nn.Linear(2, 2, dtype="int64")


# -- initialisation --------------------------------------------------------------------------------


def test_seeded_initialisation_is_reproducible_and_seed_dependent():
    a, b, c = nn.Linear(5, 4, rng=3), nn.Linear(5, 4, rng=3), nn.Linear(5, 4, rng=4)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    assert not np.array_equal(a.weight.numpy(), c.weight.numpy())
    gen = np.random.default_rng(0)
    d, e = nn.Linear(5, 4, rng=gen), nn.Linear(5, 4, rng=gen)  # one stream, two layers
    assert not np.array_equal(d.weight.numpy(), e.weight.numpy())


def _within(arr: np.ndarray, bound: float) -> None:
    assert np.abs(arr).max() <= bound
    assert np.abs(arr).max() > 0.8 * bound  # fills the range (many samples)


def test_pytorch_default_bounds():
    lin = nn.Linear(50, 40, rng=0)
    _within(lin.weight.numpy(), 1 / math.sqrt(50))
    _within(lin.bias.numpy(), 1 / math.sqrt(50))
    conv = nn.Conv1d(8, 60, 5, groups=2, rng=0)
    _within(conv.weight.numpy(), 1 / math.sqrt(4 * 5))
    _within(conv.bias.numpy(), 1 / math.sqrt(4 * 5))
    lstm = nn.LSTM(3, 25, num_layers=2, rng=0)
    for p in lstm.parameters():
        _within(p.numpy(), 1 / math.sqrt(25))
    gru = nn.GRUCell(3, 16, rng=0)
    for p in gru.parameters():
        _within(p.numpy(), 0.25)
    mha = nn.MultiheadAttention(32, 4, rng=0)
    _within(mha.in_proj_weight.numpy(), math.sqrt(6 / (32 + 96)))
    assert not mha.in_proj_bias.numpy().any() and not mha.out_proj.bias.numpy().any()
    _within(mha.out_proj.weight.numpy(), 1 / math.sqrt(32))
    emb = nn.Embedding(400, 50, padding_idx=1, rng=0).weight.numpy()
    assert abs(emb.std() - 1.0) < 0.02 and abs(emb.mean()) < 0.02
    assert not emb[1].any()
    ln = nn.LayerNorm(3)
    np.testing.assert_array_equal(ln.weight.numpy(), 1.0)
    np.testing.assert_array_equal(ln.bias.numpy(), 0.0)


def test_reset_parameters_redraws_in_place():
    layer = nn.LSTM(3, 4, rng=0)
    ids = [p.id for p in layer.parameters()]
    before = layer.state_dict()
    layer.reset_parameters()
    assert [p.id for p in layer.parameters()] == ids
    assert not np.array_equal(before["weight_ih_l0"], layer.weight_ih_l0.numpy())
    layer.reset_parameters(rng=9)
    again = nn.LSTM(3, 4, rng=0)
    again.reset_parameters(rng=9)
    np.testing.assert_array_equal(layer.weight_hh_l0.numpy(), again.weight_hh_l0.numpy())


def test_init_functions():
    w = Parameter(np.zeros((30, 20, 3)))
    nn.init.xavier_uniform_(w, gain=2.0, rng=0)
    _within(w.numpy(), 2.0 * math.sqrt(6 / (20 * 3 + 30 * 3)))
    nn.init.kaiming_normal_(w, nonlinearity="relu", rng=0)
    assert abs(w.numpy().std() - math.sqrt(2 / 60)) < 0.01
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    with pytest.raises(ConfigError):
        nn.init.calculate_gain("swoosh")
    with pytest.raises(ShapeError):
        nn.init.xavier_uniform_(Parameter(np.zeros(3)), rng=0)


def test_nothing_is_drawn_for_a_model_whose_state_is_loaded_next():
    from swets_core.budget import parameter_budget

    rng = np.random.default_rng(5)
    before = rng.bit_generator.state
    with parameter_budget(10**6, "a test allows", state_follows=True):
        layer = nn.Linear(4, 3, rng=rng)
        nn.init.normal_(layer.weight, 0.0, 1.0, rng=rng)
        with parameter_budget(10**6, "an inner block allows"):  # an ordinary budget draws
            drawn = nn.Linear(4, 3, rng=0)
    assert rng.bit_generator.state == before
    assert not layer.weight.numpy().any() and not layer.bias.numpy().any()
    np.testing.assert_array_equal(drawn.weight.numpy(), nn.Linear(4, 3, rng=0).weight.numpy())
    with (  # the arguments are still checked
        pytest.raises(ShapeError),
        parameter_budget(10**6, "a test allows", state_follows=True),
    ):
        nn.init.xavier_uniform_(Parameter(np.zeros(3)), rng=0)


# -- dtypes, tape ----------------------------------------------------------------------------------


def test_float64_layers_and_astype():
    layer = nn.Sequential(nn.Conv1d(2, 3, 3, rng=0), nn.ReLU(), nn.BatchNorm1d(3))
    layer.astype("float64")
    assert layer[2].running_mean.dtype == np.float64
    out = layer(Tensor(np.ones((2, 2, 5))))
    assert out.dtype.value == "float64"
    assert nn.GRU(2, 3, dtype="float64", rng=0)(np.ones((1, 2, 2)))[0].dtype.value == "float64"


def test_tape_argument_records_and_gives_every_parameter_a_gradient():
    layer = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.1, rng=0)
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32))
    tape = GradientTape()
    y = layer(x, tape=tape)
    assert len(tape) > 0
    grads = tape.backward(y, grad=np.ones(y.shape, np.float32))
    for name, p in layer.named_parameters():
        assert p.id in grads, name
        assert grads[p.id].shape == p.shape
    assert len(GradientTape()) == 0
    # outside any tape nothing is recorded
    layer(x)


# -- dropout ---------------------------------------------------------------------------------------


def test_dropout_statistics_and_seeding():
    x = Tensor(np.ones((200, 100), np.float32))
    drop = nn.Dropout(0.3, rng=1)
    y = drop(x).numpy()
    assert abs((y == 0).mean() - 0.3) < 0.02
    np.testing.assert_allclose(y[y != 0], 1 / 0.7, rtol=1e-6)
    drop.seed(1)
    np.testing.assert_array_equal(drop(x).numpy(), y)
    assert not np.array_equal(drop(x).numpy(), y)  # the stream moves on
    np.testing.assert_array_equal(nn.Dropout(0.3, rng=1)(x).numpy(), y)
    assert drop.eval()(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert not nn.Dropout(1.0)(x).numpy().any()


def test_dropout_gradient_uses_the_mask():
    x = Tensor(np.ones((4, 5)))
    drop = nn.Dropout(0.5, rng=0)
    with GradientTape(watch=[x]) as tape:
        y = drop(x)
        loss = y.sum()
    g = tape.backward(loss)[x.id].numpy()
    np.testing.assert_array_equal(g, y.numpy())  # 0 or 1 / (1 - p), same mask


def test_lstm_inter_layer_dropout_only_in_training():
    x = Tensor(np.random.default_rng(0).standard_normal((2, 4, 3)).astype(np.float32))
    lstm = nn.LSTM(3, 8, num_layers=2, dropout=0.5, rng=0)
    plain = nn.LSTM(3, 8, num_layers=2, rng=0)
    assert not np.allclose(lstm(x)[0].numpy(), plain(x)[0].numpy())
    lstm.eval()
    np.testing.assert_array_equal(lstm(x)[0].numpy(), plain(x)[0].numpy())


def test_seed_dropout_makes_training_reproducible():
    layer = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.3, rng=0)
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32))
    nn.seed_dropout(layer, 5)
    a = layer(x).numpy()
    b = layer(x).numpy()
    assert not np.array_equal(a, b)
    nn.seed_dropout(layer, 5)
    np.testing.assert_array_equal(layer(x).numpy(), a)
    gens = [m.rng for _, m in layer.named_modules() if hasattr(m, "rng")]
    assert len({id(g) for g in gens}) == len(gens) == 4  # self_attn + three Dropout layers


# -- batch norm ------------------------------------------------------------------------------------


def test_batch_norm_running_statistics_and_eval():
    bn = nn.BatchNorm1d(2, momentum=0.5, dtype="float64")
    x = np.array([[1.0, 10.0], [3.0, 14.0], [5.0, 12.0]])
    bn(Tensor(x))
    np.testing.assert_allclose(bn.running_mean, 0.5 * x.mean(0))
    np.testing.assert_allclose(bn.running_var, 0.5 + 0.5 * x.var(0, ddof=1))
    assert int(bn.num_batches_tracked) == 1
    bn.eval()
    y = bn(Tensor(x)).numpy()
    np.testing.assert_allclose(y, (x - bn.running_mean) / np.sqrt(bn.running_var + 1e-5))
    assert int(bn.num_batches_tracked) == 1
    with pytest.raises(ShapeError, match="more than 1 value per channel"):
        bn.train()(Tensor(np.ones((1, 2))))


# -- causality and masks ---------------------------------------------------------------------------


def test_causal_conv_does_not_see_the_future():
    conv = nn.Conv1d(2, 3, 3, padding="causal", dilation=2, rng=0)
    x = np.random.default_rng(0).standard_normal((1, 2, 10)).astype(np.float32)
    y = conv(Tensor(x)).numpy()
    x2 = x.copy()
    x2[..., 6:] += 5.0
    y2 = conv(Tensor(x2)).numpy()
    assert y.shape == (1, 3, 10)
    np.testing.assert_array_equal(y[..., :6], y2[..., :6])
    assert not np.allclose(y[..., 6:], y2[..., 6:])


@pytest.mark.parametrize("need_weights", [True, False])
def test_causal_attention_and_padding(need_weights):
    mha = nn.MultiheadAttention(4, 2, rng=0)
    x = np.random.default_rng(0).standard_normal((2, 6, 4)).astype(np.float32)
    x2 = x.copy()
    x2[:, 4:] += 3.0
    y, w = mha(Tensor(x), is_causal=True, need_weights=need_weights)
    y2, _ = mha(Tensor(x2), is_causal=True, need_weights=need_weights)
    np.testing.assert_allclose(y.numpy()[:, :4], y2.numpy()[:, :4], rtol=1e-5, atol=1e-6)
    assert not np.allclose(y.numpy()[:, 4:], y2.numpy()[:, 4:])
    if need_weights:
        assert w.shape == (2, 6, 6)
        assert not np.triu(w.numpy()[0], 1).any()
        np.testing.assert_allclose(w.numpy().sum(-1), 1.0, rtol=1e-5)
    else:
        assert w is None
    kpm = np.zeros((2, 6), bool)
    kpm[:, 4:] = True
    y3, _ = mha(Tensor(x), key_padding_mask=kpm)
    y4, _ = mha(Tensor(x2), key_padding_mask=kpm)
    np.testing.assert_allclose(y3.numpy()[:, :4], y4.numpy()[:, :4], rtol=1e-5, atol=1e-6)


def test_attention_weights_per_head():
    mha = nn.MultiheadAttention(4, 2, rng=0)
    x = Tensor(np.ones((3, 5, 4), np.float32))
    _, w = mha(x, average_attn_weights=False)
    assert w.shape == (3, 2, 5, 5)


# -- transformer encoder ---------------------------------------------------------------------------


def test_encoder_copies_layers_like_pytorch():
    proto = nn.TransformerEncoderLayer(4, 2, 8, rng=0)
    enc = nn.TransformerEncoder(proto, 3)
    ids = {p.id for p in enc.parameters()}
    assert len(ids) == 3 * len(proto.parameters())
    assert not ids & {p.id for p in proto.parameters()}
    for i in range(3):
        for (n, p), (_, q) in zip(enc.layers[i].named_parameters(), proto.named_parameters()):
            np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=n)
    enc.layers[0].linear1.weight.numpy()[:] = 0.0  # storage is not shared
    assert enc.layers[1].linear1.weight.numpy().any()
    fresh = nn.TransformerEncoder(dict(d_model=4, nhead=2, dim_feedforward=8), 2, rng=0)
    assert not np.array_equal(
        fresh.layers[0].linear1.weight.numpy(), fresh.layers[1].linear1.weight.numpy()
    )


# -- containers ------------------------------------------------------------------------------------


def test_sequential_behaviour():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    assert len(seq) == 3
    assert isinstance(seq[1], nn.ReLU) and isinstance(seq[-1], nn.Linear)
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2
    assert [n for n, _ in head.named_parameters()] == ["0.weight", "0.bias"]
    seq.append(nn.Tanh())
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2", "3"]
    assert seq(Tensor(np.ones((5, 3), np.float32))).shape == (5, 2)
    del seq[1]
    assert [type(m).__name__ for m in seq] == ["Linear", "Linear", "Tanh"]
    named = nn.Sequential({"enc": nn.Linear(3, 4), "act": nn.GELU()})
    assert list(named.state_dict()) == ["enc.weight", "enc.bias"]
    assert isinstance(named["act"], nn.GELU)
    assert "(enc): Linear(in_features=3, out_features=4, bias=True)" in repr(named)
    with pytest.raises(ConfigError):
        named.append(nn.ReLU())
    with pytest.raises(ConfigError, match="expected a layer"):
        nn.Sequential(nn.ReLU(), 3)
    with pytest.raises(IndexOutOfRangeError, match="Sequential: index 7 out of range for"):
        seq[7]


def test_layer_list_and_dict():
    ll = nn.LayerList([nn.Linear(2, 2) for _ in range(2)])
    ll.insert(0, {"layer": "conv1d", "in_channels": 2, "out_channels": 2, "kernel_size": 1})
    assert isinstance(ll[0], nn.Conv1d) and len(ll) == 3
    ll[2] = nn.Identity()
    assert [n for n, _ in ll.named_parameters()][-2:] == ["1.weight", "1.bias"]
    with pytest.raises(NotImplementedError):
        ll(Tensor(np.ones(2)))
    ld = nn.LayerDict({"b": nn.Linear(2, 1)})
    ld["a"] = nn.Linear(2, 3)
    assert ld.keys() == ["b", "a"] and "a" in ld and len(ld) == 2
    assert list(ld.state_dict()) == ["b.weight", "b.bias", "a.weight", "a.bias"]
    assert isinstance(ld.pop("b"), nn.Linear) and list(ld) == ["a"]
    with pytest.raises(MissingKeyError, match="LayerDict has no layer 'zz'; keys: 'a'"):
        ld["zz"]
    with pytest.raises(ConfigError, match=r"without '\.'"):
        ld["x.y"] = nn.ReLU()

    class Net(Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.LayerList([nn.Linear(2, 2), nn.Linear(2, 2)])
            self.heads = nn.LayerDict({"mu": nn.Linear(2, 1)})

    names = [n for n, _ in Net().named_parameters()]
    assert names == [
        "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias",
        "heads.mu.weight", "heads.mu.bias",
    ]  # fmt: skip


def test_train_eval_propagates():
    seq = nn.Sequential(nn.Dropout(0.5), nn.LayerList([nn.BatchNorm1d(2)]))
    seq.eval()
    assert all(not m.training for _, m in seq.named_modules())
    seq.train()
    assert all(m.training for _, m in seq.named_modules())


def test_reprs():
    assert repr(nn.Linear(3, 2)) == "Linear(in_features=3, out_features=2, bias=True)"
    assert repr(nn.Conv1d(2, 4, 3, padding="causal", dilation=2)) == (
        "Conv1d(2, 4, kernel_size=3, stride=1, padding='causal', dilation=2)"
    )
    assert repr(nn.LSTM(3, 5, num_layers=2, dropout=0.1)) == (
        "LSTM(3, 5, num_layers=2, batch_first=True, dropout=0.1)"
    )
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    text = repr(nn.TransformerEncoderLayer(4, 2, 8))
    assert "(self_attn): MultiheadAttention(embed_dim=4, num_heads=2" in text
    assert "(out_proj): Linear(in_features=4, out_features=4, bias=True)" in text
    assert "(norm1): LayerNorm((4,), eps=1e-05, elementwise_affine=True)" in text


WITH_PARAMETERS = [
    "linear", "conv1d", "lstm", "lstm_cell", "gru", "gru_cell", "layer_norm", "batch_norm1d",
    "multihead_attention", "transformer_encoder_layer", "transformer_encoder", "sequential",
]  # fmt: skip


@pytest.mark.parametrize("name", WITH_PARAMETERS)
def test_conformance_kit(name):
    from swets_core.testing import check_layer

    layer = make(name)
    x = np.random.default_rng(0).standard_normal(CASES[name][1]).astype(np.float32)
    check_layer(layer, x)
