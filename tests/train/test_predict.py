"""predict and forecast: original scale (inverse of the scaler), timestamps, quantiles, errors."""

from __future__ import annotations

import numpy as np
import pytest

from swets_core import Module, ops, registry
from swets_core.errors import ConfigError, ShapeError
from swets_timeseries import StandardScaler, TimeSeries
from swets_train import Forecast, forecast, predict

from .conftest import seasonal_series

L, H = 12, 4


def two_column_series(n=80):
    """Target ``y`` around 1000 and a covariate ``c`` around -5: very different scales."""
    rng = np.random.default_rng(1)
    t = np.arange(n)
    y = 1000 + 50 * np.sin(t / 3) + rng.normal(0, 1, n)
    c = -5 + 0.1 * rng.normal(size=n)
    stamps = np.datetime64("2023-03-01T00:00") + (30 * t).astype("timedelta64[m]")
    return TimeSeries(stamps, {"y": y, "c": c}, target="y", covariates=["c"], id="a")


def test_predict_inverts_the_scaler_on_the_target_and_gives_timestamps():
    series = two_column_series()
    scaler = StandardScaler().fit(series, rows=slice(0, 60))
    naive = registry.create("models", "naive", horizon=H)
    fc = predict(naive, series, scaler=scaler, lookback=L)
    n = len(series) - L - H + 1
    assert isinstance(fc, Forecast) and fc.values.shape == (n, H) and len(fc) == n
    y = series.column("y")
    # the naive forecast in the original scale is the last observed target value
    expected = np.repeat(y[L - 1 : L - 1 + n, None], H, axis=1)
    np.testing.assert_allclose(fc.values, expected, rtol=1e-12)
    np.testing.assert_array_equal(
        fc.actuals, np.lib.stride_tricks.sliding_window_view(y[L:], H)[:n]
    )
    np.testing.assert_array_equal(fc.origins, series.timestamps[L : L + n])
    np.testing.assert_array_equal(fc.timestamps[5], series.timestamps[L + 5 : L + 5 + H])
    assert fc.target == "y" and set(fc.ids) == {"a"}
    # stride thins the origins
    assert len(predict(naive, series, scaler=scaler, lookback=L, stride=5)) == (n - 1) // 5 + 1


def test_predict_without_scaler_and_with_the_model_geometry():
    series = seasonal_series(n=100)
    model = registry.create("models", "nbeats", lookback=L, horizon=H, layer_width=8, seed=0)
    fc = predict(model, series)
    assert fc.values.shape == (100 - L - H + 1, H)
    assert np.isfinite(fc.values).all()


def test_a_model_configured_with_input_size_gives_its_geometry():
    class LastValue(Module):
        """Repeats the last target value; configured as NeuralForecast names it (input_size)."""

        def config(self):
            return {"input_size": L, "horizon": H}

        def forward(self, x):
            return ops.broadcast_to(x[:, -1:, 0], shape=(x.shape[0], H))

    series = seasonal_series(n=60)
    fc = forecast(LastValue(), series)
    np.testing.assert_allclose(fc.values[0], series.column("y")[-1], rtol=1e-12)
    assert len(predict(LastValue(), series)) == 60 - L - H + 1


def test_forecast_continues_the_timestamps_beyond_the_data():
    series = two_column_series()
    scaler = StandardScaler().fit(series)
    naive = registry.create("models", "naive", horizon=H)
    fc = forecast(naive, series, scaler=scaler, lookback=L)
    assert fc.values.shape == (1, H) and fc.actuals is None
    step = np.timedelta64(30, "m")
    last = series.timestamps[-1]
    np.testing.assert_array_equal(fc.timestamps[0], last + step * np.arange(1, H + 1))
    assert fc.origins[0] == last + step
    np.testing.assert_allclose(fc.values[0], series.column("y")[-1], rtol=1e-12)
    cols = fc.to_columns()
    assert list(cols) == ["series_id", "origin", "timestamp", "step", "forecast"]
    assert cols["step"].tolist() == [1, 2, 3, 4] and cols["series_id"].tolist() == ["a"] * 4


class QuantileStub(Module):
    """Quantile forecasts: the last value of the target minus/plus one."""

    registry_name = "quantile_stub"

    def __init__(self, lookback=L, horizon=H):
        super().__init__()
        self.lookback, self.horizon = lookback, horizon

    def config(self):
        return {"lookback": self.lookback, "horizon": self.horizon, "quantiles": [0.1, 0.5, 0.9]}

    def forward(self, x):
        last = x[:, -1:, 0:1]  # (B, 1, 1)
        base = ops.broadcast_to(last, shape=(x.shape[0], self.horizon, 3))
        return base + np.array([-1.0, 0.0, 1.0])


def test_quantile_forecasts_are_inverted_per_level():
    series = two_column_series()
    scaler = StandardScaler().fit(series)
    fc = predict(QuantileStub(), series, scaler=scaler)
    std_y = float(np.std(series.column("y")))
    assert fc.values.shape[-1] == 3 and fc.quantiles == (0.1, 0.5, 0.9)
    # one unit in the scaled space is one standard deviation of y in the original scale
    np.testing.assert_allclose(fc.values[..., 2] - fc.values[..., 1], std_y, rtol=1e-9)
    np.testing.assert_allclose(fc.point, fc.values[..., 1])
    cols = fc.to_columns()
    assert {"q0.1", "q0.5", "q0.9", "actual"} <= set(cols)


def test_errors():
    series = two_column_series()
    naive = registry.create("models", "naive", horizon=H)
    with pytest.raises(ConfigError, match="pass lookback="):
        predict(naive, series)
    array_scaler = StandardScaler().fit(np.ones((10, 2)))
    with pytest.raises(ConfigError, match="fitted on an array"):
        predict(naive, series, scaler=array_scaler, lookback=L)
    with pytest.raises(ConfigError, match="not fitted"):
        predict(naive, series, scaler=StandardScaler(), lookback=L)

    class Wrong(Module):
        registry_name = "wrong"

        def forward(self, x):
            return x[:, :2, 0]

    with pytest.raises(ShapeError, match=r"model 'wrong' returned shape \(\d+, 2\), expected"):
        predict(Wrong(), series, lookback=L, horizon=H)
    with pytest.raises(ConfigError, match="TimeSeries"):
        predict(naive, np.ones(10), lookback=L)
