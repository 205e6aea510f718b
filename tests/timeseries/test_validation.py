"""One fixture file per validation rule; the raise, warn and drop policies on each."""

from __future__ import annotations

import numpy as np
import pytest

from swets_core.errors import ConfigError, DataValidationError
from swets_timeseries import OHLCV, DataQualityWarning, read_csv

from .conftest import DATA

# file, rule, data row, timestamp text in the message, column
CASES = [
    ("high_below_low.csv", "high_below_low", 2, "2024-01-04", "high"),
    ("duplicate_timestamp.csv", "duplicate_timestamp", 3, "2024-01-04", "timestamp"),
    ("unordered_timestamp.csv", "unordered_timestamp", 3, "2024-01-01", "timestamp"),
    ("nan_price.csv", "non_finite_price", 1, "2024-01-03", "close"),
    ("infinite_price.csv", "non_finite_price", 1, "2024-01-03", "close"),
    ("negative_volume.csv", "negative_volume", 4, "2024-01-08", "volume"),
    ("high_below_body.csv", "high_below_body", 1, "2024-01-03", "high"),
    ("low_above_body.csv", "low_above_body", 2, "2024-01-04", "low"),
]

UNPARSEABLE = [
    # file, data row, column, cell, timestamp shown
    ("unparseable_number.csv", 3, "high", "abc", "2024-01-05"),
    ("unparseable_timestamp.csv", 2, "timestamp", "2024-13-45", "2024-13-45"),
    ("missing_timestamp.csv", 2, "timestamp", "", "(empty)"),
]


def test_good_file_passes_every_rule():
    bars = read_csv(DATA / "good.csv")
    assert len(bars) == 5
    _, report = bars.validate()
    assert report.ok and report.problems == ()


@pytest.mark.parametrize(("name", "rule", "row", "stamp", "column"), CASES)
def test_raise_names_rule_row_line_and_timestamp(name, rule, row, stamp, column):
    with pytest.raises(DataValidationError) as info:
        read_csv(DATA / name)
    msg = str(info.value)
    line = row + 2  # header is line 1
    assert name in msg
    assert f"row {row} (line {line}, {stamp})" in msg
    assert rule in msg
    report = info.value.report
    assert report.policy == "raise"
    hits = [p for p in report.problems if p.rule == rule]
    assert [p.row for p in hits] == [row]
    assert column in hits[0].columns
    assert hits[0].line == line
    assert str(hits[0].timestamp)[:10] == stamp


@pytest.mark.parametrize(("name", "rule", "row", "stamp", "column"), CASES)
def test_warn_keeps_rows_and_reports(name, rule, row, stamp, column):
    clean = read_csv(DATA / "good.csv")
    with pytest.warns(DataQualityWarning) as record:
        bars = read_csv(DATA / name, policy="warn")
    assert len(record) == 1
    warning = record[0].message
    assert "kept unchanged" in str(warning)
    assert f"row {row} (line {row + 2}, {stamp})" in str(warning)
    assert rule in warning.report.rules()
    assert len(bars) == len(clean)
    assert warning.report.dropped_rows.size == 0
    # values are never altered: the offending cell reads back exactly as written
    raw = np.genfromtxt(DATA / name, delimiter=",", skip_header=1, usecols=(1, 2, 3, 4, 5))
    np.testing.assert_array_equal(bars.to_array(), raw)


@pytest.mark.parametrize(("name", "rule", "row", "stamp", "column"), CASES)
def test_drop_removes_the_rows_and_says_which(name, rule, row, stamp, column):
    clean = read_csv(DATA / "good.csv")
    with pytest.warns(DataQualityWarning) as record:
        bars = read_csv(DATA / name, policy="drop")
    warning = record[0].message
    assert f"dropped 1 row(s) (policy='drop'): rows {row}" in str(warning)
    assert warning.report.dropped_rows.tolist() == [row]
    assert len(bars) == len(clean) - 1
    keep = np.delete(np.arange(len(clean)), row)
    raw = np.genfromtxt(DATA / name, delimiter=",", skip_header=1, usecols=(1, 2, 3, 4, 5))
    np.testing.assert_array_equal(bars.to_array(), raw[keep])
    # what remains passes every rule
    assert bars.validate()[1].ok


@pytest.mark.parametrize(("name", "row", "column", "cell", "stamp"), UNPARSEABLE)
def test_unparseable_cell_raises_at_the_cell(name, row, column, cell, stamp):
    with pytest.raises(DataValidationError) as info:
        read_csv(DATA / name)
    msg = str(info.value)
    assert msg.startswith(str(DATA / name))
    assert f"line {row + 2} (data row {row}, timestamp {stamp}), column {column!r}" in msg
    assert f"cannot read {cell!r}" in msg


