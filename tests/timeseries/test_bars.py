"""The price-bar rules for general series: validate_bars checks what read_csv checks, worded alike."""

from __future__ import annotations

import numpy as np
import pytest

from swets_core.errors import ConfigError, DataValidationError
from swets_timeseries import (
    DataQualityWarning,
    SeriesCollection,
    TimeSeries,
    bar_columns,
    read_csv,
    read_series_csv,
    validate_bars,
)

from .conftest import DATA, random_bars

BAR_RULE_FILES = [
    "high_below_low.csv",
    "high_below_body.csv",
    "low_above_body.csv",
    "negative_volume.csv",
]


def as_series(path):
    """The bar file read as a general series: every value column, no bar rule applied."""
    return read_series_csv(path, target="close", covariates=["open", "high", "low", "volume"])


@pytest.mark.parametrize("name", BAR_RULE_FILES)
def test_series_of_bars_get_the_rules_and_the_message_of_read_csv(name):
    with pytest.raises(DataValidationError) as expected:
        read_csv(DATA / name)
    series = as_series(DATA / name)  # reading as a series checks no bar rule
    lines = np.arange(len(series)) + 2
    with pytest.raises(DataValidationError) as got:
        validate_bars(series, source=name, lines=lines)
    assert str(got.value) == str(expected.value)
    assert got.value.report.problems == expected.value.report.problems
    assert got.value.report.rules() == expected.value.report.rules()


@pytest.mark.parametrize("name", BAR_RULE_FILES)
def test_warn_and_drop_as_read_csv(name):
    with pytest.warns(DataQualityWarning):
        bars = read_csv(DATA / name, policy="drop")
    series = as_series(DATA / name)
    with pytest.warns(DataQualityWarning, match="dropped") as record:
        kept, report = validate_bars(series, "drop")
    assert record[0].filename == __file__
    np.testing.assert_array_equal(kept.timestamps, bars.timestamps)
    np.testing.assert_array_equal(kept.column("high"), bars.high)
    with pytest.warns(DataQualityWarning, match="kept unchanged"):
        same, report = validate_bars(series, "warn")
    assert same is series and not report.ok


def test_problems_name_the_series_own_columns():
    ts = np.array(["2024-01-01", "2024-01-02", "2024-01-03"], dtype="M8[ns]")
    cols = {
        "O": [10.0, 10, 10],
        "High": [11.0, 9, 11],
        "low_price": [9.0, 10.2, 9],
        "Last": [10.5, 10, 10],
        "Vol": [1.0, 2, -3],
        "temperature": [-40.0, np.nan, 1e300],  # not a bar column: never looked at
    }
    s = TimeSeries(ts, cols, "Last", ["O", "High", "low_price", "Vol", "temperature"], id="x")
    with pytest.raises(DataValidationError) as info:
        validate_bars(s, columns={"low": "low_price"})
    msg = str(info.value)
    assert msg.splitlines()[0] == (
        "series 'x': 4 problem(s) in 2 of 3 rows "
        "(high_below_low: 1, high_below_body: 1, low_above_body: 1, negative_volume: 1)"
    )
    assert "row 1 (2024-01-02): high_below_low: High=9.0 < low_price=10.2" in msg
    assert "high_below_body: High=9.0 < max(O=10.0, Last=10.0)" in msg
    assert "low_above_body: low_price=10.2 > min(O=10.0, Last=10.0)" in msg
    assert "row 2 (2024-01-03): negative_volume: Vol=-3.0 < 0" in msg
    assert {p.columns for p in info.value.report.problems} >= {("High", "low_price")}
    # the columns as a mapping with timestamps: the same problems
    with pytest.raises(DataValidationError) as info2:
        validate_bars(cols, timestamps=ts, columns={"low": "low_price"}, source="series 'x'")
    assert info2.value.report.problems == info.value.report.problems


def test_collections_per_series_and_ohlcv_unchanged():
    good = random_bars(30, seed=1)
    bad_high = good.high.copy()
    bad_high[7] = good.low[7] - 1
    series = [
        good.to_series(id="good"),
        good.with_columns().to_series(id="bad").with_columns(high=bad_high),
    ]
    coll = SeriesCollection(series)
    with pytest.raises(DataValidationError, match=r"^series 'bad': 2 problem\(s\) in 1 of 30"):
        validate_bars(coll)
    with pytest.warns(DataQualityWarning, match="series 'bad'"):
        out, reports = validate_bars(coll, "drop")
    assert reports["good"].ok and reports["bad"].dropped_rows.tolist() == [7]
    assert [len(s) for s in out] == [30, 29]
    # an OHLCV is validated by its own validate, which uses the same rules
    same, report = validate_bars(good)
    assert same is good and report.ok


def test_bar_columns_tells_bars_from_other_series():
    assert bar_columns(["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"]) == {
        "open": "Open",
        "high": "High",
        "low": "Low",
        "close": "Close",
        "volume": "Volume",
    }
    assert bar_columns(["o", "h", "l", "c"]) == {"open": "o", "high": "h", "low": "l", "close": "c"}
    assert bar_columns(["demand_mw"]) is None
    assert bar_columns(["high", "low", "volume"]) is None  # no open/close: not bars
    assert bar_columns(["y", "px"], {"open": "px", "high": "px", "low": "px", "close": "y"})
    with pytest.raises(ConfigError, match="several columns could be 'close'"):
        bar_columns(["open", "high", "low", "close", "last"])
    electricity = TimeSeries(
        np.array(["2024-01-01"], dtype="M8[ns]"), {"demand_mw": [1.0]}, "demand_mw"
    )
    with pytest.raises(ConfigError, match=r"series '0': no column for 'open'"):
        validate_bars(electricity)
