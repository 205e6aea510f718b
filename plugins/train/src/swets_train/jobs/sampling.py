"""What a job reads off the sampling interval of its timestamps: the step
(:func:`sampling_step`), the calendar features it adds by default (:func:`default_calendar`) and
the seasonal period (:func:`default_season_length`)."""

from __future__ import annotations

import numpy as np

from swets_core.lazy import exports_of

__all__ = [*exports_of(__name__), "sampling_step"]


def sampling_step(timestamps: np.ndarray) -> int | None:
    """The most common positive step between the (last 5000) ``timestamps``, in nanoseconds;
    None with fewer than 3 timestamps or no positive step."""
    ts = np.asarray(timestamps, dtype="datetime64[ns]")
    if ts.shape[0] < 3:
        return None
    diffs = np.diff(ts[-5000:]).astype(np.int64)
    diffs = diffs[diffs > 0]
    if diffs.size == 0:
        return None
    values, counts = np.unique(diffs, return_counts=True)
    return int(values[np.argmax(counts)])


_DAY = 86_400 * 10**9


def default_calendar(timestamps: np.ndarray) -> tuple[str, ...]:
    """The calendar features a job adds by default (``data.calendar = "auto"``), from the sampling
    interval: sub-daily data ``hour`` and ``dayofweek``; daily ``dayofweek`` and ``dayofyear``;
    weekly ``dayofyear``; monthly to quarterly ``month``; none for yearly or irregular data."""
    step = sampling_step(timestamps)
    if step is None:
        return ()
    if step < _DAY:
        return ("hour", "dayofweek")
    if step == _DAY:
        return ("dayofweek", "dayofyear")
    days = step / _DAY
    if 6.5 <= days <= 7.5:
        return ("dayofyear",)
    if 27.5 <= days <= 92.5:
        return ("month",)
    return ()


def default_season_length(timestamps: np.ndarray) -> int:
    """The seasonal period implied by the sampling interval of ``timestamps``.

    Sub-daily data: one day (48 for half-hourly, 24 for hourly); daily data: a week (5 when only
    weekdays occur, as in market data, else 7); weekly 52, monthly 12, quarterly 4; otherwise 1.
    """
    step = sampling_step(timestamps)
    if step is None:
        return 1
    day = _DAY
    if step < day:
        return day // step if day % step == 0 else 1
    if step == day:
        ts = np.asarray(timestamps, dtype="datetime64[ns]")
        weekday = (ts.astype("datetime64[D]").astype(np.int64) + 3) % 7  # Monday = 0
        return 5 if bool((weekday < 5).all()) else 7
    days = step / day
    if 6.5 <= days <= 7.5:
        return 52
    if 27.5 <= days <= 31.5:
        return 12
    if 89 <= days <= 92.5:
        return 4
    return 1
