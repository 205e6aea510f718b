"""Where a job's data comes from: a bundled data set, a CSV or Parquet file, or data given in memory.

:func:`load_series` returns the data as a ``SeriesCollection`` with the job's roles (target, past,
known and static covariates, calendar features), and the data section with what it resolved (the
target, the covariates, the calendar, the holiday dates, an absolute path, the id column it
detected, ``in_memory`` for data given in memory). What the sampling interval implies (the
default calendar features and seasonal period) is in :mod:`swets_train.jobs.sampling`.

A file is read with the job's ``timestamp_column``, ``date_format`` and ``policy``. A file whose
timestamps repeat, read without ``id_column``, is read again by the column that tells its series
apart when there is one (:func:`swets_timeseries.detect_id_column`; a note names it). A file whose
columns are price bars (open, high, low, close and maybe volume: :func:`swets_timeseries.bar_columns`)
is validated with the bar rules as well (:func:`swets_timeseries.validate_bars`: high below low,
negative volume...), as :func:`swets_timeseries.read_csv` would. Rows after a series' last target
value (target empty) are its future rows: the known covariates' values for the time to forecast
(:meth:`swets_timeseries.TimeSeries.split_future`); without known covariates a note says they are
not used.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import attrs

from swets_core.errors import ConfigError, DataValidationError, SwetsError
from swets_core.lazy import exports_of
from swets_train.jobs.sampling import default_calendar, sampling_step
from swets_train.jobs.sampling import default_season_length as default_season_length
from swets_train.jobs.spec import DataSpec, JobSpec, option, spelling_cli

__all__ = [
    *exports_of(__name__),
    *exports_of("swets_train.jobs.sampling"),
    "resolve_calendar",
    "sampling_step",
]

_TIMESTAMP_HEADERS = ("timestamp", "date", "time", "datetime", "ts")


_MISSING = {"", "na", "n/a", "nan", "null", "none", "#n/a"}


def _first_row(path: str, delimiter: str) -> dict[str, str]:
    """The first data row of a CSV file by header name, read from its first 64 KiB only (empty
    when there is none): enough to tell text columns (a series id, dates) from value columns."""
    import csv
    import io

    if not os.path.isfile(path):
        return {}
    with open(path, "rb") as fh:
        head = fh.read(1 << 16).decode("utf-8-sig", errors="replace")
    rows = [r for r in csv.reader(io.StringIO(head), delimiter=delimiter) if r]
    if len(rows) < 3:  # a header, a row, and the row after it (so the first is whole)
        return {}
    return {h.strip(): c.strip() for h, c in zip(rows[0], rows[1])}


def _numeric(cell: str) -> bool:
    if cell.lower() in _MISSING:
        return True
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _value_columns(
    columns: Sequence[str], spec: DataSpec, first: dict[str, str] | None = None
) -> list[str]:
    """The columns that can be the target: not the timestamp or id column, and (when the first
    row is known) holding a number there."""
    skip = {spec.timestamp_column, spec.id_column, *spec.static_covariates}
    first = first or {}
    out = []
    for c in columns:
        norm = c.strip().lower().replace(" ", "").replace("_", "")
        if c in skip or (spec.timestamp_column is None and norm in _TIMESTAMP_HEADERS):
            continue
        if c in first and not _numeric(first[c]):
            continue
        out.append(c)
    return out


def _check_columns(columns: Sequence[str], spec: DataSpec, target: str) -> None:
    """Every column the job names must be in the file's header (with a suggestion if not)."""
    named = [("target", target)] + [("covariates", c) for c in spec.covariates]
    named += [("known_covariates", c) for c in spec.known_covariates]
    if spec.static_path is None:
        named += [("static_covariates", c) for c in spec.static_covariates]
    named += [(k, getattr(spec, k)) for k in ("timestamp_column", "id_column") if getattr(spec, k)]
    for role, name in named:
        if name not in columns:
            close = difflib.get_close_matches(name, list(columns), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"data.{role}: {spec.label} has no column {name!r} (columns: "
                f"{', '.join(columns)}){hint}"
            )


def _default_target(
    columns: Sequence[str], spec: DataSpec, first: dict[str, str] | None = None
) -> str:
    values = _value_columns(columns, spec, first)
    if len(values) == 1:
        return values[0]
    lowered = {c.strip().lower(): c for c in values}
    if "close" in lowered:
        return lowered["close"]
    raise ConfigError(
        f"data.target: {spec.label} has {len(values)} value columns ({', '.join(values)}); "
        f"name the target ({option('data.target', 'COLUMN')})"
    )


