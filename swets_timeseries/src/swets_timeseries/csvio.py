"""CSV reading and writing with the standard library :mod:`csv` module and numpy (no pandas).

Column names are matched loosely (case, blanks, ``_``, ``-``, ``.`` and ``*`` ignored):

=========== ===========================================================
field       accepted headers
=========== ===========================================================
timestamp   timestamp, date, time, datetime, ts (or separate date + time)
open        open, o
high        high, h
low         low, l
close       close, c, last
volume      volume, vol, v
=========== ===========================================================

``Adj Close`` (adjusted close) is ignored unless mapped explicitly, e.g.
``columns={"close": "Adj Close"}`` or listed in ``extra_columns``. Missing-value tokens (empty,
``NA``, ``N/A``, ``NaN``, ``null``, ``None``, ``#N/A``) read as NaN, which validation then reports.

Reading is bounded (see :mod:`swets_timeseries._files`): only a regular file is opened (a FIFO, a
device or a link to one is refused before a byte is read), and reading stops with a
DataValidationError naming the file and line at ``max_bytes`` bytes (default 1 GiB) or at the first
line that cannot be a row: longer than ``max_line_bytes`` (default 1 MiB), holding a NUL byte, or not
UTF-8.
"""

from __future__ import annotations

import csv
import datetime as _dt
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from swets_core.errors import ConfigError, DataValidationError
from swets_core.lazy import exports_of
from swets_timeseries._columns import match_fields, parse_numbers
from swets_timeseries._files import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_LINE_BYTES,
    bounded_lines,
    open_regular,
)
from swets_timeseries._time import NS, TimestampParseError, parse_timestamps_lenient
from swets_timeseries.ohlcv import OHLCV
from swets_timeseries.panel import SeriesRoles
from swets_timeseries.series import SeriesCollection, TimeSeries
from swets_timeseries.static import StaticValue, is_missing
from swets_timeseries.validation import Policy, Problem, check_policy, listing

PathLike = str | os.PathLike


def _malformed(name: str, reader: Any, exc: csv.Error) -> DataValidationError:
    return DataValidationError(f"{name}: line {reader.line_num}: malformed CSV: {exc}")


def _header(reader: Any, name: str) -> list[str]:
    """The first non-blank row (cells stripped); DataValidationError if there is none."""
    try:
        for row in reader:
            if row:
                return [h.strip() for h in row]
    except csv.Error as exc:
        raise _malformed(name, reader, exc) from exc
    raise DataValidationError(f"{name}: the file is empty (no header row)")


