"""Long-format panels read without their id column: the error names the column and the option."""

from __future__ import annotations

import numpy as np
import pytest

from swets_core.errors import DataValidationError
from swets_timeseries import (
    DataQualityWarning,
    LongFormatError,
    SeriesCollection,
    detect_id_column,
    read_series_csv,
    series_from_pandas,
)

DAYS = np.datetime64("2024-01-01", "D") + np.arange(3658)  # about ten years


def panel(stores=("north", "south", "east"), days=DAYS, by="store"):
    """Long-format rows (store, date, sales), grouped by store or interleaved by date."""
    grid = (
        [(s, d) for s in stores for d in days]
        if by == "store"
        else [(s, d) for d in days for s in stores]
    )
    return [(s, str(d), float(i % 97)) for i, (s, d) in enumerate(grid)]


def write_panel(tmp_path, records, header="store,date,region,sales", name="panel.csv"):
    path = tmp_path / name
    with open(path, "w") as fh:
        fh.write(header + "\n")
        for store, date, sales in records:
            fh.write(f"{store},{date},eu,{sales}\n")
    return path


def test_a_panel_read_as_one_series_names_the_id_column_first(tmp_path):
    path = write_panel(tmp_path, panel())
    repeats = 2 * len(DAYS)  # 7316 rows repeat an earlier row's date
    with pytest.raises(LongFormatError) as info:
        read_series_csv(path, target="sales")
    err = info.value
    assert isinstance(err, DataValidationError) and isinstance(err, ValueError)
    lines = str(err).splitlines()
    assert lines[0] == (
        f"panel.csv: {repeats} repeated timestamp(s): this looks like several series in long "
        "format, one per value of column 'store'; read it with id_column='store'"
    )
    assert len(lines) <= 8  # then the summary, capped, never thousands of lines
    assert lines[-1].startswith("  ... and ")
    assert err.id_column == "store" and err.repeats == repeats
    assert err.report.rules()["duplicate_timestamp"] == repeats
    # the command line spells the option its own way
    assert (
        err.message("--id-column store").splitlines()[0].endswith("read it with --id-column store")
    )
    # and with the id column the file reads as three series
    coll = read_series_csv(path, target="sales", id_column="store")
    assert isinstance(coll, SeriesCollection) and coll.ids == ("north", "south", "east")


def test_interleaved_rows_and_numeric_ids_in_blocks(tmp_path):
    path = write_panel(tmp_path, panel(by="date"), name="interleaved.csv")
    with pytest.raises(LongFormatError, match="column 'store'; read it with id_column='store'"):
        read_series_csv(path, target="sales")
    path = write_panel(tmp_path, panel(stores=(101, 102), days=DAYS[:50]), name="numeric.csv")
    with pytest.raises(LongFormatError, match="column 'store'"):
        read_series_csv(path, target="sales")


def test_duplicates_without_an_id_column_stay_a_plain_validation_error(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("date,note,sales\n2024-01-01,a,1\n2024-01-02,b,2\n2024-01-02,c,3\n")
    with pytest.raises(DataValidationError) as info:
        read_series_csv(path, target="sales")
    assert not isinstance(info.value, LongFormatError)
    assert "duplicate_timestamp" in str(info.value)


def test_warn_adds_a_warning_naming_the_id_column(tmp_path):
    path = write_panel(tmp_path, panel(days=DAYS[:20]))
    with pytest.warns(DataQualityWarning) as record:
        read_series_csv(path, target="sales", policy="warn")
    hints = [w for w in record if "looks like several series" in str(w.message)]
    assert [str(w.message) for w in hints] == [
        "panel.csv: 40 repeated timestamp(s): this looks like several series in long format, one "
        "per value of column 'store'; read it with id_column='store'"
    ]
    assert hints[0].filename == __file__


def test_dataframes_too():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(panel(days=DAYS[:30]), columns=["store", "date", "sales"])
    with pytest.raises(LongFormatError, match=r"^DataFrame: 60 repeated .*id_column='store'"):
        series_from_pandas(df, target="sales")
    assert len(series_from_pandas(df, target="sales", id_column="store")) == 3


def test_detect_id_column_prefers_the_coarsest_column_that_separates_the_series():
    records = panel(stores=("n1", "n2", "s1"), days=DAYS[:10])
    ts = np.array([r[1] for r in records], dtype="M8[ns]")
    store = np.array([r[0] for r in records])
    columns = {
        "region": np.array([s[0] for s in store]),  # n, n, s: does not separate n1 from n2
        "sales": np.array([r[2] for r in records]),  # numeric, not in blocks
        "store": store,
        "store_name": np.char.add("shop ", store),  # the same partition, later in order
        "row": np.arange(len(records)),  # unique per row: not an id
    }
    assert detect_id_column(ts, columns) == "store"
    assert detect_id_column(ts, columns, exclude=["store"]) == "store_name"
    assert detect_id_column(ts, {"region": columns["region"], "row": columns["row"]}) is None
    assert detect_id_column(ts[:10], {"store": store[:10]}) is None  # no repeated timestamp
