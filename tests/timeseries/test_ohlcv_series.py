"""OHLCV bars and general series: construction checks, slicing, resampling, containers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from swets_core.errors import ConfigError, DataValidationError, ShapeError
from swets_timeseries import OHLCV, SeriesCollection, TimeSeries

from .conftest import random_bars


def test_construction_converts_and_checks():
    ts = ["2024-01-02T10:00:00+01:00", "2024-01-02T10:00:00Z"]
    bars = OHLCV(ts, [1, 2], [2, 3], [0, 1], [1, 2], [5, 6])
    assert bars.timestamps.dtype == np.dtype("M8[ns]")
    assert bars.timestamps[0] == np.datetime64("2024-01-02T09:00", "ns")
    assert bars.open.dtype == np.float64
    aware = dt.datetime(2024, 1, 2, 10, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert OHLCV([aware], [1], [1], [1], [1]).timestamps[0] == np.datetime64(
        "2024-01-02T08:00", "ns"
    )
    with pytest.raises(ShapeError, match="column 'high' has 1 rows but timestamps has 2"):
        OHLCV(ts, [1, 2], [2], [0, 1], [1, 2])
    with pytest.raises(ShapeError, match="'open' must be 1-D"):
        OHLCV(ts, [[1, 2]], [2, 3], [0, 1], [1, 2])
    with pytest.raises(ConfigError, match="must be numeric"):
        OHLCV(ts, ["a", "b"], [2, 3], [0, 1], [1, 2])
    with pytest.raises(ConfigError, match="timestamps\\[1\\] = 'soon' is not a timestamp"):
        OHLCV(["2024-01-01", "soon"], [1, 2], [2, 3], [0, 1], [1, 2])
    with pytest.raises(ConfigError, match="clashes"):
        OHLCV(ts, [1, 2], [2, 3], [0, 1], [1, 2], extra={"close": [1, 2]})


def test_slicing_by_position_mask_and_row(msft):
    part = msft[10:20]
    assert len(part) == 10 and part.timestamps[0] == msft.timestamps[10]
    assert np.shares_memory(part.close, msft.close)  # positional slices are views
    mask = msft.volume > 1e8
    assert len(msft[mask]) == int(mask.sum())
    picked = msft[np.array([0, 5, -1])]
    assert picked.close[2] == msft.close[-1]
    row = msft[3]
    assert row["close"] == msft.close[3] and row["timestamp"] == msft.timestamps[3]
    with pytest.raises(IndexError, match="row 99999 out of range"):
        msft[99999]
    with pytest.raises(ShapeError, match="boolean mask"):
        msft[np.array([True, False])]


def test_slicing_by_time_range(msft):
    year = msft["2000-01-01":"2001-01-01"]
    assert year.timestamps[0] == np.datetime64("2000-01-03", "ns")
    assert year.timestamps[-1] == np.datetime64("2000-12-29", "ns")
    assert np.all(year.timestamps >= np.datetime64("2000-01-01")) and len(year) == 252
    same = msft.between(dt.date(2000, 1, 1), np.datetime64("2001-01-01"))
    np.testing.assert_array_equal(same.close, year.close)
    assert len(msft.between(end="1986-03-15")) == 2
    assert len(msft.between("2030-01-01")) == 0


def test_time_slicing_needs_sorted_timestamps():
    ts = np.array(["2024-01-02", "2024-01-01"], dtype="M8[ns]")
    bars = OHLCV(ts, [1, 1], [1, 1], [1, 1], [1, 1])
    with pytest.raises(DataValidationError, match=r"row 1 \(2024-01-01\) is not after row 0"):
        bars.between("2024-01-01")
    with pytest.raises(DataValidationError, match="resample"):
        bars.resample("1D")


def test_resample_weekly_matches_manual_aggregation(msft):
    weekly = msft.resample("1W")
    # weeks start on Monday 00:00 UTC
    days = weekly.timestamps.astype("M8[D]").astype(np.int64)
    assert np.all((days + 3) % 7 == 0)
    for k in (0, 100, len(weekly) - 1):
        start = weekly.timestamps[k]
        week = msft.between(start, start + np.timedelta64(7, "D"))
        assert weekly.open[k] == week.open[0]
        assert weekly.high[k] == week.high.max()
        assert weekly.low[k] == week.low.min()
        assert weekly.close[k] == week.close[-1]
        assert weekly.volume[k] == week.volume.sum()
    assert weekly.volume.sum() == msft.volume.sum()
    assert weekly.validate()[1].ok


def test_resample_intraday_months_and_extras():
    bars = random_bars(24 * 40).with_columns(flow=np.ones(24 * 40))
    four = bars.resample("4h", extra={"flow": "sum"})
    assert len(four) == 240
    np.testing.assert_array_equal(four.extra["flow"], 4.0)
    np.testing.assert_array_equal(four.close, bars.close[3::4])
    monthly = bars.resample("1M")
    assert monthly.timestamps.tolist() == [
        np.datetime64("2020-01-01", "ns").item(),
        np.datetime64("2020-02-01", "ns").item(),
    ]
    assert monthly.high[1] == bars.between("2020-02-01").high.max()
    with pytest.raises(ConfigError, match="unknown bar size"):
        bars.resample("3 fortnights")
    with pytest.raises(ConfigError, match="unknown aggregation 'median'"):
        bars.resample("1D", extra={"flow": "median"})


def test_resample_propagates_nan():
    bars = random_bars(8)
    high = bars.high.copy()
    high[1] = np.nan
    bars = OHLCV(bars.timestamps, bars.open, high, bars.low, bars.close, bars.volume)
    two = bars.resample("2h")
    assert np.isnan(two.high[0]) and np.isfinite(two.high[1:]).all()


def test_timeseries_roles_and_validation():
    ts = np.datetime64("2024-01-01", "ns") + np.arange(5) * np.timedelta64(1, "D")
    s = TimeSeries(
        ts,
        {"y": np.arange(5.0), "x": np.ones(5), "k": np.zeros(5)},
        target="y",
        covariates=["x"],
        known_covariates=["k"],
        id="a",
    )
    assert s.to_array().shape == (5, 3)
    assert len(s.between("2024-01-02", "2024-01-04")) == 2
    with pytest.raises(ConfigError, match="'z' is named as a target or covariate but is not among"):
        TimeSeries(ts, {"y": np.ones(5)}, target="y", covariates=["z"])
    with pytest.raises(ConfigError, match="a column has two roles"):
        TimeSeries(ts, {"y": np.ones(5)}, target="y", covariates=["y"])
    bad = s.with_columns(x=np.array([1, np.nan, 1, 1, 1]))
    with pytest.raises(DataValidationError, match=r"row 1 \(2024-01-02\): non_finite_value: x=nan"):
        bad.validate()
    with pytest.warns(Warning):
        dropped, report = bad.validate("drop")
    assert len(dropped) == 4 and report.dropped_rows.tolist() == [1]


def test_collection_from_long_and_consistency():
    ids = np.array(["b", "a", "b", "a", "b"])
    ts = np.array(
        ["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-02", "2024-01-03"], dtype="M8[ns]"
    )
    coll = SeriesCollection.from_long(ids, ts, {"y": [1.0, 2, 3, 4, 5]}, target="y")
    assert coll.ids == ("b", "a")
    np.testing.assert_array_equal(coll["b"].column("y"), [1, 3, 5])
    np.testing.assert_array_equal(coll[1].column("y"), [2, 4])
    back_ids, _, _ = coll.to_long()
    assert back_ids.tolist() == ["b", "b", "b", "a", "a"]
    with pytest.raises(ConfigError, match="no series with id 'c'"):
        coll["c"]
    a = coll["a"]
    with pytest.raises(ConfigError, match="appears twice"):
        SeriesCollection([a, a])
    other = TimeSeries(
        a.timestamps, {"y": a.column("y"), "x": a.column("y")}, target="y", covariates=["x"], id="z"
    )
    with pytest.raises(ConfigError, match="all series must agree"):
        SeriesCollection([a, other])


def _long_reference(ids, ts, values):
    """from_long's contract written plainly: ids as text in order of first appearance, each
    series the rows of its id in file order."""
    text = [str(i) for i in np.asarray(ids).astype(str)]
    order = list(dict.fromkeys(text))
    rows = {i: [r for r, t in enumerate(text) if t == i] for i in order}
    return order, {i: (ts[r], values[r]) for i, r in rows.items()}


@pytest.mark.parametrize(
    "ids",
    [
        [7, 7, 7, 3, 3, 12],  # integer ids in blocks
        [7, 3, 7, 3, 12, 7],  # interleaved
        ["b", "b", "a", "c", "c", "c"],  # text in blocks
        ["b", "a", "b", "c", "a", "c"],
        np.array([1, 1, "1", 2, 2, 2], dtype=object),  # 1 and "1" are one id, as text
        np.array([b"x", b"x", b"y", b"x", b"y", b"y"]),
        [2.5, 2.5, 1.0, 1.0, 1.0, 2.5],
    ],
)
def test_from_long_groups_ids_as_text_in_order_of_appearance(ids):
    ts = np.datetime64("2024-01-01", "ns") + np.arange(6) * np.timedelta64(1, "h")
    y = np.arange(6, dtype=np.float64) * 1.5
    coll = SeriesCollection.from_long(ids, ts, {"y": y}, target="y")
    order, expect = _long_reference(ids, ts, y)
    assert coll.ids == tuple(order)
    for sid in order:
        np.testing.assert_array_equal(coll[sid].timestamps, expect[sid][0])
        np.testing.assert_array_equal(coll[sid].column("y"), expect[sid][1])
        assert coll[sid].target == ("y",) and coll[sid].id == sid


def test_from_long_views_blocks_and_checks_columns():
    ids = np.repeat(np.arange(3), [4, 2, 5])
    ts = np.datetime64("2024-01-01", "ns") + np.arange(11) * np.timedelta64(1, "D")
    y = np.linspace(0.0, 1.0, 11)
    x = np.arange(11, dtype=np.float32)
    coll = SeriesCollection.from_long(ids, ts, {"y": y, "x": x}, target="y", covariates=["x"])
    assert [len(s) for s in coll] == [4, 2, 5]
    # each id's rows form one block: the series view the caller's arrays
    assert np.shares_memory(coll["1"].column("y"), y) and np.shares_memory(coll["2"].timestamps, ts)
    assert coll["2"].column("x").dtype == np.float32 and coll["0"].covariates == ("x",)
    with pytest.raises(ShapeError, match="column 'x' has 10 rows, ids and timestamps 11"):
        SeriesCollection.from_long(ids, ts, {"y": y, "x": x[:10]}, target="y")
    with pytest.raises(ConfigError, match="'z' is named as a target"):
        SeriesCollection.from_long(ids, ts, {"y": y}, target="z")
    with pytest.raises(ConfigError, match="at least one series"):
        SeriesCollection.from_long(ids[:0], ts[:0], {"y": y[:0]}, target="y")


def test_ohlcv_to_series(msft):
    s = msft.to_series(id="msft")
    assert s.target == ("close",)
    assert s.covariates == ("open", "high", "low", "volume")
    assert np.shares_memory(s.column("close"), msft.close)


def test_row_out_of_range_is_a_swets_index_error():
    from swets_core.errors import IndexOutOfRangeError
    from swets_timeseries import load_dataset

    bars = load_dataset("msft")
    with pytest.raises(IndexOutOfRangeError, match=rf"row {len(bars)} out of range"):
        bars[len(bars)]
    with pytest.raises(IndexError):  # still an IndexError for sequence protocols
        bars[-len(bars) - 1]
