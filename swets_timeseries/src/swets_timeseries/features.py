"""Causal features: the value at row ``t`` depends only on rows ``<= t``.

Every function takes numpy arrays (rows on axis 0) and returns float64 arrays of the same length.
Rows without enough history (the *warm-up*) are NaN, never zero-filled; each docstring says how many.
NaN in the input propagates: a window containing a NaN gives NaN, and for the recursive features
(EMA, MACD, RSI, ATR, OBV, cumulative VWAP) a NaN after the start makes every later value NaN
(leading NaN, such as another feature's warm-up, is skipped: the recursion starts at the first
finite value). Validate the data first.

Rolling windows are computed with :func:`numpy.lib.stride_tricks.sliding_window_view` in blocks
(two-pass, numerically stable, bounded memory); recursions with a block-wise closed form, so there is
no Python loop over rows.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from swets_core.checks import check_count
from swets_core.errors import ConfigError, ShapeError

_BLOCK_ELEMENTS = 1 << 22


# -- helpers ---------------------------------------------------------------------------------
def _arr(x: Any, name: str = "x", ndim: tuple[int, ...] = (1, 2)) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim not in ndim:
        raise ShapeError(
            f"{name} must have {' or '.join(map(str, ndim))} dimension(s), got shape {a.shape}"
        )
    return a


def _same_length(**arrays: np.ndarray) -> int:
    lengths = {k: v.shape[0] for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ShapeError(f"inputs must have the same length, got {lengths}")
    return next(iter(lengths.values()))


def _window(window: int, name: str = "window", minimum: int = 1) -> int:
    return check_count(window, name, minimum)


def _rolling(x: np.ndarray, window: int, fn: Any, **kwargs: Any) -> np.ndarray:
    """``fn(window_values, axis=-1)`` for every full window ending at each row; NaN before."""
    n = x.shape[0]
    out = np.full(x.shape, np.nan)
    if window > n:
        return out
    view = sliding_window_view(x, window, axis=0)  # (n - w + 1, ..., w)
    count = view.shape[0]
    per_row = window * (x.size // max(n, 1))
    block = max(1, _BLOCK_ELEMENTS // max(per_row, 1))
    for lo in range(0, count, block):
        hi = min(count, lo + block)
        out[window - 1 + lo : window - 1 + hi] = fn(view[lo:hi], axis=-1, **kwargs)
    return out


def _shift(x: np.ndarray, k: int) -> np.ndarray:
    out = np.full(x.shape, np.nan)
    if k < x.shape[0]:
        out[k:] = x[: x.shape[0] - k]
    return out


def _first_finite(x: np.ndarray) -> int:
    idx = np.flatnonzero(np.isfinite(x))
    return int(idx[0]) if idx.size else x.shape[0]


def _recurrence(b: np.ndarray, decay: float, carry: float) -> np.ndarray:
    """``y[t] = decay * y[t-1] + b[t]`` with ``y[-1] = carry``, block-wise in closed form.

    Within a block of length m: ``y[k] = decay**k * (decay * carry + sum_{j<=k} b[j] decay**-j)``;
    the block length keeps ``decay**-j`` below 1e100, so nothing overflows and the absolute error
    stays at rounding level of the smoothed magnitude."""
    n = b.shape[0]
    out = np.empty(n)
    if n == 0:
        return out
    if decay == 0.0:
        out[:] = b
        return out
    m = max(1, min(n, int(230.0 / -math.log(decay)) if decay < 1.0 else n))
    powers = decay ** np.arange(m, dtype=np.float64)
    inv = 1.0 / powers
    for lo in range(0, n, m):
        hi = min(n, lo + m)
        k = hi - lo
        s = np.cumsum(b[lo:hi] * inv[:k])
        out[lo:hi] = powers[:k] * (decay * carry + s)
        carry = out[hi - 1]
    return out


def _smooth_from(x: np.ndarray, alpha: float, start: int, seed: float) -> np.ndarray:
    """NaN before ``start``; ``seed`` at ``start``; then ``y = (1 - alpha) y + alpha x``."""
    out = np.full(x.shape[0], np.nan)
    if start >= x.shape[0]:
        return out
    out[start] = seed
    out[start + 1 :] = _recurrence(alpha * x[start + 1 :], 1.0 - alpha, seed)
    return out


def _per_column(fn: Any, x: np.ndarray, *args: Any, **kwargs: Any) -> np.ndarray:
    if x.ndim == 1:
        return fn(x, *args, **kwargs)
    return np.stack([fn(x[:, j], *args, **kwargs) for j in range(x.shape[1])], axis=1)


# -- returns and lags ------------------------------------------------------------------------
def returns(x: Any, periods: int = 1) -> np.ndarray:
    """Simple returns ``x[t] / x[t - periods] - 1``. Shape (n,) or (n, k). Warm-up: ``periods`` rows."""
    a = _arr(x)
    k = _window(periods, "periods")
    with np.errstate(divide="ignore", invalid="ignore"):
        return a / _shift(a, k) - 1.0


def log_returns(x: Any, periods: int = 1) -> np.ndarray:
    """Log returns ``log(x[t] / x[t - periods])``. Shape (n,) or (n, k). Warm-up: ``periods`` rows."""
    a = _arr(x)
    k = _window(periods, "periods")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(a / _shift(a, k))


def lag(x: Any, k: int = 1) -> np.ndarray:
    """``x[t - k]`` (``k >= 0``). Shape (n,) or (n, m). Warm-up: ``k`` rows."""
    return _shift(_arr(x), _window(k, "k", minimum=0))


def lags(x: Any, ks: Any) -> np.ndarray:
    """Several lags of a 1-D series as columns: (n,) -> (n, len(ks))."""
    a = _arr(x, ndim=(1,))
    ks = list(ks)
    if not ks:
        raise ConfigError("lags() needs at least one lag")
    return np.stack([lag(a, k) for k in ks], axis=1)


# -- rolling statistics ----------------------------------------------------------------------
def rolling_mean(x: Any, window: int) -> np.ndarray:
    """Mean of the last ``window`` rows (including ``t``). Warm-up: ``window - 1`` rows."""
    return _rolling(_arr(x), _window(window), np.mean)


def rolling_std(x: Any, window: int, ddof: int = 1) -> np.ndarray:
    """Standard deviation of the last ``window`` rows, ``ddof`` as numpy (1 = sample, pandas'
    default). Warm-up: ``window - 1`` rows."""
    w = _window(window, minimum=ddof + 1)
    return _rolling(_arr(x), w, np.std, ddof=ddof)


def rolling_min(x: Any, window: int) -> np.ndarray:
    """Minimum of the last ``window`` rows. Warm-up: ``window - 1`` rows."""
    return _rolling(_arr(x), _window(window), np.min)


def rolling_max(x: Any, window: int) -> np.ndarray:
    """Maximum of the last ``window`` rows. Warm-up: ``window - 1`` rows."""
    return _rolling(_arr(x), _window(window), np.max)


def rolling_zscore(x: Any, window: int, ddof: int = 1) -> np.ndarray:
    """``(x[t] - mean) / std`` over the last ``window`` rows (including ``t``); NaN where the
    window's std is 0. Warm-up: ``window - 1`` rows."""
    a = _arr(x)
    mean = rolling_mean(a, window)
    std = rolling_std(a, window, ddof)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(std > 0, (a - mean) / std, np.nan)


