"""The models' covariate inputs (known-future, static), instance normalization (RevIN) and the input
mask: gradients in float64, the recorded and tape-free paths, what each input changes, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from swets_core import GradientTape, Tensor, no_grad, registry
from swets_core.errors import ConfigError, ShapeError
from swets_core.testing import gradcheck
from swets_models.tcn import covering_levels
from tests.models.configs import SMALL_CONFIGS, doubly_residual_reference
from tests.models.test_models import _swap

NAMES = ["tcn", "transformer", "lstm", "nbeats", "nhits", "tide"]
COVARIATES = {
    "n_features": 3,  # the target, a past covariate, a known covariate's history
    "n_future_features": 2,
    "n_static_features": 2,
    "static_cardinalities": [3, 0],  # a category of three, a number
}


def make(name: str, dtype: str = "float64", **overrides):
    cfg = {**SMALL_CONFIGS[name], **COVARIATES, "dtype": dtype, "seed": 0, **overrides}
    return registry.create("models", name, **cfg)


def inputs(model, batch: int = 3, seed: int = 0, dtype: str = "float64"):
    """``(x, future, static)`` arrays for ``model``: the static columns' categories are codes."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, model.lookback, model.n_features))
    future = rng.standard_normal((batch, model.horizon, model.n_future_features))
    static = np.empty((batch, model.n_static_features))
    for j, card in enumerate(model.static_cardinalities):
        static[:, j] = rng.integers(0, card, batch) if card else rng.standard_normal(batch)
    return x.astype(dtype), future.astype(dtype), static.astype(dtype)


def run(model, x, future=None, static=None, mask=None) -> np.ndarray:
    with no_grad():
        return model(x, future=future, static=static, mask=mask).numpy().copy()


@pytest.mark.parametrize("name", NAMES)
def test_every_model_declares_and_takes_every_kind_of_covariate(name):
    cls = type(make(name))
    assert cls.supports_past_covariates
    assert cls.supports_future_covariates and cls.supports_static_covariates
    model = make(name).eval()
    x, future, static = inputs(model)
    assert run(model, x, future, static).shape == (3, model.horizon)
    cfg = model.config()
    assert json.loads(json.dumps(cfg)) == cfg
    assert cfg["n_future_features"] == 2 and cfg["static_cardinalities"] == [3, 0]
    twin = registry.create("models", name, **cfg)
    twin.load_state_dict(model.state_dict())
    twin.eval()
    np.testing.assert_array_equal(run(twin, x, future, static), run(model, x, future, static))


@pytest.mark.parametrize("name", NAMES)
def test_gradcheck_float64_with_covariates_and_instance_norm(name):
    model = make(name, instance_norm=True, instance_norm_affine=True).eval()
    x, future, static = inputs(model, batch=2)
    names, params = zip(*model.named_parameters())

    def fn(xx, ff, *ws):
        for n, w in zip(names, ws):
            _swap(model, n, w)
        return model(xx, future=ff, static=Tensor(static))

    try:
        gradcheck(fn, x, future, *[p.numpy() for p in params])
    finally:
        for n, p in zip(names, params):
            _swap(model, n, p)


