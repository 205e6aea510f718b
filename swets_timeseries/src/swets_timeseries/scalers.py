"""Scalers: :class:`StandardScaler`, :class:`MinMaxScaler`, :class:`RobustScaler`.

Each learns, per feature (and optionally per series), an offset and a scale, and maps
``x -> (x - offset) / scale``; :meth:`~Scaler.inverse_transform` maps back. Statistics ignore NaN
(NaN stays NaN). A feature whose scale is 0 (constant on the training range) or undefined (all NaN)
gets scale 1, so it is shifted but never divided by zero.

Fit only on the training range: pass ``rows=`` (a slice, or ``{series_id: slice}`` such as
``train.rows`` of a split :class:`~swets_timeseries.WindowDataset`) or ``until=`` (a timestamp; rows
strictly before it are used).

The state (:meth:`~Scaler.state_dict`) is plain data (str, bool, lists of floats) for checkpoints;
:func:`scaler_from_state` rebuilds the scaler of the right kind from it (as stored by
``swets_train.fit(..., scaler=...)`` under a checkpoint's ``training_state["scaler"]``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from swets_core.errors import CheckpointError, ConfigError, ShapeError, StateDictError
from swets_core.lazy import exports_of
from swets_timeseries._time import to_datetime64
from swets_timeseries.ohlcv import OHLCV
from swets_timeseries.series import SeriesCollection, TimeSeries

ALL = "*"
RowSpec = slice | Mapping[str, slice | tuple[int, int]] | None


class Scaler:
    """Base class: subclasses define :meth:`_stats` returning ``(offset, scale)`` per feature.

    Args:
        per_series: keep separate statistics for every series id (for series inputs); otherwise
            one set pooled over all series.
        columns: for series inputs, the columns to scale (default: target, covariates and known
            covariates); ignored for arrays (the last axis is the feature axis).
    """

    kind: ClassVar[str] = ""
    _config_keys: ClassVar[tuple[str, ...]] = ()
    """The constructor options (attributes of the same name) that ``state_dict()["config"]`` holds."""

    def __init__(self, *, per_series: bool = False, columns: Sequence[str] | None = None) -> None:
        self.per_series = bool(per_series)
        self.columns: tuple[str, ...] | None = None if columns is None else tuple(columns)
        self._offset: dict[str, np.ndarray] = {}
        self._scale: dict[str, np.ndarray] = {}

    # -- to implement --------------------------------------------------------------------------
    def _stats(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _stats_finite(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_stats` of data without NaN or infinity (a subclass may skip the NaN handling,
        which costs more than the statistics on a short series)."""
        return self._stats(x)

    def _extra_config(self) -> dict[str, Any]:
        out = {}
        for key in self._config_keys:
            value = getattr(self, key)
            out[key] = list(value) if isinstance(value, tuple) else value
        return out

    # -- fitting -------------------------------------------------------------------------------
    @property
    def fitted(self) -> bool:
        """True after :meth:`fit` or :meth:`load_state_dict`."""
        return bool(self._offset)

    def fit(
        self,
        data: np.ndarray | TimeSeries | SeriesCollection | OHLCV,
        *,
        rows: RowSpec = None,
        until: Any = None,
    ) -> Scaler:
        """Learn the statistics.

        Args:
            data: an array (..., F) (statistics over every leading axis), or a TimeSeries /
                SeriesCollection / OHLCV (statistics of :attr:`columns` per column).
            rows: only these rows: a slice (all series) or ``{series_id: slice or (start, stop)}``.
            until: only rows with timestamp < ``until`` (series inputs only).

        Returns:
            self.
        """
        self._offset, self._scale = {}, {}
        if isinstance(data, (TimeSeries, SeriesCollection, OHLCV)):
            coll = _collection(data)
            cols = self._resolve_columns(coll)
            blocks = {}
            for s in coll:
                sel = _select_rows(s, rows, until)
                if len(cols) == 1:  # a view as (rows, 1)
                    blocks[s.id] = s.column(cols[0])[sel].reshape(-1, 1)
                else:
                    blocks[s.id] = np.stack([s.column(c)[sel] for c in cols], axis=1)
            if self.per_series:
                for sid, block in blocks.items():
                    self._store(sid, block, f"series {sid!r}")
            else:
                self._store(ALL, np.concatenate(list(blocks.values()), axis=0), "the data")
            self.columns = cols
            return self
        if until is not None:
            raise ConfigError("until= needs a series input with timestamps, not an array")
        if self.per_series:
            raise ConfigError("per_series=True needs series input (TimeSeries or SeriesCollection)")
        x = _float(data)
        if isinstance(rows, Mapping):
            raise ConfigError("rows= for an array must be a slice")
        if rows is not None:
            x = x[rows]
        self._store(ALL, x.reshape(-1, x.shape[-1]), "the data")
        return self

    def _store(self, key: str, x: np.ndarray, what: str) -> None:
        if x.shape[0] == 0:
            raise ConfigError(f"{type(self).__name__}.fit(): no rows to fit on for {what}")
        x = x.astype(np.float64, copy=False)
        if np.isfinite(x).all():  # no NaN to skip: the plain reductions (the same values)
            offset, scale = self._stats_finite(x)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns -> NaN stats
                offset, scale = self._stats(x)
        offset = np.where(np.isfinite(offset), offset, 0.0)
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        self._offset[key], self._scale[key] = offset, scale

    def _resolve_columns(self, coll: SeriesCollection) -> tuple[str, ...]:
        if self.columns is not None:
            for c in self.columns:
                coll[0].column(c)
            return self.columns
        return coll.target + coll.covariates + coll.known_covariates

    # -- applying ------------------------------------------------------------------------------
    def _params(
        self, series_id: str | None, columns: Sequence[str] | None, n_features: int
    ) -> tuple[np.ndarray, np.ndarray]:
        if not self.fitted:
            raise ConfigError(f"{type(self).__name__} is not fitted; call fit() first")
        if self.per_series:
            if series_id is None:
                raise ConfigError(
                    f"{type(self).__name__} was fitted per series; pass series_id= "
                    f"(one of {', '.join(list(self._offset)[:10])})"
                )
            key = str(series_id)
            if key not in self._offset:
                raise ConfigError(f"{type(self).__name__} has no statistics for series {key!r}")
        else:
            key = ALL
        offset, scale = self._offset[key], self._scale[key]
        if columns is not None:
            if self.columns is None:
                raise ConfigError("columns= needs a scaler fitted on series (with column names)")
            try:
                idx = [self.columns.index(c) for c in columns]
            except ValueError:
                raise ConfigError(
                    f"columns {list(columns)} not all among the fitted columns {list(self.columns)}"
                ) from None
            offset, scale = offset[idx], scale[idx]
        if offset.shape[0] != n_features:
            raise ShapeError(
                f"{type(self).__name__}: input has {n_features} features on its last axis, the "
                f"scaler was fitted on {offset.shape[0]}"
            )
        return offset, scale

    def transform(
        self,
        data: Any,
        *,
        series_id: str | None = None,
        columns: Sequence[str] | None = None,
    ) -> Any:
        """Scale: an array (..., F) -> same shape and float dtype (integers become float64); a
        TimeSeries/SeriesCollection -> a new one with the fitted columns scaled (other columns
        unchanged). ``columns`` selects the fitted columns an array's last axis holds;
        ``series_id`` picks per-series statistics for arrays."""
        return self._apply(data, series_id, columns, inverse=False)

    def inverse_transform(
        self,
        data: Any,
        *,
        series_id: str | None = None,
        columns: Sequence[str] | None = None,
    ) -> Any:
        """Undo :meth:`transform` (e.g. ``inverse_transform(y_pred, columns=["close"])`` for
        predictions of shape (B, horizon, 1))."""
        return self._apply(data, series_id, columns, inverse=True)

    def fit_transform(self, data: Any, *, rows: RowSpec = None, until: Any = None) -> Any:
        """:meth:`fit` then :meth:`transform` of the whole data."""
        return self.fit(data, rows=rows, until=until).transform(data)

    def _apply(
        self, data: Any, series_id: str | None, columns: Sequence[str] | None, inverse: bool
    ) -> Any:
        """:meth:`transform` (``inverse`` False) or :meth:`inverse_transform` of ``data``."""
        if isinstance(data, (TimeSeries, SeriesCollection)):
            return self._map_series(data, inverse)
        x = _float(data)
        offset, scale = self._params(series_id, columns, x.shape[-1])
        return _affine(x, offset, scale, inverse)

    def _map_series(self, data: TimeSeries | SeriesCollection, inverse: bool) -> Any:
        if self.columns is None:
            raise ConfigError("this scaler was fitted on an array; transform arrays with it")

        def one(s: TimeSeries) -> TimeSeries:
            offset, scale = self._params(s.id if self.per_series else None, None, len(self.columns))
            new = {}
            for j, c in enumerate(self.columns):
                new[c] = _affine(s.column(c), offset[j], scale[j], inverse)
            return s.with_columns(**new)

        if isinstance(data, TimeSeries):
            return one(data)
        return data.map(one)

    # -- state ---------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Plain data: ``{"kind", "per_series", "columns", "config", "stats": {id: {"offset",
        "scale"}}}`` (``id`` is ``"*"`` unless per series)."""
        return {
            "kind": self.kind,
            "per_series": self.per_series,
            "columns": None if self.columns is None else list(self.columns),
            "config": self._extra_config(),
            "stats": {
                k: {"offset": self._offset[k].tolist(), "scale": self._scale[k].tolist()}
                for k in self._offset
            },
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore from :meth:`state_dict` output; raises StateDictError listing every problem."""
        owner = type(self).__name__
        problems = []
        for key in ("kind", "per_series", "columns", "config", "stats"):
            if key not in state:
                problems.append(f"missing key {key!r}")
        if problems:
            raise StateDictError(owner, problems)
        if state["kind"] != self.kind:
            problems.append(f"state is of a {state['kind']!r} scaler, this is {self.kind!r}")
        if state["config"] != self._extra_config():
            problems.append(f"config {state['config']} differs from {self._extra_config()}")
        offsets, scales = {}, {}
        stats = state["stats"]
        if not isinstance(stats, Mapping) or not stats:
            problems.append("stats must be a non-empty mapping")
            stats = {}
        n = None
        for k, v in stats.items():
            try:
                off = np.asarray(v["offset"], dtype=np.float64)
                sc = np.asarray(v["scale"], dtype=np.float64)
            except (KeyError, TypeError, ValueError):
                problems.append(f"stats[{k!r}] needs lists 'offset' and 'scale' of numbers")
                continue
            if off.ndim != 1 or off.shape != sc.shape:
                problems.append(f"stats[{k!r}]: offset {off.shape} and scale {sc.shape} differ")
                continue
            if n is not None and off.shape[0] != n:
                problems.append(f"stats[{k!r}] has {off.shape[0]} features, others {n}")
            n = off.shape[0]
            offsets[str(k)], scales[str(k)] = off, sc
        cols = state["columns"]
        if cols is not None and n is not None and len(cols) != n:
            problems.append(f"{len(cols)} columns but {n} features in stats")
        if not bool(state["per_series"]) and set(offsets) - {ALL}:
            problems.append(f"a pooled scaler needs stats under {ALL!r} only")
        if problems:
            raise StateDictError(owner, problems)
        self.per_series = bool(state["per_series"])
        self.columns = None if cols is None else tuple(cols)
        self._offset, self._scale = offsets, scales

    def __repr__(self) -> str:
        state = "fitted" if self.fitted else "not fitted"
        return f"{type(self).__name__}(per_series={self.per_series}, {state})"