# -- moving averages and oscillators ---------------------------------------------------------
def _alpha(span: float | None, alpha: float | None) -> float:
    if (span is None) == (alpha is None):
        raise ConfigError("give exactly one of span= and alpha=")
    if span is not None:
        if span < 1:
            raise ConfigError(f"span must be >= 1, got {span}")
        return 2.0 / (span + 1.0)
    assert alpha is not None
    if not 0.0 < alpha <= 1.0:
        raise ConfigError(f"alpha must be in (0, 1], got {alpha}")
    return float(alpha)


def _ema_1d(a: np.ndarray, alpha: float, min_periods: int) -> np.ndarray:
    s = _first_finite(a)
    out = _smooth_from(a, alpha, s, a[s] if s < a.shape[0] else np.nan)
    out[: min(a.shape[0], s + min_periods - 1)] = np.nan
    return out


def ema(
    x: Any, span: float | None = None, *, alpha: float | None = None, min_periods: int | None = None
) -> np.ndarray:
    """Exponential moving average ``y[t] = alpha x[t] + (1 - alpha) y[t-1]``, ``y[s] = x[s]`` at the
    first finite row ``s``, ``alpha = 2 / (span + 1)`` (pandas ``ewm(adjust=False)``).

    Warm-up: the first ``min_periods - 1`` rows after ``s`` (default ``min_periods = span`` rounded
    up, or 1 with ``alpha``) are NaN. Shape (n,) or (n, k)."""
    a = _arr(x)
    al = _alpha(span, alpha)
    if min_periods is None:
        min_periods = math.ceil(span) if span is not None else 1
    mp = _window(min_periods, "min_periods")
    return _per_column(_ema_1d, a, al, mp)


