"""Naive2 and Theta: the seasonality test, the classical multiplicative decomposition and SES against
hand computations, and the published reference values on real competition data."""

from __future__ import annotations

import numpy as np
import pytest

from swets_competitions import (
    acf,
    evaluate,
    fit_ses,
    load_competition,
    multiplicative_indices,
    naive2,
    naive2_forecast,
    seasonal_adjustment,
    seasonality_test,
    smape,
    theta,
    theta_forecast,
)
from swets_competitions.baselines import ALPHA_BOUNDS
from swets_core.errors import ConfigError, DataValidationError

PERIOD4 = np.array([10.0, 20, 30, 40] * 3)


def test_acf_by_hand():
    # deviations from the mean 25 are -15, -5, 5, 15 (x3); the lag-0 sum is 12 * 125 = 1500
    # lag 1: 6 * 75 - 3 * 25 - 2 * 225 = -75 -> -0.05; lag 2: 10 * -75 -> -0.5
    # lag 3: 3 * -225 + 4 * 75 + 2 * -25 = -425 -> -0.28333; lag 4: 8 * (225 + 25) / 2 = 1000 -> 2/3
    np.testing.assert_allclose(acf(PERIOD4, 4), [-75 / 1500, -750 / 1500, -425 / 1500, 1000 / 1500])
    assert np.isnan(acf(np.ones(5), 2)).all()


def test_seasonality_test_at_the_90_percent_limit():
    # limit = 1.645 / sqrt(12) * sqrt(1 + 2 (r1² + r2² + r3²)) = 0.6129 < |r4| = 0.6667
    r = acf(PERIOD4, 4)
    limit = 1.645 / np.sqrt(12) * np.sqrt(1 + 2 * np.sum(r[:3] ** 2))
    assert limit == pytest.approx(0.61293, abs=1e-4)
    assert seasonality_test(PERIOD4, 4)
    # m = 2 on 2, 4, 2, 4, 2, 4: r1 = -5/6, r2 = 2/3 < 1.645 / sqrt(6) * sqrt(1 + 2 * 25/36) = 1.038
    assert not seasonality_test([2.0, 4, 2, 4, 2, 4], 2)
    assert not seasonality_test(PERIOD4[:11], 4)  # fewer than 3 m values
    assert not seasonality_test(PERIOD4, 1)
    assert not seasonality_test(np.full(12, 3.0), 4)  # constant: no autocorrelation
    # m = 24 on 72 values: 10 log10(72) = 18.6 < 24, beyond the lags the M4 code computes
    assert not seasonality_test(np.tile(np.arange(1.0, 25.0), 3), 24)
    assert seasonality_test(np.tile(np.arange(1.0, 25.0), 11), 24)


def test_multiplicative_indices_by_hand():
    # even m: the 2x2 average 0.25 x_{t-1} + 0.5 x_t + 0.25 x_{t+1} is 3 at t = 1..4;
    # ratios 4/3, 2/3, 4/3, 2/3 at t = 1..4 -> indices (2/3, 4/3), mean 1 already
    np.testing.assert_allclose(multiplicative_indices([2.0, 4, 2, 4, 2, 4], 2), [2 / 3, 4 / 3])
    # odd m: the 3-term average is 2 at t = 1..4; ratios 1, 1.5, 0.5, 1 -> (0.5, 1, 1.5)
    np.testing.assert_allclose(multiplicative_indices([1.0, 2, 3, 1, 2, 3], 3), [0.5, 1.0, 1.5])
    # indices belong to positions from the first value, whatever the calendar
    np.testing.assert_allclose(multiplicative_indices([2.0, 3, 1, 2, 3, 1], 3), [1.0, 1.5, 0.5])
    # a trend cancels out: x = (10 + t) * index(t mod 4) gives back the indices (2x4 average)
    idx = np.array([0.8, 1.2, 0.9, 1.1])
    t = np.arange(40)
    got = multiplicative_indices((100 + t) * idx[t % 4], 4)
    np.testing.assert_allclose(got, idx, rtol=2e-3)
    with pytest.raises(ConfigError, match="two full seasons"):
        multiplicative_indices([1.0, 2, 3, 4, 5], 3)


def test_seasonal_adjustment_and_naive2_by_hand():
    adj = seasonal_adjustment(PERIOD4, 4, 6)
    # the 2x4 average of one full period is its mean 25: indices 0.4, 0.8, 1.2, 1.6
    assert adj.seasonal
    np.testing.assert_allclose(adj.adjusted, np.full(12, 25.0))
    np.testing.assert_allclose(adj.future, [0.4, 0.8, 1.2, 1.6, 0.4, 0.8])
    np.testing.assert_allclose(naive2_forecast(PERIOD4, 6, 4), [10, 20, 30, 40, 10, 20])
    # not seasonal: the last value
    np.testing.assert_array_equal(naive2_forecast([3.0, 1, 4, 1, 5], 3, 1), [5, 5, 5])
    flat = seasonal_adjustment([2.0, 4, 2, 4, 2, 4], 2, 2)
    assert not flat.seasonal and flat.future.tolist() == [1.0, 1.0]
    # a zero in every value of a season makes the indices unusable: left unadjusted
    zeros = np.array([0.0, 20, 30, 40] * 3)
    assert seasonality_test(zeros, 4)
    assert not seasonal_adjustment(zeros, 4, 4).seasonal


