"""The price-bar rules for general series whose columns are open, high, low, close (and volume).

:func:`~swets_timeseries.read_csv` validates bars with the OHLCV rules (``high_below_low``,
``negative_volume``...); a series read with :func:`~swets_timeseries.read_series_csv` is checked only
for timestamps and finite values. :func:`validate_bars` applies the bar rules to a
:class:`~swets_timeseries.TimeSeries` or :class:`~swets_timeseries.SeriesCollection` (or plain
columns) whose columns are OHLCV: the same rules (one definition,
:func:`swets_timeseries.validation.check_bars`), the same policies, report and message as
``read_csv``. :func:`bar_columns` says whether columns are OHLCV, matching names as ``read_csv``
matches headers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from swets_core.errors import ConfigError, ShapeError
from swets_core.lazy import exports_of
from swets_timeseries._columns import BAR_FIELDS, match_fields
from swets_timeseries._time import as_timestamps
from swets_timeseries.ohlcv import OHLCV
from swets_timeseries.series import SeriesCollection, TimeSeries
from swets_timeseries.validation import Policy, ValidationReport, bar_report, check_policy

PRICES = BAR_FIELDS[:4]


def bar_columns(
    names: Sequence[str], columns: Mapping[str, str] | None = None
) -> dict[str, str] | None:
    """The OHLCV fields among column ``names``: ``{field: name}``, or None when they are not bars.

    Names are matched as :func:`~swets_timeseries.read_csv` matches headers (case, blanks, ``_``,
    ``-``, ``.``, ``*`` ignored; ``o``/``open``, ``h``/``high``, ``l``/``low``,
    ``c``/``close``/``last``, ``v``/``vol``/``volume``). Columns are bars when open, high, low and
    close are all found; volume is optional.

    Args:
        names: the column names.
        columns: explicit ``{field: name}`` for names the aliases do not cover
            (e.g. ``{"close": "Adj Close"}``).

    Raises:
        ConfigError: two names could be the same field, or ``columns`` names an unknown field or
            a missing column.
    """
    found = match_fields(
        list(names), BAR_FIELDS, dict(columns or {}), required=(), source="bar_columns()"
    )
    if not all(f in found for f in PRICES):
        return None
    return {f: str(v) for f, v in found.items()}


def _fields(names: Sequence[str], columns: Mapping[str, str] | None, what: str) -> dict[str, str]:
    found = match_fields(list(names), BAR_FIELDS, dict(columns or {}), required=PRICES, source=what)
    return {f: str(v) for f, v in found.items()}


def _series(
    s: TimeSeries,
    policy: Policy,
    columns: Mapping[str, str] | None,
    source: str | None,
    lines: np.ndarray | None,
) -> tuple[TimeSeries, ValidationReport]:
    what = source or f"series {s.id!r}"
    fields = _fields(s.columns, columns, what)
    values = {f: s.column(name) for f, name in fields.items()}
    report = bar_report(
        s.timestamps, values, policy=policy, source=what, names=fields, lines=lines, stacklevel=4
    )
    keep = report.kept()
    return (s, report) if keep is None else (s[keep], report)


def validate_bars(
    data: Any,
    policy: Policy = "raise",
    *,
    columns: Mapping[str, str] | None = None,
    timestamps: Any = None,
    source: str | None = None,
    lines: np.ndarray | None = None,
) -> tuple[Any, Any]:
    """Validate data whose columns are OHLCV as price bars, as :func:`~swets_timeseries.read_csv`
    does.

    Rules: the timestamp rules (missing, duplicate, unordered), ``non_finite_price``,
    ``non_finite_volume``, ``negative_volume``, ``high_below_low``, ``high_below_body``,
    ``low_above_body`` (see :mod:`swets_timeseries.validation`); problems name the data's own
    column names. Columns that are not OHLCV are not looked at.

    Args:
        data: a TimeSeries (every column is looked at, whatever its role), a SeriesCollection
            (each series on its own), an OHLCV (its own :meth:`~swets_timeseries.OHLCV.validate`),
            or a mapping ``{name: (n,) array}`` of columns with ``timestamps=``.
        policy: ``"raise"`` (DataValidationError listing the problems; ``exc.report``),
            ``"warn"`` (a DataQualityWarning, rows kept) or ``"drop"`` (offending rows removed).
        columns: explicit ``{field: column name}`` where the names are not the usual ones.
        timestamps: (n,) timestamps of a mapping of columns (ignored otherwise).
        source: the name used in messages (default ``series '<id>'``, ``"columns"``).
        lines: optional (n,) 1-based source-file line of each row (not for a collection).

    Returns:
        ``(data, report)``: the data (rows dropped under ``"drop"``; a mapping comes back as a new
        dict) and the :class:`~swets_timeseries.ValidationReport`; for a SeriesCollection the
        reports by series id.

    Raises:
        ConfigError: open, high, low or close cannot be found among the columns (use
            :func:`bar_columns` to ask first), or two columns could be one field.
        DataValidationError: a rule is broken and ``policy="raise"``.
    """
    check_policy(policy)
    if isinstance(data, OHLCV):
        return data.validate(policy, source=source or "OHLCV", lines=lines)
    if isinstance(data, TimeSeries):
        return _series(data, policy, columns, source, lines)
    if isinstance(data, SeriesCollection):
        out, reports = [], {}
        for s in data:
            where = None if source is None else f"{source} (series {s.id!r})"
            s2, reports[s.id] = _series(s, policy, columns, where, None)
            out.append(s2)
        return SeriesCollection(out), reports
    if isinstance(data, Mapping):
        if timestamps is None:
            raise ConfigError("validate_bars(columns mapping) needs timestamps=")
        ts = as_timestamps(timestamps)
        values = {str(k): np.asarray(v) for k, v in data.items()}
        for name, v in values.items():
            if v.shape != ts.shape:
                raise ShapeError(
                    f"validate_bars: column {name!r} has shape {v.shape}, timestamps {ts.shape}"
                )
            if v.dtype.kind not in "fiub":
                raise ConfigError(f"validate_bars: column {name!r} is not numeric ({v.dtype})")
        what = source or "columns"
        fields = _fields(list(values), columns, what)
        bars = {f: values[name] for f, name in fields.items()}
        report = bar_report(
            ts, bars, policy=policy, source=what, names=fields, lines=lines, stacklevel=3
        )
        keep = report.kept()
        return (values if keep is None else {k: v[keep] for k, v in values.items()}), report
    raise ConfigError(
        "validate_bars takes a TimeSeries, a SeriesCollection, an OHLCV or a mapping of columns, "
        f"got {type(data).__name__}"
    )


__all__ = exports_of(__name__)  # listed once, in the package's table of lazy exports