def _wilder(values: np.ndarray, window: int, first: int) -> np.ndarray:
    """Wilder's smoothing of ``values`` whose first defined row is ``first``: seeded at
    ``first + window - 1`` with the mean of ``window`` values, then alpha = 1/window."""
    start = first + window - 1
    if start >= values.shape[0]:
        return np.full(values.shape[0], np.nan)
    seed = float(np.mean(values[first : start + 1]))
    return _smooth_from(values, 1.0 / window, start, seed)


def rsi(close: Any, window: int = 14) -> np.ndarray:
    """Relative Strength Index with Wilder's smoothing, in [0, 100].

    Average gain and loss are seeded with the mean of the first ``window`` price changes and then
    smoothed with alpha = 1/window; ``RSI = 100 * gain / (gain + loss)`` (= ``100 - 100/(1 + RS)``),
    50 when both are 0 (no movement). Warm-up: ``window`` rows (after leading NaN)."""
    c = _arr(close, "close", (1,))
    w = _window(window)
    s = _first_finite(c)
    delta = np.full(c.shape[0], np.nan)
    delta[1:] = c[1:] - c[:-1]
    gain = np.where(delta > 0, delta, np.where(np.isnan(delta), np.nan, 0.0))
    loss = np.where(delta < 0, -delta, np.where(np.isnan(delta), np.nan, 0.0))
    g = _wilder(gain, w, s + 1)
    lo = _wilder(loss, w, s + 1)
    total = g + lo
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, 100.0 * g / total, np.where(np.isnan(total), np.nan, 50.0))


class MACD(NamedTuple):
    """MACD line, signal line and histogram, each (n,)."""

    macd: np.ndarray
    signal: np.ndarray
    histogram: np.ndarray


def macd(close: Any, fast: int = 12, slow: int = 26, signal: int = 9) -> MACD:
    """Moving Average Convergence Divergence: ``macd = ema(close, fast) - ema(close, slow)``,
    ``signal = ema(macd, signal)``, ``histogram = macd - signal`` (EMAs as :func:`ema`).

    Warm-up: ``slow - 1`` rows for the MACD line, ``slow + signal - 2`` for signal and histogram."""
    c = _arr(close, "close", (1,))
    f, s, g = _window(fast, "fast"), _window(slow, "slow"), _window(signal, "signal")
    if f >= s:
        raise ConfigError(f"macd needs fast < slow, got fast={f}, slow={s}")
    line = ema(c, f) - ema(c, s)
    sig = ema(line, g)
    return MACD(line, sig, line - sig)


class Bollinger(NamedTuple):
    """Bollinger bands, each (n,): middle (rolling mean), upper, lower, and %b
    ``(x - lower) / (upper - lower)`` (NaN when the bands coincide)."""

    middle: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    percent_b: np.ndarray


def bollinger(close: Any, window: int = 20, k: float = 2.0, ddof: int = 0) -> Bollinger:
    """Bollinger bands ``mean +- k * std`` over ``window`` rows (population std, ``ddof=0``, as in
    Bollinger's definition). Warm-up: ``window - 1`` rows."""
    c = _arr(close, "close", (1,))
    mid = rolling_mean(c, window)
    std = rolling_std(c, window, ddof)
    upper, lower = mid + k * std, mid - k * std
    width = upper - lower
    with np.errstate(divide="ignore", invalid="ignore"):
        pb = np.where(width > 0, (c - lower) / width, np.nan)
    return Bollinger(mid, upper, lower, pb)