def read_csv_header(
    path: PathLike,
    *,
    delimiter: str = ",",
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> list[str]:
    """The header of a CSV file (its first non-blank row, names stripped), reading no further
    than that row, with the bounds and checks of :func:`read_csv`.

    Raises:
        ConfigError: the file cannot be opened.
        DataValidationError: not a regular file, larger than ``max_bytes``, empty, or its first
            lines cannot be rows (see :func:`read_csv`).
    """
    with open_regular(path, "CSV file", max_bytes) as fh:
        name = os.fspath(path)
        lines = bounded_lines(fh, name, max_bytes=max_bytes, max_line_bytes=max_line_bytes)
        return _header(csv.reader(lines, delimiter=delimiter), name)


class _Table:
    """The cells of a CSV file as a 2-D string array plus the line of each data row."""

    __slots__ = ("cells", "header", "lines", "name")

    def __init__(self, path: PathLike, delimiter: str, max_bytes: int, max_line_bytes: int) -> None:
        with open_regular(path, "CSV file", max_bytes) as fh:
            self.name = os.fspath(path)
            lines = bounded_lines(fh, self.name, max_bytes=max_bytes, max_line_bytes=max_line_bytes)
            reader = csv.reader(lines, delimiter=delimiter)
            header = _header(reader, self.name)
            width = len(header)
            rows: list[list[str]] = []
            numbers: list[int] = []
            add_row, add_line = rows.append, numbers.append
            try:
                for row in reader:
                    if len(row) == width:
                        add_row(row)
                        add_line(reader.line_num)
                    elif row:
                        raise DataValidationError(
                            f"{self.name}: line {reader.line_num} has {len(row)} fields, "
                            f"the header has {width} ({listing(header)})"
                        )
            except csv.Error as exc:
                raise _malformed(self.name, reader, exc) from exc
        self.header = header
        self.cells = np.array(rows, dtype=str).reshape(len(rows), width)
        self.lines = np.array(numbers, dtype=np.int64)

    def index(self, name: str) -> int:
        return self.header.index(name)

    def text(self, name: str) -> np.ndarray:
        """The column ``name`` as stripped text."""
        return np.strings.strip(self.column(name))

    def column(self, name: str) -> np.ndarray:
        return self.cells[:, self.index(name)]


def read_table(
    path: PathLike,
    *,
    delimiter: str = ",",
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The cells of a CSV file as text: ``(header, cells (rows, columns), line of each row)``,
    with the bounds and checks of :func:`read_csv` (a side table such as static covariates)."""
    table = _Table(path, delimiter, max_bytes, max_line_bytes)
    return table.header, table.cells, table.lines


def read_static_csv(
    path: str | os.PathLike[str],
    *,
    id_column: str,
    columns: Sequence[str] | None = None,
    delimiter: str = ",",
) -> dict[str, dict[str, StaticValue]]:
    """A table of static covariates keyed by series id: one row per series.

    Args:
        path: a CSV file (a regular file, bounded as the series readers' files).
        id_column: the header of the series ids.
        columns: the static columns to read (default: every other column).

    Returns:
        ``{series id: {name: value}}`` (a column of numbers gives floats, any other column text).

    Raises:
        ConfigError: a missing column (named with the file's columns).
        DataValidationError: an id that appears twice, or a missing value (naming the line).
    """
    header, cells, lines = read_table(path, delimiter=delimiter)
    name = os.path.basename(os.fspath(path))
    if id_column not in header:
        raise ConfigError(f"{name}: no id column {id_column!r}; columns: {listing(header)}")
    wanted = [h for h in header if h != id_column] if columns is None else list(columns)
    for c in wanted:
        if c not in header:
            raise ConfigError(f"{name}: no column {c!r}; columns: {listing(header)}")
    ids = np.strings.strip(cells[:, header.index(id_column)])
    seen: dict[str, int] = {}
    for i, sid in enumerate(ids.tolist()):
        if sid in seen:
            raise DataValidationError(
                f"{name}: line {int(lines[i])}: series id {sid!r} appears twice (first on line "
                f"{int(lines[seen[sid]])}); a static table has one row per series"
            )
        seen[sid] = i
    out: dict[str, dict[str, StaticValue]] = {sid: {} for sid in ids.tolist()}
    for c in wanted:
        col = np.strings.strip(cells[:, header.index(c)])
        missing = is_missing(col)
        if missing.any():
            i = int(np.flatnonzero(missing)[0])
            raise DataValidationError(
                f"{name}: line {int(lines[i])}: static covariate {c!r} of series {str(ids[i])!r} "
                "is missing"
            )
        numbers, bad = parse_numbers(col)
        for sid, number, text in zip(ids.tolist(), numbers.tolist(), col.tolist()):
            out[sid][c] = str(text) if bad else float(number)
    return out


def read_dates(path: PathLike, *, column: str | None = None, delimiter: str = ",") -> list[str]:
    """The dates listed in a CSV file (holidays, say) as ISO ``YYYY-MM-DD`` text, sorted and
    unique: the column ``column``, else the only column, else the one headed ``date`` (or
    ``holiday``, ``timestamp``...). A file without a header (its first line a date) works too.

    Raises:
        ConfigError: no such column, or several columns and none named like a date.
        DataValidationError: a cell that is not a date (naming the line).
    """
    header, cells, lines = read_table(path, delimiter=delimiter)
    name = os.path.basename(os.fspath(path))
    if column is not None:
        if column not in header:
            raise ConfigError(f"{name}: no column {column!r}; columns: {listing(header)}")
        j = header.index(column)
    elif len(header) == 1:
        j = 0
    else:
        known = ("date", "day", "holiday", "holidays", "timestamp", "ds")
        found = [i for i, h in enumerate(header) if h.strip().lower() in known]
        if not found:
            raise ConfigError(
                f"{name}: {len(header)} columns ({listing(header)}); name the column of dates"
            )
        j = found[0]
    texts = [(int(line), str(c).strip()) for line, c in zip(lines, cells[:, j]) if str(c).strip()]
    first = header[j].strip()
    if _date(first) is not None:  # no header: the first line is a date too
        texts.insert(0, (1, first))
    out = set()
    for line, text in texts:
        day = _date(text)
        if day is None:
            raise DataValidationError(f"{name}: line {line}: {text!r} is not a date (YYYY-MM-DD)")
        out.add(day)
    return sorted(out)


def _date(text: str) -> str | None:
    try:
        return str(np.datetime64(text[:10], "D")) if len(text) >= 10 and text[4] == "-" else None
    except ValueError:
        return None


class _CellErrors:
    """Collects unparseable cells; raises at the first one (file order) under the raise policy."""

    __slots__ = ("items", "table")

    def __init__(self, table: _Table) -> None:
        self.table = table
        self.items: list[tuple[int, int, str, str, str]] = []  # row, col, header, cell, reason

    def add(self, header: str, row: int, cell: str, reason: str) -> None:
        self.items.append((row, self.table.index(header), header, cell, reason))

    def numbers(self, header: str) -> np.ndarray:
        """The column ``header`` as float64 (NaN where unparseable), recording each bad cell."""
        values, bad = parse_numbers(self.table.column(header))
        for row, cell in bad:
            self.add(header, row, cell, "not a number")
        return values

    def raise_first(self, ts_header: str | tuple[str, str]) -> None:
        if not self.items:
            return
        row, _, header, cell, reason = min(self.items)
        line = int(self.table.lines[row])
        stamp = self._stamp(ts_header, row)
        raise DataValidationError(
            f"{self.table.name}: line {line} (data row {row}, timestamp {stamp}), column "
            f"{header!r}: cannot read {cell!r}: {reason}"
        )

    def _stamp(self, ts_header: str | tuple[str, str], row: int) -> str:
        if isinstance(ts_header, tuple):
            return " ".join(self.table.column(h)[row].strip() for h in ts_header)
        return self.table.column(ts_header)[row].strip() or "(empty)"

    def problems(self, timestamps: np.ndarray) -> list[Problem]:
        out = []
        for row, _, header, cell, reason in sorted(self.items):
            out.append(
                Problem(
                    row,
                    timestamps[row],
                    "unparseable_cell",
                    (header,),
                    f"{header}={cell!r} cannot be read ({reason}); read as missing",
                    int(self.table.lines[row]),
                )
            )
        return out


def _read_timestamps(
    table: _Table,
    header: str | tuple[str, str],
    errors: _CellErrors,
    date_format: str | None,
    tz: str | _dt.tzinfo | None,
) -> np.ndarray:
    if isinstance(header, tuple):
        cells = np.strings.add(
            np.strings.add(np.strings.strip(table.column(header[0])), " "),
            np.strings.strip(table.column(header[1])),
        )
        name = header[0]
    else:
        cells = table.column(header)
        name = header
    ts, bad = parse_timestamps_lenient(cells, fmt=date_format, tz=tz)
    for e in bad:
        assert isinstance(e, TimestampParseError)
        errors.add(name, e.index, e.cell, e.reason)
    return ts


def read_csv(
    path: PathLike,
    *,
    columns: Mapping[str, str] | None = None,
    extra_columns: Sequence[str] = (),
    date_format: str | None = None,
    tz: str | _dt.tzinfo | None = None,
    policy: Policy = "raise",
    delimiter: str = ",",
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> OHLCV:
    """Read OHLCV bars from a CSV file and validate them.

    Args:
        path: the file (UTF-8, optional BOM, a header row); a regular file, or a link to one.
        columns: explicit mapping field -> header (fields: timestamp, open, high, low, close,
            volume), for headers the aliases do not cover, e.g. ``{"close": "Adj Close"}``.
        extra_columns: further numeric headers to keep as ``bars.extra`` (by their header name).
        date_format: None for ISO 8601 / ``YYYY-MM-DD`` / ``YYYY/MM/DD`` detection, a strptime
            format (``"%d.%m.%Y %H:%M"``), or ``"unix"`` / ``"unix_ms"`` epoch numbers.
        tz: zone of timestamps written without an offset (IANA name; default UTC). Offsets in the
            text are honoured. Everything is converted to UTC.
        policy: ``"raise"`` (default): the first unparseable cell raises DataValidationError naming
            file, line, data row, timestamp and column; rule violations raise one error listing each
            with row and timestamp. ``"warn"``: unparseable cells read as missing (NaN/NaT), every
            problem is reported in one DataQualityWarning, rows kept. ``"drop"``: offending rows are
            removed and listed in a DataQualityWarning.
        delimiter: the field separator.
        max_bytes: the largest file read (default 1 GiB); a larger one raises DataValidationError
            before it is read.
        max_line_bytes: the longest line read (default 1 MiB); reading stops at a longer one.

    Returns:
        The bars (volume is None when the file has no volume column).

    Raises:
        ConfigError: the file cannot be opened, or its columns do not give the fields.
        DataValidationError: not a regular file (a FIFO, a device, a directory), larger than
            ``max_bytes``, a line that cannot be a row (too long, a NUL byte, not UTF-8, the wrong
            number of fields), an unparseable cell or a broken rule (policy ``raise``).
    """
    check_policy(policy)
    table = _Table(path, delimiter, max_bytes, max_line_bytes)
    fields = ("timestamp", "open", "high", "low", "close", "volume")
    mapping = match_fields(
        table.header, fields, dict(columns or {}), required=fields[:5], source=table.name
    )
    for name in extra_columns:
        if name not in table.header:
            raise ConfigError(
                f"{table.name}: extra column {name!r} not found; columns: {listing(table.header)}"
            )
    errors = _CellErrors(table)
    ts = _read_timestamps(table, mapping["timestamp"], errors, date_format, tz)
    values: dict[str, np.ndarray] = {}
    for field in fields[1:]:
        if field in mapping:
            header = mapping[field]
            assert isinstance(header, str)
            values[field] = errors.numbers(header)
    extra = {name: errors.numbers(name) for name in extra_columns}
    if policy == "raise":
        errors.raise_first(mapping["timestamp"])
    bars = OHLCV(
        ts,
        values["open"],
        values["high"],
        values["low"],
        values["close"],
        values.get("volume"),
        extra,
    )
    bars, _ = bars.validate(
        policy,
        source=os.path.basename(table.name),
        lines=table.lines,
        problems=errors.problems(ts),
    )
    return bars


def read_series_csv(
    path: PathLike,
    *,
    target: str | Sequence[str],
    covariates: Sequence[str] = (),
    known_covariates: Sequence[str] = (),
    static_covariates: Sequence[str] = (),
    id_column: str | None = None,
    timestamp_column: str | None = None,
    series_id: str = "0",
    date_format: str | None = None,
    tz: str | _dt.tzinfo | None = None,
    policy: Policy = "raise",
    delimiter: str = ",",
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    future_rows: bool = False,
) -> TimeSeries | SeriesCollection:
    """Read general series from a CSV file (one series, or many in long format with an id column).

    Args:
        target, covariates, known_covariates: header names of the value columns by role (only
            these columns are read).
        static_covariates: headers of columns that are constant within each series (numbers or
            text categories): each series' ``static`` (see
            :func:`~swets_timeseries.static.static_from_columns`).
        future_rows: accept rows after a series' last target value with empty targets (the known
            covariates of the time to forecast; see :meth:`TimeSeries.split_future`).
        id_column: header holding the series id (long format); None for a single series. When
            timestamps repeat without it and another column looks like a series id (see
            :func:`~swets_timeseries.detect_id_column`), the error (a
            :class:`~swets_timeseries.LongFormatError` under ``policy="raise"``) names that column
            in its first line.
        timestamp_column: the timestamp header; default: detected (timestamp, date, time, ...).
        series_id: id of the single series when ``id_column`` is None.
        date_format, tz, policy, delimiter, max_bytes, max_line_bytes: as in :func:`read_csv`.

    Returns:
        A :class:`TimeSeries` (no ``id_column``) or a :class:`SeriesCollection`.
    """
    check_policy(policy)
    table = _Table(path, delimiter, max_bytes, max_line_bytes)
    explicit = {"timestamp": timestamp_column} if timestamp_column else {}
    mapping = match_fields(
        table.header, ("timestamp",), explicit, required=("timestamp",), source=table.name
    )
    roles = SeriesRoles(
        target, covariates, known_covariates, static_covariates, id_column, series_id
    )
    names = roles.value_columns(table.header, source=table.name)
    errors = _CellErrors(table)
    stamp = mapping["timestamp"]
    ts = _read_timestamps(table, stamp, errors, date_format, tz)
    values = {name: errors.numbers(name) for name in names}
    if policy == "raise":
        errors.raise_first(stamp)
    return roles.series(
        ts,
        values,
        None if id_column is None else table.text(id_column),
        table.text,
        table.header,
        (stamp,) if isinstance(stamp, str) else stamp,
        policy=policy,
        source=os.path.basename(table.name),
        lines=table.lines,
        problems=errors.problems(ts),
        future_rows=future_rows,
    )


def _timestamp_text(ts: np.ndarray) -> list[str]:
    if ts.size == 0:
        return []
    ints = ts.view(np.int64)
    if np.all(ints % 86_400_000_000_000 == 0):
        return np.datetime_as_string(ts, unit="D").tolist()
    if np.all(ints % 1_000_000_000 == 0):
        return np.datetime_as_string(ts, unit="s", timezone="UTC").tolist()
    return np.datetime_as_string(ts.astype(NS), unit="ns", timezone="UTC").tolist()


def _write(path: PathLike, header: list[str], columns: list[Any]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerow(header)
        # numbers and ISO timestamps never need quoting; ids are quoted when needed
        fh.writelines(",".join(row) + "\n" for row in zip(*columns))


def _quote(text: str) -> str:
    if any(ch in text for ch in ',"\n\r') or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


def write_csv(bars: OHLCV, path: PathLike) -> None:
    """Write bars as CSV: ``timestamp,open,high,low,close[,volume][,extras...]``.

    Timestamps are written in UTC ISO 8601 (``YYYY-MM-DD`` when every bar is at midnight,
    otherwise ``YYYY-MM-DDTHH:MM:SSZ`` with a fraction when needed); numbers with the shortest
    text that reads back to the same float, so :func:`read_csv` round-trips exactly.
    """
    names = [c for c in bars.columns if c != "timestamp"]
    cols: list[Any] = [_timestamp_text(bars.timestamps)]
    cols += [[repr(v) for v in bars.column(c).tolist()] for c in names]
    _write(path, ["timestamp", *names], cols)


def _cell(value: float) -> str:
    return "" if value != value else repr(value)  # NaN (a future row's target) as an empty cell


def _static_cells(series: Sequence[TimeSeries], name: str) -> list[str]:
    out = []
    for s in series:
        v = s.static[name]
        out += [_quote(v) if isinstance(v, str) else repr(v)] * len(s)
    return out


def write_series_csv(data: TimeSeries | SeriesCollection, path: PathLike) -> None:
    """Write series as CSV: ``[id,]timestamp,<columns...>,<static covariates...>`` (an id column
    for a collection; each static covariate repeated on every row of its series; NaN as an empty
    cell)."""
    if isinstance(data, TimeSeries):
        names = list(data.columns)
        cols: list[Any] = [_timestamp_text(data.timestamps)]
        cols += [[_cell(v) for v in data.column(c).tolist()] for c in names]
        cols += [_static_cells([data], c) for c in data.static]
        _write(path, ["timestamp", *names, *data.static], cols)
        return
    ids, ts, vals = data.to_long()
    names = list(vals)
    static = data.static_covariates
    cols = [[_quote(str(i)) for i in ids.tolist()], _timestamp_text(ts)]
    cols += [[_cell(v) for v in vals[c].tolist()] for c in names]
    cols += [_static_cells(list(data), c) for c in static]
    _write(path, ["id", "timestamp", *names, *static], cols)


# the names the package's lazy_exports table lists for this module, and those only it exports
__all__ = [*exports_of(__name__), "read_table"]
