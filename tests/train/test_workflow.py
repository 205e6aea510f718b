"""The few-lines path a command-line tool takes: prepare, fit, checkpoint, reload, forecast."""

from __future__ import annotations

import numpy as np
import pytest

from swets_core import registry
from swets_core.checkpoint import load_checkpoint
from swets_core.errors import CheckpointError, ConfigError
from swets_optim import Adam
from swets_timeseries import MinMaxScaler, StandardScaler
from swets_train import ModelCheckpoint, fit, forecast, predict, prepare, scaler_from_state

from .conftest import HORIZON, LOOKBACK, seasonal_series


def test_prepare_splits_scales_on_training_rows_only_and_loads():
    series = seasonal_series(n=300)
    prep = prepare(series, LOOKBACK, HORIZON, val=0.2, test=0.1, batch_size=16, seed=3)
    train_lo, train_hi = prep.splits.train.rows["s"]
    y = series.column("y")
    assert isinstance(prep.scaler, StandardScaler)
    np.testing.assert_allclose(prep.scaler.mean, [y[train_lo:train_hi].mean()])
    assert prep.n_features == 1 and prep.test is not None
    batch = next(iter(prep.train))
    assert batch.x_past.shape == (16, LOOKBACK, 1) and batch.x_past.dtype.value == "float32"
    assert len(prep.val.dataset) == len(prep.splits.val)
    # the scaled training windows have mean ~0 on the training rows
    x = np.concatenate([b.x_past.numpy()[:, :, 0] for b in prep.train])
    assert abs(float(x.mean())) < 0.1
    assert prepare(series, LOOKBACK, HORIZON, scaler=None).scaler is None
    assert isinstance(prepare(series, LOOKBACK, HORIZON, scaler="minmax").scaler, MinMaxScaler)
    with pytest.raises(ConfigError, match="scaler must be one of"):
        prepare(series, LOOKBACK, HORIZON, scaler="zscore")


def test_train_save_reload_and_forecast_from_the_checkpoint(tmp_path):
    series = seasonal_series(n=300)
    prep = prepare(series, LOOKBACK, HORIZON, batch_size=32, dtype="float64")
    model = registry.create(
        "models",
        "nbeats",
        lookback=LOOKBACK,
        horizon=HORIZON,
        layer_width=16,
        dtype="float64",
        seed=1,
    )
    opt = Adam(model.parameters(), lr=1e-3)
    ckpt = ModelCheckpoint(tmp_path)
    fit(
        model,
        "mse",
        opt,
        prep.train,
        prep.val,
        epochs=2,
        callbacks=[ckpt],
        scaler=prep.scaler,
        progress=False,
    )
    loaded = load_checkpoint(ckpt.last_path)
    scaler = scaler_from_state(loaded.training_state["scaler"])
    assert scaler.state_dict() == prep.scaler.state_dict()
    direct = forecast(model, series, scaler=prep.scaler)
    again = forecast(loaded.model, series, scaler=scaler)
    np.testing.assert_array_equal(direct.values, again.values)
    np.testing.assert_array_equal(direct.timestamps, again.timestamps)
    assert direct.timestamps[0, 0] == series.timestamps[-1] + np.timedelta64(1, "h")
    hist = predict(loaded.model, series, scaler=scaler)
    assert hist.values.shape == (300 - LOOKBACK - HORIZON + 1, HORIZON)
    # in the original scale: the forecasts sit at the level of the series
    assert abs(float(np.mean(hist.values)) - float(np.mean(hist.actuals))) < 5


def test_scaler_from_state_errors():
    assert scaler_from_state(None) is None
    with pytest.raises(CheckpointError, match="unknown scaler kind 'zscore'"):
        scaler_from_state({"kind": "zscore"})
    with pytest.raises(CheckpointError, match="cannot rebuild"):
        scaler_from_state({"kind": "standard", "config": {"ddof": 0}})