def true_range(high: Any, low: Any, close: Any) -> np.ndarray:
    """``max(high - low, |high - prev close|, |low - prev close|)``; row 0 is NaN (no previous
    close)."""
    h, lo, c = _arr(high, "high", (1,)), _arr(low, "low", (1,)), _arr(close, "close", (1,))
    _same_length(high=h, low=lo, close=c)
    prev = _shift(c, 1)
    tr = np.maximum(np.maximum(h - lo, np.abs(h - prev)), np.abs(lo - prev))
    tr[np.isnan(prev)] = np.nan
    return tr


def atr(high: Any, low: Any, close: Any, window: int = 14) -> np.ndarray:
    """Average True Range with Wilder's smoothing: seeded with the mean of the true ranges of rows
    1..window, then alpha = 1/window. Warm-up: ``window`` rows."""
    tr = true_range(high, low, close)
    return _wilder(tr, _window(window), _first_finite(tr))


def obv(close: Any, volume: Any) -> np.ndarray:
    """On-Balance Volume: 0 at row 0, then ``+volume`` on an up close, ``-volume`` on a down close,
    unchanged on an equal close. No warm-up (it is a running total from row 0)."""
    c, v = _arr(close, "close", (1,)), _arr(volume, "volume", (1,))
    n = _same_length(close=c, volume=v)
    out = np.zeros(n)
    if n > 1:
        out[1:] = np.cumsum(np.sign(c[1:] - c[:-1]) * v[1:])
    return out


def vwap(
    high: Any,
    low: Any,
    close: Any,
    volume: Any,
    window: int | None = None,
    *,
    timestamps: Any = None,
    reset: str | None = None,
) -> np.ndarray:
    """Volume-weighted average price of the typical price ``(high + low + close) / 3``.

    Args:
        window: None for the cumulative VWAP since row 0 (or since the session start with
            ``reset="day"``); an int for a rolling VWAP over the last ``window`` rows.
        timestamps: (n,) datetime64, needed with ``reset="day"`` (sessions are UTC days).
        reset: None or ``"day"`` (cumulative VWAP restarting at each UTC day).

    Rows whose cumulated or windowed volume is 0 are NaN. Warm-up: none (cumulative) or
    ``window - 1`` rows (rolling)."""
    h, lo, c = _arr(high, "high", (1,)), _arr(low, "low", (1,)), _arr(close, "close", (1,))
    v = _arr(volume, "volume", (1,))
    n = _same_length(high=h, low=lo, close=c, volume=v)
    pv = (h + lo + c) / 3.0 * v
    if window is not None:
        if reset is not None:
            raise ConfigError("vwap(): give either window= or reset=, not both")
        w = _window(window)
        num = _rolling(pv, w, np.sum)
        den = _rolling(v, w, np.sum)
    else:
        num, den = np.cumsum(pv), np.cumsum(v)
        if reset is not None:
            if reset != "day":
                raise ConfigError(f"vwap(reset=) must be None or 'day', got {reset!r}")
            if timestamps is None:
                raise ConfigError("vwap(reset='day') needs timestamps=")
            days = np.asarray(timestamps).astype("datetime64[D]").astype(np.int64)
            if days.shape[0] != n:
                raise ShapeError(f"timestamps has {days.shape[0]} rows, prices {n}")
            starts = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])
            group = np.cumsum(np.r_[True, days[1:] != days[:-1]]) - 1
            base_num = np.r_[0.0, num][starts][group]
            base_den = np.r_[0.0, den][starts][group]
            num, den = num - base_num, den - base_den
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den != 0, num / den, np.nan)


# -- volatility ------------------------------------------------------------------------------
def _annualize(x: np.ndarray, periods: float | None) -> np.ndarray:
    if periods is None:
        return x
    if periods <= 0:
        raise ConfigError(f"annualize must be a positive number of periods per year, got {periods}")
    return x * math.sqrt(periods)


def realized_volatility(
    close: Any, window: int = 20, *, annualize: float | None = None
) -> np.ndarray:
    """Close-to-close volatility: sample std (ddof=1) of the last ``window`` log returns, times
    ``sqrt(annualize)`` when given (e.g. 252). Warm-up: ``window`` rows."""
    r = log_returns(_arr(close, "close", (1,)))
    return _annualize(rolling_std(r, _window(window, minimum=2), ddof=1), annualize)


