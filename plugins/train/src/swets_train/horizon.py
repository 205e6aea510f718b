"""The horizon beyond the end of a series: its timestamps and its known covariates' values.

The horizon's timestamps are those of the rows after a series' last target value (future rows), or
of a separate ``future=`` frame, continued at the series' sampling interval when they are fewer
(:func:`horizon_timestamps`); the known covariates' values over the horizon come from the same rows.
A known covariate missing for a step of the horizon is an error naming the column and the first
timestamp without a value, never a silent fallback. :class:`~swets_train.Forecaster` reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from swets_core.errors import DataValidationError

__all__ = ["horizon_timestamps"]


def _future_timestamps(ts: np.ndarray, horizon: int, sid: str) -> np.ndarray:
    if ts.shape[0] < 2:
        raise DataValidationError(
            f"series {sid!r}: needs at least two timestamps to continue its sampling interval"
        )
    last = ts[-1000:].view(np.int64)
    diffs = last[1:] - last[:-1]
    step = diffs[-1]
    if not (diffs == step).all():  # the most common interval
        values, counts = np.unique(diffs, return_counts=True)
        step = values[np.argmax(counts)]
    if step <= 0:
        raise DataValidationError(f"series {sid!r}: timestamps are not increasing")
    return ts[-1] + np.arange(1, horizon + 1, dtype=np.int64) * step.astype("timedelta64[ns]")


def _format(ts: np.datetime64) -> str:
    return np.datetime_as_string(ts, unit="s") + "Z"


def horizon_timestamps(
    sid: str, history: np.ndarray, future: np.ndarray | None, horizon: int, source: str
) -> np.ndarray:
    """The ``horizon`` timestamps after a series' ``history`` timestamps: those of its ``future``
    rows, continued at the history's sampling interval when they are fewer.

    Raises:
        DataValidationError: future rows that do not follow the history with increasing
            timestamps (``source`` names where they come from).
    """
    stamps = (
        np.empty(0, "datetime64[ns]") if future is None else np.asarray(future, "datetime64[ns]")
    )
    last = history[-1]
    if stamps.size and (stamps[0] <= last or (np.diff(stamps).astype(np.int64) <= 0).any()):
        raise DataValidationError(
            f"series {sid!r}: the future rows of {source} must follow the last target value "
            f"({_format(last)}) with increasing timestamps"
        )
    if stamps.size >= horizon:
        return stamps[:horizon]
    if not stamps.size:
        return _future_timestamps(history, horizon, sid)
    extra = _future_timestamps(np.concatenate([history, stamps]), horizon - stamps.size, sid)
    return np.concatenate([stamps, extra])


def _horizon_values(
    sid: str,
    history: np.ndarray,
    rows: Any,
    known: Sequence[str],
    horizon: int,
    source: str,
) -> tuple[np.ndarray, np.ndarray | None]:
    """``(timestamps (H,), known covariates (H, K) or None)`` of the horizon after the
    ``history`` timestamps (:func:`horizon_timestamps`) and the known covariates' values there,
    from ``rows``.

    Raises:
        DataValidationError: a known covariate without a value at a step of the horizon, naming
            the series, the column and the first timestamp without one.
    """
    stamps = None if rows is None else rows.timestamps
    ts = horizon_timestamps(sid, history, stamps, horizon, source)
    if not known:
        return ts, None
    stamps = np.empty(0, "datetime64[ns]") if stamps is None else stamps
    values = np.full((horizon, len(known)), np.nan)
    have = min(horizon, stamps.size)
    for j, name in enumerate(known):
        if rows is not None and name not in rows.values:
            raise DataValidationError(
                f"series {sid!r}: {source} has no column {name!r}, a known covariate of the model"
            )
        if have:
            values[:have, j] = rows.column(name)[:have]
    missing = ~np.isfinite(values)
    if missing.any():
        step = int(np.flatnonzero(missing.any(axis=1))[0])  # the first step missing a value,
        j = int(np.flatnonzero(missing[step])[0])  # and its first column without one
        raise DataValidationError(
            f"series {sid!r}: the known covariate {known[j]!r} has no value for "
            f"{_format(ts[step])} (step {step + 1} of the horizon of {horizon}); a forecast "
            f"needs the known covariates' values over the whole horizon: give them in rows "
            f"after the last target value (target empty), or in a table of future values "
            f"(--future FILE on the command line, future= in Python)"
        )
    return ts, values


def _history_length(s: Any, targets: Sequence[str]) -> int:
    """The rows of series ``s`` up to its last target value (all of them when the last row holds
    every target: the usual case, decided without reading the column)."""
    n = len(s)
    if n and all(np.isfinite(s.column(t)[n - 1]) for t in targets):
        return n
    return s.history_length()
