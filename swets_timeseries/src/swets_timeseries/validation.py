"""Data validation with an explicit policy: ``"raise"`` (default), ``"warn"`` or ``"drop"``.

Rules checked for OHLCV bars (each problem is reported with its row number, timestamp, rule and values):

======================  =================================================================
rule                    meaning
======================  =================================================================
``missing_timestamp``   the timestamp is NaT
``duplicate_timestamp`` the timestamp equals the one of an earlier row
``unordered_timestamp`` the timestamp is earlier than the one of an earlier row
``non_finite_price``    open, high, low or close is NaN or infinite
``non_finite_volume``   volume is NaN or infinite
``negative_volume``     volume < 0
``high_below_low``      high < low
``high_below_body``     high < max(open, close)
``low_above_body``      low > min(open, close)
``non_finite_value``    (general series) a target or covariate value is NaN or infinite
======================  =================================================================

Policies never alter a value: ``raise`` raises :class:`~swets_core.errors.DataValidationError` (with
the full :class:`ValidationReport` as ``exc.report``); ``warn`` keeps every row and emits one
:class:`DataQualityWarning`; ``drop`` removes the offending rows and emits a
:class:`DataQualityWarning` listing what it removed. Both warnings carry the report as ``.report``.

Messages stay short whatever the data: one line first (source, counts per rule), then at most
:data:`MAX_LISTED` problems and ``... and N more``; lists of names or rows in messages are cut by
:func:`listing`. The whole list is always in the report.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Literal

import attrs
import numpy as np

from swets_core.errors import ConfigError, DataValidationError
from swets_core.lazy import exports_of
from swets_timeseries._time import format_timestamp

Policy = Literal["raise", "warn", "drop"]
POLICIES = ("raise", "warn", "drop")
MAX_LISTED = 5  # problems shown in a message; the report holds every one
MAX_NAMES = 20  # names (columns, ids, rows) shown in one line of a message


def listing(items: Sequence[object] | np.ndarray, limit: int = MAX_NAMES) -> str:
    """``"a, b, c"``, cut after ``limit`` items with ``", ... and N more"`` (for messages)."""
    seq = items.tolist() if isinstance(items, np.ndarray) else list(items)
    text = ", ".join(str(x) for x in seq[:limit])
    if len(seq) > limit:
        text += f", ... and {len(seq) - limit} more"
    return text


class DataQualityWarning(UserWarning):
    """Emitted by the ``warn`` and ``drop`` validation policies; ``.report`` holds the details."""

    def __init__(self, message: str, report: ValidationReport | None = None) -> None:
        super().__init__(message)
        self.report = report


@attrs.frozen(slots=True)
class Problem:
    """One rule broken by one row.

    Attributes:
        row: 0-based row index in the data that was validated.
        timestamp: the row's timestamp (``datetime64[ns]``, UTC; NaT if missing).
        rule: the rule name (see the module docstring).
        columns: the columns involved.
        detail: the values that broke the rule, as text.
        line: the 1-based line of the source file, when the data came from a file.
    """

    row: int
    timestamp: np.datetime64
    rule: str
    columns: tuple[str, ...]
    detail: str
    line: int | None = None

    def describe(self) -> str:
        """One line: ``row 12 (line 14, 1986-03-31): high_below_low: high=1.0 < low=2.0``."""
        where = f"row {self.row} ("
        if self.line is not None:
            where += f"line {self.line}, "
        where += f"{format_timestamp(self.timestamp)})"
        return f"{where}: {self.rule}: {self.detail}"


@attrs.frozen(slots=True)
class ValidationReport:
    """The outcome of a validation: every problem found and what the policy did.

    Attributes:
        source: what was validated (a file name or ``"OHLCV"``).
        policy: the policy applied.
        n_rows: number of rows validated.
        problems: every problem, ordered by row then rule.
        dropped_rows: the rows removed (``drop`` policy), sorted; empty otherwise.
    """

    source: str
    policy: str
    n_rows: int
    problems: tuple[Problem, ...]
    dropped_rows: np.ndarray = attrs.field(factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def ok(self) -> bool:
        """True when no rule was broken."""
        return not self.problems

    @property
    def bad_rows(self) -> np.ndarray:
        """Sorted unique row numbers with at least one problem."""
        return np.unique(np.array([p.row for p in self.problems], dtype=np.int64))

    def kept(self) -> np.ndarray | None:
        """(n_rows,) bool mask of the rows kept by the ``drop`` policy, or None when none was
        dropped."""
        if not self.dropped_rows.size:
            return None
        keep = np.ones(self.n_rows, dtype=bool)
        keep[self.dropped_rows] = False
        return keep

    def rules(self) -> dict[str, int]:
        """Number of problems per rule."""
        counts: dict[str, int] = {}
        for p in self.problems:
            counts[p.rule] = counts.get(p.rule, 0) + 1
        return counts

    def summary(self, limit: int = MAX_LISTED) -> str:
        """A one-line head (source, problem count, count per rule), then up to ``limit`` problems
        one per line, then ``... and N more`` when there are more."""
        n_bad = len(self.bad_rows)
        counts = ", ".join(f"{k}: {v}" for k, v in self.rules().items())
        head = f"{self.source}: {len(self.problems)} problem(s) in {n_bad} of {self.n_rows} rows ({counts})"
        lines = [head]
        lines += ["  " + p.describe() for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"  ... and {len(self.problems) - limit} more (see .report.problems)")
        return "\n".join(lines)


def check_policy(policy: str) -> None:
    """Raise ConfigError unless ``policy`` is one of raise, warn, drop."""
    if policy not in POLICIES:
        raise ConfigError(f"unknown validation policy {policy!r}; use one of {', '.join(POLICIES)}")


class _Collector:
    __slots__ = ("lines", "problems", "timestamps")

    def __init__(self, timestamps: np.ndarray, lines: np.ndarray | None) -> None:
        self.timestamps = timestamps
        self.lines = lines
        self.problems: list[Problem] = []

    def add(
        self, rows: np.ndarray, rule: str, columns: Sequence[str], details: Sequence[str]
    ) -> None:
        for r, d in zip(rows.tolist(), details):
            line = None if self.lines is None else int(self.lines[r])
            self.problems.append(Problem(r, self.timestamps[r], rule, tuple(columns), d, line))


def _fmt(x: float) -> str:
    return repr(float(x))


_NAT = np.iinfo(np.int64).min  # NaT as an int64


def check_timestamps(col: _Collector, timestamps: np.ndarray) -> None:
    """Add missing, duplicate and unordered timestamp problems."""
    n = timestamps.shape[0]
    if n == 0:
        return
    ints = timestamps.view(np.int64)
    # strictly increasing from a valid first one (NaT is the smallest int64): none missing, none
    # repeated, none out of order
    if ints[0] != _NAT and (n == 1 or bool((ints[1:] > ints[:-1]).all())):
        return
    nat = np.isnat(timestamps)
    if nat.any():
        rows = np.flatnonzero(nat)
        col.add(rows, "missing_timestamp", ("timestamp",), ["timestamp is missing"] * rows.size)
    valid = ~nat
    idx = np.flatnonzero(valid)
    if idx.size < 2:
        return
    vals = ints[idx]
    # duplicates: rows whose value appeared at an earlier row
    order = np.argsort(vals, kind="stable")
    sorted_vals = vals[order]
    same = np.flatnonzero(sorted_vals[1:] == sorted_vals[:-1]) + 1
    dup_rows = np.zeros(0, dtype=np.int64)
    if same.size:
        # first row of each run of equal values
        run_start = np.flatnonzero(np.r_[True, sorted_vals[1:] != sorted_vals[:-1]])
        first_of = run_start[np.searchsorted(run_start, same, side="right") - 1]
        dup_rows = idx[order[same]]
        first_rows = idx[order[first_of]]
        sort = np.argsort(dup_rows)
        dup_rows, first_rows = dup_rows[sort], first_rows[sort]
        col.add(
            dup_rows,
            "duplicate_timestamp",
            ("timestamp",),
            [f"same timestamp as row {f}" for f in first_rows.tolist()],
        )
    # unordered: earlier than the running maximum of the rows before (duplicates excluded)
    running = np.maximum.accumulate(vals)
    prev_max = np.r_[np.iinfo(np.int64).min, running[:-1]]
    back = np.flatnonzero(vals < prev_max)
    if back.size and dup_rows.size:
        back = back[~np.isin(idx[back], dup_rows)]
    if back.size:
        rows = idx[back]
        argmax_prev = np.maximum.accumulate(np.where(vals == running, np.arange(vals.size), 0))
        prev_rows = idx[argmax_prev[back - 1]]
        col.add(
            rows,
            "unordered_timestamp",
            ("timestamp",),
            [
                f"earlier than row {p} ({format_timestamp(timestamps[p])})"
                for p in prev_rows.tolist()
            ],
        )


def check_finite(col: _Collector, name: str, values: np.ndarray, rule: str) -> None:
    """Add a problem for every NaN or infinite value of the column ``name``."""
    finite = np.isfinite(values)
    if finite.all():
        return
    bad = np.flatnonzero(~finite)
    if bad.size:
        col.add(bad, rule, (name,), [f"{name}={_fmt(v)}" for v in values[bad].tolist()])


def check_bars(
    col: _Collector, values: Mapping[str, np.ndarray], names: Mapping[str, str] | None = None
) -> None:
    """Add the price-bar problems of the fields among open, high, low, close, volume in ``values``.

    The one definition of the OHLCV rules (``non_finite_price``, ``non_finite_volume``,
    ``negative_volume``, ``high_below_low``, ``high_below_body``, ``low_above_body``), used by
    :meth:`OHLCV.validate <swets_timeseries.OHLCV.validate>` and
    :func:`~swets_timeseries.validate_bars`. A rule whose columns are absent is not checked; the
    body is ``open`` and ``close`` (or the one of them present). ``names`` maps a field to the
    column name shown in problems (default: the field).

    Args:
        col: the collector the problems go to.
        values: field -> (n,) float array.
        names: field -> column name in messages.
    """
    label = {f: (names or {}).get(f, f) for f in values}
    for field in ("open", "high", "low", "close"):
        if field in values:
            check_finite(col, label[field], values[field], "non_finite_price")
    with np.errstate(invalid="ignore"):
        if "volume" in values:
            v, name = values["volume"], label["volume"]
            check_finite(col, name, v, "non_finite_volume")
            neg = np.flatnonzero(v < 0)
            col.add(neg, "negative_volume", (name,), [f"{name}={_fmt(x)} < 0" for x in v[neg]])
        if "high" in values and "low" in values:
            h, lo = values["high"], values["low"]
            bad = np.flatnonzero(h < lo)
            col.add(
                bad,
                "high_below_low",
                (label["high"], label["low"]),
                [f"{label['high']}={_fmt(h[i])} < {label['low']}={_fmt(lo[i])}" for i in bad],
            )
        body = [f for f in ("open", "close") if f in values]
        for side, rule, compare, reduce in (
            ("high", "high_below_body", np.less, np.maximum),
            ("low", "low_above_body", np.greater, np.minimum),
        ):
            if side not in values or not body:
                continue
            x = values[side]
            edge = values[body[0]] if len(body) == 1 else reduce(values["open"], values["close"])
            bad = np.flatnonzero(compare(x, edge))
            sign, fn = ("<", "max") if side == "high" else (">", "min")
            parts = [[f"{label[f]}={_fmt(values[f][i])}" for f in body] for i in bad]
            what = [p[0] if len(p) == 1 else f"{fn}({', '.join(p)})" for p in parts]
            col.add(
                bad,
                rule,
                (label[side], *(label[f] for f in body)),
                [f"{label[side]}={_fmt(x[i])} {sign} {w}" for i, w in zip(bad, what)],
            )


def bar_report(
    timestamps: np.ndarray,
    values: Mapping[str, np.ndarray],
    *,
    policy: str,
    source: str,
    names: Mapping[str, str] | None = None,
    lines: np.ndarray | None = None,
    problems: Sequence[Problem] = (),
    stacklevel: int = 2,
) -> ValidationReport:
    """Validate price bars: the timestamp rules, then :func:`check_bars` on ``values`` (field ->
    (n,) array, shown as ``names``), then ``policy`` (see :func:`finish`). ``problems`` found
    upstream are merged in; ``stacklevel`` places a warning as :func:`warnings.warn` counts from
    this function."""
    col = _Collector(timestamps, lines)
    col.problems.extend(problems)
    check_timestamps(col, timestamps)
    check_bars(col, values, names)
    n = int(timestamps.shape[0])
    return finish(col, source=source, policy=policy, n_rows=n, stacklevel=stacklevel + 1)


def finish(
    col: _Collector, *, source: str, policy: str, n_rows: int, stacklevel: int = 3
) -> ValidationReport:
    """Order the problems, apply ``policy`` and return the report (drops are computed by callers)."""
    problems = tuple(sorted(col.problems, key=lambda p: p.row))
    if not problems:
        return ValidationReport(source, policy, n_rows, ())
    dropped = np.zeros(0, dtype=np.int64)
    if policy == "drop":
        dropped = np.unique(np.array([p.row for p in problems], dtype=np.int64))
    report = ValidationReport(source, policy, n_rows, problems, dropped)
    if policy == "raise":
        err = DataValidationError(
            report.summary()
            + "\n(use policy='warn' to keep the rows or policy='drop' to remove them)"
        )
        err.report = report  # type: ignore[attr-defined]
        raise err
    if policy == "warn":
        msg = report.summary() + "\nthe rows were kept unchanged (policy='warn')"
    else:
        msg = (
            report.summary()
            + f"\ndropped {dropped.size} row(s) (policy='drop'): rows "
            + listing(dropped)
        )
    warnings.warn(DataQualityWarning(msg, report), stacklevel=stacklevel)
    return report


# the names the package's lazy_exports table lists for this module, and those only it exports
__all__ = [
    *exports_of(__name__),
    "POLICIES",
    "Policy",
    "bar_report",
    "check_bars",
    "check_policy",
    "listing",
]  # and the package's table
