"""General series: :class:`TimeSeries` (one series) and :class:`SeriesCollection` (many, by id).

A series has UTC timestamps, named float64 columns, and roles for the columns: ``target`` (what is
forecast), ``covariates`` (observed up to the forecast time only) and ``known_covariates`` (known in
advance for the forecast horizon too, such as calendar features or planned prices). Its ``static``
covariates say what the series is (a store's region or size): one value per series, a number or a
text category (see :mod:`swets_timeseries.static`).

**Future rows.** Rows after a series' last target value, whose targets are empty, hold the known
covariates of the time to forecast (the usual layout of a file to forecast from: the target empty,
the covariates filled). :meth:`TimeSeries.validate` accepts them with ``future_rows=True`` and
:meth:`TimeSeries.split_future` separates them from the history.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from swets_core.errors import ConfigError, ShapeError
from swets_core.lazy import exports_of
from swets_timeseries._time import as_timestamps, format_timestamp, require_sorted, to_datetime64
from swets_timeseries.static import StaticValue, static_value
from swets_timeseries.validation import (
    Policy,
    Problem,
    ValidationReport,
    _Collector,
    check_finite,
    check_policy,
    check_timestamps,
    finish,
    listing,
)


def _names(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _columns(value: Mapping[str, Any]) -> dict[str, np.ndarray]:
    out = {}
    for name, col in value.items():
        arr = np.asarray(col)
        if arr.ndim != 1:
            raise ShapeError(f"series column {name!r} must be 1-D, got shape {arr.shape}")
        if arr.dtype.kind not in "fiub":
            raise ConfigError(f"series column {name!r} must be numeric, got dtype {arr.dtype}")
        # float32/float64 are kept as they are (no copy); integers and booleans become float64
        out[str(name)] = arr if arr.dtype.kind == "f" else arr.astype(np.float64)
    return out


def _static(value: Mapping[str, Any] | None) -> dict[str, StaticValue]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"static covariates must be a mapping name -> value, got {type(value).__name__}"
        )
    return {str(k): static_value(v, f"static covariate {k!r}") for k, v in value.items()}


def _check_static(sid: str, static: Mapping[str, Any], values: Mapping[str, np.ndarray]) -> None:
    """A static covariate may not share its name with a column of the series."""
    clash = [c for c in static if c in values]
    if clash:
        raise ConfigError(
            f"series {sid!r}: {', '.join(map(repr, clash))} is both a column and a static covariate"
        )


@attrs.define(frozen=True, slots=True, eq=False)
class TimeSeries:
    """One series: timestamps plus named columns with roles.

    Attributes:
        timestamps: (n,) ``datetime64[ns]`` UTC.
        values: column name -> (n,) float array (float32 and float64 kept as given, integers and
            booleans converted to float64).
        target: the target column name(s).
        covariates: past covariates (known up to the forecast time).
        known_covariates: covariates known for the forecast horizon as well.
        id: the series identifier.
        static: static covariates, name -> a number (float) or a text category.
    """

    timestamps: np.ndarray = attrs.field(converter=as_timestamps)
    values: dict[str, np.ndarray] = attrs.field(converter=_columns)
    target: tuple[str, ...] = attrs.field(converter=_names)
    covariates: tuple[str, ...] = attrs.field(default=(), converter=_names)
    known_covariates: tuple[str, ...] = attrs.field(default=(), converter=_names)
    id: str = attrs.field(default="0", converter=str)
    static: dict[str, StaticValue] = attrs.field(factory=dict, converter=_static)

    def __attrs_post_init__(self) -> None:
        n = self.timestamps.shape[0]
        for name, col in self.values.items():
            if col.shape[0] != n:
                raise ShapeError(
                    f"series {self.id!r}: column {name!r} has {col.shape[0]} rows, timestamps {n}"
                )
        if not self.target:
            raise ConfigError(f"series {self.id!r}: no target column given")
        roles = self.target + self.covariates + self.known_covariates
        for name in roles:
            if name not in self.values:
                raise ConfigError(
                    f"series {self.id!r}: column {name!r} is named as a target or covariate but is "
                    f"not among its columns ({listing(self.values)})"
                )
        if len(set(roles)) != len(roles):
            raise ConfigError(
                f"series {self.id!r}: a column has two roles (target={self.target}, "
                f"covariates={self.covariates}, known_covariates={self.known_covariates})"
            )
        _check_static(self.id, self.static, self.values)

    def __len__(self) -> int:
        return int(self.timestamps.shape[0])

    @property
    def columns(self) -> tuple[str, ...]:
        """Names of the value columns."""
        return tuple(self.values)

    def column(self, name: str) -> np.ndarray:
        """The (n,) array of ``name`` (``"timestamp"`` gives the timestamps)."""
        if name == "timestamp":
            return self.timestamps
        try:
            return self.values[name]
        except KeyError:
            raise ConfigError(
                f"series {self.id!r} has no column {name!r}; columns: {listing(self.values)}"
            ) from None

    def to_array(self, columns: Sequence[str] | None = None, dtype: Any = np.float64) -> np.ndarray:
        """The chosen columns (default: target, covariates, known covariates) as (n, k)."""
        if columns is None:
            columns = self.target + self.covariates + self.known_covariates
        return np.stack([self.column(c) for c in columns], axis=1).astype(dtype, copy=False)

    def _part(
        self,
        timestamps: np.ndarray,
        values: dict[str, np.ndarray],
        sid: str,
        static: Mapping[str, Any] | None = None,
    ) -> TimeSeries:
        """A series with this one's columns and roles over other rows, built without the
        constructor's conversions and checks of the rows: ``timestamps`` as :func:`as_timestamps`
        returns them and ``values`` as ``_columns`` does, every column of the same length (what
        :meth:`SeriesCollection.from_long` hands over, about a tenth of the constructor's cost).
        ``static`` is converted and checked as the constructor does."""
        static = _static(static)
        if static:
            _check_static(sid, static, values)
        new = object.__new__(TimeSeries)
        for name, value in (
            ("timestamps", timestamps),
            ("values", values),
            ("target", self.target),
            ("covariates", self.covariates),
            ("known_covariates", self.known_covariates),
            ("id", sid),
            ("static", static),
        ):
            object.__setattr__(new, name, value)
        return new

    def _take(self, index: Any) -> TimeSeries:
        return attrs.evolve(
            self,
            timestamps=self.timestamps[index],
            values={k: v[index] for k, v in self.values.items()},
        )

    def __getitem__(self, index: slice | np.ndarray) -> TimeSeries:
        """Rows by position slice, integer array or boolean mask."""
        if isinstance(index, slice):
            return self._take(index)
        arr = np.asarray(index)
        if arr.dtype == bool and arr.shape != (len(self),):
            raise ShapeError(f"boolean mask has shape {arr.shape}, series has {len(self)} rows")
        if arr.dtype != bool and arr.dtype.kind not in "iu":
            raise ConfigError(f"cannot index a TimeSeries with {type(index).__name__}")
        return self._take(arr)

    def between(self, start: Any = None, end: Any = None) -> TimeSeries:
        """Rows with ``start <= timestamp < end`` (None = open); views, no copy."""
        require_sorted(self.timestamps, f"series {self.id!r}: between()")
        lo, hi = 0, len(self)
        if start is not None:
            lo = int(np.searchsorted(self.timestamps, to_datetime64(start, what="start")))
        if end is not None:
            hi = int(np.searchsorted(self.timestamps, to_datetime64(end, what="end")))
        return self._take(slice(lo, max(lo, hi)))

    def with_columns(
        self,
        *,
        covariates: Sequence[str] = (),
        known_covariates: Sequence[str] = (),
        **columns: Any,
    ) -> TimeSeries:
        """A new series with columns added (or replaced); name the new ones' roles if any."""
        values = dict(self.values)
        values.update(columns)
        return attrs.evolve(
            self,
            values=values,
            covariates=self.covariates + tuple(c for c in covariates if c not in self.covariates),
            known_covariates=self.known_covariates
            + tuple(c for c in known_covariates if c not in self.known_covariates),
        )

    def with_static(self, **values: Any) -> TimeSeries:
        """A new series with static covariates added (or replaced)."""
        return attrs.evolve(self, static={**self.static, **values})

    def history_length(self) -> int:
        """The rows up to and including the last row whose targets are all finite (0 when there
        is none); the rows after it are future rows."""
        finite = np.ones(len(self), dtype=bool)
        for name in self.target:
            finite &= np.isfinite(self.values[name])
        idx = np.flatnonzero(finite)
        return int(idx[-1]) + 1 if idx.size else 0

    def split_future(self) -> tuple[TimeSeries, TimeSeries]:
        """``(history, future)``: the rows up to the last target value, and the rows after it
        (empty targets, known covariates for the time to forecast; possibly no row)."""
        n = self.history_length()
        return self._take(slice(0, n)), self._take(slice(n, len(self)))

    def validate(
        self,
        policy: Policy = "raise",
        *,
        source: str | None = None,
        lines: np.ndarray | None = None,
        problems: Sequence[Problem] = (),
        future_rows: bool = False,
    ) -> tuple[TimeSeries, ValidationReport]:
        """Check timestamps (present, unique, increasing) and that target and covariates are finite.

        With ``future_rows``, the rows after the last target value (see :meth:`split_future`) are
        future rows: only their timestamps are checked (their values are checked where they are
        used, for the horizon a forecast needs).

        Same policies as :meth:`swets_timeseries.OHLCV.validate`; returns ``(series, report)``."""
        check_policy(policy)
        col = _Collector(self.timestamps, lines)
        col.problems.extend(problems)
        check_timestamps(col, self.timestamps)
        end = self.history_length() if future_rows else len(self)
        for name in self.target + self.covariates + self.known_covariates:
            check_finite(col, name, self.values[name][:end], "non_finite_value")
        report = finish(
            col, source=source or f"series {self.id!r}", policy=policy, n_rows=len(self)
        )
        if report.dropped_rows.size:
            keep = np.ones(len(self), dtype=bool)
            keep[report.dropped_rows] = False
            return self._take(keep), report
        return self, report

    def __repr__(self) -> str:
        span = ""
        if len(self):
            span = f", {format_timestamp(self.timestamps[0])} .. {format_timestamp(self.timestamps[-1])}"
        static = f", static={self.static}" if self.static else ""
        return (
            f"TimeSeries(id={self.id!r}, {len(self)} rows{span}, target={list(self.target)}, "
            f"covariates={list(self.covariates)}, known_covariates={list(self.known_covariates)}"
            f"{static})"
        )


class SeriesCollection:
    """Many series by id, all with the same column roles (so they can share one model).

    Args:
        series: the series, each with a unique ``id``; they must agree on target, covariates,
            known covariates and the names of their static covariates (they may differ in length
            and time span).
    """

    __slots__ = ("_by_id", "_series")

    def __init__(self, series: Sequence[TimeSeries] | TimeSeries) -> None:
        if isinstance(series, TimeSeries):
            series = [series]
        items = tuple(series)
        if not items:
            raise ConfigError("a SeriesCollection needs at least one series")
        by_id: dict[str, TimeSeries] = {}
        first = items[0]
        for s in items:
            if not isinstance(s, TimeSeries):
                raise ConfigError(f"SeriesCollection takes TimeSeries, got {type(s).__name__}")
            if s.id in by_id:
                raise ConfigError(f"series id {s.id!r} appears twice in the collection")
            for role in ("target", "covariates", "known_covariates"):
                if getattr(s, role) != getattr(first, role):
                    raise ConfigError(
                        f"series {s.id!r} has {role}={list(getattr(s, role))} but series "
                        f"{first.id!r} has {list(getattr(first, role))}; all series must agree"
                    )
            if set(s.static) != set(first.static):
                raise ConfigError(
                    f"series {s.id!r} has the static covariates {sorted(s.static)} but series "
                    f"{first.id!r} has {sorted(first.static)}; all series must agree"
                )
            by_id[s.id] = s
        self._series = items
        self._by_id = by_id

    @classmethod
    def from_long(
        cls,
        ids: Sequence[Any] | np.ndarray,
        timestamps: Any,
        values: Mapping[str, Any],
        *,
        target: str | Sequence[str],
        covariates: Sequence[str] = (),
        known_covariates: Sequence[str] = (),
        static: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> SeriesCollection:
        """Build from long format: one row per (id, timestamp). Ids keep their order of first
        appearance; rows keep their order within each id (validate to check the ordering).
        ``static`` gives the static covariates of each id (``{id: {name: value}}``).

        Ids are compared as text (``1`` and ``"1"`` are one id). When every id's rows form one
        block (the usual layout of a long file), each series views its block of ``timestamps``
        and ``values`` (no copy, no sort of the rows); otherwise its rows are gathered."""
        ids_arr = np.asarray(ids)
        ts = as_timestamps(timestamps)
        cols = _columns(values)
        if ids_arr.shape != ts.shape:
            raise ShapeError(f"ids has shape {ids_arr.shape}, timestamps {ts.shape}")
        for name, col in cols.items():
            if col.shape != ts.shape:
                raise ShapeError(
                    f"column {name!r} has {col.shape[0]} rows, ids and timestamps {ts.shape[0]}"
                )
        groups = _group_rows(ids_arr)
        first = TimeSeries(  # the roles and columns are checked once, on the first series
            ts[:0],
            {c: v[:0] for c, v in cols.items()},
            target=target,
            covariates=covariates,
            known_covariates=known_covariates,
        )
        series = [
            first._part(
                ts[rows],
                {c: v[rows] for c, v in cols.items()},
                sid,
                None if static is None else static.get(sid),
            )
            for sid, rows in groups
        ]
        return cls(series)

    def to_long(self) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """``(ids, timestamps, values)`` in long format (series after series)."""
        ids = np.concatenate([np.full(len(s), s.id, dtype=object) for s in self._series])
        ts = np.concatenate([s.timestamps for s in self._series])
        names = self._series[0].columns
        vals = {}
        for name in names:
            vals[name] = np.concatenate([s.column(name) for s in self._series])
        return ids, ts, vals

    @property
    def ids(self) -> tuple[str, ...]:
        """Series ids in order."""
        return tuple(s.id for s in self._series)

    @property
    def target(self) -> tuple[str, ...]:
        """The common target column names."""
        return self._series[0].target

    @property
    def covariates(self) -> tuple[str, ...]:
        """The common past covariate names."""
        return self._series[0].covariates

    @property
    def known_covariates(self) -> tuple[str, ...]:
        """The common known-future covariate names."""
        return self._series[0].known_covariates

    @property
    def static_covariates(self) -> tuple[str, ...]:
        """The common static covariate names (in the first series' order)."""
        return tuple(self._series[0].static)

    def with_static(
        self, table: Mapping[str, Mapping[str, Any]], *, source: str = "the static table"
    ) -> SeriesCollection:
        """A new collection whose series get the static covariates of ``table`` (``{id: {name:
        value}}``, e.g. from :func:`~swets_timeseries.read_static_csv`).

        Raises:
            ConfigError: a series without a row in ``table`` (naming the missing ids).
        """
        missing = [sid for sid in self.ids if sid not in table]
        if missing:
            raise ConfigError(
                f"{source} has no row for series {listing(missing)} (it has {listing(list(table))})"
            )
        return SeriesCollection([s.with_static(**table[s.id]) for s in self._series])

    def split_future(self) -> tuple[SeriesCollection, SeriesCollection]:
        """``(history, future)`` of every series (see :meth:`TimeSeries.split_future`)."""
        parts = [s.split_future() for s in self._series]
        return SeriesCollection([h for h, _ in parts]), SeriesCollection([f for _, f in parts])

    def __len__(self) -> int:
        return len(self._series)

    def __iter__(self) -> Iterator[TimeSeries]:
        return iter(self._series)

    def __getitem__(self, key: str | int) -> TimeSeries:
        if isinstance(key, (int, np.integer)):
            return self._series[int(key)]
        try:
            return self._by_id[str(key)]
        except KeyError:
            raise ConfigError(
                f"no series with id {key!r}; ids: {', '.join(self.ids[:20])}"
                + (" ..." if len(self) > 20 else "")
            ) from None

    def map(self, fn: Any) -> SeriesCollection:
        """A new collection with ``fn(series)`` applied to every series."""
        return SeriesCollection([fn(s) for s in self._series])

    def validate(
        self, policy: Policy = "raise", *, future_rows: bool = False
    ) -> tuple[SeriesCollection, dict[str, ValidationReport]]:
        """Validate every series (see :meth:`TimeSeries.validate`); reports by id."""
        reports = {}
        out = []
        for s in self._series:
            s2, rep = s.validate(policy, future_rows=future_rows)
            out.append(s2)
            reports[s.id] = rep
        return SeriesCollection(out), reports

    def __repr__(self) -> str:
        return (
            f"SeriesCollection({len(self)} series, ids={list(self.ids[:5])}"
            f"{' ...' if len(self) > 5 else ''}, target={list(self.target)})"
        )


def _group_rows(ids: np.ndarray) -> list[tuple[str, slice | np.ndarray]]:
    """``(id, rows)`` of every id of a long-format id column, in order of first appearance: rows
    as a slice when each id's rows form one block (found in one pass, no sort of the rows), else
    as the row numbers, in their order. Ids are compared as their text."""
    n = ids.shape[0]
    if n == 0:
        return []
    # integers, booleans and text compare as their text does; anything else is compared as text
    keys = ids if ids.dtype.kind in "biuU" else ids.astype(str)
    starts = np.concatenate(([0], np.flatnonzero(keys[1:] != keys[:-1]) + 1))
    uniq, first, inverse = np.unique(keys[starts], return_index=True, return_inverse=True)
    names = uniq.astype(str).tolist()
    stops = np.append(starts[1:], n)
    if len(names) == starts.shape[0]:  # one block per id, the blocks in order of appearance
        return [
            (names[k], slice(a, b))
            for k, a, b in zip(inverse.tolist(), starts.tolist(), stops.tolist())
        ]
    group = np.repeat(inverse.reshape(-1), stops - starts)  # each row's id
    order = np.argsort(group, kind="stable")  # rows grouped by id, file order kept
    bounds = np.concatenate(([0], np.cumsum(np.bincount(group, minlength=len(names)))))
    return [
        (names[k], order[bounds[k] : bounds[k + 1]])
        for k in np.argsort(first, kind="stable").tolist()
    ]


def as_collection(data: Any) -> SeriesCollection:
    """Coerce a TimeSeries, a SeriesCollection, a sequence of series, or anything whose
    ``to_series()`` gives a TimeSeries (an OHLCV: its close price as the target)."""
    if isinstance(data, SeriesCollection):
        return data
    if isinstance(data, TimeSeries):
        return SeriesCollection([data])
    if isinstance(data, Sequence) and data and all(isinstance(s, TimeSeries) for s in data):
        return SeriesCollection(list(data))
    # duck-typed so that series.py does not import ohlcv.py (which builds on this module)
    to_series = getattr(type(data), "to_series", None)
    if callable(to_series):
        series = data.to_series()
        if isinstance(series, TimeSeries):
            return SeriesCollection([series])
    raise ConfigError(
        f"expected a TimeSeries, SeriesCollection, OHLCV or a list of TimeSeries, got "
        f"{type(data).__name__}"
    )


# the names the package's lazy_exports table lists for this module, and those only it exports
__all__ = [*exports_of(__name__), "as_collection"]
