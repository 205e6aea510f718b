"""Every layer's array forward (``forward_arrays``, and ``forward`` when nothing records) computes
what its recorded forward computes: both dtypes, training and evaluation mode (the same dropout masks
from the same generators), the layouts and options each layer has."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import swets_nn as nn
from swets_core import GradientTape, Module, Tensor, no_grad, registry
from swets_nn.paths import ARRAYS, TENSORS, Parts

R = np.random.default_rng


def _x(*shape: int, seed: int = 0) -> Callable[[str], np.ndarray]:
    return lambda dtype: R(seed).standard_normal(shape).astype(dtype)


# (id, registry name, config, inputs builder (dtype -> tuple of positional inputs), call kwargs)
CASES: list[tuple[str, str, dict[str, Any], Callable[[str], tuple], dict[str, Any]]] = [
    ("identity", "identity", {}, lambda d: (_x(2, 4)(d),), {}),
    ("linear", "linear", dict(in_features=4, out_features=3), lambda d: (_x(2, 5, 4)(d),), {}),
    (
        "linear-no-bias-1d",
        "linear",
        dict(in_features=4, out_features=3, bias=False),
        lambda d: (_x(4)(d),),
        {},
    ),
    (
        "conv1d-causal",
        "conv1d",
        dict(in_channels=4, out_channels=3, kernel_size=3, padding="causal", dilation=2),
        lambda d: (_x(2, 4, 9)(d),),
        {},
    ),
    (
        "conv1d-reflect-unbatched",
        "conv1d",
        dict(in_channels=2, out_channels=4, kernel_size=3, padding=1, padding_mode="reflect"),
        lambda d: (_x(2, 6)(d),),
        {},
    ),
    (
        "conv1d-groups-stride",
        "conv1d",
        dict(in_channels=4, out_channels=6, kernel_size=2, stride=2, groups=2, bias=False),
        lambda d: (_x(3, 4, 8)(d),),
        {},
    ),
    (
        "lstm-stack",
        "lstm",
        dict(input_size=4, hidden_size=3, num_layers=3),
        lambda d: (_x(2, 5, 4)(d),),
        {},
    ),
    (
        "lstm-dropout-states",
        "lstm",
        dict(input_size=4, hidden_size=3, num_layers=2, dropout=0.4),
        lambda d: (_x(2, 5, 4)(d), (_x(2, 2, 3, seed=1)(d), _x(2, 2, 3, seed=2)(d))),
        {},
    ),
    (
        "lstm-bidirectional-time-major",
        "lstm",
        dict(input_size=4, hidden_size=3, bidirectional=True, batch_first=False, bias=False),
        lambda d: (_x(5, 2, 4)(d),),
        {},
    ),
    ("lstm-unbatched", "lstm", dict(input_size=4, hidden_size=3), lambda d: (_x(5, 4)(d),), {}),
    (
        "gru-bidirectional-dropout",
        "gru",
        dict(input_size=4, hidden_size=3, num_layers=2, bidirectional=True, dropout=0.3),
        lambda d: (_x(2, 5, 4)(d), _x(4, 2, 3, seed=1)(d)),
        {},
    ),
    (
        "lstm_cell",
        "lstm_cell",
        dict(input_size=4, hidden_size=3),
        lambda d: (_x(2, 4)(d), (_x(2, 3, seed=1)(d), _x(2, 3, seed=2)(d))),
        {},
    ),
    (
        "lstm_cell-unbatched",
        "lstm_cell",
        dict(input_size=4, hidden_size=3),
        lambda d: (_x(4)(d),),
        {},
    ),
    (
        "gru_cell",
        "gru_cell",
        dict(input_size=4, hidden_size=3, bias=False),
        lambda d: (_x(2, 4)(d), _x(2, 3, seed=1)(d)),
        {},
    ),
    ("layer_norm", "layer_norm", dict(normalized_shape=(3, 4)), lambda d: (_x(2, 3, 4)(d),), {}),
    (
        "layer_norm-no-affine",
        "layer_norm",
        dict(normalized_shape=4, elementwise_affine=False),
        lambda d: (_x(2, 5, 4)(d),),
        {},
    ),
    ("batch_norm1d", "batch_norm1d", dict(num_features=4), lambda d: (_x(3, 4, 5)(d),), {}),
    ("dropout", "dropout", dict(p=0.3), lambda d: (_x(3, 7)(d),), {}),
    (
        "embedding",
        "embedding",
        dict(num_embeddings=6, embedding_dim=4, padding_idx=1),
        lambda d: (np.array([[0, 5, 1], [1, 2, 3]]),),
        {},
    ),
    ("relu", "relu", {}, lambda d: (_x(2, 4)(d),), {}),
    ("leaky_relu", "leaky_relu", dict(negative_slope=0.2), lambda d: (_x(2, 4)(d),), {}),
    ("elu", "elu", dict(alpha=0.5), lambda d: (_x(2, 4)(d),), {}),
    ("gelu", "gelu", {}, lambda d: (_x(2, 4)(d),), {}),
    ("gelu-tanh", "gelu", dict(approximate="tanh"), lambda d: (_x(2, 4)(d),), {}),
    ("silu", "silu", {}, lambda d: (_x(2, 4)(d),), {}),
    ("sigmoid", "sigmoid", {}, lambda d: (_x(2, 4)(d),), {}),
    ("tanh", "tanh", {}, lambda d: (_x(2, 4)(d),), {}),
    ("softplus", "softplus", dict(beta=2.0), lambda d: (_x(2, 4)(d),), {}),
    (
        "mha-self",
        "multihead_attention",
        dict(embed_dim=4, num_heads=2, dropout=0.3),
        lambda d: (_x(2, 5, 4)(d),),
        {},
    ),
    (
        "mha-cross-masks-no-weights",
        "multihead_attention",
        dict(embed_dim=4, num_heads=2),
        lambda d: (_x(2, 3, 4)(d), _x(2, 5, 4, seed=1)(d), _x(2, 5, 4, seed=2)(d)),
        dict(
            key_padding_mask=np.array([[False] * 4 + [True], [False] * 5]),
            attn_mask=np.triu(np.ones((3, 5), bool), k=3),
            need_weights=False,
        ),
    ),
    (
        "mha-kv-dims-bias-kv-zero-attn-time-major",
        "multihead_attention",
        dict(
            embed_dim=4,
            num_heads=2,
            kdim=3,
            vdim=5,
            add_bias_kv=True,
            add_zero_attn=True,
            batch_first=False,
        ),
        lambda d: (_x(3, 2, 4)(d), _x(5, 2, 3, seed=1)(d), _x(5, 2, 5, seed=2)(d)),
        dict(average_attn_weights=False),
    ),
    (
        "mha-causal-unbatched",
        "multihead_attention",
        dict(embed_dim=4, num_heads=1, bias=False),
        lambda d: (_x(5, 4)(d),),
        dict(is_causal=True, need_weights=False),
    ),
    (
        "encoder-layer-post-norm",
        "transformer_encoder_layer",
        dict(d_model=4, nhead=2, dim_feedforward=8, dropout=0.2),
        lambda d: (_x(2, 5, 4)(d),),
        {},
    ),
    (
        "encoder-layer-pre-norm-causal-last-position",
        "transformer_encoder_layer",
        dict(d_model=4, nhead=2, dim_feedforward=8, norm_first=True, activation="gelu"),
        lambda d: (_x(2, 5, 4)(d),),
        dict(is_causal=True, last_position=True),
    ),
    (
        "encoder-layer-mask-last-position-time-major",
        "transformer_encoder_layer",
        dict(d_model=4, nhead=2, dim_feedforward=8, batch_first=False),
        lambda d: (_x(5, 2, 4)(d),),
        dict(src_mask=np.triu(np.ones((5, 5), bool), k=1), last_position=True),
    ),
    (
        "encoder",
        "transformer_encoder",
        dict(encoder_layer=dict(d_model=4, nhead=2, dim_feedforward=8), num_layers=2, norm=True),
        lambda d: (_x(2, 5, 4)(d),),
        dict(is_causal=True),
    ),
]


_NO_DTYPE = {"identity", "dropout", "relu", "leaky_relu", "elu", "gelu", "silu", "sigmoid", "tanh"}
_NO_DTYPE |= {"softplus"}
_NO_RNG = _NO_DTYPE - {"dropout"} | {"layer_norm", "batch_norm1d"}


def _build(name: str, cfg: dict[str, Any], dtype: str, training: bool) -> Module:
    cfg = dict(cfg)
    if name == "transformer_encoder":
        cfg["encoder_layer"] = {**cfg["encoder_layer"], "dtype": dtype}
    elif name not in _NO_DTYPE:
        cfg["dtype"] = dtype
    if name not in _NO_RNG:
        cfg["rng"] = 3
    return registry.create("layers", name, **cfg).train(training)


def _arrays(out: Any) -> list[np.ndarray | None]:
    if isinstance(out, (tuple, list)):
        return [a for o in out for a in _arrays(o)]
    if out is None:
        return [None]
    return [out.numpy() if isinstance(out, Tensor) else np.asarray(out)]


def _tensors(inputs: tuple) -> tuple:
    def wrap(a: Any) -> Any:
        if isinstance(a, tuple):
            return tuple(wrap(b) for b in a)
        return Tensor(a) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a

    return tuple(wrap(a) for a in inputs)


def _assert_same(got: Any, want: Any, dtype: str) -> None:
    got, want = _arrays(got), _arrays(want)
    assert len(got) == len(want)
    tol = 1e-12 if dtype == "float64" else 2e-6
    for g, w in zip(got, want):
        if w is None:
            assert g is None
            continue
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_array_forward_equals_the_recorded_forward(case, dtype, training) -> None:
    _, name, cfg, inputs, kwargs = case
    recorded, on_arrays, untaped = (_build(name, cfg, dtype, training) for _ in range(3))
    args = inputs(dtype)
    with GradientTape(watch=[a for a in _tensors(args) if isinstance(a, Tensor)]):
        want = recorded(*_tensors(args), **kwargs)
    got = on_arrays.forward_arrays(*args, **kwargs)
    _assert_same(got, want, dtype)
    assert not any(isinstance(a, Tensor) for a in _arrays(got) if a is not None)
    with no_grad():  # forward on Tensors when nothing records: the array path, wrapped
        _assert_same(untaped(*_tensors(args), **kwargs), want, dtype)


def test_every_layer_with_a_forward_has_its_own_array_forward() -> None:
    for name in registry.names("layers"):
        cls = registry.get("layers", name)
        if name in ("layer_list", "layer_dict"):  # containers without a forward
            continue
        assert cls.forward_arrays is not Module.forward_arrays, name


def test_the_default_array_forward_runs_a_users_layer_without_recording() -> None:
    class Double(Module):
        def forward(self, x):
            return x * 2.0

    seq = nn.Sequential(nn.Linear(3, 2, rng=0), Double(), nn.Tanh())
    x = R(0).standard_normal((4, 3)).astype(np.float32)
    with GradientTape() as tape:
        got = seq.forward_arrays(x)
        assert not tape._nodes  # nothing recorded although a tape is active
    with GradientTape():
        want = seq(Tensor(x)).numpy()
    assert isinstance(got, np.ndarray)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_paths_split_like_the_split_op() -> None:
    x = R(0).standard_normal((2, 3, 9)).astype(np.float32)
    for parts in (Parts((3, 3, 3), -1), Parts((2, 7), -1)):
        views = ARRAYS.split(x, parts)
        ops_out = TENSORS.split(Tensor(x), parts)
        assert len(views) == len(ops_out)
        for v, t in zip(views, ops_out):
            np.testing.assert_array_equal(v, t.numpy())
    w = R(1).standard_normal((6, 4))
    for v, t in zip(ARRAYS.split(w, Parts((2, 4), 0)), TENSORS.split(Tensor(w), Parts((2, 4), 0))):
        np.testing.assert_array_equal(v, t.numpy())


def test_array_forward_errors_name_the_layer() -> None:
    from swets_core.errors import DTypeError, ShapeError

    lin = nn.Linear(4, 3, rng=0)
    with pytest.raises(ShapeError, match=r"Linear\(in_features=4"):
        lin.forward_arrays(np.zeros((2, 5), np.float32))
    with pytest.raises(DTypeError, match="Linear: the input has dtype float64"):
        lin.forward_arrays(np.zeros((2, 4)))
    layer = nn.TransformerEncoderLayer(4, 2, 8, rng=0)
    with pytest.raises(ShapeError, match="TransformerEncoderLayer"):
        layer.forward_arrays(np.zeros((2, 5, 3), np.float32))
    mha = nn.MultiheadAttention(4, 2, rng=0)
    with pytest.raises(ShapeError, match="must share the batch size"):
        mha.forward_arrays(np.zeros((2, 5, 4), np.float32), np.zeros((3, 5, 4), np.float32))
