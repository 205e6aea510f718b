"""pandas and Parquet IO behind the optional extras, and the error when they are missing."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from swets_core.errors import ConfigError, DataValidationError
from swets_timeseries import (
    MissingDependencyError,
    SeriesCollection,
    TimeSeries,
    from_pandas,
    read_parquet,
    read_series_parquet,
    series_from_pandas,
    to_pandas,
    write_parquet,
)

from .conftest import random_bars


def test_missing_pandas_is_a_clear_error(monkeypatch, msft):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    with pytest.raises(
        MissingDependencyError,
        match=r'to_pandas\(\) needs pandas.*pip install "swets-timeseries\[pandas\]"',
    ):
        to_pandas(msft)
    with pytest.raises(ImportError):  # also an ImportError for generic handlers
        from_pandas(object())


def test_missing_pyarrow_is_a_clear_error(monkeypatch, tmp_path, msft):
    pytest.importorskip("pandas")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(MissingDependencyError, match=r"swets-timeseries\[parquet\]"):
        write_parquet(msft, tmp_path / "x.parquet")


def test_dataframe_round_trip(msft):
    pytest.importorskip("pandas")
    df = to_pandas(msft)
    assert str(df.index.tz) == "UTC" and list(df.columns) == [
        "open",
        "high",
        "low",
        "close",
        "volume",
    ]
    back = from_pandas(df)
    np.testing.assert_array_equal(back.timestamps, msft.timestamps)
    np.testing.assert_array_equal(back.to_array(), msft.to_array())


def test_from_pandas_names_zones_and_validation():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {
            "Date": pd.to_datetime(["2024-01-02 09:30", "2024-01-02 09:31"]).tz_localize(
                "America/New_York"
            ),
            "Open": [1.0, 2.0],
            "High": [2.0, 3.0],
            "Low": [0.5, 1.5],
            "Close": [1.5, 2.5],
            "Adj Close": [1.4, 2.4],
        }
    )
    bars = from_pandas(df)
    assert bars.volume is None
    assert bars.timestamps[0] == np.datetime64("2024-01-02T14:30", "ns")
    np.testing.assert_array_equal(from_pandas(df, columns={"close": "Adj Close"}).close, [1.4, 2.4])
    naive = df.assign(Date=df["Date"].dt.tz_localize(None))
    assert from_pandas(naive, tz="Europe/London").timestamps[0] == np.datetime64(
        "2024-01-02T09:30", "ns"
    )
    bad = df.assign(High=[2.0, 1.0])
    with pytest.raises(
        DataValidationError, match=r"row 1 \(2024-01-02T14:31:00Z\): high_below_low"
    ):
        from_pandas(bad)
    with pytest.raises(ConfigError, match="no column for 'low'"):
        from_pandas(df.drop(columns=["Low"]))


def test_parquet_round_trip(tmp_path):
    pytest.importorskip("pyarrow")
    bars = random_bars(100).with_columns(signal=np.arange(100.0))
    path = tmp_path / "bars.parquet"
    write_parquet(bars, path)
    back = read_parquet(path, extra_columns=["signal"])
    np.testing.assert_array_equal(back.timestamps, bars.timestamps)
    np.testing.assert_array_equal(back.extra["signal"], bars.extra["signal"])
    np.testing.assert_array_equal(back.to_array(), bars.to_array())


def test_series_through_pandas_and_parquet(tmp_path, electricity):
    pytest.importorskip("pyarrow")
    ts = electricity.timestamps[:10]
    a = TimeSeries(ts, {"y": np.arange(10.0)}, "y", id="a")
    b = TimeSeries(ts[:6], {"y": np.arange(6.0) * 2}, "y", id="b")
    coll = SeriesCollection([a, b])
    path = tmp_path / "long.parquet"
    write_parquet(coll, path)
    back = read_series_parquet(path, target="y", id_column="id")
    assert back.ids == ("a", "b")
    np.testing.assert_array_equal(back["b"].column("y"), b.column("y"))
    np.testing.assert_array_equal(back["a"].timestamps, ts)
    single = series_from_pandas(to_pandas(electricity), target="demand_mw", series_id="e")
    np.testing.assert_array_equal(single.column("demand_mw"), electricity.column("demand_mw"))


def test_series_from_pandas_names_the_frame_and_the_series_of_a_bad_value():
    pd = pytest.importorskip("pandas")
    days = pd.date_range("2024-01-01", periods=4, freq="D")
    df = pd.DataFrame(
        {
            "id": ["a"] * 4 + ["b"] * 4,
            "date": list(days) * 2,
            "y": [1.0, 2.0, 3.0, 4.0, 5.0, np.inf, 7.0, 8.0],
        }
    )
    with pytest.raises(DataValidationError, match=r"sales \(series 'b'\)") as info:
        series_from_pandas(df, target="y", id_column="id", source="sales")
    assert "non_finite_value" in str(info.value)
    coll = series_from_pandas(df.iloc[:6].assign(y=1.0), target="y", id_column="id")
    assert coll.ids == ("a", "b") and len(coll["b"]) == 2
