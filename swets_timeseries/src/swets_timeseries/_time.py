"""Timestamps: everything in swets_timeseries is ``datetime64[ns]`` in UTC.

Parsing accepts ISO 8601 (``2000-06-05``, ``2000-06-05T00:30``, ``2000-06-05 00:30:00.5``, with an
optional ``Z`` or ``+HH:MM`` offset), ``YYYY/MM/DD`` dates, an explicit :func:`time.strptime` format,
or Unix epochs (``"unix"``, ``"unix_ms"``). Offsets are converted to UTC; naive timestamps are taken
to be in the zone ``tz`` (an IANA name such as ``"America/New_York"``, default UTC).
"""

from __future__ import annotations

import datetime as _dt
import re
import warnings
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from swets_core.errors import ConfigError, DataValidationError

NS = np.dtype("datetime64[ns]")
_MIN = np.datetime64("1678-01-01", "ns")
_MAX = np.datetime64("2262-01-01", "ns")
_MIN_NS, _MAX_NS = int(_MIN.astype(np.int64)), int(_MAX.astype(np.int64))
RANGE_TEXT = "1678-01-01 .. 2261-12-31 (datetime64[ns])"
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_ONE_US_NS = 1000


class TimestampParseError(ValueError):
    """Internal: the cell at ``index`` could not be parsed (callers add the file/row/column)."""

    def __init__(self, index: int, cell: str, reason: str) -> None:
        super().__init__(reason)
        self.index, self.cell, self.reason = index, cell, reason


def zone(tz: str | _dt.tzinfo | None) -> _dt.tzinfo | None:
    """Resolve ``tz`` (None, an IANA name, ``"UTC"`` or a tzinfo) to a tzinfo (None means UTC)."""
    if tz is None or isinstance(tz, _dt.tzinfo):
        return tz
    if not isinstance(tz, str):
        raise ConfigError(f"tz must be an IANA time-zone name or a tzinfo, got {tz!r}")
    if tz.upper() == "UTC":
        return None
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"unknown time zone {tz!r} (expected an IANA name such as 'Europe/London')"
        ) from exc


def _datetime_to_ns(value: _dt.datetime, tz: _dt.tzinfo | None) -> int:
    if value.tzinfo is None:
        if tz is not None:
            value = value.replace(tzinfo=tz)
        else:
            value = value.replace(tzinfo=_dt.timezone.utc)
    delta = value - _EPOCH
    ns = (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * _ONE_US_NS
    if not _MIN_NS <= ns < _MAX_NS:
        raise ValueError(f"{value.isoformat()} is outside the supported range {RANGE_TEXT}")
    return ns


_ZONE = re.compile(r"(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$")


def _zone_offset_ns(text: str) -> int:
    if text in ("Z", "z"):
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:4]) if len(digits) > 2 else 0
    return sign * (hours * 60 + minutes) * 60_000_000_000


