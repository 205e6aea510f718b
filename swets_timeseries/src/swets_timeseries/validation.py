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
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import attrs
import numpy as np

from swets_core.errors import ConfigError, DataValidationError
from swets_timeseries._time import format_timestamp

Policy = Literal["raise", "warn", "drop"]
POLICIES = ("raise", "warn", "drop")
MAX_LISTED = 20


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

    def rules(self) -> dict[str, int]:
        """Number of problems per rule."""
        counts: dict[str, int] = {}
        for p in self.problems:
            counts[p.rule] = counts.get(p.rule, 0) + 1
        return counts

    def summary(self, limit: int = MAX_LISTED) -> str:
        """A readable multi-line summary listing up to ``limit`` problems."""
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


def check_timestamps(col: _Collector, timestamps: np.ndarray) -> None:
    """Add missing, duplicate and unordered timestamp problems."""
    n = timestamps.shape[0]
    if n == 0:
        return
    nat = np.isnat(timestamps)
    if nat.any():
        rows = np.flatnonzero(nat)
        col.add(rows, "missing_timestamp", ("timestamp",), ["timestamp is missing"] * rows.size)
    ints = timestamps.view(np.int64)
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
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        col.add(bad, rule, (name,), [f"{name}={_fmt(v)}" for v in values[bad].tolist()])


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
            + _short_list(dropped)
        )
    warnings.warn(DataQualityWarning(msg, report), stacklevel=stacklevel)
    return report


def _short_list(rows: np.ndarray, limit: int = MAX_LISTED) -> str:
    items = rows[:limit].tolist()
    text = ", ".join(str(r) for r in items)
    if rows.size > limit:
        text += f", ... ({rows.size - limit} more)"
    return text


__all__ = [
    "POLICIES",
    "DataQualityWarning",
    "Policy",
    "Problem",
    "ValidationReport",
    "check_policy",
]
