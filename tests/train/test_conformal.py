"""Conformal prediction intervals: the finite-sample quantile, split conformal and CQR, their
coverage on exchangeable data, plain-data round trips, predict/forecast/backtest with intervals,
the interval scores and CRPS, and the job pipeline (checkpoint, evaluate, forecast)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from swets_core.errors import CheckpointError, ConfigError, ShapeError
from swets_timeseries import StandardScaler, WindowDataset
from swets_train import (
    Conformal,
    Forecaster,
    backtest,
    calibrate,
    calibrate_windows,
    forecast,
    predict,
)
from swets_train.conformal import parse_levels, scores_of
from swets_train.metrics import CRPS, crps_samples, interval_metric_names, interval_scores

from .conftest import HORIZON, LOOKBACK, seasonal_series


class Shift:
    """A point forecaster: the last input value plus a constant, over the horizon."""

    registry_name = "shift"

    def __init__(self, horizon=HORIZON, quantiles=None, spread=1.0):
        self.horizon, self.quantiles, self.spread = horizon, quantiles, spread

    def config(self):
        return {"lookback": LOOKBACK, "horizon": self.horizon, "quantiles": self.quantiles}

    def parameters(self):
        return []

    def __call__(self, x):
        last = np.asarray(x._data if hasattr(x, "_data") else x)[:, -1, 0]
        point = np.repeat(last[:, None], self.horizon, axis=1)
        if self.quantiles is None:
            return point
        z = np.asarray(self.quantiles) - 0.5
        return point[..., None] + self.spread * z


def test_parse_levels():
    assert parse_levels("95, 80") == (80.0, 95.0)
    assert parse_levels([80]) == (80.0,)
    assert parse_levels(90) == (90.0,)
    for bad in ("80;95", "0,50", [100], [80, 80], [], "abc", [True]):
        with pytest.raises(ConfigError, match="levels"):
            parse_levels(bad)


def test_finite_sample_quantile_is_the_ceil_rank():
    scores = np.arange(1.0, 10.0)[:, None]  # n = 9
    c = Conformal("split", None, scores)
    # alpha 0.2: ceil(10 * 0.8) = 8 -> the 8th smallest
    assert c.margins(80.0)[0] == 8.0
    # alpha 0.5: ceil(5) = 5
    assert c.margins(50.0)[0] == 5.0
    # alpha 0.05: ceil(9.5) = 10 > 9: an infinite margin
    assert c.margins(95.0)[0] == np.inf
    # NaN scores (missing actuals) do not count: n = 4 -> alpha 0.2 needs ceil(4) = 4
    holes = np.array([[1.0], [np.nan], [3.0], [2.0], [4.0]])
    assert Conformal("split", None, holes).margins(80.0)[0] == 4.0


def test_split_conformal_covers_exchangeable_data():
    """Scores and test points from one distribution: the coverage averaged over many seeded
    calibration sets is at least 1 - alpha and below 1 - alpha + 1 / (n + 1)."""
    rng = np.random.default_rng(0)
    n, trials = 99, 400
    hits = {80.0: [], 95.0: []}
    for _ in range(trials):
        y = rng.standard_t(4, size=(n, 3))
        c = scores_of(np.zeros((n, 3)), y, None)
        test = rng.standard_t(4, size=(200, 3))
        lo, hi = c.bounds(np.zeros((200, 3)), (80.0, 95.0))
        for j, level in enumerate((80.0, 95.0)):
            hits[level].append(np.mean((test >= lo[..., j]) & (test <= hi[..., j])))
    for level in (80.0, 95.0):
        mean = float(np.mean(hits[level]))
        # the exact expectation lies in [1 - alpha, 1 - alpha + 1/(n + 1)]; 400 x 600 draws
        # leave a standard error below 0.003
        assert level / 100 - 0.01 <= mean <= level / 100 + 1 / (n + 1) + 0.01, (level, mean)


def test_cqr_scores_and_bounds():
    qs = [0.1, 0.5, 0.9]
    out = np.array([[[1.0, 2.0, 3.0]], [[0.0, 1.0, 2.0]], [[5.0, 6.0, 7.0]]])  # (3, 1, 3)
    y = np.array([[3.5], [1.0], [4.0]])
    c = scores_of(out, y, qs)
    assert c.method_for(80.0) == "cqr" and c.method_for(50.0) == "split"
    # scores max(lo - y, y - hi): 0.5, -1, 1
    np.testing.assert_array_equal(c.cqr[0.1][:, 0], [0.5, -1.0, 1.0])
    # n = 3, alpha 0.2: ceil(3.2) = 4 > 3 -> inf; alpha 0.5 (split): ceil(2) = 2
    assert c.margins(80.0)[0] == np.inf
    residuals = np.abs(y - out[..., 1])[:, 0]  # 1.5, 0, 2
    assert c.margins(50.0)[0] == np.sort(residuals)[1]
    many = scores_of(np.repeat(out, 10, axis=0), np.repeat(y, 10, axis=0), qs)
    lo, hi = many.bounds(out, (80.0,))
    q = many.margins(80.0)[0]  # ceil(31 * 0.8) = 25th of 30 sorted scores (10 of each)
    assert q == 1.0
    np.testing.assert_array_equal(lo[..., 0], out[..., 0] - q)
    np.testing.assert_array_equal(hi[..., 0], out[..., 2] + q)
    split = scores_of(out, y, qs, method="split")
    assert split.cqr == {} and split.method_for(80.0) == "split"
    with pytest.raises(ConfigError, match="CQR needs a quantile model"):
        scores_of(out[..., 1], y, None, method="cqr")
    with pytest.raises(ConfigError, match=r"CQR at level 95 needs the model's quantiles 0.025"):
        scores_of(out, y, qs, method="cqr").margins(95.0)


def test_state_round_trip_and_hostile_states():
    rng = np.random.default_rng(1)
    c = scores_of(rng.normal(size=(20, 4, 3)), rng.normal(size=(20, 4)), [0.1, 0.5, 0.9])
    again = Conformal.from_state(c.state_dict())
    assert again.method == c.method and again.quantiles == c.quantiles
    np.testing.assert_array_equal(again.residuals, c.residuals)
    np.testing.assert_array_equal(again.cqr[0.1], c.cqr[0.1])
    good = c.state_dict()
    bad_cases = [
        ({**good, "method": "magic"}, "conformal.method"),
        ({**good, "residuals": np.ones((3, 4), dtype=np.float32)}, "conformal.residuals"),
        ({**good, "residuals": np.full((3, 4), np.inf)}, "conformal.residuals"),
        ({**good, "cqr": [[0.7, np.ones((20, 4))]]}, r"conformal.cqr\[0\]"),
        ({**good, "cqr": [[0.1, np.ones((20, 5))]]}, "one horizon"),
        ({**good, "quantiles": "0.5"}, "conformal.quantiles"),
        ("nope", "'conformal' must be a mapping"),
    ]
    for state, match in bad_cases:
        with pytest.raises(CheckpointError, match=match):
            Conformal.from_state(state, source="ckpt.swets")


def _setup():
    series = seasonal_series(n=600)
    raw = WindowDataset(series, LOOKBACK, HORIZON, dtype="float64").split(val=0.3, test=0)
    scaler = StandardScaler().fit(series, rows=raw.train.rows)
    return series, raw, scaler


def test_predict_forecast_backtest_with_intervals():
    series, raw, scaler = _setup()
    model = Shift()
    conf = calibrate_windows(model, raw.val, scaler=scaler)
    # calibrating on the same data through calibrate() gives the same scores
    whole = calibrate(model, series[len(series) - 200 :], scaler=scaler)
    assert whole.size == 200 - LOOKBACK - HORIZON + 1
    fc = predict(model, series, scaler=scaler, conformal=conf, levels="80,95")
    assert fc.levels == (80.0, 95.0) and fc.lower.shape == (len(fc), HORIZON, 2)
    lo80, hi80 = fc.interval(80)
    lo95, hi95 = fc.interval(95)
    assert np.all(lo95 <= lo80) and np.all(lo80 <= fc.values) and np.all(hi80 <= hi95)
    # the margins are the scaled residuals' quantiles times the scaler's scale
    scale = scaler.state_dict()["stats"]["*"]["scale"][0]
    np.testing.assert_allclose(
        hi80 - fc.values, np.broadcast_to(conf.margins(80) * scale, hi80.shape)
    )
    cols = fc.to_columns()
    assert {"lo80", "hi80", "lo95", "hi95"} <= set(cols)
    future = forecast(model, series, scaler=scaler, conformal=conf, levels=(80,))
    assert future.lower.shape == (1, HORIZON, 1)
    # the serving path checks the request once and gives the same intervals on every call
    serving = Forecaster(model, scaler=scaler, conformal=conf, levels=(80,))
    for _ in range(2):
        again = serving.forecast(series)
        np.testing.assert_array_equal(again.lower, future.lower)
        np.testing.assert_array_equal(again.upper, future.upper)
        assert again.levels == (80.0,)
    plain = Forecaster(model, scaler=scaler).forecast(series)
    assert plain.levels is None and plain.lower is None and plain.upper is None
    np.testing.assert_array_equal(plain.values, future.values)
    with pytest.raises(ConfigError, match="levels= needs a calibration"):
        Forecaster(model, scaler=scaler, levels=(80,))
    with pytest.raises(ConfigError, match="levels= needs a calibration"):
        predict(model, series, scaler=scaler, levels=(80,))
    with pytest.raises(ConfigError, match="no prediction intervals"):
        predict(model, series, scaler=scaler).interval(80)
    with pytest.raises(ConfigError, match="not 90 %"):
        fc.interval(90)
    report = backtest(
        model, series, folds=4, scaler=scaler, season_length=24, conformal=conf, levels=(80, 95)
    )
    assert report.metrics[-6:] == interval_metric_names((80, 95))
    assert math.isnan(report.overall["naive"]["coverage80"])
    assert 0.0 <= report.overall["shift"]["coverage80"] <= 1.0
    assert "coverage80" in report.table()
    assert report.forecasts["shift"].lower.shape == (4, HORIZON, 2)
    with pytest.raises(ConfigError, match="levels= needs a calibration"):
        backtest(model, series, folds=2, scaler=scaler, levels=(80,))


def test_refitting_backtest_takes_each_folds_calibration():
    series, _raw, scaler = _setup()
    calls = []

    def fit(train_data, fold):
        calls.append(fold)
        ds = WindowDataset(train_data, LOOKBACK, HORIZON, dtype="float64").split(val=0.3, test=0)
        model = Shift()
        return model, scaler, None, calibrate_windows(model, ds.val, scaler=scaler)

    report = backtest(Shift(), series, folds=3, refit=True, fit=fit, scaler=scaler, levels=(80,))
    assert calls == [0, 1, 2]
    assert np.isfinite(report.overall["shift"]["coverage80"])


def test_interval_scores_by_hand():
    y = np.array([[0.0, 1.0], [2.0, 3.0]])
    point = np.array([[0.0, 2.0], [2.0, 2.0]])
    lower = np.array([[[-1.0]], [[1.0]]]) * np.ones((2, 2, 1))
    upper = lower + 2.0
    got = interval_scores(y, point, lower, upper, (50.0,))
    inside = (y >= lower[..., 0]) & (y <= upper[..., 0])
    assert got["coverage50"] == inside.mean() and got["width50"] == 2.0
    qs = np.array([0.25, 0.5, 0.75])
    pred = np.stack([lower[..., 0], point, upper[..., 0]], axis=-1)
    d = y[..., None] - pred
    pinball = np.maximum(qs * d, (qs - 1) * d).mean()
    assert got["pinball"] == pytest.approx(pinball) and got["crps"] == pytest.approx(2 * pinball)
    with pytest.raises(ShapeError, match="do not fit 2 level"):
        interval_scores(y, point, lower, upper, (50.0, 80.0))


def test_crps_from_samples_matches_the_normal_closed_form():
    rng = np.random.default_rng(3)
    y = rng.normal(size=(30, 4))
    samples = rng.normal(size=(4000, 30, 4))
    phi = np.exp(-y * y / 2) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + np.vectorize(math.erf)(y / math.sqrt(2)))
    exact = np.mean(y * (2 * cdf - 1) + 2 * phi - 1 / math.sqrt(math.pi))
    assert crps_samples(y, samples) == pytest.approx(exact, abs=0.01)
    # one sample: the absolute error
    assert crps_samples(y, y[None] + 1.0) == pytest.approx(1.0)
    assert CRPS()(y, np.zeros((30, 4, 1)), quantiles=[0.5], samples=samples) == crps_samples(
        y, samples
    )
    with pytest.raises(ShapeError, match="samples must have shape"):
        crps_samples(y, samples[:, :3])