def _parse_one(cell: str, fmt: str | None, tz: _dt.tzinfo | None) -> tuple[int, bool]:
    """One stripped cell -> (UTC nanoseconds since the epoch, written with an offset?).

    Raises ValueError when the cell is not a timestamp."""
    if fmt is not None:
        value = _dt.datetime.strptime(cell, fmt)
        return _datetime_to_ns(value, tz), value.tzinfo is not None
    text = cell
    if len(text) >= 10 and text[4] == "/" and text[7] == "/":
        text = text[:4] + "-" + text[5:7] + "-" + text[8:]
    offset_ns = None
    for sep in ("T", "t", " "):
        pos = text.find(sep)
        if pos >= 0:
            m = _ZONE.search(text, pos + 1)
            if m:
                offset_ns = _zone_offset_ns(m.group())
                text = text[: m.start()].rstrip()
            break
    if text[:1] in "+-" or not text[:4].isdigit():
        raise ValueError(f"unrecognised timestamp {cell!r}")
    # numpy keeps nanoseconds (datetime would truncate them); datetime checks the calendar.
    wall = _dt.datetime.fromisoformat(text.replace("t", "T"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            ns = int(np.datetime64(text, "ns").astype(np.int64))
        except (ValueError, UserWarning, DeprecationWarning):
            ns = _datetime_to_ns(wall, None)
    if (
        not _MIN_NS <= ns < _MAX_NS
        or int(np.int64(ns).view(NS).astype("datetime64[Y]").astype(np.int64)) + 1970 != wall.year
    ):
        raise ValueError(f"outside the supported range {RANGE_TEXT}")
    if offset_ns is not None:
        return ns - offset_ns, True
    if tz is not None:
        off = wall.replace(tzinfo=tz).utcoffset() or _dt.timedelta(0)
        return ns - int(off.total_seconds()) * 1_000_000_000, False
    return ns, False


def parse_timestamps(
    cells: Sequence[str] | np.ndarray,
    *,
    fmt: str | None = None,
    tz: str | _dt.tzinfo | None = None,
) -> np.ndarray:
    """Parse text cells to a ``datetime64[ns]`` UTC array.

    Args:
        cells: (n,) strings (surrounding blanks are ignored).
        fmt: None for ISO 8601 / ``YYYY/MM/DD`` detection, ``"unix"``/``"unix_ms"``/``"unix_us"``/
            ``"unix_ns"`` for epoch numbers, or a :meth:`datetime.datetime.strptime` format.
        tz: the zone of naive timestamps (default UTC); offsets written in the text always win.

    Returns:
        (n,) ``datetime64[ns]``.

    Raises:
        TimestampParseError: at the first cell that cannot be parsed (with its index).
    """
    out, bad = parse_timestamps_lenient(cells, fmt=fmt, tz=tz, stop_at_first=True)
    if bad:
        raise bad[0]
    return out


def _numpy_iso(text: np.ndarray) -> np.ndarray | None:
    """numpy's C parser for naive ISO 8601 text (int64 ns), or None if any cell is not such text.

    numpy also accepts ``now``/``today`` and silently wraps years outside the nanosecond range, so
    every cell must start with a 4-digit year that the parsed value keeps."""
    head = np.strings.slice(text, 0, 4)
    if not np.all(np.strings.isdigit(head) & (np.strings.str_len(head) == 4)):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            parsed = np.array(text, dtype=NS)
        except (ValueError, UserWarning, DeprecationWarning):
            return None
    years = parsed.astype("datetime64[Y]").astype(np.int64) + 1970
    if not np.array_equal(years, head.astype(np.int64)):
        return None
    return parsed.view(np.int64)


def _fast_iso(arr: np.ndarray) -> tuple[np.ndarray, bool] | None:
    """Vectorized parsing of a column in one uniform ISO form: naive, all ``Z``, or all with a
    fixed-width ``+HH:MM`` / ``+HHMM`` offset. Returns ``(ns, aware)`` or None (use the slow path)."""
    z = np.strings.endswith(arr, "Z") | np.strings.endswith(arr, "z")
    if z.all():
        ns = _numpy_iso(np.strings.rstrip(arr, "Zz"))
        return None if ns is None else (ns, True)
    if z.any():
        return None
    n = arr.shape[0]
    lengths = np.strings.str_len(arr)
    k = int(lengths[0])
    if k > 16 and np.all(lengths == k):
        cp = arr.astype(f"U{k}").view(np.uint32).reshape(n, k)
        for width, colon in ((6, True), (5, False)):
            sign = cp[:, k - width]
            if not np.all((sign == ord("+")) | (sign == ord("-"))):
                continue
            if colon and not np.all(cp[:, k - 3] == ord(":")):
                continue
            pos = [k - 5, k - 4, k - 2, k - 1] if colon else [k - 4, k - 3, k - 2, k - 1]
            d = cp[:, pos].astype(np.int64) - ord("0")
            if np.any((d < 0) | (d > 9)):
                return None
            minutes = (d[:, 0] * 10 + d[:, 1]) * 60 + d[:, 2] * 10 + d[:, 3]
            offset = np.where(sign == ord("-"), -minutes, minutes) * 60_000_000_000
            naive = np.ascontiguousarray(cp[:, : k - width]).view(f"U{k - width}").reshape(n)
            ns = _numpy_iso(naive)
            return None if ns is None else (ns - offset, True)
    ns = _numpy_iso(arr)
    return None if ns is None else (ns, False)


def _localize(ns: np.ndarray, tz: _dt.tzinfo) -> np.ndarray:
    """Naive wall-clock nanoseconds in zone ``tz`` -> UTC; one offset lookup per distinct hour."""
    hour = 3_600_000_000_000
    hours, inverse = np.unique(np.floor_divide(ns, hour), return_inverse=True)
    offsets = np.empty(hours.shape[0], dtype=np.int64)
    base = _dt.datetime(1970, 1, 1)
    for j, h in enumerate(hours.tolist()):
        wall = (base + _dt.timedelta(hours=h)).replace(tzinfo=tz)
        off = wall.utcoffset() or _dt.timedelta(0)
        offsets[j] = int(off.total_seconds()) * 1_000_000_000
    return ns - offsets[inverse.reshape(-1)]


def _parse_epochs(
    arr: np.ndarray, empty: np.ndarray, fmt: str, stop_at_first: bool
) -> tuple[np.ndarray, list[TimestampParseError]]:
    scale = {"unix": 1e9, "unix_ms": 1e6, "unix_us": 1e3, "unix_ns": 1.0}[fmt]
    n = arr.shape[0]
    bad: list[TimestampParseError] = []
    try:
        numbers = arr.astype(np.float64)
    except ValueError:
        numbers = np.full(n, np.nan)
        for i in range(n):
            try:
                numbers[i] = float(arr[i])
            except ValueError:
                reason = "empty timestamp" if empty[i] else f"not a number of {fmt} epoch units"
                bad.append(TimestampParseError(i, str(arr[i]), reason))
                if stop_at_first:
                    break
    listed = {e.index for e in bad}
    for i in np.flatnonzero(~np.isfinite(numbers)).tolist():
        if i not in listed and not (stop_at_first and bad):
            bad.append(TimestampParseError(i, str(arr[i]), "not a finite epoch number"))
    bad.sort(key=lambda e: e.index)
    ok = np.isfinite(numbers)
    out = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    out[ok] = np.round(numbers[ok] * scale).astype(np.int64)
    return out.view(NS), bad


def parse_timestamps_lenient(
    cells: Sequence[str] | np.ndarray,
    *,
    fmt: str | None = None,
    tz: str | _dt.tzinfo | None = None,
    stop_at_first: bool = False,
) -> tuple[np.ndarray, list[TimestampParseError]]:
    """Like :func:`parse_timestamps` but returns ``(timestamps, problems)``: NaT at every bad cell."""
    arr = np.strings.strip(np.asarray(cells, dtype=str).reshape(-1))
    n = arr.shape[0]
    tzinfo = zone(tz)
    bad: list[TimestampParseError] = []
    empty = (arr == "") | (arr == "NaT") | (arr == "nat") | (arr == "NAT")
    if fmt in ("unix", "unix_ms", "unix_us", "unix_ns"):
        return _parse_epochs(arr, empty, fmt, stop_at_first)
    if fmt is None and n and not empty.any():
        fast = _fast_iso(arr)
        if fast is not None:
            ns, aware = fast
            if not aware and tzinfo is not None:
                ns = _localize(ns, tzinfo)
            return ns.view(NS), bad
    out = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    aware: bool | None = None
    what = f"format {fmt!r}" if fmt else "ISO 8601 (e.g. 2000-06-05 or 2000-06-05T00:30Z)"
    for i in range(n):
        cell = str(arr[i])
        if empty[i]:
            bad.append(TimestampParseError(i, cell, "empty timestamp"))
        else:
            try:
                out[i], has_zone = _parse_one(cell, fmt, tzinfo)
            except (ValueError, OverflowError) as exc:
                bad.append(TimestampParseError(i, cell, f"not a timestamp in {what}: {exc}"))
            else:
                if fmt is None:
                    if aware is None:
                        aware = has_zone
                    elif aware != has_zone:
                        out[i] = np.iinfo(np.int64).min
                        bad.append(
                            TimestampParseError(
                                i,
                                cell,
                                "mixes timestamps with and without a time-zone offset in one column",
                            )
                        )
        if bad and stop_at_first:
            break
    return out.view(NS), bad


def to_ns(values: np.ndarray, what: str) -> np.ndarray:
    """datetime64 of any unit -> ``datetime64[ns]``, refusing values outside the nanosecond range
    (numpy would wrap them silently)."""
    if values.dtype == NS:
        return values
    unit = np.datetime_data(values.dtype)[0]
    if unit not in ("ps", "fs", "as"):
        valid = values[~np.isnat(values)]
        if valid.size:
            lo, hi = _MIN.astype(values.dtype), _MAX.astype(values.dtype)
            if valid.min() < lo or valid.max() >= hi:
                bad = valid[(valid < lo) | (valid >= hi)][0]
                raise ConfigError(f"{what}: {bad} is outside the supported range {RANGE_TEXT}")
    return values.astype(NS)


def to_datetime64(value: Any, *, what: str = "timestamp") -> np.datetime64:
    """One timestamp (str, datetime, date, numpy/pandas timestamp) as UTC ``datetime64[ns]``."""
    if isinstance(value, np.datetime64):
        return to_ns(np.asarray(value).reshape(1), what)[0]
    if isinstance(value, _dt.date):
        if not isinstance(value, _dt.datetime):
            value = _dt.datetime(value.year, value.month, value.day)
        try:
            return np.int64(_datetime_to_ns(value, None)).view(NS)
        except ValueError as exc:
            raise ConfigError(f"{what}: {exc}") from None
    if hasattr(value, "to_datetime64"):  # pandas.Timestamp
        tzinfo = getattr(value, "tzinfo", None)
        if tzinfo is not None:
            value = value.tz_convert("UTC").tz_localize(None)
        return np.datetime64(value.to_datetime64(), "ns")
    if isinstance(value, str):
        try:
            return parse_timestamps([value])[0]
        except TimestampParseError as exc:
            raise ConfigError(f"cannot read {what} {value!r}: {exc.reason}") from None
    raise ConfigError(f"{what} must be a string, datetime or numpy.datetime64, got {value!r}")


def as_timestamps(values: Any, *, what: str = "timestamps") -> np.ndarray:
    """Coerce an array-like of timestamps to a 1-D UTC ``datetime64[ns]`` array.

    Accepts datetime64 arrays of any unit, ISO strings, or aware/naive ``datetime`` objects
    (naive means UTC).
    """
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ConfigError(f"{what} must be 1-D, got shape {arr.shape}")
    if arr.dtype.kind == "M":
        return to_ns(arr, what)
    if arr.dtype.kind in "US":
        try:
            return parse_timestamps(arr)
        except TimestampParseError as exc:
            raise ConfigError(
                f"{what}[{exc.index}] = {exc.cell!r} is not a timestamp: {exc.reason}"
            ) from None
    if arr.dtype.kind == "O":
        out = np.empty(arr.shape[0], dtype=NS)
        for i, v in enumerate(arr):
            out[i] = to_datetime64(v, what=f"{what}[{i}]")
        return out
    raise ConfigError(
        f"{what} must be numpy datetime64 values, ISO strings or datetimes, got dtype {arr.dtype}"
    )


def require_sorted(timestamps: np.ndarray, what: str) -> None:
    """Raise DataValidationError unless ``timestamps`` are strictly increasing with no NaT."""
    nat = np.isnat(timestamps)
    if nat.any():
        i = int(np.flatnonzero(nat)[0])
        raise DataValidationError(
            f"{what} needs valid timestamps; row {i} has none (NaT); validate the data first"
        )
    ts = timestamps.view(np.int64)
    bad = np.flatnonzero(ts[1:] <= ts[:-1])
    if bad.size:
        i = int(bad[0]) + 1
        raise DataValidationError(
            f"{what} needs strictly increasing timestamps; row {i} "
            f"({format_timestamp(timestamps[i])}) is not after row {i - 1} "
            f"({format_timestamp(timestamps[i - 1])}); validate the data first"
        )


def format_timestamp(value: np.datetime64) -> str:
    """Readable UTC text for messages: ``2000-06-05T00:30:00Z`` (date only at midnight)."""
    if np.isnat(value):
        return "NaT"
    text = np.datetime_as_string(value.astype(NS), unit="s", timezone="UTC")
    if text.endswith("T00:00:00Z"):
        return text[:10]
    return text


def parse_duration(every: str | np.timedelta64 | _dt.timedelta) -> tuple[str, int]:
    """Parse a bar size: returns ``("ns", nanoseconds)`` or ``("M", months)`` for calendar months/years.

    Accepted text: ``<k><unit>`` with unit ``s``, ``min`` (or ``T``), ``h`` (or ``H``), ``D``, ``W``
    (weeks starting on Monday), ``M`` / ``MS`` (calendar months), ``Q`` (quarters), ``Y`` (years).
    """
    if isinstance(every, _dt.timedelta):
        every = np.timedelta64(every)
    if isinstance(every, np.timedelta64):
        ns = int(every.astype("timedelta64[ns]").astype(np.int64))
        if ns <= 0:
            raise ConfigError(f"bar size must be positive, got {every}")
        return "ns", ns
    if not isinstance(every, str):
        raise ConfigError(f"bar size must be a string like '1h' or a timedelta, got {every!r}")
    text = every.strip()
    digits = ""
    while text and text[0].isdigit():
        digits, text = digits + text[0], text[1:]
    k = int(digits) if digits else 1
    units_ns = {
        "s": 1_000_000_000,
        "sec": 1_000_000_000,
        "min": 60_000_000_000,
        "T": 60_000_000_000,
        "h": 3_600_000_000_000,
        "H": 3_600_000_000_000,
        "D": 86_400_000_000_000,
        "d": 86_400_000_000_000,
        "W": 7 * 86_400_000_000_000,
        "w": 7 * 86_400_000_000_000,
    }
    units_m = {"M": 1, "MS": 1, "mo": 1, "Q": 3, "QS": 3, "Y": 12, "YS": 12, "A": 12}
    if k <= 0:
        raise ConfigError(f"bar size must be positive, got {every!r}")
    if text in units_ns:
        return "ns", k * units_ns[text]
    if text in units_m:
        return "M", k * units_m[text]
    raise ConfigError(
        f"unknown bar size {every!r}; use <k><unit> with unit s, min, h, D, W, M, Q or Y"
    )


__all__ = [
    "NS",
    "TimestampParseError",
    "as_timestamps",
    "format_timestamp",
    "parse_duration",
    "parse_timestamps",
    "parse_timestamps_lenient",
    "require_sorted",
    "to_datetime64",
    "zone",
]