def test_ses_fit_by_hand_and_against_a_brute_force_search():
    # x = (1, 3): errors (1 - l0, (3 - a) - (1 - a) l0); the least-squares l0 leaves
    # SSE(a) = ((1 - a) - (3 - a))² / (1 + (1 - a)²) = 4 / (1 + (1 - a)²), smallest at the lower bound
    fit = fit_ses([1.0, 3.0])
    lo = ALPHA_BOUNDS[0]
    assert fit.alpha == lo
    assert fit.sse == pytest.approx(4 / (1 + (1 - lo) ** 2), rel=1e-9)
    const = fit_ses(np.full(7, 4.5))
    assert const.sse == pytest.approx(0.0, abs=1e-18) and const.level == pytest.approx(4.5)

    rng = np.random.default_rng(3)
    x = 50 + np.cumsum(rng.normal(0, 1, 40)) + rng.normal(0, 2, 40)

    def sse_at(alpha):  # written out: the level recursion and least squares over l0 by lstsq
        a = np.empty(x.size)
        w = np.empty(x.size)
        level, weight = 0.0, 1.0
        for t, v in enumerate(x):
            a[t], w[t] = v - level, weight
            level += alpha * (v - level)
            weight *= 1 - alpha
        l0 = np.linalg.lstsq(w[:, None], a, rcond=None)[0][0]
        return float(np.sum((a - w * l0) ** 2)), l0

    grid = np.linspace(*ALPHA_BOUNDS, 5001)
    sses = [sse_at(al)[0] for al in grid]
    k = int(np.argmin(sses))
    fit = fit_ses(x)
    assert fit.sse <= sses[k] * (1 + 1e-9)
    assert fit.alpha == pytest.approx(grid[k], abs=1e-3)
    sse, l0 = sse_at(fit.alpha)
    assert fit.sse == pytest.approx(sse, rel=1e-9) and fit.level0 == pytest.approx(l0, rel=1e-9)
    level = l0
    for v in x:
        level += fit.alpha * (v - level)
    assert fit.level == pytest.approx(level, rel=1e-12)


def test_theta_by_hand():
    # seasonal with a constant adjusted level: the line is flat, SES gives 25, reseasonalised
    np.testing.assert_allclose(theta_forecast(PERIOD4, 6, 4), [10, 20, 30, 40, 10, 20], rtol=1e-9)
    # a straight line y = 5 + 2t: the theta-line 2y - L is the line itself, SES tracks it
    # (alpha at its upper bound), so the forecast is the last value plus half the drift per step
    t = np.arange(1, 21)
    y = 5.0 + 2.0 * t
    f = theta_forecast(y, 4, 1)
    np.testing.assert_allclose(f, y[-1] + 1.0 * np.arange(1, 5), atol=2e-3)
    # negative forecasts are set to 0 (as the M4 benchmark code)
    down = np.array([40.0, 30, 20, 10, 1])
    assert (theta_forecast(down, 6, 1) >= 0).all() and theta_forecast(down, 6, 1)[-1] == 0.0


def test_panel_forms_and_errors_name_the_series():
    series = [PERIOD4, np.arange(1.0, 13.0)]
    out = theta(series, horizon=4, season_length=4)
    assert out.shape == (2, 4)
    np.testing.assert_allclose(out[0], [10, 20, 30, 40], rtol=1e-9)
    with pytest.raises(ConfigError, match="horizon= and season_length="):
        naive2(series)
    with pytest.raises(DataValidationError, match=r"naive2: series '1'.*not finite"):
        naive2([PERIOD4, np.array([1.0, np.nan, 2.0])], horizon=2, season_length=1)


def test_published_reference_values_on_m3_yearly():
    # The published M3 sMAPE of Naive2 is 17.88 and that of Theta 16.90 (Makridakis and Hibon
    # 2000; the N-BEATS paper's Table 14). Checked, never tuned on.
    split = load_competition("m3", "yearly")
    y = split.test_values()
    assert smape(y, naive2(split)) == pytest.approx(17.88, abs=0.01)
    assert smape(y, theta(split)) == pytest.approx(16.90, abs=0.3)


def test_theta_beats_naive2_on_m1():
    for subset in ("yearly", "quarterly", "monthly"):
        split = load_competition("m1", subset)
        out = evaluate(split, theta(split))
        assert 0.8 < out["owa"] < 1.0, (subset, out)