@pytest.mark.parametrize(("name", "row", "column", "cell", "stamp"), UNPARSEABLE)
def test_unparseable_cell_warn_and_drop(name, row, column, cell, stamp):
    with pytest.warns(DataQualityWarning) as record:
        bars = read_csv(DATA / name, policy="warn")
    report = record[0].message.report
    hit = [p for p in report.problems if p.rule == "unparseable_cell"]
    assert [(p.row, p.columns, p.line) for p in hit] == [(row, (column,), row + 2)]
    assert "read as missing" in hit[0].detail
    assert len(bars) == 5
    value = bars.timestamps[row] if column == "timestamp" else bars.column(column)[row]
    assert np.isnat(value) if column == "timestamp" else np.isnan(value)

    with pytest.warns(DataQualityWarning) as record:
        bars = read_csv(DATA / name, policy="drop")
    assert record[0].message.report.dropped_rows.tolist() == [row]
    assert len(bars) == 4 and bars.validate()[1].ok


def test_first_bad_cell_in_file_order(tmp_path):
    path = tmp_path / "two_bad.csv"
    path.write_text(
        "timestamp,open,high,low,close,volume\n"
        "2024-01-02,10,11,9,10.5,1000\n"
        "2024-01-03,10,11,9,10.5,lots\n"
        "2024-01-04,x,11,9,10.5,1000\n"
    )
    with pytest.raises(DataValidationError, match=r"line 3 \(data row 1.*column 'volume'"):
        read_csv(path)


def test_every_problem_listed_and_summary_truncated():
    n = 30
    ts = np.datetime64("2024-01-01", "ns") + np.arange(n) * np.timedelta64(1, "D")
    o = np.full(n, 10.0)
    bars = OHLCV(ts, o, o - 1, o + 1, o, np.full(n, -1.0))  # every row: high < low, negative volume
    with pytest.raises(DataValidationError) as info:
        bars.validate()
    report = info.value.report
    assert report.rules()["negative_volume"] == n
    assert report.rules()["high_below_low"] == n
    assert report.bad_rows.tolist() == list(range(n))
    assert "more (see .report.problems)" in str(info.value)


def test_duplicate_and_unordered_reference_the_earlier_row():
    ts = np.array(["2024-01-01", "2024-01-03", "2024-01-02", "2024-01-03"], dtype="M8[ns]")
    v = np.ones(4)
    bars = OHLCV(ts, v, v, v, v, v)
    with pytest.warns(DataQualityWarning) as record:
        bars.validate("warn")
    report = record[0].message.report
    by_rule = {p.rule: p for p in report.problems}
    assert by_rule["unordered_timestamp"].row == 2
    assert "earlier than row 1" in by_rule["unordered_timestamp"].detail
    assert by_rule["duplicate_timestamp"].row == 3
    assert "same timestamp as row 1" in by_rule["duplicate_timestamp"].detail
    assert len(report.problems) == 2


def test_unknown_policy():
    with pytest.raises(ConfigError, match="unknown validation policy 'ignore'"):
        read_csv(DATA / "good.csv", policy="ignore")


def test_thousands_of_problems_print_a_few_lines(tmp_path):
    n = 10_000
    ts = np.datetime64("2024-01-01", "ns") + np.arange(n) * np.timedelta64(1, "m")
    o = np.full(n, 10.0)
    bars = OHLCV(ts, o, o - 1, o + 1, o, np.full(n, -1.0))  # 4 problems a row
    with pytest.raises(DataValidationError) as info:
        bars.validate()
    lines = str(info.value).splitlines()
    assert lines[0] == (
        "OHLCV: 40000 problem(s) in 10000 of 10000 rows (negative_volume: 10000, "
        "high_below_low: 10000, high_below_body: 10000, low_above_body: 10000)"
    )
    assert len(lines) == 1 + 5 + 2
    assert lines[6] == "  ... and 39995 more (see .report.problems)"
    assert len(info.value.report.problems) == 4 * n  # the report keeps every one
    with pytest.warns(DataQualityWarning) as record:
        bars.validate("drop")
    text = str(record[0].message)
    assert len(text.splitlines()) == 1 + 5 + 2
    assert text.endswith(
        "rows 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, ... and 9980 more"
    )


def test_column_lists_in_messages_are_capped(tmp_path):
    header = ["Date", "Open", "Low", "Close", *(f"f{i}" for i in range(5000))]
    path = tmp_path / "wide.csv"
    path.write_text(",".join(header) + "\n" + ",".join(["2024-01-02"] + ["1"] * 5003) + "\n")
    with pytest.raises(ConfigError) as info:
        read_csv(path)
    msg = str(info.value)
    assert "columns found: Date, Open, Low, Close, f0, f1," in msg
    assert "f15, ... and 4984 more; map it with columns=" in msg
    assert len(msg) < 400
