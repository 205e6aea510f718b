"""Finite-difference gradient checks of every layer in float64 (inputs and parameters)."""

from __future__ import annotations

import numpy as np
import pytest

import swets_nn as nn
from tests.nn.helpers import layer_gradcheck

F64 = "float64"


def _x(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape)


def test_linear(rng):
    layer_gradcheck(nn.Linear(3, 2, dtype=F64, rng=0), _x(rng, 2, 2, 3))


@pytest.mark.parametrize(
    "layer",
    [
        nn.ReLU(),
        nn.LeakyReLU(0.1),
        nn.ELU(),
        nn.GELU(),
        nn.GELU("tanh"),
        nn.SiLU(),
        nn.Sigmoid(),
        nn.Tanh(),
        nn.Softplus(beta=2.0, threshold=1.0),
    ],
    ids=repr,
)
def test_activations(rng, layer):
    x = _x(rng, 3, 4)
    x[np.abs(x) < 0.05] = 0.3  # away from kinks
    x[np.abs(x * 2.0 - 1.0) < 0.05] = 0.9  # and from softplus' threshold
    layer_gradcheck(layer, x)


@pytest.mark.parametrize(
    "cfg",
    [
        dict(padding="causal", dilation=2),
        dict(padding="same", groups=2, bias=False),
        dict(stride=2, padding=1, padding_mode="reflect"),
        dict(padding=1, padding_mode="circular"),
    ],
    ids=str,
)
def test_conv1d(rng, cfg):
    layer_gradcheck(nn.Conv1d(2, 4, 3, dtype=F64, rng=0, **cfg), _x(rng, 2, 2, 6))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm(rng, bidirectional):
    layer = nn.LSTM(2, 3, num_layers=2, bidirectional=bidirectional, dtype=F64, rng=0)
    d = 2 if bidirectional else 1
    h0, c0 = _x(rng, 2 * d, 2, 3), _x(rng, 2 * d, 2, 3)
    layer_gradcheck(layer, _x(rng, 2, 3, 2), h0, c0, call=lambda m, x, h, c: m(x, (h, c)))


def test_gru(rng):
    layer = nn.GRU(2, 3, num_layers=2, dtype=F64, rng=0)
    layer_gradcheck(layer, _x(rng, 2, 3, 2), _x(rng, 2, 2, 3))


def test_cells(rng):
    layer_gradcheck(
        nn.LSTMCell(2, 3, dtype=F64, rng=0),
        _x(rng, 2, 2),
        _x(rng, 2, 3),
        _x(rng, 2, 3),
        call=lambda m, x, h, c: m(x, (h, c)),
    )
    layer_gradcheck(nn.GRUCell(2, 3, dtype=F64, rng=0), _x(rng, 2, 2), _x(rng, 2, 3))


def test_layer_norm(rng):
    layer = nn.LayerNorm((2, 3), dtype=F64)
    layer.weight.numpy()[:] = _x(rng, 2, 3)
    layer.bias.numpy()[:] = _x(rng, 2, 3)
    layer_gradcheck(layer, _x(rng, 2, 2, 3))


@pytest.mark.parametrize("shape", [(4, 3), (3, 3, 4)])
def test_batch_norm1d(rng, shape):
    layer = nn.BatchNorm1d(3, momentum=None, dtype=F64)
    layer.weight.numpy()[:] = _x(rng, 3)
    layer_gradcheck(layer, _x(rng, *shape))
    layer.eval()
    layer_gradcheck(layer, _x(rng, *shape))


def test_embedding(rng):
    # (with padding_idx the padding row deliberately gets no gradient; see the parity suite)
    layer = nn.Embedding(5, 3, dtype=F64, rng=0)
    layer_gradcheck(layer, np.array([[0, 1, 4], [4, 2, 0]]))


def test_dropout_in_training_mode(rng):
    # the mask is redrawn on every call: reseed before each so the numeric passes see the same one
    layer = nn.Dropout(0.4)

    def call(m, x):
        m.seed(7)
        return m(x)

    layer_gradcheck(layer, _x(rng, 3, 4), call=call)


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention(rng, need_weights):
    layer = nn.MultiheadAttention(4, 2, add_bias_kv=True, dtype=F64, rng=0)
    kpm = np.array([[False, False, True], [False, False, False]])

    def call(m, q, kv):
        out, w = m(q, kv, kv, key_padding_mask=kpm, need_weights=need_weights)
        return (out, w) if need_weights else out

    layer_gradcheck(layer, _x(rng, 2, 2, 4), _x(rng, 2, 3, 4), call=call)


def test_multihead_attention_causal_kdim(rng):
    layer = nn.MultiheadAttention(4, 2, kdim=3, vdim=2, dtype=F64, rng=0)

    def call(m, q, k, v):
        return m(q, k, v, is_causal=True)

    layer_gradcheck(layer, _x(rng, 2, 3, 4), _x(rng, 2, 3, 3), _x(rng, 2, 3, 2), call=call)


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder(rng, norm_first):
    proto = nn.TransformerEncoderLayer(
        4, 2, dim_feedforward=6, dropout=0.0, activation="gelu", norm_first=norm_first,
        dtype=F64, rng=0,
    )  # fmt: skip
    layer = nn.TransformerEncoder(proto, 1, norm=True, rng=0) if norm_first else proto
    layer_gradcheck(layer, _x(rng, 2, 3, 4), call=lambda m, x: m(x, is_causal=True))


def test_sequential(rng):
    layer = nn.Sequential(
        nn.Linear(3, 4, dtype=F64, rng=0), nn.Tanh(), nn.Linear(4, 2, dtype=F64, rng=1)
    )
    layer_gradcheck(layer, _x(rng, 2, 3))
