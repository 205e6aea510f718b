"""swets-models: registration, configuration round trip, shapes, gradients, errors and model semantics."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest

from swets_core import GradientTape, Tensor, no_grad, registry
from swets_core.errors import ConfigError, DTypeError, ShapeError, SwetsError
from swets_core.testing import check_registered, gradcheck
from tests.models.configs import SMALL_CONFIGS, small_input_shape

NAMES = [
    "tcn",
    "transformer",
    "lstm",
    "nbeats",
    "nlinear",
    "dlinear",
    "nhits",
    "tide",
    "patchtst",
]
QUANTILES = [0.1, 0.5, 0.9]


def make(name: str, **overrides):
    return registry.create("models", name, **{**SMALL_CONFIGS[name], "seed": 0, **overrides})


def sample(name: str, batch: int = 4, dtype: str = "float32", seed: int = 1) -> Tensor:
    shape = small_input_shape(name, batch)
    return Tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


def out_np(model, x) -> np.ndarray:
    with no_grad():
        return model(x).numpy().copy()


# ------------------------------------------------------------------------------------------------
# Registration and configuration
# ------------------------------------------------------------------------------------------------


def test_the_models_are_registered_by_swets_models():
    check_registered("swets-models", {"models": [*NAMES, "ensemble", "deepar"]})


@pytest.mark.parametrize("name", NAMES)
def test_registry_name_and_plain_config_rebuild_the_model(name):
    model = make(name, quantiles=QUANTILES)
    assert model.registry_name == name
    cfg = model.config()
    assert json.loads(json.dumps(cfg)) == cfg  # plain data only
    twin = registry.create("models", name, **cfg)
    assert type(twin) is type(model)
    assert twin.config() == cfg
    assert [n for n, _ in twin.named_parameters()] == [n for n, _ in model.named_parameters()]
    twin.load_state_dict(model.state_dict())
    model.eval()
    twin.eval()
    x = sample(name)
    np.testing.assert_array_equal(out_np(twin, x), out_np(model, x))


@pytest.mark.parametrize("name", NAMES)
def test_config_records_the_parameter_dtype(name):
    model = make(name)
    assert model.config()["dtype"] == "float32"
    model.astype("float64")
    assert model.config()["dtype"] == "float64"
    assert make(name, dtype="float64").config()["dtype"] == "float64"
    assert all(p.numpy().dtype == np.float64 for p in make(name, dtype="float64").parameters())


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_parameters_different_seed_different(name):
    a, b, c = make(name, seed=3), make(name, seed=3), make(name, seed=4)
    for (n, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa.numpy(), pb.numpy(), err_msg=n)
    assert any(
        not np.array_equal(pa.numpy(), pc.numpy()) for pa, pc in zip(a.parameters(), c.parameters())
    )
    rng_model = make(name, seed=None, rng=np.random.default_rng(3))
    for pa, pr in zip(a.parameters(), rng_model.parameters()):
        np.testing.assert_array_equal(pa.numpy(), pr.numpy())


# ------------------------------------------------------------------------------------------------
# Shapes and gradients
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("quantiles", [None, QUANTILES], ids=["point", "quantile"])
@pytest.mark.parametrize("batch", [1, 5])
def test_output_shapes(name, quantiles, batch):
    model = make(name, quantiles=quantiles)
    y = model(sample(name, batch))
    horizon = SMALL_CONFIGS[name]["horizon"]
    expected = (batch, horizon) if quantiles is None else (batch, horizon, len(quantiles))
    assert y.shape == expected == model.output_shape(batch)
    assert y.numpy().dtype == np.float32
    assert np.all(np.isfinite(y.numpy()))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("quantiles", [None, QUANTILES], ids=["point", "quantile"])
def test_every_parameter_receives_a_nonzero_gradient(name, quantiles):
    model = make(name, quantiles=quantiles)  # training mode, dropout active
    x = sample(name, batch=6)
    with GradientTape() as tape:
        y = model(x)
        loss = (y * y).mean()
    grads = tape.backward(loss)
    for pname, p in model.named_parameters():
        assert p.id in grads, f"{name}: no gradient reached {pname}"
        g = grads[p.id].numpy()
        assert g.shape == p.shape
        assert np.all(np.isfinite(g)), pname
        assert np.any(g != 0), f"{name}: the gradient of {pname} is identically zero"


def _swap(model, dotted: str, value):
    """Replace the attribute (or list item) at ``dotted`` and return what was there."""
    parts = dotted.split(".")
    obj = model
    for part in parts[:-1]:
        obj = obj[int(part)] if isinstance(obj, (list, tuple)) else getattr(obj, part)
    last = parts[-1]
    if isinstance(obj, list):
        old, obj[int(last)] = obj[int(last)], value
    else:
        old = getattr(obj, last)
        setattr(obj, last, value)
    return old


def gradcheck_model(model, x: np.ndarray) -> None:
    """Finite-difference check of d(output)/d(input) and d(output)/d(every parameter), float64.

    The parameters are handed to ``gradcheck`` as inputs; ``fn`` installs its float64 working copies
    in the model (so perturbing one perturbs the model) and the originals are put back afterwards.
    """
    names, params = zip(*model.named_parameters())

    def fn(xx, *ws):
        for n, w in zip(names, ws):
            _swap(model, n, w)
        return model(xx)

    try:
        gradcheck(fn, x, *[p.numpy() for p in params])
    finally:
        for n, p in zip(names, params):
            _swap(model, n, p)


@pytest.mark.parametrize("name", NAMES)
def test_gradcheck_float64(name):
    model = make(name, dtype="float64").eval()  # eval: dropout off, so the function is fixed
    gradcheck_model(model, sample(name, batch=2, dtype="float64").numpy())


@pytest.mark.parametrize(
    "name, overrides",
    [
        ("nbeats", {"quantiles": [0.2, 0.8]}),
        ("nbeats", {"quantiles": [0.2, 0.8], "naive_level": True}),
        ("tcn", {"weight_norm": False, "quantiles": [0.5, 0.9]}),
        ("transformer", {"positional": "learned", "causal": True, "head": "flatten"}),
        ("transformer", {"norm_first": False, "activation": "relu"}),
        ("nlinear", {"quantiles": [0.2, 0.8], "instance_norm": True}),
        ("dlinear", {"quantiles": [0.2, 0.8], "kernel_size": 5}),
        ("nhits", {"quantiles": [0.2, 0.8], "interpolation": "nearest"}),
        ("nhits", {"pool_kernel_size": [8], "freq_downsample": [1], "num_blocks": 2}),
        ("tide", {"quantiles": [0.2, 0.8], "layer_norm": False}),
        ("patchtst", {"norm": "layer", "quantiles": [0.2, 0.8], "pad_end": False}),
        ("patchtst", {"instance_norm": False, "instance_norm_affine": False, "stride": 4}),
    ],
    ids=[
        "nbeats-quantile",
        "nbeats-naive-level",
        "tcn-plain-quantile",
        "transformer-learned-causal-flatten",
        "post-norm",
        "nlinear-quantile-revin",
        "dlinear-quantile",
        "nhits-quantile-nearest",
        "nhits-one-stack-pooled-whole",
        "tide-quantile-no-norm",
        "patchtst-layernorm-quantile-unpadded",
        "patchtst-no-revin-disjoint-patches",
    ],
)
def test_gradcheck_float64_variants(name, overrides):
    model = make(name, dtype="float64", **overrides).eval()
    gradcheck_model(model, sample(name, batch=2, dtype="float64").numpy())


# ------------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------------

BAD_CONFIGS = [
    ("tcn", {"channels": 0}, "channels"),
    ("tcn", {"channels": [4, -1]}, r"channels\[1\]"),
    ("tcn", {"kernel_size": 13}, "kernel_size"),
    ("tcn", {"levels": 3}, "levels"),
    ("tcn", {"dropout": 1.0}, "dropout"),
    ("tcn", {"weight_norm": "yes"}, "weight_norm"),
    ("tcn", {"lookback": 0}, "lookback"),
    ("tcn", {"horizon": -2}, "horizon"),
    ("tcn", {"n_features": 2.5}, "n_features"),
    ("lstm", {"hidden_size": 0}, "hidden_size"),
    ("lstm", {"num_layers": 0}, "num_layers"),
    ("lstm", {"quantiles": [0.5, 1.0]}, "quantiles"),
    ("lstm", {"quantiles": []}, "quantiles"),
    ("lstm", {"quantiles": [0.5, 0.5]}, "quantiles"),
    ("transformer", {"n_heads": 3}, "n_heads"),
    ("transformer", {"d_model": 0}, "d_model"),
    ("transformer", {"positional": "rotary"}, "positional"),
    ("transformer", {"head": "mean"}, "head"),
    ("transformer", {"activation": "swish"}, "activation"),
    ("nbeats", {"n_features": 0}, "n_features"),
    ("nbeats", {"n_future_features": -1}, "n_future_features"),
    ("tcn", {"static_cardinalities": [2], "n_static_features": 2}, "static_cardinalities"),
    ("nbeats", {"stack_types": ["generic", "fourier"]}, r"stack_types\[1\]"),
    ("nbeats", {"stack_types": []}, "stack_types"),
    ("nbeats", {"num_blocks": [1, 2]}, "num_blocks"),
    ("nbeats", {"layer_width": 0}, "layer_width"),
    ("nbeats", {"trend_degree": -1}, "trend_degree"),
    ("nbeats", {"num_harmonics": 0}, "num_harmonics"),
    ("nbeats", {"naive_level": 1}, "naive_level must be True or False"),
    ("nbeats", {"dtype": "int64"}, "dtype"),
    ("nbeats", {"rng": 1, "seed": 2}, "rng or seed"),
    ("nlinear", {"n_features": 2}, "n_features must be 1"),
    ("nlinear", {"n_future_features": 1}, "n_future_features must be 0"),
    ("dlinear", {"n_static_features": 1}, "n_static_features must be 0"),
    ("dlinear", {"kernel_size": 4}, "kernel_size must be odd"),
    ("dlinear", {"kernel_size": 9}, r"kernel_size must be odd and at most lookback \(8\)"),
    ("nhits", {"pool_kernel_size": []}, "pool_kernel_size"),
    ("nhits", {"pool_kernel_size": [2, 0]}, r"pool_kernel_size\[1\]"),
    ("nhits", {"freq_downsample": [2]}, "freq_downsample must be an int or a list of 2"),
    ("nhits", {"freq_downsample": 2}, "freq_downsample must be a list of 2"),
    ("nhits", {"num_blocks": [1, 1, 1]}, "num_blocks"),
    ("nhits", {"interpolation": "cubic"}, "interpolation"),
    ("nhits", {"dropout": -0.1}, "dropout"),
    ("tide", {"hidden_size": 0}, "hidden_size"),
    ("tide", {"num_encoder_layers": 0}, "num_encoder_layers"),
    ("tide", {"num_decoder_layers": 1.5}, "num_decoder_layers"),
    ("tide", {"decoder_output_dim": 0}, "decoder_output_dim"),
    ("tide", {"temporal_decoder_hidden": -1}, "temporal_decoder_hidden"),
    ("tide", {"temporal_width": 0}, "temporal_width"),
    ("tide", {"layer_norm": 1}, "layer_norm"),
    ("patchtst", {"patch_len": 9}, r"patch_len \(9\) must not exceed lookback \(8\)"),
    ("patchtst", {"stride": 0}, "stride"),
    ("patchtst", {"n_heads": 3}, "n_heads"),
    ("patchtst", {"norm": "group"}, "norm"),
    ("patchtst", {"head_dropout": 1.5}, "head_dropout"),
    ("patchtst", {"n_features": 2}, "n_features must be 1"),
    ("patchtst", {"n_future_features": 1}, "n_future_features must be 0"),
]


@pytest.mark.parametrize(
    "name, overrides, word", BAD_CONFIGS, ids=[f"{n}-{w}" for n, _, w in BAD_CONFIGS]
)
def test_bad_config_raises_config_error_naming_the_parameter(name, overrides, word):
    with pytest.raises(ConfigError, match=word):
        make(name, **overrides)


@pytest.mark.parametrize(
    "name", ["tcn", "transformer", "lstm", "nlinear", "dlinear", "nhits", "tide", "patchtst"]
)
def test_wrong_input_shape_names_model_expected_and_received(name):
    model = make(name)
    b, lookback, feats = small_input_shape(name)
    for bad in [(b, lookback + 1, feats), (b, lookback, feats + 1), (lookback, feats)]:
        with pytest.raises(ShapeError) as info:
            model(np.zeros(bad, np.float32))
        msg = str(info.value)
        assert type(model).__name__ in msg
        assert f"(batch, {lookback}, {feats})" in msg
        assert str(bad) in msg


def test_nbeats_takes_2d_or_3d_target_and_past_covariates_when_built_for_them():
    model = make("nbeats").eval()
    x = sample("nbeats")
    np.testing.assert_array_equal(out_np(model, x), out_np(model, x.numpy()[:, :, 0]))
    with pytest.raises(ShapeError, match=r"NBEATSModel.*\(batch, 8\).*got shape \(4, 8, 2\)"):
        model(np.zeros((4, 8, 2), np.float32))
    nbeatsx = make("nbeats", n_features=2).eval()  # NBEATSx: a past covariate in every block
    assert out_np(nbeatsx, np.zeros((4, 8, 2), np.float32)).shape == (4, 3)
    with pytest.raises(ShapeError, match=r"\(batch, 8, 2\).*got shape \(4, 8\)"):
        nbeatsx(np.zeros((4, 8), np.float32))
    with pytest.raises(ShapeError, match=r"got shape \(4, 9\)"):
        model(np.zeros((4, 9), np.float32))


@pytest.mark.parametrize("name", NAMES)
def test_input_dtype_mismatch_is_a_dtype_error(name):
    model = make(name)
    with pytest.raises(DTypeError, match="float64"):
        model(sample(name, dtype="float64"))


SHARED_OPTIONS = [
    "n_future_features",
    "n_static_features",
    "static_cardinalities",
    "instance_norm",
    "instance_norm_affine",
    "quantiles",
    "dtype",
    "rng",
    "seed",
    "input_size",
]


@pytest.mark.parametrize("name", NAMES)
def test_the_signature_names_the_shared_options_and_an_unknown_one_names_the_model(name):
    cls = registry.get("models", name)
    params = inspect.signature(cls).parameters
    assert list(params)[:3] == ["n_features", "lookback", "horizon"]
    assert list(params)[-len(SHARED_OPTIONS) :] == SHARED_OPTIONS
    assert all(params[o].kind is inspect.Parameter.KEYWORD_ONLY for o in SHARED_OPTIONS)
    assert not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    with pytest.raises(TypeError, match=f"{cls.__name__}.*unexpected keyword argument 'colour'"):
        make(name, colour=1)


def test_errors_are_swets_errors():
    assert issubclass(ConfigError, SwetsError) and issubclass(ShapeError, SwetsError)


# ------------------------------------------------------------------------------------------------
# TCN
# ------------------------------------------------------------------------------------------------


def test_tcn_sees_exactly_its_receptive_field():
    # kernel 3, 2 levels: 1 + 2 * 2 * (2**2 - 1) = 13 steps
    model = registry.create(
        "models",
        "tcn",
        n_features=1,
        lookback=20,
        horizon=2,
        channels=3,
        levels=2,
        kernel_size=3,
        seed=0,
    ).eval()
    assert model.receptive_field == 13
    x = np.random.default_rng(0).standard_normal((1, 20, 1)).astype(np.float32)
    base = out_np(model, x)
    first_seen = 20 - 13
    for t in range(20):
        moved = x.copy()
        moved[0, t, 0] += 1.0
        changed = not np.allclose(out_np(model, moved), base, rtol=0, atol=1e-7)
        assert changed == (t >= first_seen), f"step {t}"


def test_tcn_weight_norm_reparameterisation():
    model = make("tcn", dtype="float64").eval()
    conv = model.blocks[0].conv1
    v, g = conv.weight_v.numpy(), conv.weight_g.numpy()
    # at initialisation g = ||v||, so the kernel is v
    np.testing.assert_allclose(g[:, 0, 0], np.sqrt((v**2).sum(axis=(1, 2))))
    np.testing.assert_allclose(conv.kernel().numpy(), v)
    x = sample("tcn", dtype="float64")
    before = out_np(model, x)
    v *= 3.7  # the direction is all that counts
    np.testing.assert_allclose(out_np(model, x), before, rtol=1e-12)
    g *= 2.0
    np.testing.assert_allclose(conv.kernel().numpy()[:, 0, 0] / v[:, 0, 0], 2.0 / 3.7)
    names = {n for n, _ in model.named_parameters()}
    assert "blocks.0.conv1.weight_g" in names and "blocks.0.downsample.weight" in names
    plain = make("tcn", weight_norm=False)
    assert "blocks.0.conv1.weight" in dict(plain.named_parameters())


def test_tcn_downsample_only_when_channels_change():
    model = registry.create(
        "models", "tcn", n_features=4, lookback=8, horizon=1, channels=[4, 4, 6]
    )
    assert [b.downsample is not None for b in model.blocks] == [False, False, True]
    assert model.config()["channels"] == [4, 4, 6] and model.config()["levels"] == 3


# ------------------------------------------------------------------------------------------------
# Transformer
# ------------------------------------------------------------------------------------------------


def test_transformer_causal_mask_hides_the_future():
    x = sample("transformer", batch=2).numpy()
    moved = x.copy()
    moved[:, 4:, :] += 1.0
    for causal in (True, False):
        model = make("transformer", causal=causal).eval()
        with no_grad():
            a, b = model.encode(x).numpy(), model.encode(moved).numpy()
        np.testing.assert_array_equal(a[:, 4:] != b[:, 4:], True)
        assert np.allclose(a[:, :4], b[:, :4]) == causal


def test_sinusoidal_encoding_values():
    from swets_models._base import sinusoidal_encoding

    pe = sinusoidal_encoding(10, 6)
    t, i = 7, 2
    assert pe[t, 2 * i] == pytest.approx(np.sin(t / 10000 ** (2 * i / 6)))
    assert pe[t, 2 * i + 1] == pytest.approx(np.cos(t / 10000 ** (2 * i / 6)))
    assert sinusoidal_encoding(4, 5).shape == (4, 5)


def test_transformer_positions_matter():
    model = make("transformer").eval()
    x = sample("transformer", batch=1).numpy()
    rev = x[:, ::-1].copy()
    assert not np.allclose(out_np(model, x), out_np(model, rev))


# ------------------------------------------------------------------------------------------------
# LSTM
# ------------------------------------------------------------------------------------------------


def test_lstm_head_reads_the_last_hidden_state():
    model = make("lstm", quantiles=QUANTILES).eval()
    x = sample("lstm")
    with no_grad():
        seq, _ = model.lstm(x)
        manual = model.head(seq.numpy()[:, -1]).numpy().reshape(4, 3, 3)
    np.testing.assert_allclose(out_np(model, x), manual, rtol=1e-6)
    assert "lstm.weight_ih_l1" in dict(model.named_parameters())


# ------------------------------------------------------------------------------------------------
# N-BEATS
# ------------------------------------------------------------------------------------------------


def _single_stack(kind: str, **kw):
    return registry.create(
        "models",
        "nbeats",
        lookback=16,
        horizon=8,
        stack_types=[kind],
        num_blocks=2,
        num_layers=2,
        layer_width=16,
        seed=0,
        dtype="float64",
        **kw,
    ).eval()


def test_nbeats_trend_stack_forecasts_a_polynomial_of_the_configured_degree():
    model = _single_stack("trend", trend_degree=2)
    y = out_np(model, np.random.default_rng(0).standard_normal((3, 16)))
    t = np.arange(8) / 8
    for row in y:
        coef = np.polyfit(t, row, 2)
        np.testing.assert_allclose(np.polyval(coef, t), row, atol=1e-10)
        assert abs(np.polyfit(t, row, 1, full=True)[1][0]) > 1e-12  # genuinely quadratic


def test_nbeats_seasonality_stack_forecasts_in_the_fourier_span():
    from swets_models.nbeats import fourier_basis

    model = _single_stack("seasonality", num_harmonics=2)
    y = out_np(model, np.random.default_rng(0).standard_normal((3, 16)))
    basis = fourier_basis(2, 8)  # (5, 8)
    assert basis.shape == (5, 8)
    coef, *_ = np.linalg.lstsq(basis.T, y.T, rcond=None)
    np.testing.assert_allclose(basis.T @ coef, y.T, atol=1e-10)


def test_nbeats_doubly_residual_stacking():
    model = _single_stack("generic")
    x = np.random.default_rng(0).standard_normal((2, 16))
    b0, b1 = model.blocks
    with no_grad():
        back0, f0 = b0(x)
        _, f1 = b1(x - back0.numpy())
    np.testing.assert_allclose(out_np(model, x), f0.numpy() + f1.numpy(), rtol=1e-12)


def test_nbeats_naive_level_starts_every_step_and_quantile_at_the_last_value():
    x = np.random.default_rng(1).standard_normal((3, 16))
    plain = _single_stack("generic")
    level = registry.create("models", "nbeats", **{**plain.config(), "naive_level": True})
    level.load_state_dict(plain.state_dict())
    np.testing.assert_allclose(out_np(level, x), out_np(plain, x) + x[:, -1:], rtol=1e-12)
    quantile = make("nbeats", naive_level=True, quantiles=[0.2, 0.8], dtype="float64")
    for p in quantile.parameters():  # blocks that forecast nothing: the naive forecast remains
        p._data[...] = 0.0
    xq = sample("nbeats", batch=2, dtype="float64").numpy()
    with no_grad():
        got = quantile(xq).numpy()
    np.testing.assert_array_equal(got, np.broadcast_to(xq[:, -1:, :1], got.shape))
    assert quantile.config()["naive_level"] is True and plain.config()["naive_level"] is False


def test_nbeats_weight_sharing_within_a_stack():
    shared = make("nbeats")  # 3 stacks of 2 blocks, shared
    separate = make("nbeats", share_weights=False)
    assert len(shared.blocks) == 3 and len(separate.blocks) == 6
    assert 2 * shared.num_parameters() == separate.num_parameters()
    names = [n for n, _ in shared.named_parameters()]
    assert len(names) == len(set(names))


def test_nbeats_interpretable_preset_round_trips():
    from swets_models import NBEATSModel

    model = NBEATSModel.interpretable(lookback=24, horizon=6, layer_width=[8, 16], seed=0)
    cfg = model.config()
    assert cfg["stack_types"] == ["trend", "seasonality"] and cfg["share_weights"] is True
    assert cfg["num_blocks"] == [3, 3] and cfg["layer_width"] == [8, 16]
    assert registry.create("models", "nbeats", **cfg).config() == cfg


# ------------------------------------------------------------------------------------------------
# The conformance kit (registry name, config, gradients, checkpoint round trip)
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("quantiles", [None, QUANTILES], ids=["point", "quantile"])
def test_conformance_kit(name, quantiles):
    from swets_core.testing import check_model

    check_model(name, {**SMALL_CONFIGS[name], "quantiles": quantiles, "seed": 0}, sample(name))


@pytest.mark.parametrize("name", NAMES)
def test_input_size_is_another_name_for_lookback(name):
    cfg = {k: v for k, v in SMALL_CONFIGS[name].items() if k != "lookback"}
    model = registry.create("models", name, input_size=12, **cfg)
    assert model.config()["lookback"] == 12 and "input_size" not in model.config()
    with pytest.raises(ConfigError, match="input_size=12 and lookback=10 disagree"):
        registry.create("models", name, input_size=12, lookback=10, **cfg)
