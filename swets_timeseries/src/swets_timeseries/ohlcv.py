"""OHLCV bars: aligned columns of timestamps, open, high, low, close, volume and optional extras."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from swets_core.errors import ConfigError, IndexOutOfRangeError, ShapeError
from swets_core.lazy import exports_of
from swets_timeseries._time import (
    NS,
    as_timestamps,
    format_timestamp,
    parse_duration,
    require_sorted,
    to_datetime64,
)
from swets_timeseries.series import TimeSeries
from swets_timeseries.validation import (
    Policy,
    Problem,
    ValidationReport,
    bar_report,
    check_policy,
    listing,
)

PRICE_COLUMNS = ("open", "high", "low", "close")
BASE_COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")
AGGREGATIONS = ("first", "last", "max", "min", "sum", "mean")

TimeLike = str | np.datetime64 | _dt.datetime | _dt.date


def _float_column(name: str, value: Any) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim != 1:
        raise ShapeError(f"OHLCV column {name!r} must be 1-D, got shape {arr.shape}")
    if arr.dtype.kind not in "fiub":
        raise ConfigError(f"OHLCV column {name!r} must be numeric, got dtype {arr.dtype}")
    return arr.astype(np.float64, copy=False)


def _extras(value: Mapping[str, Any] | None) -> dict[str, np.ndarray]:
    if value is None:
        return {}
    out = {}
    for name, col in value.items():
        if name in BASE_COLUMNS:
            raise ConfigError(f"extra column {name!r} clashes with a standard OHLCV column")
        out[str(name)] = _float_column(name, col)
    return out


@attrs.define(frozen=True, slots=True, eq=False)
class OHLCV:
    """Price bars as aligned 1-D columns.

    Attributes:
        timestamps: (n,) ``datetime64[ns]`` in UTC (strings and datetimes are converted; aware ones
            to UTC, naive ones are taken as UTC).
        open, high, low, close: (n,) float64 prices.
        volume: (n,) float64 traded volume, or None when the source has none.
        extra: further named (n,) float64 columns (e.g. ``adj_close``, features).

    Construction checks shapes only; rules on values are checked by :meth:`validate` (the CSV and
    pandas readers call it with the policy you choose). Rows are indexed from 0.
    """

    timestamps: np.ndarray = attrs.field(converter=as_timestamps)
    open: np.ndarray = attrs.field(converter=lambda v: _float_column("open", v))
    high: np.ndarray = attrs.field(converter=lambda v: _float_column("high", v))
    low: np.ndarray = attrs.field(converter=lambda v: _float_column("low", v))
    close: np.ndarray = attrs.field(converter=lambda v: _float_column("close", v))
    volume: np.ndarray | None = attrs.field(
        default=None, converter=lambda v: None if v is None else _float_column("volume", v)
    )
    extra: dict[str, np.ndarray] = attrs.field(factory=dict, converter=_extras)

    def __attrs_post_init__(self) -> None:
        n = self.timestamps.shape[0]
        for name in self.columns:
            if name == "timestamp":
                continue
            length = self.column(name).shape[0]
            if length != n:
                raise ShapeError(f"OHLCV column {name!r} has {length} rows but timestamps has {n}")

    # -- access -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.timestamps.shape[0])

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names: timestamp, open, high, low, close, [volume], extras in order."""
        base = BASE_COLUMNS if self.volume is not None else BASE_COLUMNS[:-1]
        return base + tuple(self.extra)

    def column(self, name: str) -> np.ndarray:
        """The (n,) array of column ``name`` (no copy)."""
        if name == "timestamp":
            return self.timestamps
        if name in PRICE_COLUMNS:
            return getattr(self, name)
        if name == "volume":
            if self.volume is None:
                raise ConfigError("these OHLCV bars have no volume column")
            return self.volume
        try:
            return self.extra[name]
        except KeyError:
            raise ConfigError(
                f"OHLCV has no column {name!r}; columns: {listing(self.columns)}"
            ) from None

    def to_array(
        self,
        columns: Sequence[str] = ("open", "high", "low", "close", "volume"),
        dtype: Any = np.float64,
    ) -> np.ndarray:
        """The chosen columns stacked as a new (n, len(columns)) array."""
        return np.stack([self.column(c) for c in columns], axis=1).astype(dtype, copy=False)

    def with_columns(self, **columns: Any) -> OHLCV:
        """A new OHLCV with extra columns added or replaced (each (n,) numeric)."""
        extra = dict(self.extra)
        extra.update(columns)
        return attrs.evolve(self, extra=extra)

    def _take(self, index: Any) -> OHLCV:
        return OHLCV(
            self.timestamps[index],
            self.open[index],
            self.high[index],
            self.low[index],
            self.close[index],
            None if self.volume is None else self.volume[index],
            {k: v[index] for k, v in self.extra.items()},
        )

    def __getitem__(self, index: Any) -> Any:
        """Slice by position (``bars[10:20]``), by time (``bars["2001-01-01":"2002-01-01"]``,
        half-open), by an integer array or a boolean mask; an integer gives one row as a dict."""
        if isinstance(index, (int, np.integer)):
            n = len(self)
            i = int(index)
            if not -n <= i < n:
                raise IndexOutOfRangeError(f"row {index} out of range for OHLCV with {n} rows")
            return {name: self.column(name)[i] for name in self.columns}
        if isinstance(index, slice):
            if _is_time(index.start) or _is_time(index.stop):
                if index.step is not None:
                    raise ConfigError("a time slice of OHLCV takes no step")
                return self.between(index.start, index.stop)
            return self._take(index)
        arr = np.asarray(index)
        if arr.dtype == bool:
            if arr.shape != (len(self),):
                raise ShapeError(f"boolean mask has shape {arr.shape}, OHLCV has {len(self)} rows")
            return self._take(arr)
        if arr.dtype.kind in "iu" and arr.ndim == 1:
            if arr.size and (arr.max() >= len(self) or arr.min() < -len(self)):
                raise IndexOutOfRangeError(
                    f"row index out of range for OHLCV with {len(self)} rows"
                )
            return self._take(arr)
        raise ConfigError(f"cannot index OHLCV with {type(index).__name__}")

    def between(self, start: TimeLike | None = None, end: TimeLike | None = None) -> OHLCV:
        """Rows with ``start <= timestamp < end`` (either bound may be None); a view, no copy.

        Requires increasing timestamps (run :meth:`validate` first)."""
        self._require_sorted("between()")
        lo = 0
        hi = len(self)
        if start is not None:
            lo = int(np.searchsorted(self.timestamps, to_datetime64(start, what="start"), "left"))
        if end is not None:
            hi = int(np.searchsorted(self.timestamps, to_datetime64(end, what="end"), "left"))
        return self._take(slice(lo, max(lo, hi)))

    def _require_sorted(self, what: str) -> None:
        require_sorted(self.timestamps, what)

    # -- resampling -------------------------------------------------------------------------
    def resample(
        self, every: str | np.timedelta64 | _dt.timedelta, *, extra: Mapping[str, str] | None = None
    ) -> OHLCV:
        """Aggregate to a coarser bar size.

        Args:
            every: the new bar size, e.g. ``"5min"``, ``"1h"``, ``"1D"``, ``"1W"`` (weeks start on
                Monday), ``"1M"`` (calendar months), ``"1Y"``, or a timedelta.
            extra: aggregation per extra column (``first``, ``last``, ``max``, ``min``, ``sum``,
                ``mean``); default ``last``.

        Bins are left-closed and labelled by their start (UTC). open = first, high = max,
        low = min, close = last, volume = sum. Bins without rows produce no bar. NaN values
        propagate into the aggregate of their bin (nothing is skipped silently).
        """
        self._require_sorted("resample()")
        kind, size = parse_duration(every)
        ts = self.timestamps.view(np.int64)
        if kind == "ns":
            origin = 0
            week = 7 * 86_400_000_000_000
            if size % week == 0:
                origin = -3 * 86_400_000_000_000  # 1969-12-29, a Monday
            bins = np.floor_divide(ts - origin, size)
            labels = (bins * size + origin).view(NS)
        else:
            months = self.timestamps.astype("datetime64[M]").astype(np.int64)
            bins = np.floor_divide(months, size)
            labels = (bins * size).astype("datetime64[M]").astype(NS)
        n = ts.shape[0]
        if n == 0:
            return self._take(slice(0, 0))
        starts = np.flatnonzero(np.r_[True, bins[1:] != bins[:-1]])
        ends = np.r_[starts[1:], n] - 1
        counts = ends - starts + 1
        agg_extra = {}
        spec = dict(extra or {})
        unknown = set(spec) - set(self.extra)
        if unknown:
            raise ConfigError(f"resample(extra=...) names unknown columns {sorted(unknown)}")
        for name, col in self.extra.items():
            how = spec.get(name, "last")
            agg_extra[name] = _aggregate(col, how, starts, ends, counts, name)
        return OHLCV(
            labels[starts],
            self.open[starts],
            np.maximum.reduceat(self.high, starts),
            np.minimum.reduceat(self.low, starts),
            self.close[ends],
            None if self.volume is None else np.add.reduceat(self.volume, starts),
            agg_extra,
        )

    # -- validation -------------------------------------------------------------------------
    def validate(
        self,
        policy: Policy = "raise",
        *,
        source: str = "OHLCV",
        lines: np.ndarray | None = None,
        problems: Sequence[Problem] = (),
    ) -> tuple[OHLCV, ValidationReport]:
        """Check every rule (see :mod:`swets_timeseries.validation`) and apply ``policy``.

        Args:
            policy: ``"raise"`` (DataValidationError listing each problem with row and timestamp),
                ``"warn"`` (a DataQualityWarning; rows kept) or ``"drop"`` (offending rows removed,
                a DataQualityWarning lists them).
            source: the name used in messages (readers pass the file name).
            lines: optional (n,) 1-based source-file line of each row, named in messages.
            problems: problems found upstream (a reader's ``unparseable_cell``), merged in.

        Returns:
            ``(bars, report)``: ``self`` unless rows were dropped, and the report.
        """
        check_policy(policy)
        fields = {name: self.column(name) for name in self.columns if name in BASE_COLUMNS[1:]}
        report = bar_report(
            self.timestamps,
            fields,
            policy=policy,
            source=source,
            lines=lines,
            problems=problems,
            stacklevel=3,
        )
        keep = report.kept()
        return (self, report) if keep is None else (self._take(keep), report)

    def validated(self, policy: Policy = "raise") -> OHLCV:
        """:meth:`validate` returning only the bars."""
        return self.validate(policy)[0]

    # -- conversion -------------------------------------------------------------------------
    def to_series(
        self,
        target: str | Sequence[str] = "close",
        covariates: Sequence[str] = (),
        known_covariates: Sequence[str] = (),
        id: str = "0",
    ) -> TimeSeries:
        """A :class:`~swets_timeseries.series.TimeSeries` over the chosen columns (no copies).

        With ``covariates=()`` every other numeric column becomes a past covariate."""
        names = [c for c in self.columns if c != "timestamp"]
        targets = [target] if isinstance(target, str) else list(target)
        if not covariates:
            covariates = [c for c in names if c not in targets and c not in known_covariates]
        return TimeSeries(
            self.timestamps,
            {c: self.column(c) for c in names},
            target=target,
            covariates=tuple(covariates),
            known_covariates=tuple(known_covariates),
            id=id,
        )

    def __repr__(self) -> str:
        n = len(self)
        if n == 0:
            return "OHLCV(0 rows)"
        return (
            f"OHLCV({n} rows, {format_timestamp(self.timestamps[0])} .. "
            f"{format_timestamp(self.timestamps[-1])}, columns={list(self.columns)})"
        )


def _is_time(value: Any) -> bool:
    return isinstance(value, (str, np.datetime64, _dt.date)) or hasattr(value, "to_datetime64")


def _aggregate(
    col: np.ndarray, how: str, starts: np.ndarray, ends: np.ndarray, counts: np.ndarray, name: str
) -> np.ndarray:
    if how == "first":
        return col[starts]
    if how == "last":
        return col[ends]
    if how == "max":
        return np.maximum.reduceat(col, starts)
    if how == "min":
        return np.minimum.reduceat(col, starts)
    if how == "sum":
        return np.add.reduceat(col, starts)
    if how == "mean":
        return np.add.reduceat(col, starts) / counts
    raise ConfigError(
        f"unknown aggregation {how!r} for column {name!r}; use one of {', '.join(AGGREGATIONS)}"
    )


__all__ = exports_of(__name__)  # listed once, in the package's table of lazy exports
