"""Long-format panels read without their id column: detecting the id column and saying so.

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

from swets_core.errors import DataValidationError, ShapeError
from swets_timeseries._columns import parse_numbers
from swets_timeseries._time import as_timestamps
from swets_timeseries.series import TimeSeries
from swets_timeseries.validation import (
    DataQualityWarning,
    Policy,
    Problem,
    ValidationReport,
    check_policy,
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
) -> TimeSeries:
    """:meth:`TimeSeries.validate` of data read as one series, naming the id column it lacks.

    When validation finds repeated timestamps and :func:`detect_id_column` finds an id among
    ``candidates()`` (called only then), policy ``raise`` raises :class:`LongFormatError` instead
    of the plain validation error, and ``warn`` / ``drop`` add a DataQualityWarning whose first
    line names the column (and whose ``id_column`` attribute holds it). Otherwise this is
    ``series.validate(...)[0]`` (``future_rows`` as :meth:`TimeSeries.validate`).
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
        warnings.warn(warning, stacklevel=3)
    return out


def _suggest(
    series: TimeSeries, report: ValidationReport, candidates: Callable[[], Candidates]
) -> str | None:
    if "duplicate_timestamp" not in report.rules():
        return None
    return detect_id_column(series.timestamps, candidates())


__all__ = ["LongFormatError", "detect_id_column", "validate_one_series"]