def parkinson_volatility(
    high: Any, low: Any, window: int = 20, *, annualize: float | None = None
) -> np.ndarray:
    """Parkinson (1980) range estimator ``sqrt(mean(log(high/low)^2) / (4 log 2))`` over ``window``
    rows. Warm-up: ``window - 1`` rows."""
    h, lo = _arr(high, "high", (1,)), _arr(low, "low", (1,))
    _same_length(high=h, low=lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        hl = np.log(h / lo) ** 2
        return _annualize(np.sqrt(rolling_mean(hl, window) / (4.0 * math.log(2.0))), annualize)


def garman_klass_volatility(
    open: Any, high: Any, low: Any, close: Any, window: int = 20, *, annualize: float | None = None
) -> np.ndarray:
    """Garman-Klass (1980) estimator
    ``sqrt(mean(0.5 log(high/low)^2 - (2 log 2 - 1) log(close/open)^2))`` over ``window`` rows.
    Warm-up: ``window - 1`` rows."""
    o, h = _arr(open, "open", (1,)), _arr(high, "high", (1,))
    lo, c = _arr(low, "low", (1,)), _arr(close, "close", (1,))
    _same_length(open=o, high=h, low=lo, close=c)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = 0.5 * np.log(h / lo) ** 2 - (2.0 * math.log(2.0) - 1.0) * np.log(c / o) ** 2
        return _annualize(np.sqrt(rolling_mean(term, window)), annualize)


# -- calendar --------------------------------------------------------------------------------
CALENDAR = ("hour", "dayofweek", "dayofmonth", "dayofyear", "month", "holiday")
"""The calendar features :func:`calendar` generates."""


def _timestamps(timestamps: Any, what: str) -> np.ndarray:
    ts = np.asarray(timestamps)
    if ts.dtype.kind != "M" or ts.ndim != 1:
        raise ConfigError(f"{what} needs 1-D datetime64 timestamps, got {ts.dtype} {ts.shape}")
    return ts.astype("datetime64[ns]")


def _phase(ts: np.ndarray, name: str) -> np.ndarray:
    """Where in its cycle each timestamp lies, in [0, 1): the hour of the day (minutes
    included), the day of the week (Monday 0), of the month, of the year, the month (January 0)."""
    days = ts.astype("datetime64[D]")
    if name == "hour":
        return (ts - days).astype(np.int64) / 8.64e13
    if name == "dayofweek":
        return ((days.astype(np.int64) + 3) % 7) / 7.0  # 1970-01-01 was a Thursday
    months = ts.astype("datetime64[M]")
    if name == "month":
        return (months.astype(np.int64) % 12) / 12.0
    if name == "dayofmonth":
        length = ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")).astype(
            np.int64
        )
        return (days - months.astype("datetime64[D]")).astype(np.int64) / length
    years = ts.astype("datetime64[Y]")
    start = years.astype("datetime64[D]")
    length = ((years + 1).astype("datetime64[D]") - start).astype(np.int64)
    return (days - start).astype(np.int64) / length  # dayofyear


def holiday_dates(dates: Any, what: str = "holidays") -> np.ndarray:
    """A sorted, unique ``datetime64[D]`` array of the dates ``dates`` names (ISO text such as
    ``"2024-12-25"``, datetime64, ``datetime.date``); ConfigError names one that is not a date."""
    from swets_timeseries._time import to_datetime64

    out = []
    for i, d in enumerate(list(dates)):
        try:
            out.append(to_datetime64(d, what=f"{what}[{i}]").astype("datetime64[D]"))
        except Exception as exc:
            raise ConfigError(f"{what}[{i}]: {d!r} is not a date ({exc})") from None
    return np.unique(np.asarray(out, dtype="datetime64[D]"))


