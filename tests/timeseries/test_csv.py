"""CSV IO: flexible headers and date formats, time zones, errors, exact round trips."""

from __future__ import annotations

import numpy as np
import pytest

from swets_core.errors import ConfigError, DataValidationError
from swets_timeseries import (
    OHLCV,
    SeriesCollection,
    TimeSeries,
    read_csv,
    read_series_csv,
    write_csv,
    write_series_csv,
)

from .conftest import random_bars

YAHOO = """Date,Open,High,Low,Close,Adj Close,Volume
2024-01-02,187.15,188.44,183.89,185.64,184.94,82488700
2024-01-03,184.22,185.88,183.43,184.25,183.55,58414500
"""


def write(tmp_path, text, name="bars.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_yahoo_headers_ignore_adj_close(tmp_path):
    bars = read_csv(write(tmp_path, YAHOO))
    assert bars.columns == ("timestamp", "open", "high", "low", "close", "volume")
    np.testing.assert_array_equal(bars.close, [185.64, 184.25])
    np.testing.assert_array_equal(bars.volume, [82488700, 58414500])
    assert bars.timestamps[0] == np.datetime64("2024-01-02", "ns")


def test_adj_close_mapped_explicitly_or_kept_as_extra(tmp_path):
    path = write(tmp_path, YAHOO)
    bars = read_csv(path, columns={"close": "Adj Close"})
    np.testing.assert_array_equal(bars.close, [184.94, 183.55])
    bars = read_csv(path, extra_columns=["Adj Close"])
    np.testing.assert_array_equal(bars.extra["Adj Close"], [184.94, 183.55])
    np.testing.assert_array_equal(bars.close, [185.64, 184.25])


def test_short_names_bom_semicolon_and_no_volume(tmp_path):
    text = "\ufefftime;o;h;l;c\n2024-01-02 09:30;1;2;0.5;1.5\n\n2024-01-02 09:31;1.5;2;1;1\n"
    bars = read_csv(write(tmp_path, text), delimiter=";")
    assert bars.volume is None
    assert bars.columns == ("timestamp", "open", "high", "low", "close")
    assert bars.timestamps[1] == np.datetime64("2024-01-02T09:31", "ns")


def test_separate_date_and_time_columns(tmp_path):
    text = "Date,Time,Open,High,Low,Close,Volume\n2024-01-02,09:30,1,2,0.5,1.5,10\n2024-01-02,09:35,1,2,0.5,1.5,10\n"
    bars = read_csv(write(tmp_path, text))
    assert bars.timestamps.tolist() == [
        np.datetime64("2024-01-02T09:30", "ns").item(),
        np.datetime64("2024-01-02T09:35", "ns").item(),
    ]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2024-01-02", "2024-01-02T00:00"),
        ("2024/01/02", "2024-01-02T00:00"),
        ("2024-01-02T09:30:00Z", "2024-01-02T09:30"),
        ("2024-01-02T09:30:00-05:00", "2024-01-02T14:30"),
        ("2024-01-02 09:30:00+0100", "2024-01-02T08:30"),
        ("2024-01-02T09:30:00.250+00:00", "2024-01-02T09:30:00.250"),
    ],
)
def test_date_formats_to_utc(tmp_path, cell, expected):
    text = f"timestamp,open,high,low,close,volume\n{cell},1,1,1,1,1\n"
    bars = read_csv(write(tmp_path, text))
    assert bars.timestamps[0] == np.datetime64(expected, "ns")


def test_naive_timestamps_in_a_named_zone(tmp_path):
    text = "timestamp,open,high,low,close,volume\n2024-01-02 09:30,1,1,1,1,1\n2024-07-02 09:30,1,1,1,1,1\n"
    bars = read_csv(write(tmp_path, text), tz="America/New_York")
    assert bars.timestamps[0] == np.datetime64("2024-01-02T14:30", "ns")  # EST, UTC-5
    assert bars.timestamps[1] == np.datetime64("2024-07-02T13:30", "ns")  # EDT, UTC-4
    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Base'"):
        read_csv(write(tmp_path, text), tz="Mars/Base")


