"""Rolling-origin backtests: fold placement, hand-checked metrics, batched forwards, refitting."""

from __future__ import annotations

import math

import numpy as np
import pytest

from swets_core import Module, ops
from swets_core.errors import ConfigError
from swets_timeseries import StandardScaler, TimeSeries
from swets_train import BacktestReport, backtest
from swets_train.metrics import MASE

Y = np.array([3.0, 5.0, 4.0, 6.0, 5.0, 7.0, 6.0, 9.0, 7.0, 8.0, 10.0, 9.0, 11.0, 12.0])
STAMPS = np.datetime64("2024-01-01") + np.arange(Y.size).astype("timedelta64[D]")
SERIES = TimeSeries(STAMPS, {"y": Y}, target="y", id="s")
L, H = 4, 2


class ScaledNaive(Module):
    """The naive forecast computed in whatever space the inputs are (to test the scaling path)."""

    registry_name = "scaled_naive"

    def __init__(self, lookback=L, horizon=H):
        super().__init__()
        self.lookback, self.horizon = lookback, horizon
        self.calls = 0

    def config(self):
        return {"lookback": self.lookback, "horizon": self.horizon}

    def forward(self, x):
        self.calls += 1
        return ops.broadcast_to(x[:, -1:, 0], shape=(x.shape[0], self.horizon))


def test_folds_end_at_the_series_end_and_metrics_match_hand_computation():
    report = backtest(
        {},
        SERIES,
        lookback=L,
        horizon=H,
        folds=3,
        stride=2,
        season_length=2,
        baselines=("naive", "seasonal_naive", "mean"),
        metrics=("mae", "rmse", "mase"),
    )
    assert isinstance(report, BacktestReport) and report.folds == 3
    # origins (first target row): n - H - (folds - 1 - k) * stride = 8, 10, 12
    origins = [8, 10, 12]
    assert [o["s"] for o in report.origins] == [STAMPS[o] for o in origins]
    naive = np.array([[Y[o - 1]] * 2 for o in origins])
    seasonal = np.array([[Y[o - 2], Y[o - 1]] for o in origins])
    mean = np.array([[Y[o - 4 : o].mean()] * 2 for o in origins])
    actual = np.array([Y[o : o + 2] for o in origins])
    np.testing.assert_array_equal(report.forecasts["naive"].values, naive)
    np.testing.assert_array_equal(report.forecasts["seasonal_naive"].values, seasonal)
    np.testing.assert_allclose(report.forecasts["mean"].values, mean)
    np.testing.assert_array_equal(report.forecasts["naive"].actuals, actual)
    np.testing.assert_array_equal(report.forecasts["naive"].timestamps[0], STAMPS[8:10])
    err = np.abs(actual - naive)
    np.testing.assert_allclose(report.per_fold["naive"]["mae"], err.mean(axis=1))
    assert report.overall["naive"]["mae"] == pytest.approx(err.mean())
    assert report.overall["naive"]["rmse"] == pytest.approx(math.sqrt(np.mean(err**2)))
    # MASE: each forecast is scaled by mean |y_t - y_{t-2}| over its own history before the origin
    scales = np.array([np.mean(np.abs(Y[2:o] - Y[: o - 2])) for o in origins])
    expected = np.mean(err / scales[:, None])
    assert report.overall["naive"]["mase"] == pytest.approx(expected)
    np.testing.assert_allclose(report.per_fold["naive"]["mase"], (err / scales[:, None]).mean(1))
    assert np.array_equal(report.fold_index, [0, 1, 2])


def test_learned_models_run_scaled_batched_and_are_mapped_back():
    scaler = StandardScaler().fit(SERIES, rows=slice(0, 8))
    model = ScaledNaive()
    report = backtest(
        {"learned": model}, SERIES, folds=4, stride=1, scaler=scaler, baselines=("naive",)
    )
    assert model.calls == 1  # every cutoff in one batched forward pass
    np.testing.assert_allclose(
        report.forecasts["learned"].values, report.forecasts["naive"].values, rtol=1e-12
    )
    assert report.overall["learned"]["mae"] == pytest.approx(report.overall["naive"]["mae"])
    small_batches = ScaledNaive()
    backtest(small_batches, SERIES, folds=4, stride=1, scaler=scaler, batch_size=3, baselines=())
    assert small_batches.calls == 2
    assert report.models == ["learned", "naive"]
    assert report.metrics == ["mae", "rmse", "smape", "mase"]  # the order of every table