def calendar(
    timestamps: Any, names: Any = ("hour", "dayofweek", "month"), holidays: Any = None
) -> dict[str, np.ndarray]:
    """Calendar features of UTC timestamps, each (n,) float64: known-future covariates (they
    depend on the row's own timestamp only, so they are known for any future time). No warm-up.

    Args:
        timestamps: (n,) datetime64.
        names: features among :data:`CALENDAR`. Each cyclical one (``hour``: of the day, minutes
            included; ``dayofweek``: Monday first; ``dayofmonth``; ``dayofyear``; ``month``) gives
            two columns ``<name>_sin`` and ``<name>_cos``, ``sin(2 pi f)`` and ``cos(2 pi f)`` of
            its phase ``f`` in [0, 1) (neighbours on the cycle, such as Sunday and Monday or
            December and January, stay neighbours, and two numbers cover the whole cycle);
            ``holiday`` gives one column, 1.0 on the dates of ``holidays`` and 0.0 elsewhere.
        holidays: the holiday dates (see :func:`holiday_dates`); compared with the UTC date of
            each timestamp. Required by ``holiday``.

    Raises:
        ConfigError: an unknown name (with the known ones), ``holiday`` without dates, or
            timestamps that are not 1-D datetime64.
    """
    ts = _timestamps(timestamps, "calendar()")
    names = [names] if isinstance(names, str) else list(names)
    out: dict[str, np.ndarray] = {}
    nat = np.isnat(ts)
    for name in names:
        if name not in CALENDAR:
            raise ConfigError(f"calendar(): unknown feature {name!r}; known: {', '.join(CALENDAR)}")
        if name == "holiday":
            if holidays is None:
                raise ConfigError("calendar(): 'holiday' needs the holiday dates (holidays=)")
            days = holiday_dates(holidays)
            flag = np.isin(ts.astype("datetime64[D]"), days).astype(np.float64)
            out["holiday"] = np.where(nat, np.nan, flag)
            continue
        angle = 2.0 * math.pi * _phase(ts, name)
        out[f"{name}_sin"] = np.where(nat, np.nan, np.sin(angle))
        out[f"{name}_cos"] = np.where(nat, np.nan, np.cos(angle))
    return out


def calendar_columns(names: Any) -> list[str]:
    """The column names :func:`calendar` gives for ``names``, in its order."""
    cols: list[str] = []
    for name in [names] if isinstance(names, str) else names:
        cols += ["holiday"] if name == "holiday" else [f"{name}_sin", f"{name}_cos"]
    return cols


def with_calendar(data: Any, names: Any, holidays: Any = None) -> Any:
    """``data`` (a TimeSeries, SeriesCollection or list of them) with the :func:`calendar` columns
    of its timestamps added as known covariates (``holiday`` too when ``holidays`` are given), as
    a SeriesCollection; future rows get them too, since they depend on the timestamps only.
    Adding them again changes nothing.

    Raises:
        ConfigError: a column of that name already exists with other values (named).
    """
    from swets_timeseries.series import as_collection

    names = [names] if isinstance(names, str) else list(names)
    if holidays is not None and len(holidays) and "holiday" not in names:
        names.append("holiday")
    coll = as_collection(data)
    if not names:
        return coll
    cols = calendar_columns(names)

    def one(s: Any) -> Any:
        new = calendar(s.timestamps, names, holidays)
        for c in cols:  # a column of that name must already hold these values
            if c in s.values and not np.allclose(s.values[c], new[c], equal_nan=True):
                raise ConfigError(
                    f"series {s.id!r} already has a column {c!r}, which the calendar features "
                    "would replace; rename it or leave the calendar feature out"
                )
        return s.with_columns(known_covariates=cols, **new)

    return coll.map(one)


def calendar_features(timestamps: Any) -> dict[str, np.ndarray]:
    """Cyclical calendar features of UTC timestamps, each (n,) float64 in [-1, 1]:

    ``hour_sin``/``hour_cos`` (hour of day including minutes, period 24), ``dow_sin``/``dow_cos``
    (day of week, Monday = 0, period 7), ``month_sin``/``month_cos`` (month, January = 0,
    period 12): :func:`calendar` of ``hour``, ``dayofweek`` and ``month``, with the day of the
    week named ``dow``. No warm-up."""
    out = calendar(_timestamps(timestamps, "calendar_features()"), ("hour", "dayofweek", "month"))
    return {k.replace("dayofweek", "dow"): v for k, v in out.items()}


__all__ = [
    "CALENDAR",
    "MACD",
    "Bollinger",
    "atr",
    "bollinger",
    "calendar",
    "calendar_columns",
    "calendar_features",
    "ema",
    "garman_klass_volatility",
    "holiday_dates",
    "lag",
    "lags",
    "log_returns",
    "macd",
    "obv",
    "parkinson_volatility",
    "realized_volatility",
    "returns",
    "rolling_max",
    "rolling_mean",
    "rolling_min",
    "rolling_std",
    "rolling_zscore",
    "rsi",
    "true_range",
    "vwap",
    "with_calendar",
]