@pytest.mark.parametrize("name", NAMES)
def test_gradcheck_float64_of_numeric_static_covariates_and_a_mask(name):
    model = make(name, static_cardinalities=[0, 0], instance_norm=True).eval()
    x, future, static = inputs(model, batch=2)
    mask = np.ones((2, model.lookback))
    mask[0, :2] = 0.0  # the first two positions of the first window are padding
    gradcheck(
        lambda xx, ff, ss: model(xx, future=ff, static=ss, mask=Tensor(mask)), x, future, static
    )


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", NAMES)
def test_tape_free_forward_equals_the_recorded_forward_with_every_input(name, dtype, training):
    cfg = {"instance_norm": True, "instance_norm_affine": True, "quantiles": [0.2, 0.5]}
    recorded, free = make(name, dtype, **cfg), make(name, dtype, **cfg)
    for m in (recorded, free):
        m.train(training)
    x, future, static = inputs(recorded, dtype=dtype)
    mask = np.ones((3, recorded.lookback), dtype=dtype)
    mask[1, :3] = 0.0
    args = [Tensor(a) for a in (x, future, static, mask)]
    with GradientTape():
        want = recorded(args[0], future=args[1], static=args[2], mask=args[3]).numpy()
    with no_grad():
        got = free(args[0], future=args[1], static=args[2], mask=args[3]).numpy()
    got_arrays = make(name, dtype, **cfg).train(training).forward_arrays(x, future, static, mask)
    tol = 1e-12 if dtype == "float64" else 2e-6
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    np.testing.assert_allclose(got_arrays, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", NAMES)
def test_a_known_covariates_future_value_changes_the_forecast(name):
    model = make(name).eval()
    x, future, static = inputs(model)
    base = run(model, x, future, static)
    bumped = future.copy()
    bumped[:, -1, 0] += 1.0  # the last horizon step's value of the first known covariate
    assert not np.allclose(run(model, x, bumped, static), base)
    other = static.copy()
    other[:, 0] = (other[:, 0] + 1) % 3  # another category
    assert not np.allclose(run(model, x, future, other), base)


@pytest.mark.parametrize("name", NAMES)
def test_instance_norm_forecasts_another_level_and_scale(name):
    """RevIN: shifting and scaling the target's window shifts and scales the forecast alike."""
    model = make(name, instance_norm=True, instance_norm_affine=True).eval()
    x, future, static = inputs(model)
    moved = x.copy()
    moved[:, :, 0] = 250.0 + 40.0 * x[:, :, 0]
    np.testing.assert_allclose(
        run(model, moved, future, static), 250.0 + 40.0 * run(model, x, future, static), rtol=1e-4
    )
    quantile = make(name, instance_norm=True, quantiles=[0.1, 0.9]).eval()
    np.testing.assert_allclose(
        run(quantile, moved, future, static),
        250.0 + 40.0 * run(quantile, x, future, static),
        rtol=1e-4,
    )


def test_nbeats_mask_zeroes_the_residual_of_padded_positions_after_every_block():
    """The registered N-BEATS with a mask equals the paper's reference loop written by hand, and
    the values at padded positions do not matter."""
    model = registry.create(
        "models",
        "nbeats",
        lookback=8,
        horizon=3,
        stack_types=["generic"],
        num_blocks=3,
        num_layers=2,
        layer_width=16,
        dtype="float64",
        seed=0,
    ).eval()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 8))
    mask = np.ones((4, 8))
    mask[0, :5] = mask[2, :1] = 0.0  # short histories, zero-padded on the left
    x *= mask
    forecast = doubly_residual_reference(model, x, mask)
    got = run(model, x, mask=mask)
    np.testing.assert_allclose(got, forecast, rtol=1e-12, atol=1e-12)
    noisy = x + (1 - mask) * rng.standard_normal(x.shape) * 100.0  # garbage where padded
    np.testing.assert_allclose(run(model, noisy, mask=mask), got, rtol=1e-12, atol=1e-12)
    assert not np.allclose(run(model, noisy), got)  # without the mask the garbage counts
    with pytest.raises(ShapeError, match=r"mask of shape \(4, 8\)"):
        model(x, mask=mask[:, :5])


@pytest.mark.parametrize("name", NAMES)
def test_covariate_inputs_are_checked(name):
    model = make(name)
    x, future, static = inputs(model)
    with pytest.raises(ShapeError, match="built for 2 future covariate"):
        model(x, static=static)
    with pytest.raises(ShapeError, match="future of shape"):
        model(x, future=future[:, :, :1], static=static)
    plain = registry.create("models", name, **{**SMALL_CONFIGS[name], "seed": 0})
    xp = np.zeros((3, plain.lookback, plain.n_features), np.float32)
    with pytest.raises(ShapeError, match="n_future_features=0"):
        plain(xp, future=np.zeros((3, plain.horizon, 1), np.float32))
    with pytest.raises(ConfigError, match="static_cardinalities has 1 values"):
        make(name, static_cardinalities=[2])
    with pytest.raises(ConfigError, match="instance_norm_affine needs instance_norm"):
        make(name, instance_norm_affine=True)


def test_tcn_levels_cover_the_lookback_by_default():
    for lookback, kernel in ((96, 3), (49, 3), (336, 2), (5, 5)):
        levels = covering_levels(lookback, kernel)
        model = registry.create("models", "tcn", lookback=lookback, kernel_size=kernel, seed=0)
        assert len(model.channels) == levels and model.receptive_field >= lookback
        smaller = 1 + 2 * (kernel - 1) * (2 ** (levels - 1) - 1)
        assert levels == 1 or smaller < lookback  # the fewest that cover it


@pytest.mark.parametrize("name", NAMES)
def test_each_model_learns_from_a_known_covariate(name):
    """A target that is its known covariate over the horizon plus a category's level: each model
    fits it within a few dozen steps, with the covariates as inputs of its forward."""
    from swets_optim import Adam
    from swets_train import fit

    model = make(name, dtype="float32", dropout=0.0) if name != "nbeats" else make(name, "float32")
    x, future, static = inputs(model, batch=64, dtype="float32")
    y = 2.0 * future[:, :, 0] + static[:, [0]]  # the first known covariate and the category
    batch = {"x": x, "y": y.astype("float32"), "future": future, "static": static}
    loss = registry.create("losses", "mse")
    before = float(loss(model(x, future=future, static=static), y.astype("float32")).item())
    history = fit(
        model, loss, Adam(model.parameters(), lr=0.02), [batch], epochs=200, progress=False
    )
    assert history["loss"][-1] < 0.1 * before, (name, before, history["loss"][-1])