class StandardScaler(Scaler):
    """``(x - mean) / std`` per feature; NaN-aware; ``ddof=0`` (population std) by default."""

    kind = "standard"
    _config_keys = ("ddof",)

    def __init__(
        self, *, ddof: int = 0, per_series: bool = False, columns: Sequence[str] | None = None
    ) -> None:
        super().__init__(per_series=per_series, columns=columns)
        self.ddof = int(ddof)

    def _stats(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.nanmean(x, axis=0), np.nanstd(x, axis=0, ddof=self.ddof)

    def _stats_finite(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.mean(x, axis=0), np.std(x, axis=0, ddof=self.ddof)

    @property
    def mean(self) -> np.ndarray:
        """(F,) means of the pooled statistics (or of the only series)."""
        return next(iter(self._offset.values()))

    @property
    def std(self) -> np.ndarray:
        """(F,) standard deviations (1 where the data was constant)."""
        return next(iter(self._scale.values()))


class MinMaxScaler(Scaler):
    """Maps the training range ``[min, max]`` to ``feature_range`` (default ``(0, 1)``)."""

    kind = "minmax"
    _config_keys = ("feature_range",)

    def __init__(
        self,
        feature_range: tuple[float, float] = (0.0, 1.0),
        *,
        per_series: bool = False,
        columns: Sequence[str] | None = None,
    ) -> None:
        super().__init__(per_series=per_series, columns=columns)
        self.feature_range = _increasing_pair(
            "feature_range", feature_range, "be (low, high) with low < high"
        )

    def _stats(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._range_stats(np.nanmin(x, axis=0), np.nanmax(x, axis=0))

    def _stats_finite(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._range_stats(x.min(axis=0), x.max(axis=0))

    def _range_stats(self, xmin: np.ndarray, xmax: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.feature_range
        scale = (xmax - xmin) / (hi - lo)
        # (x - offset) / scale == lo + (x - xmin) / (xmax - xmin) * (hi - lo)
        offset = xmin - lo * np.where(scale > 0, scale, 1.0)
        return offset, scale


class RobustScaler(Scaler):
    """``(x - median) / IQR`` with the IQR between the quantiles ``quantile_range`` (percent,
    default (25, 75)); insensitive to outliers."""

    kind = "robust"
    _config_keys = ("quantile_range",)

    def __init__(
        self,
        quantile_range: tuple[float, float] = (25.0, 75.0),
        *,
        per_series: bool = False,
        columns: Sequence[str] | None = None,
    ) -> None:
        super().__init__(per_series=per_series, columns=columns)
        self.quantile_range = _increasing_pair(
            "quantile_range", quantile_range, "satisfy 0 <= q1 < q3 <= 100", 0.0, 100.0
        )

    def _stats(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q = np.nanpercentile(x, [self.quantile_range[0], 50.0, self.quantile_range[1]], axis=0)
        return q[1], q[2] - q[0]


def _increasing_pair(
    name: str, value: Any, rule: str, low: float = -math.inf, high: float = math.inf
) -> tuple[float, float]:
    """``value`` as floats ``(a, b)`` with ``low <= a < b <= high``, else a ConfigError citing ``rule``."""
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):  # not two numbers: one, three, None, text
        raise ConfigError(f"{name} must {rule} (two numbers), got {value!r}") from None
    if not low <= a < b <= high:
        raise ConfigError(f"{name} must {rule}, got {value}")
    return a, b


def scaler_from_state(state: Mapping[str, Any] | None) -> Scaler | None:
    """Rebuild a scaler from its :meth:`~Scaler.state_dict` (its ``kind`` picks the class); None
    gives None.

    A checkpoint written with ``swets_train.fit(..., scaler=...)`` (or by a job) stores the scaler
    under ``training_state["scaler"]``: ``scaler_from_state(ckpt.training_state["scaler"])``.

    Raises:
        CheckpointError: an unknown scaler kind or a state that does not load.
    """
    if state is None:
        return None
    if not isinstance(state, Mapping) or "kind" not in state:
        raise CheckpointError(f"a scaler state must be a mapping with a 'kind', got {state!r:.80}")
    classes = {cls.kind: cls for cls in (StandardScaler, MinMaxScaler, RobustScaler)}
    kind = state["kind"]
    cls = classes.get(kind) if isinstance(kind, str) else None  # a list would be unhashable
    if cls is None:
        raise CheckpointError(f"unknown scaler kind {kind!r:.60}; known: {', '.join(classes)}")
    config = state.get("config")
    try:
        scaler = cls(**({} if config is None else config))  # an array has no truth value
        scaler.load_state_dict(state)
    except Exception as exc:
        raise CheckpointError(f"cannot rebuild the {state['kind']} scaler: {exc}") from exc
    return scaler


def _affine(x: np.ndarray, offset: Any, scale: Any, inverse: bool) -> np.ndarray:
    """``(x - offset) / scale``, or back (``inverse``): ``x * scale + offset``, with the
    statistics (float64 arrays broadcasting over ``x``'s last axis, or numpy scalars) in ``x``'s
    dtype."""
    o, k = offset.astype(x.dtype), scale.astype(x.dtype)
    return x * k + o if inverse else (x - o) / k


def _float(data: Any) -> np.ndarray:
    x = np.asarray(
        data.numpy() if hasattr(data, "numpy") and not isinstance(data, np.ndarray) else data
    )
    if x.ndim == 0:
        raise ShapeError("a scaler needs an array with a feature axis, got a scalar")
    if x.dtype.kind not in "fiub":
        raise ConfigError(f"a scaler needs numeric data, got dtype {x.dtype}")
    return x.astype(np.float64, copy=False) if x.dtype.kind != "f" else x


def _collection(data: Any) -> SeriesCollection:
    if isinstance(data, OHLCV):
        return SeriesCollection([data.to_series()])
    if isinstance(data, TimeSeries):
        return SeriesCollection([data])
    return data


def _select_rows(s: TimeSeries, rows: RowSpec, until: Any) -> slice:
    lo, hi = 0, len(s)
    if rows is not None:
        if isinstance(rows, slice):
            lo, hi, step = rows.indices(len(s))
            if step != 1:
                raise ConfigError("rows= slices must have step 1")
        else:
            if s.id not in rows:
                raise ConfigError(f"rows= has no entry for series {s.id!r}")
            r = rows[s.id]
            lo, hi = (
                (r.start or 0, len(s) if r.stop is None else r.stop) if isinstance(r, slice) else r
            )
    if until is not None:
        cut = int(np.searchsorted(s.timestamps, to_datetime64(until, what="until")))
        hi = min(hi, cut)
    return slice(int(lo), int(max(lo, hi)))


__all__ = exports_of(__name__)  # listed once, in the package's table of lazy exports
