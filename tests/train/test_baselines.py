"""The baseline models: registration, configuration round trip, hand-computed forecasts, errors."""

from __future__ import annotations

import numpy as np
import pytest

from swets_core import GradientTape, Tensor, registry
from swets_core.errors import ConfigError, ShapeError

# two windows of length 6, two features; the target is feature 0
X = np.stack(
    [
        np.stack([np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), np.zeros(6)], axis=-1),
        np.stack([np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0]), np.ones(6)], axis=-1),
    ]
)


@pytest.mark.parametrize("name", ["naive", "seasonal_naive", "mean", "drift"])
def test_registered_with_config_round_trip_and_no_parameters(name):
    model = registry.create("models", name, horizon=3)
    assert model.registry_name == name
    assert model.parameters() == []
    again = registry.create("models", model.registry_name, **model.config())
    assert again.config() == model.config()
    out = model(Tensor(X))
    assert out.shape == (2, 3)
    assert out.dtype.value == "float64"
    assert model(Tensor(X.astype(np.float32))).dtype.value == "float32"


def test_naive():
    out = registry.create("models", "naive", horizon=4)(X).numpy()
    np.testing.assert_array_equal(out, [[6, 6, 6, 6], [9, 9, 9, 9]])
    # another target column
    out = registry.create("models", "naive", horizon=2, target_index=-1)(X).numpy()
    np.testing.assert_array_equal(out, [[0, 0], [1, 1]])


def test_seasonal_naive_repeats_the_last_season():
    out = registry.create("models", "seasonal_naive", horizon=5, season_length=3)(X).numpy()
    np.testing.assert_array_equal(out, [[4, 5, 6, 4, 5], [1, 5, 9, 1, 5]])
    # season 1 is the naive forecast
    out1 = registry.create("models", "seasonal_naive", horizon=2, season_length=1)(X).numpy()
    np.testing.assert_array_equal(out1, [[6, 6], [9, 9]])


def test_mean_and_drift():
    out = registry.create("models", "mean", horizon=2)(X).numpy()
    np.testing.assert_allclose(out, [[3.5, 3.5], [23 / 6, 23 / 6]])
    out = registry.create("models", "drift", horizon=3)(X).numpy()
    # slope (6 - 1) / 5 = 1 ; (9 - 3) / 5 = 1.2
    np.testing.assert_allclose(out, [[7, 8, 9], [10.2, 11.4, 12.6]])


def test_differentiable_with_respect_to_the_input():
    x = Tensor(X)
    model = registry.create("models", "drift", horizon=2)
    with GradientTape(watch=[x]) as tape:
        out = model(x).sum()
    (g,) = tape.gradient(out, [x])
    # d/dy_last of (last + h (last - first)/5) summed over h=1,2: 2 + 3/5 ; d/dfirst: -3/5
    np.testing.assert_allclose(g.numpy()[0, :, 0], [-0.6, 0, 0, 0, 0, 2.6])
    np.testing.assert_array_equal(g.numpy()[:, :, 1], 0)


def test_errors_name_the_problem():
    with pytest.raises(ShapeError, match=r"seasonal_naive: needs a lookback of at least 7"):
        registry.create("models", "seasonal_naive", horizon=2, season_length=7)(X)
    with pytest.raises(ShapeError, match=r"drift: needs a lookback of at least 2"):
        registry.create("models", "drift", horizon=2)(X[:, :1])
    with pytest.raises(ShapeError, match=r"\(batch, lookback, features\)"):
        registry.create("models", "naive", horizon=2)(X[0])
    with pytest.raises(ShapeError, match="target_index 2 is out of range"):
        registry.create("models", "naive", horizon=2, target_index=2)(X)
    with pytest.raises(ConfigError, match="horizon must be >= 1"):
        registry.create("models", "mean", horizon=0)
    with pytest.raises(ConfigError, match="season_length must be an int"):
        registry.create("models", "seasonal_naive", horizon=1, season_length=2.5)
