"""NLinear, DLinear and N-HiTS: what each architecture computes (the decomposition, the last-value
normalization, multi-rate pooling, interpolation of the knots, doubly residual stacking with a
mask) and what the target-only models refuse."""

from __future__ import annotations

import numpy as np
import pytest

from swets_core.errors import ConfigError
from swets_models.linear import moving_average_matrix
from swets_models.nhits import interpolation_matrix, max_pool
from swets_nn.paths import ARRAYS
from tests.models.configs import doubly_residual_reference, make, run

RNG = np.random.default_rng(0)


def test_moving_average_matrix_is_the_centred_average_over_replicated_edges():
    x = RNG.standard_normal((3, 10))
    for k in (1, 3, 5, 9):
        half = (k - 1) // 2
        padded = np.concatenate([np.repeat(x[:, :1], half, 1), x, np.repeat(x[:, -1:], half, 1)], 1)
        want = np.stack([padded[:, t : t + k].mean(axis=1) for t in range(10)], axis=1)
        np.testing.assert_allclose(x @ moving_average_matrix(10, k), want, rtol=1e-12, atol=1e-12)


def test_dlinear_is_two_linear_maps_on_the_trend_and_the_remainder():
    model = make("dlinear", kernel_size=5)
    x = RNG.standard_normal((4, 8, 1))
    z = x[:, :, 0]
    trend = z @ moving_average_matrix(8, 5)
    s, t = model.seasonal, model.trend
    want = (z - trend) @ s.weight.numpy().T + s.bias.numpy() + trend @ t.weight.numpy().T
    want = want + t.bias.numpy()
    np.testing.assert_allclose(run(model, x), want, rtol=1e-12, atol=1e-12)
    remainder, trend_ = model.decompose(ARRAYS, z)
    np.testing.assert_allclose(remainder + trend_, z, rtol=1e-12, atol=1e-12)


def test_nlinear_forecast_moves_with_the_last_value():
    """NLinear subtracts the window's last value and adds it back: a level shift of the window
    shifts every forecast (and every quantile) by the same amount."""
    for quantiles in (None, [0.1, 0.9]):
        model = make("nlinear", quantiles=quantiles)
        x = RNG.standard_normal((4, 8, 1))
        np.testing.assert_allclose(run(model, x + 7.5), run(model, x) + 7.5, rtol=1e-12)
        w, b = model.linear.weight.numpy(), model.linear.bias.numpy()
        last = x[:, -1:, 0]
        want = (x[:, :, 0] - last) @ w.T + b + last
        np.testing.assert_allclose(run(model, x), want.reshape(model.output_shape(4)), rtol=1e-12)


@pytest.mark.parametrize("name", ["nlinear", "dlinear", "patchtst"])
def test_target_only_models_declare_and_refuse_covariates(name):
    cls = type(make(name))
    assert not cls.supports_past_covariates
    assert not cls.supports_future_covariates and not cls.supports_static_covariates
    for key, value in (("n_features", 3), ("n_future_features", 2), ("n_static_features", 1)):
        with pytest.raises(ConfigError, match=f"{cls.__name__}: {key} must be"):
            make(name, **{key: value})


def test_max_pool_takes_windows_ending_at_the_last_step():
    x = RNG.standard_normal((2, 7, 3))
    got = max_pool(ARRAYS, x, 3)
    # windows [0], [1..3], [4..6]: the first is short
    want = np.stack([x[:, :1].max(1), x[:, 1:4].max(1), x[:, 4:7].max(1)], axis=1)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(max_pool(ARRAYS, x[:, :, 0], 3), want[:, :, 0])
    assert max_pool(ARRAYS, x, 1) is x


def test_interpolation_matrix_keeps_constants_and_lines():
    for knots, length in ((1, 5), (3, 12), (4, 4), (6, 24)):
        for mode in ("linear", "nearest"):
            m = interpolation_matrix(knots, length, mode)
            np.testing.assert_allclose(m.sum(axis=0), 1.0)  # a constant stays constant
        m = interpolation_matrix(knots, length)
        if knots == length:
            np.testing.assert_allclose(m, np.eye(knots))


def test_nhits_stack_with_one_knot_forecasts_a_constant():
    """freq_downsample = horizon: one knot per block, so the interpolated forecast is flat."""
    model = make("nhits", n_features=1, pool_kernel_size=[2], freq_downsample=[3], num_blocks=2)
    y = run(model, RNG.standard_normal((5, 8, 1)))
    np.testing.assert_allclose(y, np.repeat(y[:, :1], 3, axis=1), rtol=1e-12)
    assert model.blocks[0].knots == 1


def test_nhits_is_the_reference_loop_with_a_mask():
    """The registered N-HiTS with a mask equals the doubly residual loop written by hand over its
    blocks, and the values at padded positions do not matter."""
    model = make("nhits", n_features=1, dropout=0.0)
    x = RNG.standard_normal((4, 8))
    mask = np.ones((4, 8))
    mask[0, :5] = mask[2, :1] = 0.0
    x *= mask
    forecast = doubly_residual_reference(model, x, mask)
    got = run(model, x[:, :, None], mask=mask)
    np.testing.assert_allclose(got, forecast, rtol=1e-12, atol=1e-12)
    noisy = x + (1 - mask) * RNG.standard_normal(x.shape) * 100.0
    np.testing.assert_allclose(run(model, noisy[:, :, None], mask=mask), got, rtol=1e-12)


def test_nhits_knots_and_pooled_widths_follow_the_configuration():
    model = make("nhits", lookback=12, horizon=8, pool_kernel_size=[4, 1], freq_downsample=[4, 1])
    first, last = model.blocks[0], model.blocks[-1]
    assert (first.knots, last.knots) == (2, 8)
    # the pooled target and past covariate (3 values each), nothing else
    assert first.layers[0].in_features == 3 * 2 and last.layers[0].in_features == 12 * 2
    assert first.theta.out_features == 12 + 2 and last.theta.out_features == 12 + 8
