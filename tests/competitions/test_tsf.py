"""The .tsf reader and M4 from small files written by the tests: whole series, separate test files
(.tsf and the M4 CSV), calendar timestamps, and errors that name the file and the line."""

from __future__ import annotations

import numpy as np
import pytest

from swets_competitions import TsfFormatError, load_m4, positions, read_tsf
from swets_core.errors import ConfigError, DataValidationError

HEADER = """# M4-like test data
@relation M4
@attribute series_name string
@attribute start_timestamp date
@frequency {freq}
@horizon {h}
@missing {missing}
@equallength false
@data
"""


def yearly_values(k: int, n: int) -> np.ndarray:
    return 100.0 * (k + 1) + np.arange(n) * (k + 2) + 0.5


def write(path, text):
    path.write_text(text)
    return path


def tsf(tmp_path, rows, freq="yearly", h=6, missing="false", name="m4.tsf"):
    body = "\n".join(f"{sid}:{start}:{','.join(str(v) for v in vals)}" for sid, start, vals in rows)
    return write(tmp_path / name, HEADER.format(freq=freq, h=h, missing=missing) + body + "\n")


def test_read_tsf_header_attributes_and_missing_values(tmp_path):
    path = tsf(
        tmp_path,
        [("Y1", "1980-01-01 00-00-00", [1.5, "?", 3]), ("Y2", "1990-01-01 00-00-00", [4, 5])],
        missing="true",
    )
    data = read_tsf(path)
    assert data.relation == "M4" and data.frequency == "yearly" and data.horizon == 6
    assert data.missing and not data.equal_length
    assert data.attributes == (("series_name", "string"), ("start_timestamp", "date"))
    assert data.ids == ("Y1", "Y2") and len(data) == 2
    assert data.columns["start_timestamp"][1].year == 1990
    np.testing.assert_array_equal(data.values[0], [1.5, np.nan, 3.0])
    assert data.lines == [10, 11]


def test_m4_from_whole_series_splits_off_the_horizon_with_calendar_timestamps(tmp_path):
    rows = [
        (f"Y{k + 1}", f"{1960 + k}-01-01 00-00-00", yearly_values(k, 19 + 3 * k)) for k in range(3)
    ]
    split = load_m4(tsf(tmp_path, rows))
    assert split.name == "M4" and split.subset == "yearly"
    assert (split.horizon, split.season_length, len(split)) == (6, 1, 3)
    assert split.time_index == "calendar"
    for k, (sid, _, full) in enumerate(rows):
        series = split.train[sid]
        np.testing.assert_array_equal(series.column("value"), full[:-6])
        np.testing.assert_array_equal(split.test[sid], full[-6:])
        years = series.timestamps.astype("datetime64[Y]").astype(int) + 1970
        np.testing.assert_array_equal(years, 1960 + k + np.arange(len(full) - 6))
        assert split.test_timestamps[sid][0] == np.datetime64(
            f"{1960 + k + len(full) - 6}-01-01", "ns"
        )
    assert split.metrics == ("smape", "mase", "owa")


def test_quarterly_and_hourly_calendars_and_out_of_range_starts(tmp_path):
    q = [("Q1", "1990-04-01 00-00-00", np.arange(1.0, 25.0))]
    split = load_m4(tsf(tmp_path, q, freq="quarterly", h=8, name="q.tsf"))
    ts = split.train["Q1"].timestamps
    assert str(ts[0])[:10] == "1990-04-01" and str(ts[1])[:10] == "1990-07-01"
    assert str(ts[3])[:10] == "1991-01-01" and split.season_length == 4
    hourly = [("H1", "2015-07-01 12-00-00", np.arange(1.0, 749.0))]
    split = load_m4(tsf(tmp_path, hourly, freq="hourly", h=48, name="h.tsf"))
    ts = split.train["H1"].timestamps
    assert (ts[1] - ts[0]) == np.timedelta64(3600, "s") and split.season_length == 24
    # a start before 1678 cannot be a nanosecond timestamp: every series is position-indexed
    old = [
        ("Y1", "1600-01-01 00-00-00", yearly_values(0, 20)),
        ("Y2", "1990-01-01 00-00-00", yearly_values(1, 20)),
    ]
    split = load_m4(tsf(tmp_path, old, name="old.tsf"))
    assert split.time_index == "position"
    np.testing.assert_array_equal(positions(split.train["Y2"].timestamps), np.arange(14))


