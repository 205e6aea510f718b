"""Scalers: statistics, NaN handling, training-range fits, per-series stats, plain-data state."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from swets_core.errors import CheckpointError, ConfigError, ShapeError, StateDictError
from swets_timeseries import (
    MinMaxScaler,
    RobustScaler,
    SeriesCollection,
    StandardScaler,
    TimeSeries,
)

SCALERS = [StandardScaler, MinMaxScaler, RobustScaler]


def data(seed=0, n=200):
    rng = np.random.default_rng(seed)
    return rng.normal([1.0, -50.0, 1e4], [0.5, 3.0, 2e3], size=(n, 3))


def collection():
    ts = np.datetime64("2024-01-01", "ns") + np.arange(100) * np.timedelta64(1, "h")
    rng = np.random.default_rng(1)
    a = TimeSeries(
        ts, {"y": rng.normal(10, 1, 100), "x": rng.normal(0, 5, 100)}, "y", ["x"], id="a"
    )
    b = TimeSeries(
        ts, {"y": rng.normal(-3, 4, 100), "x": rng.normal(7, 1, 100)}, "y", ["x"], id="b"
    )
    return SeriesCollection([a, b])


def test_standard_statistics():
    x = data()
    s = StandardScaler().fit(x)
    np.testing.assert_allclose(s.mean, x.mean(axis=0))
    np.testing.assert_allclose(s.std, x.std(axis=0))
    z = s.transform(x)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1, rtol=1e-12)


def test_minmax_and_robust_statistics():
    x = data()
    z = MinMaxScaler((-1, 1)).fit(x).transform(x)
    np.testing.assert_allclose(z.min(axis=0), -1, atol=1e-12)
    np.testing.assert_allclose(z.max(axis=0), 1, atol=1e-12)
    r = RobustScaler().fit(x)
    z = r.transform(x)
    q1, med, q3 = np.percentile(x, [25, 50, 75], axis=0)
    np.testing.assert_allclose(z, (x - med) / (q3 - q1))


@pytest.mark.parametrize("cls", SCALERS)
def test_inverse_round_trip_and_shapes(cls):
    x = data()
    s = cls().fit(x)
    batch = x[:24].reshape(2, 12, 3)  # (B, T, F): last axis is the feature axis
    np.testing.assert_allclose(s.inverse_transform(s.transform(batch)), batch, rtol=1e-12)
    with pytest.raises(ShapeError, match="2 features on its last axis, the scaler was fitted on 3"):
        s.transform(x[:, :2])


@pytest.mark.parametrize("cls", SCALERS)
def test_nan_aware_and_constant_columns(cls):
    x = data()
    x[5, 0] = np.nan
    x[:, 2] = 7.0  # constant: scale 1, never a division by zero
    s = cls().fit(x)
    z = s.transform(x)
    assert np.isnan(z[5, 0]) and np.isfinite(np.delete(z, 5, axis=0)).all()
    clean = cls().fit(np.delete(x, 5, axis=0)[:, :1])  # the NaN is simply left out
    np.testing.assert_allclose(z[6:, :1], clean.transform(x[6:, :1]))
    assert np.ptp(z[:, 2]) == 0


@pytest.mark.parametrize("cls", SCALERS)
def test_fit_only_on_training_range(cls):
    coll = collection()
    s = cls().fit(coll, rows=slice(0, 60))
    changed = coll.map(lambda t: t.with_columns(y=np.r_[t.column("y")[:60], np.full(40, 1e9)]))
    s2 = cls().fit(changed, rows=slice(0, 60))
    assert s.state_dict() == s2.state_dict()
    s3 = cls().fit(changed, until="2024-01-03T12:00")  # rows before hour 60
    assert s3.state_dict() == s.state_dict()
    s4 = cls().fit(changed, rows={"a": (0, 60), "b": slice(0, 60)})
    assert s4.state_dict() == s.state_dict()


def test_per_series_statistics_and_collection_transform():
    coll = collection()
    s = StandardScaler(per_series=True).fit(coll)
    out = s.transform(coll)
    for sid in coll.ids:
        y = out[sid].column("y")
        assert abs(y.mean()) < 1e-12 and abs(y.std() - 1) < 1e-12
    pred = out["b"].column("y")[:24].reshape(1, 24, 1)
    back = s.inverse_transform(pred, series_id="b", columns=["y"])
    np.testing.assert_allclose(back.ravel(), coll["b"].column("y")[:24])
    with pytest.raises(ConfigError, match="fitted per series; pass series_id="):
        s.transform(pred[..., 0:1], columns=["y"])
    with pytest.raises(ConfigError, match="no statistics for series 'zz'"):
        s.transform(pred, series_id="zz", columns=["y"])
    pooled = StandardScaler(columns=["y"]).fit(coll)
    both = np.r_[coll["a"].column("y"), coll["b"].column("y")]
    np.testing.assert_allclose(pooled.mean, [both.mean()])
    untouched = pooled.transform(coll)
    np.testing.assert_array_equal(untouched["a"].column("x"), coll["a"].column("x"))


@pytest.mark.parametrize("cls", SCALERS)
def test_per_series_statistics_skip_nan_where_there_is_some(cls):
    coll = collection()
    y = coll["a"].column("y").copy()
    y[[3, 40]] = np.nan
    holed = SeriesCollection([coll["a"].with_columns(y=y), coll["b"]])
    s = cls(per_series=True, columns=["y"]).fit(holed)
    for sid, values in (("a", y[~np.isnan(y)]), ("b", coll["b"].column("y"))):
        ref = cls(columns=["y"]).fit(values.reshape(-1, 1))
        np.testing.assert_allclose(s._offset[sid], ref._offset["*"], rtol=1e-13)
        np.testing.assert_allclose(s._scale[sid], ref._scale["*"], rtol=1e-13)


@pytest.mark.parametrize("cls", SCALERS)
def test_state_dict_is_plain_data(cls):
    s = cls(per_series=True).fit(collection(), rows=slice(0, 50))
    state = json.loads(json.dumps(s.state_dict()))
    fresh = cls()
    fresh.load_state_dict(state)
    x = np.random.default_rng(3).normal(size=(4, 2))
    np.testing.assert_array_equal(fresh.transform(x, series_id="a"), s.transform(x, series_id="a"))
    assert fresh.columns == ("y", "x") and fresh.per_series


def test_load_state_dict_lists_problems():
    s = StandardScaler().fit(data())
    state = s.state_dict()
    with pytest.raises(StateDictError, match="'standard' scaler, this is 'minmax'"):
        MinMaxScaler().load_state_dict(state)
    with pytest.raises(StateDictError, match="missing key 'stats'"):
        StandardScaler().load_state_dict({k: v for k, v in state.items() if k != "stats"})
    bad = dict(state, stats={"*": {"offset": [1.0, 2.0], "scale": [1.0]}})
    with pytest.raises(StateDictError, match=r"offset \(2,\) and scale \(1,\) differ"):
        StandardScaler().load_state_dict(bad)
    with pytest.raises(ConfigError, match="per_series=True needs series input"):
        StandardScaler(per_series=True).fit(data())
    with pytest.raises(ConfigError, match="not fitted"):
        StandardScaler().transform(data())


@pytest.mark.parametrize(
    ("cls", "option", "value", "rule"),
    [
        (MinMaxScaler, "feature_range", (1.0, 0.0), "be (low, high) with low < high"),
        (MinMaxScaler, "feature_range", (1.0,), "be (low, high) with low < high (two numbers)"),
        (MinMaxScaler, "feature_range", "ab", "be (low, high) with low < high (two numbers)"),
        (RobustScaler, "quantile_range", (25, 75, 90), "satisfy 0 <= q1 < q3 <= 100 (two numbers)"),
        (RobustScaler, "quantile_range", (-1, 50), "satisfy 0 <= q1 < q3 <= 100"),
        (RobustScaler, "quantile_range", None, "satisfy 0 <= q1 < q3 <= 100 (two numbers)"),
    ],
)
def test_bad_ranges_are_config_errors_naming_the_option(cls, option, value, rule):
    with pytest.raises(ConfigError, match=rf"^{option} must {re.escape(rule)}, got"):
        cls(**{option: value})


def test_float32_in_float32_out_with_float64_statistics():
    x = data().astype(np.float32)
    s = StandardScaler().fit(x)
    assert s.mean.dtype == np.float64
    z = s.transform(x)
    assert z.dtype == np.float32
    np.testing.assert_allclose(s.inverse_transform(z), x, rtol=1e-5)
    assert s.transform(np.ones((2, 3), dtype=np.int64)).dtype == np.float64


@pytest.mark.parametrize("cls", [StandardScaler, MinMaxScaler, RobustScaler])
def test_scaler_from_state_rebuilds_the_right_kind(cls):
    from swets_timeseries import scaler_from_state

    x = np.random.default_rng(4).normal(size=(20, 2))
    fitted = cls().fit(x)
    again = scaler_from_state(json.loads(json.dumps(fitted.state_dict())))
    assert type(again) is cls
    np.testing.assert_array_equal(again.transform(x), fitted.transform(x))
    assert scaler_from_state(None) is None
    with pytest.raises(CheckpointError, match="unknown scaler kind 'zscore'"):
        scaler_from_state({"kind": "zscore"})
    with pytest.raises(CheckpointError, match="cannot rebuild"):
        scaler_from_state({**fitted.state_dict(), "config": {"nope": 0}})