def _with_roles(
    coll: Any, target: str, covariates: Sequence[str], known: Sequence[str], label: str
) -> Any:
    """The collection with the job's roles: ``target``, the past ``covariates`` and the ``known``
    covariates (columns not named are dropped from the roles, and static covariates kept)."""
    from swets_timeseries import SeriesCollection, TimeSeries

    out = []
    for s in coll:
        named = [("target", target)] + [("covariates", c) for c in covariates]
        named += [("known_covariates", c) for c in known]
        for role, name in named:
            if name not in s.values:
                close = difflib.get_close_matches(name, list(s.values), n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ConfigError(
                    f"data.{role}: {label} has no column {name!r} (columns: "
                    f"{', '.join(s.values)}){hint}"
                )
        roles = ((target,), tuple(covariates), tuple(known))
        if (s.target, s.covariates, s.known_covariates) == roles:
            out.append(s)
        else:
            out.append(
                TimeSeries(
                    s.timestamps,
                    s.values,
                    (target,),
                    tuple(covariates),
                    tuple(known),
                    id=s.id,
                    static=s.static,
                )
            )
    return SeriesCollection(out)


def _with_static(coll: Any, ds: DataSpec, label: str) -> tuple[Any, DataSpec]:
    """The static covariates of the job: from ``data.static_path`` (a table keyed by series id),
    else those the data holds, restricted to ``data.static_covariates`` when it names them."""
    from swets_timeseries import SeriesCollection, read_static_csv

    static = tuple(ds.static_covariates)
    if ds.static_path is not None:
        path = os.fspath(ds.static_path)
        where = option("data.static_path")
        if not os.path.isfile(path):
            raise ConfigError(f"{where}: cannot read {path}: no such file")
        header = _csv_header(path, where)
        id_column = ds.id_column if ds.id_column in header else header[0]
        columns = list(static) if static else None
        table = _reading(where, lambda: read_static_csv(path, id_column=id_column, columns=columns))
        coll = _reading(where, lambda: coll.with_static(table, source=os.path.basename(path)))
        static = static or tuple(c for c in header if c != id_column)
        ds = attrs.evolve(ds, static_path=os.path.abspath(path))
    elif not static:
        static = coll.static_covariates
    have = coll.static_covariates
    missing = [c for c in static if c not in have]
    if missing:
        raise ConfigError(
            f"{option('data.static_covariates')}: {label} has no static covariate "
            f"{missing[0]!r} (it has {', '.join(have) or 'none'})"
        )
    if tuple(have) != static:
        coll = SeriesCollection(
            [attrs.evolve(s, static={c: s.static[c] for c in static}) for s in coll]
        )
    return coll, attrs.evolve(ds, static_covariates=static)


def _csv_header(path: str, where: str) -> list[str]:
    from swets_timeseries import read_csv_header

    return _reading(where, lambda: read_csv_header(path))


def _reading(where: str, read: Any) -> Any:
    """``read()``; a ConfigError or a failure to read names the option the file came from."""
    try:
        return read()
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    except SwetsError:
        raise
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def resolve_calendar(ds: DataSpec, coll: Any, notes: list[str]) -> DataSpec:
    """``data.calendar`` resolved (``"auto"``: :func:`default_calendar` of the first series) and
    ``data.holidays`` read from its file when it names one."""
    from swets_timeseries import read_dates

    if ds.calendar == "auto":
        names = default_calendar(coll[0].timestamps)
        if names:
            notes.append(
                f"calendar features {', '.join(names)} of the timestamps are known covariates "
                f"(set {option('data.calendar')} to choose, {option('data.calendar', 'none')} "
                "for none)"
            )
        ds = attrs.evolve(ds, calendar=names)
    if isinstance(ds.holidays, str):
        path = ds.holidays
        where = option("data.holidays")
        if not os.path.isfile(path):
            raise ConfigError(f"{where}: {path!r} is neither a date (YYYY-MM-DD) nor a file")
        ds = attrs.evolve(ds, holidays=tuple(_reading(where, lambda: read_dates(path))))
    return ds


def _add_calendar(coll: Any, ds: DataSpec) -> Any:
    from swets_timeseries.features import with_calendar

    try:
        return with_calendar(coll, ds.calendar, ds.holidays or None)
    except ConfigError as exc:
        raise ConfigError(f"{option('data.calendar')}: {exc}") from None


def load_series(
    spec: DataSpec | JobSpec, data: Any = None, notes: list[str] | None = None
) -> tuple[Any, DataSpec]:
    """Load the data of a job as a ``SeriesCollection`` with the job's roles.

    Args:
        spec: the job (or its data section).
        data: already loaded data (TimeSeries / SeriesCollection / OHLCV) to use instead of reading
            ``dataset`` / ``path``; its own target, covariates, known and static covariates are
            kept unless the spec names them.
        notes: remarks about choices made (the id column detected, the calendar) are appended here.

    Returns:
        ``(collection, resolved data section)``. The collection holds the target, the past
        covariates, the known covariates (the job's columns, then the calendar columns) and the
        static covariates; with known covariates, a series' rows after its last target value are
        kept as future rows (:meth:`~swets_timeseries.TimeSeries.split_future`). The section has
        ``target``, the covariates, ``calendar`` and ``holidays`` resolved, ``path`` made
        absolute, a detected ``id_column``, and for data given in memory ``in_memory`` set (no
        dataset, no path: a checkpoint of the job then needs the data again rather than reading a
        wrong default).

    Raises:
        ConfigError: an unreadable or unsupported file, a missing column (named with the file's
            columns), several value columns and no target, or a job run on data given in memory
            asked for its data without ``data``.
    """
    from swets_timeseries.series import as_collection

    ds = spec.data if isinstance(spec, JobSpec) else spec
    notes = [] if notes is None else notes
    label = ds.label
    if data is not None:
        coll = as_collection(data)
        target = ds.target or coll.target[0]
        covs = ds.covariates or tuple(c for c in coll.covariates if c != target)
        generated = _calendar_names()
        known = ds.known_covariates or tuple(c for c in coll.known_covariates if c not in generated)
        ds = attrs.evolve(ds, known_covariates=known)
        label = "the data"
    elif ds.in_memory:
        how = (
            option("data.path", "PATH")
            if spelling_cli()
            else "pass it (job.forecast(data), prepare(spec, data=data)) or set data.path"
        )
        raise ConfigError(
            "data.in_memory: the job was run on data given in memory, which its checkpoint does "
            f"not hold; give the data again: {how}"
        )
    elif ds.path is not None:
        loaded, target, covs, ds = _read_file(ds, notes)
        coll = as_collection(loaded)
    else:
        from swets_timeseries import OHLCV, load_dataset

        loaded = load_dataset(ds.dataset)
        if isinstance(loaded, OHLCV):
            from swets_timeseries import TimeSeries

            names = [c for c in loaded.columns if c != "timestamp"]
            loaded = TimeSeries(
                loaded.timestamps,
                {c: loaded.column(c) for c in names},
                "close",
                id=ds.dataset,
            )
        coll = as_collection(loaded)
        target = ds.target or coll.target[0]
        covs = ds.covariates
    coll = _with_roles(coll, target, covs, ds.known_covariates, label)
    future = sum(len(s) - s.history_length() for s in coll)
    if future and not ds.known_covariates:
        notes.append(
            f"{label} has {future} row(s) after the last target value (future rows), which only "
            f"known covariates would use; name them with {option('data.known_covariates', 'COLUMNS')}"
        )
    coll, ds = _with_static(coll, ds, label)
    ds = resolve_calendar(ds, coll, notes)
    coll = _add_calendar(coll, ds)
    resolved = attrs.evolve(ds, target=target, covariates=tuple(covs))
    if data is not None:  # the spec says so, instead of naming a data set it never read
        resolved = attrs.evolve(resolved, dataset=None, path=None, in_memory=True)
    elif ds.path is not None:  # so a checkpoint finds its data from anywhere
        resolved = attrs.evolve(resolved, path=os.path.abspath(ds.path))
    return coll, resolved


def _calendar_names() -> set[str]:
    """The names of the calendar columns a job may have added itself."""
    from swets_timeseries.features import CALENDAR, calendar_columns

    return set(calendar_columns(CALENDAR))


def read_future(path: str | os.PathLike[str], ds: DataSpec) -> Any:
    """The known covariates' values for the time to forecast, from a CSV or Parquet file: its
    timestamp column (and the id column of a panel) and the job's known covariates
    (``data.known_covariates``; the calendar columns are computed from the timestamps). Read
    with the job's ``timestamp_column``, ``date_format`` and ``id_column``; every value must be
    there (a missing one is named with its row and timestamp). Returns a ``SeriesCollection``
    with the calendar columns added.

    Raises:
        ConfigError: the job has no known covariates of its own, or the file cannot be read or
            lacks a column.
    """
    from swets_timeseries import SeriesCollection, TimeSeries
    from swets_timeseries.series import as_collection

    path = os.fspath(path)
    known = list(ds.known_covariates)
    if not known:
        raise ConfigError(
            "--future: the job has no known covariates besides its calendar features, which "
            f"are computed from the timestamps; {os.path.basename(path)} is not needed"
        )
    sub = attrs.evolve(
        ds,
        path=path,
        target=known[0],
        covariates=(),
        known_covariates=tuple(known[1:]),
        static_covariates=(),
        static_path=None,
        dataset=None,
        in_memory=False,
    )
    loaded, _, _, _ = _read_file(sub, [], future_rows=False, label="--future")
    coll = SeriesCollection(
        [
            TimeSeries(
                s.timestamps, {k: s.values[k] for k in known}, known[0], (), known[1:], id=s.id
            )
            for s in as_collection(loaded)
        ]
    )
    return _add_calendar(coll, ds)


def _read_file(
    ds: DataSpec, notes: list[str], future_rows: bool | None = None, label: str = "data.path"
) -> tuple[Any, str, tuple[str, ...], DataSpec]:
    """Read ``data.path`` through swets-timeseries' bounded readers: a regular file only (a named
    pipe or a device is refused before it is opened, so it cannot hang), of a bounded size. Rows
    after the last target value are future rows (unless ``future_rows`` is False)."""
    path = os.fspath(ds.path)
    if future_rows is None:
        future_rows = True
    if not os.path.exists(path):
        raise ConfigError(f"{label}: cannot read {path}: no such file")
    if os.path.isdir(path):
        raise ConfigError(f"{label}: {path} is a directory, not a CSV or Parquet file")
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext in (".parquet", ".pq"):
            from swets_timeseries.pandas_io import MissingDependencyError, read_series_parquet
            from swets_timeseries.pandas_io import read_parquet_columns as kinds_of

            try:
                import pandas  # noqa: F401
                import pyarrow  # noqa: F401
            except ImportError:
                raise MissingDependencyError(
                    f"data.path: reading {os.path.basename(path)} needs pandas and pyarrow: "
                    'pip install "swets-timeseries[parquet]"'
                ) from None
            kinds = kinds_of(path)
            columns = list(kinds)
            first = {c: "0" if kind in "biuf" else "text" for c, kind in kinds.items()}

            if ds.date_format is not None:
                raise ConfigError(
                    f"{option('data.date_format')}: {os.path.basename(path)} is a Parquet file, "
                    "whose timestamps are typed; a date format applies to CSV files"
                )

            def read(**roles: Any) -> Any:
                roles.pop("date_format")
                return read_series_parquet(path, **roles)

        elif ext in (".csv", ".txt", ".tsv"):
            from swets_timeseries import read_csv_header, read_series_csv

            delimiter = "\t" if ext == ".tsv" else ","
            columns = read_csv_header(path, delimiter=delimiter)
            first = _first_row(path, delimiter)

            def read(**roles: Any) -> Any:
                return read_series_csv(path, delimiter=delimiter, **roles)

        else:
            raise ConfigError(
                f"{label}: cannot read {path}: unsupported file type {ext or '(none)'!r}; "
                "use a .csv or .parquet file"
            )
        target = ds.target or _default_target(columns, ds, first)
        _check_columns(columns, ds, target)
        bars = _bar_columns(columns, ds)
        extra = tuple(c for c in (bars or {}).values() if c != target and c not in ds.covariates)
        roles = {
            "target": target,
            "covariates": (*ds.covariates, *extra),
            "known_covariates": ds.known_covariates,
            "static_covariates": () if ds.static_path else ds.static_covariates,
            "timestamp_column": ds.timestamp_column,
            "date_format": ds.date_format,
            "policy": ds.policy,
            "series_id": os.path.splitext(os.path.basename(path))[0],
            "future_rows": future_rows,
        }
        with _job_spelling(ds.date_format):
            data, ds = _read_panel(read, roles, ds, notes)
            if bars is not None:
                data = _validated_bars(data, bars, ds, target, extra)
    except SwetsError:
        raise
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{label}: cannot read {path}: {exc}") from exc
    except Exception as exc:  # pyarrow raises its own error types for corrupt files
        raise ConfigError(f"{label}: cannot read {path}: {type(exc).__name__}: {exc}") from exc
    return data, target, ds.covariates, ds


def _read_panel(
    read: Any, roles: dict[str, Any], ds: DataSpec, notes: list[str]
) -> tuple[Any, DataSpec]:
    """Read with the job's ``id_column``; without one, a long-format file (repeated timestamps and a
    column telling the series apart) is read again by that column, and a note says so."""
    import warnings

    from swets_timeseries import DataQualityWarning, LongFormatError

    if ds.id_column is not None:
        return read(id_column=ds.id_column, **roles), ds
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            data, column = read(id_column=None, **roles), None
        except LongFormatError as exc:
            data, column = None, exc.id_column
        except DataValidationError as exc:
            report = getattr(exc, "report", None)
            if report is None or "duplicate_timestamp" not in report.rules():
                raise
            first, _, rest = str(exc).partition("\n")
            hint = option("data.id_column", "COLUMN")
            raise _with_message(
                exc,
                f"{first}; if it holds several series, name their id column ({hint})"
                + ("\n" + rest if rest else ""),
            ) from None
    if column is None:  # the warn and drop policies: the reader warns, naming the column
        column = next(
            (
                w.message.id_column
                for w in caught
                if isinstance(w.message, DataQualityWarning) and hasattr(w.message, "id_column")
            ),
            None,
        )
    if column is None:
        for w in caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return data, ds
    try:
        data = read(id_column=column, **roles)
    except LongFormatError as exc:  # the message in this caller's spelling
        raise DataValidationError(exc.message(option("data.id_column", exc.id_column))) from None
    n = len(getattr(data, "ids", ())) or 1
    notes.append(
        f"{ds.label} repeats its timestamps: read it as {n} series in long format, one per value "
        f"of column {column!r} (set {option('data.id_column', 'COLUMN')} to choose the column)"
    )
    return data, attrs.evolve(ds, id_column=column)


_SPELLINGS = (  # how the readers name an option, and the job key it is
    (re.compile(r"policy='(\w+)'"), "data.policy"),
    (re.compile(r"columns=\{'timestamp': [^}]*\}"), "data.timestamp_column"),
    (re.compile(r"\btimestamp_column="), "data.timestamp_column"),
)


def _respell(text: str) -> str:
    """A reader's message with the options it suggests named as the job (or the command line)
    names them: ``policy='drop'`` -> ``--data-policy drop``."""
    for pattern, key in _SPELLINGS:
        text = pattern.sub(
            lambda m, key=key: option(key, m.group(1) if m.groups() else "COLUMN"), text
        )
    return text


def _with_message(exc: Exception, text: str) -> Exception:
    """An error of ``exc``'s class with another message, keeping its ``report``."""
    try:
        out = type(exc)(text)
    except TypeError:  # an error class whose constructor takes more than a message
        out = DataValidationError(text)
    if hasattr(exc, "report"):
        out.report = exc.report  # type: ignore[attr-defined]
    return out


@contextmanager
def _job_spelling(date_format: str | None = None) -> Iterator[None]:
    """Errors and data-quality warnings of the readers within the block name options the job's
    way (:func:`_respell`); a timestamp that does not parse without a ``date_format`` says how to
    give one."""
    import warnings

    from swets_timeseries import DataQualityWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        except (ConfigError, DataValidationError) as exc:
            text = _respell(str(exc))
            first, newline, rest = text.partition("\n")
            if date_format is None and "not a timestamp in ISO 8601" in first:
                hint = option("data.date_format", "FORMAT")
                text = f"{first}; give the timestamps' format with {hint} (e.g. %d.%m.%Y)"
                text += newline + rest
            if text == str(exc):
                raise
            raise _with_message(exc, text) from None
        finally:
            pending = list(caught)
    for w in pending:
        message = w.message
        if isinstance(message, DataQualityWarning):
            message = DataQualityWarning(_respell(str(message)), message.report)
        warnings.warn_explicit(message, w.category, w.filename, w.lineno)


def _bar_columns(columns: Sequence[str], ds: DataSpec) -> dict[str, str] | None:
    """The OHLCV columns of a file, or None when they are not all there (or are ambiguous)."""
    from swets_timeseries import bar_columns

    skip = {ds.timestamp_column, ds.id_column} - {None}
    try:
        return bar_columns([c for c in columns if c not in skip])
    except ConfigError:  # two columns could be one field: not plainly bars
        return None


def _validated_bars(
    data: Any, bars: dict[str, str], ds: DataSpec, target: str, extra: tuple[str, ...]
) -> Any:
    """The data checked with the price-bar rules, without the bar columns read only for that."""
    from swets_timeseries import SeriesCollection, TimeSeries, validate_bars

    columns = {field: name for field, name in bars.items()}
    data, _ = validate_bars(data, ds.policy, columns=columns, source=ds.label)
    if not extra:
        return data

    def strip(s: Any) -> Any:
        keep = {k: v for k, v in s.values.items() if k not in extra}
        return TimeSeries(
            s.timestamps,
            keep,
            s.target,
            ds.covariates,
            s.known_covariates,
            id=s.id,
            static=s.static,
        )

    if isinstance(data, SeriesCollection):
        return SeriesCollection([strip(s) for s in data])
    return strip(data)
