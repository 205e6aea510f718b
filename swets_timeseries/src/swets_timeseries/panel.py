"""Series as the readers make them, and long-format panels read without their id column.

:class:`SeriesRoles` is what :func:`~swets_timeseries.read_series_csv` and
:func:`~swets_timeseries.series_from_pandas` share once their cells are numbers: the columns by role
and the validated series made of them.

A file holding many series in long format (one row per id and timestamp) read as one series has every
timestamp several times; validation would report thousands of ``duplicate_timestamp`` problems and
never say why. :func:`detect_id_column` finds the column that tells the series apart: a column that
makes (value, timestamp) pairs unique where timestamps alone repeat, with a few distinct values
shared by many rows, and either not numeric (``store_a``, ``DE``) or numeric in contiguous blocks
(``1, 1, ..., 2, 2, ...``). The readers use it when timestamps repeat and no ``id_column`` was given,
and raise :class:`LongFormatError`, whose first line names the column and the option to pass.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from swets_core.errors import ConfigError, DataValidationError, ShapeError
from swets_core.lazy import exports_of
from swets_timeseries._columns import parse_numbers
from swets_timeseries._time import as_timestamps
from swets_timeseries.series import SeriesCollection, TimeSeries, _group_rows
from swets_timeseries.static import reader_static
from swets_timeseries.validation import (
    DataQualityWarning,
    Policy,
    Problem,
    ValidationReport,
    check_policy,
    listing,
)

Candidates = Mapping[str, Any]


class LongFormatError(DataValidationError):
    """Timestamps repeat in data read as one series, and a column looks like the series id.

    Attributes:
        source: the file or frame named in the message.
        id_column: the column to read the data by (the suggestion).
        repeats: how many rows repeat an earlier row's timestamp.
        report: the :class:`~swets_timeseries.ValidationReport` of the data read as one series.
        details: the validation summary shown after the first line.
    """

    def __init__(
        self, source: str, id_column: str, repeats: int, report: ValidationReport, details: str
    ) -> None:
        self.source, self.id_column, self.repeats = source, id_column, repeats
        self.report, self.details = report, details
        super().__init__(self.message())

    def message(self, option: str | None = None) -> str:
        """The message: the first line names the column and the option, the validation summary
        follows. ``option`` spells the option the caller's way (default Python's
        ``id_column='store'``; a command line would pass ``--id-column store``)."""
        return _head(self.source, self.id_column, self.repeats, option) + "\n" + self.details


def _head(source: str, column: str, repeats: int, option: str | None = None) -> str:
    option = option or f"id_column={column!r}"
    return (
        f"{source}: {repeats} repeated timestamp(s): this looks like several series in long "
        f"format, one per value of column {column!r}; read it with {option}"
    )


def _keys(values: Any, n: int, name: str) -> tuple[np.ndarray, bool] | None:
    """(comparable keys, numeric?) of a candidate column, or None if it cannot be an id."""
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise ShapeError(
            f"detect_id_column: column {name!r} has shape {arr.shape}, timestamps ({n},)"
        )
    if arr.dtype.kind in "biuf":
        return arr, True
    if arr.dtype.kind in "USO":
        text = np.strings.strip(arr.astype(str))
        return text, not parse_numbers(text)[1]
    return None  # datetimes, timedeltas, bytes: not an id


def detect_id_column(
    timestamps: Any, columns: Candidates, *, exclude: Sequence[str] = ()
) -> str | None:
    """The column that splits data with repeated timestamps into series, or None.

    Args:
        timestamps: (n,) timestamps of the rows (anything :class:`~swets_timeseries.TimeSeries`
            accepts).
        columns: name -> (n,) values of the candidate columns (text or numbers), e.g. every
            column of a file that is neither the timestamp nor a value column.
        exclude: names in ``columns`` not to consider.

    Returns:
        None when no timestamp repeats, or when no column explains at least 90% of the repeats.
        Otherwise the column that leaves the fewest repeated (value, timestamp) pairs, among those
        with between 2 and n/2 distinct values that are not numbers, or are numbers forming one
        contiguous block per value; ties go to the fewest distinct values (the coarsest id that
        separates the series), then to text over numbers, then to column order.
    """
    ts = as_timestamps(timestamps)
    n = ts.shape[0]
    valid = ~np.isnat(ts)
    stamps = ts.view(np.int64)[valid]
    m = stamps.shape[0]
    repeats = m - np.unique(stamps).shape[0]
    if repeats == 0:
        return None
    best: tuple[tuple[int, int, bool, int], str] | None = None
    for order, (name, values) in enumerate(columns.items()):
        if name in exclude:
            continue
        got = _keys(values, n, str(name))
        if got is None:
            continue
        keys, numeric = got[0][valid], got[1]
        uniq, inverse = np.unique(keys, return_inverse=True)
        k = uniq.shape[0]
        if k < 2 or k > m // 2:
            continue
        inverse = inverse.reshape(-1)
        blocks = 1 + int(np.count_nonzero(inverse[1:] != inverse[:-1])) == k
        if numeric and not blocks:
            continue
        pairs = np.unique(np.stack([inverse.astype(np.int64), stamps], axis=1), axis=0)
        left = m - pairs.shape[0]
        if left * 10 > repeats:
            continue
        score = (left, k, numeric, order)
        if best is None or score < best[0]:
            best = (score, str(name))
    return None if best is None else best[1]


def validate_one_series(
    series: TimeSeries,
    policy: Policy,
    candidates: Callable[[], Candidates],
    *,
    source: str,
    lines: np.ndarray | None = None,
    problems: Sequence[Problem] = (),
    future_rows: bool = False,
    stacklevel: int = 3,
) -> TimeSeries:
    """:meth:`TimeSeries.validate` of data read as one series, naming the id column it lacks.

    When validation finds repeated timestamps and :func:`detect_id_column` finds an id among
    ``candidates()`` (called only then), policy ``raise`` raises :class:`LongFormatError` instead
    of the plain validation error, and ``warn`` / ``drop`` add a DataQualityWarning whose first
    line names the column (and whose ``id_column`` attribute holds it). Otherwise this is
    ``series.validate(...)[0]`` (``future_rows`` as :meth:`TimeSeries.validate`). The warning
    names the code ``stacklevel`` frames up, as :func:`warnings.warn` counts from here (3: the
    caller of the reader that calls this).
    """
    check_policy(policy)
    try:
        out, report = series.validate(
            policy, source=source, lines=lines, problems=problems, future_rows=future_rows
        )
    except DataValidationError as exc:
        report = exc.report  # type: ignore[attr-defined]
        column = _suggest(series, report, candidates)
        if column is None:
            raise
        repeats = report.rules()["duplicate_timestamp"]
        raise LongFormatError(source, column, repeats, report, report.summary()) from None
    column = _suggest(series, report, candidates)
    if column is not None:
        head = _head(source, column, report.rules()["duplicate_timestamp"])
        warning = DataQualityWarning(head, report)
        warning.id_column = column  # type: ignore[attr-defined]
        warnings.warn(warning, stacklevel=stacklevel)
    return out


def _suggest(
    series: TimeSeries, report: ValidationReport, candidates: Callable[[], Candidates]
) -> str | None:
    if "duplicate_timestamp" not in report.rules():
        return None
    return detect_id_column(series.timestamps, candidates())


class SeriesRoles:
    """The columns a series reader reads, by role, and the series it makes of them.

    Args:
        target, covariates, known_covariates, static_covariates, id_column, series_id: as in
            :func:`~swets_timeseries.read_series_csv`.
    """

    __slots__ = (
        "covariates",
        "id_column",
        "known_covariates",
        "series_id",
        "static_covariates",
        "target",
        "targets",
    )

    def __init__(
        self,
        target: str | Sequence[str],
        covariates: Sequence[str],
        known_covariates: Sequence[str],
        static_covariates: Sequence[str],
        id_column: str | None,
        series_id: str,
    ) -> None:
        self.target = target
        self.targets = (target,) if isinstance(target, str) else tuple(target)
        self.covariates = tuple(covariates)
        self.known_covariates = tuple(known_covariates)
        self.static_covariates = tuple(static_covariates)
        self.id_column = id_column
        self.series_id = series_id

    def value_columns(self, header: Sequence[Any], *, source: str) -> tuple[str, ...]:
        """The value columns to read (targets, covariates, known covariates), each checked
        against ``header`` (and ``id_column`` and the static covariates too): a ConfigError names
        a missing one, or a column given two roles."""
        names = self.targets + self.covariates + self.known_covariates
        static, id_column = self.static_covariates, self.id_column
        for name in (*names, *static, *([id_column] if id_column is not None else [])):
            if name not in header:
                what = "id column" if name == id_column else "column"
                raise ConfigError(f"{source}: no {what} {name!r}; columns: {listing(header)}")
        twice = sorted(set(static) & {*names, id_column})
        if twice:
            raise ConfigError(
                f"{source}: column {twice[0]!r} is named as static and in another role"
            )
        return names

    def series(
        self,
        timestamps: np.ndarray,
        values: Mapping[str, np.ndarray],
        ids: np.ndarray | None,
        column: Callable[[Any], np.ndarray],
        header: Sequence[Any],
        exclude: Sequence[Any],
        *,
        policy: Policy,
        source: str,
        lines: np.ndarray | None = None,
        problems: Sequence[Problem] = (),
        future_rows: bool = False,
    ) -> TimeSeries | SeriesCollection:
        """The validated series of what was read.

        Args:
            timestamps: (n,) of the rows.
            values: the :meth:`value_columns`' (n,) numbers.
            ids: (n,) series id of each row (text), or None (one series, ``series_id``).
            column: the (n,) cells of a column of ``header`` (the static covariates' and those
                :func:`detect_id_column` looks at).
            header: every column read.
            exclude: columns of ``header`` that are no id (the timestamps').
            policy, future_rows: as :meth:`TimeSeries.validate`.
            source: the file or frame named in messages (each series of a collection as
                ``source (series 'id')``).
            lines: (n,) line of each row in the file, or None.
            problems: what reading found (unparseable cells), by row.

        Returns:
            A :class:`TimeSeries` (no ``ids``; validated by :func:`validate_one_series`) or a
            :class:`SeriesCollection` of series validated one by one.
        """
        roles = {
            "target": self.target,
            "covariates": self.covariates,
            "known_covariates": self.known_covariates,
        }
        static = reader_static(
            ids, column, self.static_covariates, source=source, timestamps=timestamps
        )
        if ids is None:
            one = TimeSeries(
                timestamps,
                values,
                **roles,
                id=self.series_id,
                static=None if static is None else static[""],
            )
            used = {*values, *self.static_covariates, *exclude}
            return validate_one_series(
                one,
                policy,
                lambda: {str(c): column(c) for c in header if c not in used},
                source=source,
                lines=lines,
                problems=problems,
                future_rows=future_rows,
                stacklevel=4,  # the reader's caller
            )
        coll = SeriesCollection.from_long(ids, timestamps, values, **roles, static=static)
        # each series validated with its own rows' lines and problems (found in one pass)
        rows_of = dict(_group_rows(ids)) if lines is not None or problems else {}
        mine: dict[str, list[Problem]] = {}
        if problems:
            local = np.empty(ids.shape[0], dtype=np.int64)  # each row's position in its series
            for rows in rows_of.values():
                local[rows] = np.arange(local[rows].shape[0])
            for p in problems:
                sid = str(ids[p.row])
                mine.setdefault(sid, []).append(
                    Problem(int(local[p.row]), p.timestamp, p.rule, p.columns, p.detail, p.line)
                )
        out = []
        for s in coll:
            checked, _ = s.validate(
                policy,
                source=f"{source} (series {s.id!r})",
                lines=None if lines is None else lines[rows_of[s.id]],
                problems=mine.get(s.id, ()),
                future_rows=future_rows,
            )
            out.append(checked)
        return SeriesCollection(out)


# the names the package's lazy_exports table lists for this module, and those only it exports
__all__ = [*exports_of(__name__), "SeriesRoles", "validate_one_series"]