def test_explicit_format_and_unix_epochs(tmp_path):
    text = "Date,Open,High,Low,Close,Volume\n02.01.2024 16:00,1,1,1,1,1\n"
    bars = read_csv(write(tmp_path, text), date_format="%d.%m.%Y %H:%M")
    assert bars.timestamps[0] == np.datetime64("2024-01-02T16:00", "ns")
    text = "ts,open,high,low,close,volume\n1704211200,1,1,1,1,1\n1704211260,1,1,1,1,1\n"
    bars = read_csv(write(tmp_path, text), date_format="unix")
    assert bars.timestamps[1] == np.datetime64("2024-01-02T16:01", "ns")
    text = "ts,open,high,low,close,volume\n1704211200000,1,1,1,1,1\n"
    bars = read_csv(write(tmp_path, text), date_format="unix_ms")
    assert bars.timestamps[0] == np.datetime64("2024-01-02T16:00", "ns")


def test_missing_value_tokens_read_as_nan(tmp_path):
    text = "timestamp,open,high,low,close,volume\n2024-01-02,1,2,0.5,N/A,\n"
    with pytest.warns(Warning):
        bars = read_csv(write(tmp_path, text), policy="warn")
    assert np.isnan(bars.close[0]) and np.isnan(bars.volume[0])


def test_mixed_zone_and_naive_is_an_error(tmp_path):
    text = "timestamp,open,high,low,close,volume\n2024-01-02T00:00Z,1,1,1,1,1\n2024-01-03T00:00,1,1,1,1,1\n"
    with pytest.raises(DataValidationError, match=r"line 3 .*mixes timestamps with and without"):
        read_csv(write(tmp_path, text))


def test_structural_errors(tmp_path):
    with pytest.raises(DataValidationError, match=r"line 3 has 5 fields, the header has 6"):
        read_csv(
            write(
                tmp_path,
                "timestamp,open,high,low,close,volume\n2024-01-02,1,1,1,1,1\n2024-01-03,1,1,1,1\n",
            )
        )
    with pytest.raises(DataValidationError, match="empty"):
        read_csv(write(tmp_path, "\n\n"))
    with pytest.raises(
        ConfigError, match=r"no column for 'high'.*columns found: Date, Open, Low, Close"
    ):
        read_csv(write(tmp_path, "Date,Open,Low,Close\n2024-01-02,1,1,1\n"))
    with pytest.raises(ConfigError, match=r"several columns could be 'close'"):
        read_csv(write(tmp_path, "date,open,high,low,close,last\n2024-01-02,1,1,1,1,1\n"))
    with pytest.raises(ConfigError, match=r"maps 'close' to 'Price'"):
        read_csv(write(tmp_path, YAHOO), columns={"close": "Price"})
    with pytest.raises(ConfigError, match="cannot open CSV file"):
        read_csv(tmp_path / "nope.csv")


def test_round_trip_is_exact(tmp_path):
    bars = random_bars(50).with_columns(signal=np.linspace(-1, 1, 50))
    path = tmp_path / "out.csv"
    write_csv(bars, path)
    back = read_csv(path, extra_columns=["signal"])
    np.testing.assert_array_equal(back.timestamps, bars.timestamps)
    for c in ("open", "high", "low", "close", "volume", "signal"):
        np.testing.assert_array_equal(back.column(c), bars.column(c))
    # sub-second timestamps survive too
    fine = OHLCV(
        bars.timestamps + np.timedelta64(123456789, "ns"),
        *(bars.column(c) for c in ("open", "high", "low", "close", "volume")),
    )
    write_csv(fine, path)
    np.testing.assert_array_equal(read_csv(path).timestamps, fine.timestamps)