def test_m4_with_separate_test_files_tsf_and_csv(tmp_path):
    train = [(f"Y{k + 1}", "1980-01-01 00-00-00", yearly_values(k, 14)) for k in range(2)]
    test = [(f"Y{k + 1}", "1994-01-01 00-00-00", yearly_values(k + 5, 6)) for k in (1, 0)]
    train_path = tsf(tmp_path, train, name="train.tsf")
    split = load_m4(train_path, "yearly", test=tsf(tmp_path, test, name="test.tsf"))
    np.testing.assert_array_equal(split.test["Y1"], yearly_values(5, 6))  # matched by name
    np.testing.assert_array_equal(split.train["Y2"].column("value"), yearly_values(1, 14))
    csv = '"V1","V2","V3","V4","V5","V6","V7"\n'
    csv += "\n".join(
        f'"Y{k + 1}",' + ",".join(str(v) for v in yearly_values(k + 5, 6)) for k in range(2)
    )
    split = load_m4(train_path, test=write(tmp_path / "Yearly-test.csv", csv + "\n"))
    np.testing.assert_array_equal(split.test["Y2"], yearly_values(6, 6))
    with pytest.raises(
        DataValidationError, match=r"1 series of .*train.tsf have no test values \(first: Y2\)"
    ):
        load_m4(train_path, test=tsf(tmp_path, test[1:], name="short.tsf"))
    bad = csv.replace(str(yearly_values(6, 6)[2]), "x1")
    with pytest.raises(TsfFormatError, match=r"bad.csv, line 3: series 'Y2': 'x1' is not a number"):
        load_m4(train_path, test=write(tmp_path / "bad.csv", bad))


def test_training_parts_alone_are_not_mistaken_for_whole_series(tmp_path):
    train = [("Y1", "1980-01-01 00-00-00", yearly_values(0, 14))]
    with pytest.raises(
        DataValidationError,
        match=r"line 10: series 'Y1' has 14 values.*pass the test values with test=",
    ):
        load_m4(tsf(tmp_path, train))


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("@attribute series_name string\n@data\nY1:1,2\nY2 3,4\n", 4, "expected 1 attribute value"),
        (
            "@attribute series_name string\n@data\nY1:1,two,3\n",
            3,
            r"value 2 \('two'\) is not a number",
        ),
        (
            "@attribute series_name string\n@weird 1\n@data\nY1:1\n",
            2,
            "unknown header line '@weird'",
        ),
        ("@attribute series_name text\n", 1, "attribute type 'text'"),
        ("Y1:1,2\n", 1, "a data line before the @data line"),
        ("@data\n", 1, "@data comes before any @attribute"),
        (
            "@attribute n numeric\n@data\nabc:1\n",
            3,
            "attribute 'n' \\(numeric\\) has the value 'abc'",
        ),
        ("@attribute d date\n@data\n2020-01-01:1\n", 3, "YYYY-MM-DD HH-MM-SS"),
        ("@attribute s string\n@missing false\n@data\nY1:1,?\n", 4, "@missing false"),
        ("@attribute s string\n@equallength true\n@data\nA:1,2\nB:1\n", 5, "@equallength true"),
        ("@attribute s string\n@horizon six\n", 2, "@horizon must be a positive integer"),
    ],
)
def test_malformed_files_name_the_line(tmp_path, text, line, message):
    path = write(tmp_path / "bad.tsf", text)
    with pytest.raises(TsfFormatError, match=message) as info:
        read_tsf(path)
    assert info.value.line == line
    assert str(info.value).startswith(f"{path}, line {line}: ")


def test_file_level_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"nothing\.tsf: no such file"):
        read_tsf(tmp_path / "nothing.tsf")
    empty = write(tmp_path / "empty.tsf", "@attribute s string\n@data\n")
    with pytest.raises(TsfFormatError, match="no series"):
        read_tsf(empty)
    rows = [("Y1", "1980-01-01 00-00-00", yearly_values(0, 20))]
    with pytest.raises(ConfigError, match="M4 has no subset 'minutely'"):
        load_m4(tsf(tmp_path, rows), "minutely")
    with pytest.raises(ConfigError, match="@frequency is 'yearly' but subset 'monthly'"):
        load_m4(tsf(tmp_path, rows), "monthly")
    with pytest.raises(DataValidationError, match="@horizon 4, but M4 yearly has horizon 6"):
        load_m4(tsf(tmp_path, rows, h=4))
    gaps = [("Y1", "1980-01-01 00-00-00", ["?", *yearly_values(0, 19)])]
    with pytest.raises(
        DataValidationError, match=r"series 'Y1' \(training part\): value nan at position 0"
    ):
        load_m4(tsf(tmp_path, gaps, missing="true"))
    no_freq = write(tmp_path / "nf.tsf", "@attribute s string\n@data\nA:1,2\n")
    with pytest.raises(ConfigError, match="no @frequency line; pass subset="):
        load_m4(no_freq)
