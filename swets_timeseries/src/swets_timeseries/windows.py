"""Windowed datasets over one or many series, chronological splits and walk-forward folds.

A window starting at row ``t`` of a series covers rows ``[t, t + lookback + horizon)``: the first
``lookback`` rows are the input, the last ``horizon`` rows the forecast targets.

Storage: the used columns of every series are stored once, back to back, as one ``(rows, C)``
array of the chosen dtype, laid out ``[targets | covariates | known covariates]``. Windows are
:func:`numpy.lib.stride_tricks.sliding_window_view` views of that array, so memory grows with the
number of rows, never with the number of windows, and each window's parts are plain slices:

* ``x_past``   = rows ``[t, t + lookback)``, columns ``[targets | covariates | known covariates]``
  (targets left out with ``target_in_past=False``, known covariates with ``known_in_past=False``)
* ``y``        = rows ``[t + lookback, t + lookback + horizon)``, target columns
* ``x_future`` = the same rows, known-covariate columns (None when there are none)

Window indices run over the series in order, then by start row; the start rows of a series are
``first, first + stride, ...``. No per-window index array is kept.

Static covariates (one value per series, see :mod:`swets_timeseries.static`) are encoded once per
series into an ``(N series, S)`` array by a :class:`~swets_timeseries.StaticEncoder`;
:meth:`WindowDataset.gather_static` gives the rows of a batch's windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import attrs
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from swets_core.checks import check_count, is_int
from swets_core.dtype import DType
from swets_core.errors import ConfigError, DataValidationError, IndexOutOfRangeError
from swets_core.lazy import exports_of
from swets_timeseries._time import format_timestamp, to_datetime64
from swets_timeseries.series import as_collection
from swets_timeseries.static import StaticEncoder

WindowParts = tuple[np.ndarray, np.ndarray, np.ndarray | None]


class WindowRoles(NamedTuple):
    """The stored columns of a windowed dataset and their roles (see :func:`window_roles`)."""

    columns: tuple[str, ...]
    """every stored column: targets, then past covariates, then known covariates"""
    target: tuple[str, ...]
    """the target columns"""
    known: tuple[str, ...]
    """the known-future covariate columns"""
    past: slice
    """the positions among ``columns`` of an input window's columns (``x_past``)"""
    squeeze: bool
    """one target named as a string (or the data's single target): ``y`` is ``(horizon,)``"""


def window_roles(
    data: Any,
    target: str | Sequence[str] | None = None,
    covariates: Sequence[str] | None = None,
    known_covariates: Sequence[str] | None = None,
    *,
    target_in_past: bool = True,
    known_in_past: bool = True,
) -> WindowRoles:
    """The columns of ``data``'s windows as :class:`WindowDataset` lays them out: its target,
    covariates and known covariates by default, or those given (arguments as for
    :class:`WindowDataset`). Forecasting code that builds one window per series without a
    dataset reads the same layout from here.

    Raises:
        ConfigError: no target, a column with two roles, or an input window without columns.
    """
    # a TimeSeries or a SeriesCollection has the roles itself (no collection to build)
    coll = data if hasattr(data, "known_covariates") else as_collection(data)
    if target is None:
        targets = coll.target
        squeeze = len(targets) == 1
    elif isinstance(target, str):
        targets, squeeze = (target,), True
    else:
        targets, squeeze = tuple(target), False
    if not targets:
        raise ConfigError("WindowDataset needs at least one target column")
    covs = coll.covariates if covariates is None else tuple(covariates)
    known = coll.known_covariates if known_covariates is None else tuple(known_covariates)
    columns = targets + covs + known
    if len(set(columns)) != len(columns):
        raise ConfigError(
            f"a column has two roles: target={list(targets)}, covariates={list(covs)}, "
            f"known_covariates={list(known)}"
        )
    t, p, k = len(targets), len(covs), len(known)
    lo = 0 if target_in_past else t
    hi = t + p + (k if known_in_past else 0)
    if hi <= lo:
        raise ConfigError(
            "x_past would have no columns: include targets, covariates or known covariates"
        )
    return WindowRoles(columns, targets, known, slice(lo, hi), squeeze)