def test_daily_bars_written_as_dates(tmp_path, msft):
    path = tmp_path / "msft.csv"
    write_csv(msft[:3], path)
    lines = path.read_text().splitlines()
    assert lines[0] == "timestamp,open,high,low,close,volume"
    assert lines[1] == "1986-03-13,0.0672,0.07533,0.0672,0.07533,1371330506.0"


def test_series_csv_single_and_long(tmp_path):
    text = "date,load,temp,holiday\n2024-01-01,10,1.5,1\n2024-01-02,11,2.5,0\n2024-01-03,12,,0\n"
    path = write(tmp_path, text)
    with pytest.warns(Warning, match="dropped 1 row"):
        s = read_series_csv(
            path, target="load", covariates=["temp"], known_covariates=["holiday"], policy="drop"
        )
    assert isinstance(s, TimeSeries) and len(s) == 2
    with pytest.raises(
        DataValidationError, match=r"row 2 \(line 4, 2024-01-03\): non_finite_value: temp=nan"
    ):
        read_series_csv(path, target="load", covariates=["temp"])

    long = "id,timestamp,y\nb,2024-01-01,1\na,2024-01-01,2\nb,2024-01-02,3\na,2024-01-02,4\na,2024-01-02,5\n"
    path = write(tmp_path, long, "long.csv")
    with pytest.raises(
        DataValidationError,
        match=r"(?s)series 'a'.*row 2 \(line 6, 2024-01-02\): duplicate_timestamp",
    ):
        read_series_csv(path, target="y", id_column="id")
    with pytest.warns(Warning):
        coll = read_series_csv(path, target="y", id_column="id", policy="drop")
    assert isinstance(coll, SeriesCollection) and coll.ids == ("b", "a")
    np.testing.assert_array_equal(coll["a"].column("y"), [2, 4])
    out = tmp_path / "back.csv"
    write_series_csv(coll, out)
    back = read_series_csv(out, target="y", id_column="id")
    for sid in coll.ids:
        np.testing.assert_array_equal(back[sid].column("y"), coll[sid].column("y"))
        np.testing.assert_array_equal(back[sid].timestamps, coll[sid].timestamps)
    write_series_csv(coll["a"], out)
    assert out.read_text().splitlines()[0] == "timestamp,y"


def test_long_series_csv_names_each_problem_by_its_series_row_and_file_line(tmp_path):
    text = (
        "id,timestamp,y\nb,2024-01-01,1\na,2024-01-01,2\nb,2024-01-02,x\na,2024-01-02,4\n"
        "a,2024-01-03,?\nb,2024-01-03,6\n"
    )
    path = write(tmp_path, text, "long.csv")
    with pytest.raises(DataValidationError, match=r"line 4 \(data row 2, timestamp 2024-01-02\)"):
        read_series_csv(path, target="y", id_column="id")
    with pytest.warns(Warning) as caught:
        coll = read_series_csv(path, target="y", id_column="id", policy="warn")
    reports = {w.message.report.source: w.message.report for w in caught}
    found = {
        (source, p.row, p.line, p.rule)
        for source, report in reports.items()
        for p in report.problems
        if p.rule == "unparseable_cell"
    }
    assert found == {
        ("long.csv (series 'b')", 1, 4, "unparseable_cell"),
        ("long.csv (series 'a')", 2, 6, "unparseable_cell"),
    }
    assert coll.ids == ("b", "a") and np.isnan(coll["a"].column("y")[2])


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("now", "unrecognised timestamp 'now'"),
        ("today", "unrecognised timestamp 'today'"),
        ("2500-01-01", "outside the supported range"),
        ("1600-06-01T00:00Z", "outside the supported range"),
    ],
)
def test_timestamps_numpy_would_misread_are_rejected(tmp_path, cell, reason):
    text = f"timestamp,open,high,low,close,volume\n2024-01-02,1,1,1,1,1\n{cell},1,1,1,1,1\n"
    with pytest.raises(DataValidationError, match=rf"line 3 \(data row 1.*{reason}"):
        read_csv(write(tmp_path, text))