def test_several_windows_per_fold_with_test_size():
    report = backtest({}, SERIES, lookback=L, horizon=H, folds=2, test_size=4, baselines=("naive",))
    # each fold forecasts from every origin whose targets fit in its 4 rows: 3 windows per fold
    assert report.fold_index.tolist() == [0, 0, 0, 1, 1, 1]
    assert report.forecasts["naive"].values.shape == (6, H)


def test_refit_calls_fit_with_the_training_rows_before_each_origin():
    calls = []

    def fit(train_data, fold):
        calls.append((fold, len(train_data), train_data.timestamps[-1]))
        return ScaledNaive()

    report = backtest(
        ScaledNaive(), SERIES, folds=4, stride=1, refit=2, fit=fit, baselines=(), gap=1
    )
    assert [c[0] for c in calls] == [0, 2]
    origins = [o["s"] for o in report.origins]
    for fold, n_rows, last in calls:
        assert last < origins[fold] - np.timedelta64(1, "D")  # the gap row is left out too
        assert n_rows == int(np.searchsorted(STAMPS, origins[fold])) - 1
    assert report.models == ["scaled_naive"]

    def fit_with_scaler(train_data, fold):
        return ScaledNaive(), StandardScaler().fit(train_data)

    again = backtest(ScaledNaive(), SERIES, folds=2, refit=True, fit=fit_with_scaler)
    np.testing.assert_allclose(
        again.forecasts["scaled_naive"].values, again.forecasts["naive"].values, rtol=1e-12
    )


def test_report_table_best_and_plain_data():
    report = backtest({}, SERIES, lookback=L, horizon=H, folds=3, stride=2, season_length=2)
    text = report.table()
    assert text.splitlines()[0].split() == ["model", "mae", "rmse", "smape", "mase"]
    assert "naive" in text and "seasonal_naive" in text
    assert len(report.table(per_fold=True).splitlines()) == 2 + 2 * 4
    best = report.best("mae")
    assert report.overall[best]["mae"] == min(v["mae"] for v in report.overall.values())
    plain = report.to_dict()
    assert plain["per_fold"]["naive"]["mae"] == list(report.per_fold["naive"]["mae"])
    assert plain["origins"][0]["s"].startswith("2024-01-09")


def test_metric_objects_and_quantile_metrics_on_point_forecasts():
    report = backtest(
        {},
        SERIES,
        lookback=L,
        horizon=H,
        folds=2,
        baselines=("naive",),
        metrics=(MASE(m=1), "pinball", "directional_accuracy"),
        season_length=2,
    )
    scales = [np.mean(np.abs(np.diff(Y[:o]))) for o in (10, 12)]
    err = [np.abs(Y[o : o + 2] - Y[o - 1]) for o in (10, 12)]
    assert report.overall["naive"]["mase"] == pytest.approx(
        np.mean([e / s for e, s in zip(err, scales)])
    )
    assert math.isnan(report.overall["naive"]["pinball"])  # no quantiles: not applicable
    assert 0.0 <= report.overall["naive"]["directional_accuracy"] <= 1.0


def test_errors():
    with pytest.raises(ConfigError, match="refit needs fit="):
        backtest(ScaledNaive(), SERIES, folds=2, refit=True)
    with pytest.raises(ConfigError, match="pass lookback= and horizon="):
        backtest({}, SERIES, folds=2)
    with pytest.raises(ConfigError, match="used by both"):
        backtest({"naive": ScaledNaive()}, SERIES, folds=2)
    with pytest.raises(ConfigError, match="refit must be"):
        backtest(ScaledNaive(), SERIES, folds=2, refit=-1, fit=lambda d, k: None)
    with pytest.raises(ConfigError, match="must return a model"):
        backtest(ScaledNaive(), SERIES, folds=2, refit=True, fit=lambda d, k: None)
    with pytest.raises(ConfigError, match="models must be a model or"):
        backtest([ScaledNaive()], SERIES, folds=2)
    with pytest.raises(ConfigError, match="fold"):
        backtest({}, SERIES, lookback=L, horizon=H, folds=20)