class WindowDataset:
    """Sliding windows over one or many series.

    Args:
        data: a TimeSeries, SeriesCollection, OHLCV (target ``close`` unless given) or a list of
            TimeSeries.
        lookback: input rows per window (>= 1).
        horizon: target rows per window (>= 1).
        stride: rows between consecutive window starts of a series.
        target: target column(s); default: the data's target. ``y`` is ``(horizon,)`` per window
            when there is one target given as a string (or taken from the data), and
            ``(horizon, T)`` when ``target`` is a list, even of length 1.
        covariates: past covariate columns; default: the data's covariates.
        known_covariates: known-future covariate columns; default: the data's known covariates.
        target_in_past: include the targets' history in ``x_past`` (default True).
        known_in_past: include the known covariates' history in ``x_past`` (default True).
        static_covariates: static covariate names; default: the data's (its series' ``static``).
        static_encoder: the fitted :class:`~swets_timeseries.StaticEncoder` that turns them into
            numbers (a trained model's); default: one fitted on the data.
        dtype: storage dtype (float32 default); the loader's batches use it without conversion.
        allow_nan: by default rows before the first row where every used column is finite (the
            warm-up of features) are skipped, and a non-finite value after it raises
            DataValidationError naming the series, row, timestamp and column. True keeps NaN.

    Attributes:
        lookback, horizon, stride, columns (stored column names), past_columns, target_columns,
        known_columns, ids (series ids), rows (``{id: (start, stop)}``: the row range this dataset's
        windows lie in, e.g. for fitting a scaler on a training split), static_columns,
        static_encoder (None without static covariates).
    """

    __slots__ = (
        "_base",
        "_count",
        "_cum",
        "_data",
        "_lens",
        "_offsets",
        "_past",
        "_squeeze",
        "_stamps",
        "_static",
        "_view",
        "columns",
        "horizon",
        "ids",
        "known_columns",
        "lookback",
        "past_columns",
        "rows",
        "static_columns",
        "static_encoder",
        "stride",
        "target_columns",
    )

    def __init__(
        self,
        data: Any,
        lookback: int,
        horizon: int,
        *,
        stride: int = 1,
        target: str | Sequence[str] | None = None,
        covariates: Sequence[str] | None = None,
        known_covariates: Sequence[str] | None = None,
        target_in_past: bool = True,
        known_in_past: bool = True,
        static_covariates: Sequence[str] | None = None,
        static_encoder: StaticEncoder | None = None,
        dtype: DType | str = "float32",
        allow_nan: bool = False,
    ) -> None:
        coll = as_collection(data)
        self.lookback = check_count(lookback, "lookback", where="WindowDataset")
        self.horizon = check_count(horizon, "horizon", where="WindowDataset")
        self.stride = check_count(stride, "stride", where="WindowDataset")
        roles = window_roles(
            coll,
            target,
            covariates,
            known_covariates,
            target_in_past=target_in_past,
            known_in_past=known_in_past,
        )
        self._squeeze = roles.squeeze
        self.columns = roles.columns
        self.target_columns = roles.target
        self.known_columns = roles.known
        self._past = roles.past
        self.past_columns = roles.columns[roles.past]
        columns = roles.columns
        np_dtype = DType.of(dtype).numpy
        if np_dtype.kind != "f":
            raise ConfigError(f"WindowDataset dtype must be a float dtype, got {np_dtype}")

        series = list(coll)
        self.ids = tuple(s.id for s in series)
        static = coll.static_covariates if static_covariates is None else tuple(static_covariates)
        self.static_columns = static
        self.static_encoder = None
        self._static = None
        if static:
            encoder = static_encoder or StaticEncoder(static).fit(series)
            if encoder.columns != static:
                raise ConfigError(
                    f"the static encoder encodes {list(encoder.columns or ())}, the dataset's "
                    f"static covariates are {list(static)}"
                )
            self.static_encoder = encoder
            self._static = encoder.transform(series, dtype=np_dtype)
        lens = np.fromiter((len(s) for s in series), dtype=np.int64, count=len(series))
        offsets = np.zeros(len(series), dtype=np.int64)
        np.cumsum(lens[:-1], out=offsets[1:])
        total = int(lens.sum())
        with np.errstate(over="ignore"):  # a finite value beyond np_dtype is named below
            if len(series) == 1 and len(columns) == 1:
                col = series[0].column(columns[0])
                data_arr = col.astype(np_dtype, copy=False).reshape(-1, 1)
            else:  # one pass per column over every series, into the storage's column
                data_arr = np.empty((total, len(columns)), dtype=np_dtype)
                for j, name in enumerate(columns):
                    parts = [s.column(name) for s in series]
                    np.concatenate(parts, out=data_arr[:, j], casting="same_kind")
        for j, name in enumerate(columns):
            if any(s.column(name).dtype.itemsize > np_dtype.itemsize for s in series):
                self._require_column_fits(series, offsets, data_arr[:, j], name, np_dtype)
        self._data = data_arr
        self._stamps = tuple(s.timestamps for s in series)
        self._offsets, self._lens = offsets, lens
        length = self.lookback + self.horizon
        if data_arr.shape[0] >= length:
            self._view = sliding_window_view(data_arr, length, axis=0).swapaxes(1, 2)
        else:
            self._view = np.empty((0, length, len(columns)), dtype=np_dtype)
        starts = np.zeros(len(series), dtype=np.int64)
        if not allow_nan:
            # one pass over the storage; the series holding a non-finite row are looked at alone
            bad = np.flatnonzero(~np.isfinite(data_arr).all(axis=1))
            if bad.size:
                where = np.searchsorted(offsets, bad, side="right") - 1
                for i in np.unique(where).tolist():
                    starts[i] = self._check_finite(series[i], i)
        ranges = {sid: (int(a), int(n)) for sid, a, n in zip(self.ids, starts, lens)}
        self._set_windows(ranges)
        if len(self) == 0:
            raise ConfigError(
                f"no complete window: each needs lookback + horizon = {length} rows; series "
                f"lengths (after warm-up rows): "
                f"{ {sid: b - a for sid, (a, b) in list(ranges.items())[:10]} }"
            )

    @staticmethod
    def _require_column_fits(
        series: list[Any], offsets: np.ndarray, stored: np.ndarray, name: str, dtype: np.dtype
    ) -> None:
        """Raise DataValidationError if a finite value of column ``name`` became an infinity in
        ``stored`` (that column of the storage, in ``dtype``), naming the first series and row
        where it did; one pass over the column, the series holding an infinity looked at alone."""
        inf = np.flatnonzero(np.isinf(stored))
        if not inf.size:
            return
        where = np.searchsorted(offsets, inf, side="right") - 1
        for i in np.unique(where).tolist():
            s = series[i]
            off, n = int(offsets[i]), len(s)
            source = s.column(name)
            over = np.isinf(stored[off : off + n]) & np.isfinite(source)
            _require_fits(over, source, s.timestamps, s.id, name, dtype)

    def _check_finite(self, s: Any, i: int) -> int:
        block = self._data[self._offsets[i] : self._offsets[i] + self._lens[i]]
        finite = np.isfinite(block)
        all_ok = finite.all(axis=1)
        if all_ok.all():
            return 0
        good = np.flatnonzero(all_ok)
        first = int(good[0]) if good.size else int(self._lens[i])
        rest = ~finite[first:]
        if rest.any():
            r, c = np.argwhere(rest)[0]
            row = first + int(r)
            raise DataValidationError(
                f"series {s.id!r}: row {row} ({format_timestamp(s.timestamps[row])}), column "
                f"{self.columns[c]!r} is {float(block[row, c])!r} after the warm-up rows (the first "
                f"{first} rows, which are skipped); windows would feed it to a model. Clean or "
                f"validate the data, or pass allow_nan=True"
            )
        return first

    # -- window bookkeeping --------------------------------------------------------------------
    def _set_windows(
        self, ranges: dict[str, tuple[int, int]], first: dict[str, int] | None = None
    ) -> None:
        """Windows of each series lie in its row range [start, stop); they start at ``first``
        (default: the range start) and advance by ``stride``."""
        length = self.lookback + self.horizon
        base = np.zeros(len(self.ids), dtype=np.int64)
        count = np.zeros(len(self.ids), dtype=np.int64)
        for i, sid in enumerate(self.ids):
            lo, hi = ranges.get(sid, (0, 0))
            f = lo if first is None else max(lo, first.get(sid, lo))
            room = hi - f - length
            count[i] = room // self.stride + 1 if room >= 0 else 0
            base[i] = self._offsets[i] + f
        self._base, self._count = base, count
        self._cum = np.cumsum(count)
        self.rows = dict(ranges)

    def _derive(
        self, ranges: dict[str, tuple[int, int]], first: dict[str, int] | None = None
    ) -> WindowDataset:
        new = object.__new__(WindowDataset)
        for name in WindowDataset.__slots__:
            setattr(new, name, getattr(self, name))
        new._set_windows(ranges, first)
        return new

    def __len__(self) -> int:
        return int(self._cum[-1]) if self._cum.size else 0

    @property
    def n_features(self) -> int:
        """F, the number of ``x_past`` columns."""
        return self._past.stop - self._past.start

    @property
    def dtype(self) -> np.dtype:
        """The storage dtype."""
        return self._data.dtype

    def require_dtype(self, dtype: DType | str, advice: str) -> None:
        """Raise DataValidationError if a stored value the windows use is finite but beyond the
        range of ``dtype`` (e.g. 1e39 stored in float64, batches in float32), naming the series,
        row, timestamp and column; ``advice`` says what to do instead."""
        np_dtype = DType.of(dtype).numpy
        if np_dtype.itemsize >= self._data.dtype.itemsize:
            return
        for i, sid in enumerate(self.ids):
            lo, hi = self.rows[sid]
            block = self._data[self._offsets[i] : self._offsets[i] + self._lens[i]]
            with np.errstate(over="ignore"):
                over = np.isinf(block.astype(np_dtype)) & np.isfinite(block)
            over[:lo] = over[hi:] = False  # rows no window of this dataset uses
            for c, name in enumerate(self.columns):
                stamps = self._series_timestamps(i)
                _require_fits(over[:, c], block[:, c], stamps, sid, name, np_dtype, advice)

    def starts(self, indices: np.ndarray) -> np.ndarray:
        """Global storage rows where windows ``indices`` start (vectorized, (B,) int64)."""
        return self._locate(indices)[0]

    def _locate(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """``(start rows, series positions)`` of windows; the positions are None for one series."""
        idx = np.asarray(indices, dtype=np.int64)
        n = len(self)
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            bad = idx[(idx < 0) | (idx >= n)][0]
            raise IndexOutOfRangeError(
                f"window index {bad} out of range for a dataset of {n} windows"
            )
        if self._count.shape[0] == 1:
            return self._base[0] + idx * self.stride, None
        s = np.searchsorted(self._cum, idx, side="right")
        return self._base[s] + (idx - (self._cum[s] - self._count[s])) * self.stride, s

    def gather(self, indices: np.ndarray) -> WindowParts:
        """Copy the windows ``indices`` into contiguous batch arrays.

        Returns:
            ``(x_past (B, lookback, F), y (B, horizon) or (B, horizon, T), x_future
            (B, horizon, K) or None)`` in the storage dtype.
        """
        st = self.starts(indices)
        view, lb = self._view, self.lookback
        x = view[st, :lb, self._past]
        t = len(self.target_columns)
        y = view[st, lb:, 0] if self._squeeze else view[st, lb:, :t]
        xf = (
            view[st, lb:, len(self.columns) - len(self.known_columns) :]
            if self.known_columns
            else None
        )
        return x, y, xf

    def gather_static(self, indices: np.ndarray) -> np.ndarray | None:
        """``(B, S)``: the encoded static covariates of the series of windows ``indices`` in the
        storage dtype (a copy), or None without static covariates."""
        if self._static is None:
            return None
        s = self._locate(indices)[1]
        if s is None:
            return np.repeat(self._static, np.asarray(indices).shape[0], axis=0)
        return self._static[s]

    def __getitem__(self, i: int) -> WindowParts:
        """Window ``i`` as views: ``(x_past (lookback, F), y (horizon,) or (horizon, T),
        x_future (horizon, K) or None)``."""
        if not isinstance(i, (int, np.integer)):
            raise ConfigError("index a WindowDataset with an int; use gather() for many windows")
        n = len(self)
        if i < 0:
            i += n
        w = self._view[int(self.starts(np.array([i]))[0])]
        return self._parts(w)

    def _parts(self, w: np.ndarray) -> WindowParts:
        lb = self.lookback
        x = w[..., :lb, self._past]
        y = w[..., lb:, 0] if self._squeeze else w[..., lb:, : len(self.target_columns)]
        xf = (
            w[..., lb:, len(self.columns) - len(self.known_columns) :]
            if self.known_columns
            else None
        )
        return x, y, xf

    def series_windows(self, series: int | str = 0) -> WindowParts:
        """All windows of one series as strided views (no copy): ``(x_past (N, lookback, F),
        y (N, horizon[, T]), x_future (N, horizon, K) or None)``."""
        i = self.ids.index(series) if isinstance(series, str) else int(series)
        b, c = int(self._base[i]), int(self._count[i])
        w = (
            self._view[b : b + max(c - 1, 0) * self.stride + 1 : self.stride]
            if c
            else self._view[:0]
        )
        return self._parts(w)

    def window_info(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(series ids, forecast origins)`` of windows: the id of each window's series and the
        timestamp of its first target row, both (B,)."""
        st, s = self._locate(indices)
        ids = np.asarray(self.ids, dtype=object)[np.zeros(st.shape, np.int64) if s is None else s]
        rows = st + self.lookback
        if s is None:
            return ids, self._stamps[0][rows - self._offsets[0]]
        origins = np.empty(rows.shape, dtype=self._stamps[0].dtype)
        order = np.argsort(s, kind="stable")
        groups, first = np.unique(s[order], return_index=True)
        bounds = np.append(first, order.shape[0])
        for k, i in enumerate(groups.tolist()):  # per series among the windows
            pick = order[bounds[k] : bounds[k + 1]]
            origins[pick] = self._stamps[i][rows[pick] - self._offsets[i]]
        return ids, origins

    def storage(self) -> np.ndarray:
        """The ``(rows, C)`` storage array every window views (do not modify)."""
        return self._data

    # -- splits --------------------------------------------------------------------------------
    def _boundary(self, spec: Any, sid: str, n_rows: int, what: str) -> int:
        """Rows taken by a split from the end: a fraction, an int row count or a start timestamp."""
        if spec is None:
            return 0
        if isinstance(spec, float):
            if not 0.0 <= spec < 1.0:
                raise ConfigError(f"{what} fraction must be in [0, 1), got {spec}")
            return round(spec * n_rows)
        if is_int(spec):
            if spec < 0:
                raise ConfigError(f"{what} row count must be >= 0, got {spec}")
            return int(spec)
        raise ConfigError(f"{what} must be a fraction, a row count or a timestamp, got {spec!r}")

    def split(self, val: Any = 0.15, test: Any = 0.15, *, gap: int = 0) -> Splits:
        """Chronological train / validation / test splits of every series.

        Args:
            val, test: size of the validation and test parts: a fraction of each series' usable
                rows, a row count, or a timestamp where the part starts. 0 or None: no such part.
            gap: rows left out between consecutive parts (taken from the end of the earlier
                part), e.g. ``horizon`` to keep the parts' targets further apart.

        Each part's windows lie entirely within its own rows (inputs and targets), so no window of
        one part sees a row of another. Returns :class:`Splits` (``val``/``test`` None when 0).
        """
        gap = check_count(gap, "gap", minimum=0, where="WindowDataset.split")
        parts: dict[str, dict[str, tuple[int, int]]] = {"train": {}, "val": {}, "test": {}}
        for i, sid in enumerate(self.ids):
            lo, hi = self.rows[sid]
            ts = self._series_timestamps(i)
            test_lo = self._start_of(test, sid, lo, hi, hi, ts, "test")
            val_end = test_lo - gap if test_lo < hi else hi
            val_lo = self._start_of(val, sid, lo, hi, val_end, ts, "val")
            train_end = val_lo - gap if val_lo < val_end else val_end
            parts["train"][sid] = (lo, max(lo, train_end))
            parts["val"][sid] = (val_lo, max(val_lo, val_end)) if val_lo < val_end else (0, 0)
            parts["test"][sid] = (test_lo, hi) if test_lo < hi else (0, 0)
        out = {}
        for name, ranges in parts.items():
            if name != "train" and all(b <= a for a, b in ranges.values()):
                out[name] = None
                continue
            ds = self._derive(ranges)
            if len(ds) == 0:
                raise ConfigError(
                    f"the {name} split has no complete window (each needs lookback + horizon = "
                    f"{self.lookback + self.horizon} rows); its rows per series: "
                    f"{ {k: b - a for k, (a, b) in list(ranges.items())[:10]} }"
                )
            out[name] = ds
        return Splits(out["train"], out["val"], out["test"])

    def _series_timestamps(self, i: int) -> np.ndarray:
        return self._stamps[i]

    def _start_of(
        self, spec: Any, sid: str, lo: int, hi: int, end: int, ts: np.ndarray, what: str
    ) -> int:
        if spec is None:
            return end
        if isinstance(spec, (str, np.datetime64)) or hasattr(spec, "year"):
            cut = int(np.searchsorted(ts, to_datetime64(spec, what=what)))
            return min(max(cut, lo), end)
        size = self._boundary(spec, sid, hi - lo, what)
        return max(lo, end - size) if size else end

    def walk_forward(
        self,
        n_folds: int,
        test_size: int,
        *,
        step: int | None = None,
        train_size: int | None = None,
        gap: int = 0,
    ) -> list[Fold]:
        """Rolling-origin folds for backtesting, the last ending at each series' end.

        Fold ``k`` (0 = oldest) of a series with ``n`` usable rows has the origin
        ``o = n - test_size - (n_folds - 1 - k) * step`` (step defaults to ``test_size``):

        * train windows lie entirely in rows ``[o - gap - train_size, o - gap)`` (from the start
          when ``train_size`` is None: an expanding window);
        * test windows are those whose targets lie in ``[o, o + test_size)``; their inputs are the
          ``lookback`` rows before their targets, which may precede ``o`` (the past is known at
          forecast time), but no training window ever contains a test target.
        """
        n_folds = check_count(n_folds, "n_folds", where="WindowDataset.walk_forward")
        test_size = check_count(test_size, "test_size", where="WindowDataset.walk_forward")
        step = (
            test_size
            if step is None
            else check_count(step, "step", where="WindowDataset.walk_forward")
        )
        gap = check_count(gap, "gap", minimum=0, where="WindowDataset.walk_forward")
        if test_size < self.horizon:
            raise ConfigError(f"test_size ({test_size}) must be >= horizon ({self.horizon})")
        folds = []
        for k in range(n_folds):
            train_r, test_r, first, origins = {}, {}, {}, {}
            for i, sid in enumerate(self.ids):
                lo, hi = self.rows[sid]
                o = hi - test_size - (n_folds - 1 - k) * step
                t_end = o - gap
                t_lo = lo if train_size is None else max(lo, t_end - train_size)
                train_r[sid] = (t_lo, max(t_lo, t_end))
                test_r[sid] = (max(lo, o - self.lookback), o + test_size)
                first[sid] = o - self.lookback
                if o - self.lookback < lo:
                    raise ConfigError(
                        f"walk_forward: fold {k} of series {sid!r} starts at row {o}, which leaves "
                        f"less than lookback={self.lookback} rows before it; use fewer folds or a "
                        f"smaller step"
                    )
                origins[sid] = self._series_timestamps(i)[o]
            train, test = self._derive(train_r), self._derive(test_r, first)
            if len(train) == 0 or len(test) == 0:
                raise ConfigError(
                    f"walk_forward: fold {k} has {len(train)} train and {len(test)} test windows; "
                    f"use fewer folds, a smaller step or more data"
                )
            folds.append(Fold(k, train, test, origins))
        return folds

    def __repr__(self) -> str:
        return (
            f"WindowDataset({len(self)} windows over {len(self.ids)} series, lookback={self.lookback}, "
            f"horizon={self.horizon}, stride={self.stride}, target={list(self.target_columns)}, "
            f"past={list(self.past_columns)}, known_future={list(self.known_columns)}, "
            f"static={list(self.static_columns)}, dtype={self.dtype})"
        )


@attrs.frozen(slots=True)
class Splits:
    """Chronological parts of a :class:`WindowDataset`; ``val``/``test`` are None when not asked."""

    train: WindowDataset
    val: WindowDataset | None
    test: WindowDataset | None

    def __iter__(self) -> Any:
        return iter((self.train, self.val, self.test))


@attrs.frozen(slots=True)
class Fold:
    """One walk-forward fold: ``index``, ``train`` and ``test`` datasets, and the forecast origin
    (first test-target timestamp) of each series by id."""

    index: int
    train: WindowDataset
    test: WindowDataset
    origins: dict[str, np.datetime64]


def _require_fits(
    over: np.ndarray,
    values: np.ndarray,
    timestamps: np.ndarray,
    sid: str,
    name: str,
    dtype: np.dtype,
    advice: str = "build the dataset with dtype=float64",
) -> None:
    """Raise DataValidationError naming the first row where ``over`` is set: a finite value of
    ``values`` beyond the range of ``dtype`` (numpy would store an infinity, with a warning)."""
    if not over.any():
        return
    row = int(np.flatnonzero(over)[0])
    raise DataValidationError(
        f"series {sid!r}: row {row} ({format_timestamp(timestamps[row])}), column "
        f"{name!r} is {float(values[row])!r}, beyond the range of {dtype} (largest finite "
        f"{float(np.finfo(dtype).max):.6g}; {int(over.sum())} value(s) of the column overflow); "
        f"{advice}, which reads them, or rescale the column"
    )


__all__ = exports_of(__name__)  # listed once, in the package's table of lazy exports
