"""Forecasts in the original scale with their timestamps: :func:`predict` and :func:`forecast`.

Both take the data in its original scale (a ``TimeSeries``, ``SeriesCollection`` or ``OHLCV`` from
swets-timeseries) and the scaler the model was trained with (fitted on the series, or None). They
build the model's input windows the way training did (``WindowDataset`` with the same lookback,
target and covariates), scale the inputs, run the model in eval mode without gradients in large batches,
and map the forecasts back with the scaler's inverse for the target column. A model trained with
known covariates gets their values over the horizon (``future=``), one with static covariates the
encoded values of each series (``static=``, through the trained
:class:`~swets_timeseries.StaticEncoder`).

* :func:`predict`: a forecast from every window origin of the data, next to the actual values
  (historical forecasts, for evaluation and plots).
* :func:`forecast`: the forecast beyond the end of each series, from its last ``lookback`` rows, with
  future timestamps continuing the series' sampling interval, or those of the rows after its last
  target value (future rows), whose known covariates the forecast reads; or of a separate
  ``future=`` frame. A known covariate missing for a step of the horizon is an error naming the
  column and the first timestamp without a value, never a silent fallback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from swets_core import Tensor, no_grad
from swets_core.checks import is_int
from swets_core.errors import ConfigError, DataValidationError, ShapeError
from swets_train.conformal import Conformal, level_name, parse_levels, scores_of

__all__ = [
    "Forecast",
    "Forecaster",
    "calibrate",
    "calibrate_windows",
    "forecast",
    "horizon_timestamps",
    "model_dtype",
    "predict",
    "run_model",
    "series_rows",
]


class Forecast:
    """Forecasts with their timestamps, in the original scale.

    Attributes:
        ids: ``(N,)`` series id of each forecast.
        origins: ``(N,)`` datetime64, the timestamp of each forecast's first step.
        timestamps: ``(N, H)`` datetime64 of every forecast step.
        values: ``(N, H)`` point forecasts, or ``(N, H, Q)`` with ``quantiles``.
        quantiles: the quantile levels of ``values``' last axis, or None.
        actuals: ``(N, H)`` observed values (None for forecasts beyond the data).
        target: the target column's name.
        levels: the prediction intervals' levels in percent (``(80.0, 95.0)``), or None.
        lower, upper: ``(N, H, L)`` the intervals' bounds at ``levels`` (None without intervals).
        samples: ``(S, N, H)`` sample paths of a sampling model (DeepAR), or None.
    """

    __slots__ = (
        "actuals",
        "ids",
        "levels",
        "lower",
        "origins",
        "quantiles",
        "samples",
        "target",
        "timestamps",
        "upper",
        "values",
    )

    def __init__(
        self,
        ids: np.ndarray,
        origins: np.ndarray,
        timestamps: np.ndarray,
        values: np.ndarray,
        quantiles: Sequence[float] | None = None,
        actuals: np.ndarray | None = None,
        target: str = "y",
        *,
        levels: Sequence[float] | None = None,
        lower: np.ndarray | None = None,
        upper: np.ndarray | None = None,
        samples: np.ndarray | None = None,
    ) -> None:
        self.ids = np.asarray(ids)
        self.origins = np.asarray(origins)
        self.timestamps = np.asarray(timestamps)
        self.values = np.asarray(values)
        self.quantiles = None if quantiles is None else tuple(float(q) for q in quantiles)
        self.actuals = None if actuals is None else np.asarray(actuals)
        self.target = target
        self.levels = None if levels is None else tuple(float(v) for v in levels)
        self.lower = None if lower is None else np.asarray(lower)
        self.upper = None if upper is None else np.asarray(upper)
        self.samples = None if samples is None else np.asarray(samples)

    def __len__(self) -> int:
        return int(self.values.shape[0])

    @property
    def horizon(self) -> int:
        """H, the number of steps of each forecast."""
        return int(self.values.shape[1])

    @property
    def point(self) -> np.ndarray:
        """``(N, H)`` point forecasts (the 0.5 quantile of a quantile forecast)."""
        if self.quantiles is None:
            return self.values
        levels = np.asarray(self.quantiles)
        hit = np.flatnonzero(np.isclose(levels, 0.5, rtol=0.0, atol=1e-9))
        if hit.size == 0:
            raise ConfigError(
                f"this quantile forecast has no 0.5 level (levels {list(self.quantiles)})"
            )
        return self.values[..., int(hit[0])]

    def interval(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        """``(lower, upper)``, each ``(N, H)``, of the prediction interval at ``level`` (percent)."""
        if self.levels is None or self.lower is None or self.upper is None:
            raise ConfigError("this forecast has no prediction intervals; ask for levels=")
        hits = [j for j, v in enumerate(self.levels) if abs(v - float(level)) < 1e-9]
        if not hits:
            raise ConfigError(
                f"this forecast has intervals at {[level_name(v) for v in self.levels]} %, not "
                f"{level_name(float(level))} %"
            )
        return self.lower[..., hits[0]], self.upper[..., hits[0]]

    def to_columns(self) -> dict[str, np.ndarray]:
        """Long format, one row per (forecast, step): ``series_id``, ``origin``, ``timestamp``,
        ``step`` (1-based), the forecast (``forecast`` or ``q0.1``, ``q0.5``...), the intervals'
        bounds (``lo80``, ``hi80``...) when there are intervals, and ``actual`` when known. Every
        column is a 1-d array of length ``N * H``."""
        n, h = self.values.shape[:2]
        out: dict[str, np.ndarray] = {
            "series_id": np.repeat(self.ids.astype(str), h),
            "origin": np.repeat(self.origins, h),
            "timestamp": self.timestamps.reshape(-1),
            "step": np.tile(np.arange(1, h + 1), n),
        }
        if self.quantiles is None:
            out["forecast"] = self.values.reshape(-1)
        else:
            for j, q in enumerate(self.quantiles):
                out[f"q{q:g}"] = self.values[..., j].reshape(-1)
        if self.levels is not None and self.lower is not None and self.upper is not None:
            for j, level in enumerate(self.levels):
                out[f"lo{level_name(level)}"] = self.lower[..., j].reshape(-1)
                out[f"hi{level_name(level)}"] = self.upper[..., j].reshape(-1)
        if self.actuals is not None:
            out["actual"] = self.actuals.reshape(-1)
        return out

    def __repr__(self) -> str:
        span = ""
        if len(self):
            span = f", {self.timestamps.min()}..{self.timestamps.max()}"
        q = "" if self.quantiles is None else f", quantiles={list(self.quantiles)}"
        if self.levels is not None:
            q += f", levels={[level_name(v) for v in self.levels]}"
        return f"Forecast({len(self)} x {self.values.shape[1]} steps of {self.target!r}{q}{span})"


def model_dtype(model: Any) -> np.dtype:
    """The float dtype of the model's parameters (float64 for a model without parameters)."""
    named = getattr(model, "named_parameters", None)
    if callable(named):  # the first parameter, without walking the whole model
        params: Any = (p for _, p in named())
    else:
        params = model.parameters() if callable(getattr(model, "parameters", None)) else []
    for p in params:
        return p._data.dtype
    return np.dtype(np.float64)


def run_model(
    model: Any,
    x: np.ndarray,
    batch_size: int = 1024,
    *,
    future: np.ndarray | None = None,
    static: np.ndarray | None = None,
) -> np.ndarray:
    """Forward ``x`` ``(N, L, F)`` through ``model`` in eval mode, without gradients, in batches,
    with the known covariates ``future`` ``(N, H, K)`` and the static covariates ``static``
    ``(N, S)`` when given (as the model's ``future=`` and ``static=`` inputs).

    A model in training mode is switched to eval mode for the call and back after it; a layer
    runs its array forward (:meth:`~swets_core.Module.forward_arrays`: nothing recorded, no
    Tensor per op).

    Returns the stacked outputs as a float64 array ``(N, H)`` or ``(N, H, Q)``.
    """
    if not is_int(batch_size) or batch_size < 1:
        raise ConfigError(f"batch_size must be an int >= 1, got {batch_size!r}")
    was_training = bool(getattr(model, "training", False))
    if was_training:
        model.eval()
    try:
        return _forward(model, model_dtype(model), x, batch_size, future, static)
    finally:
        if was_training:
            model.train(True)


def _forward(
    model: Any,
    dtype: np.dtype,
    x: np.ndarray,
    batch_size: int,
    future: np.ndarray | None,
    static: np.ndarray | None,
) -> np.ndarray:
    """:func:`run_model`'s batches, the model's mode as it is (``dtype``: its parameters')."""
    from swets_train.executor import call_model

    arrays = callable(getattr(model, "forward_arrays", None))
    extra = {"future": future, "static": static}
    outs = []
    with no_grad():
        for lo in range(0, x.shape[0], batch_size):
            chunk = np.ascontiguousarray(x[lo : lo + batch_size], dtype=dtype)
            inputs = {
                k: np.ascontiguousarray(v[lo : lo + batch_size], dtype=dtype)
                for k, v in extra.items()
                if v is not None
            }
            if arrays:
                out = call_model(model, chunk, inputs, arrays=True)
            else:
                inputs = {k: Tensor(v) for k, v in inputs.items()}
                out = call_model(model, Tensor(chunk), inputs)
            outs.append(np.asarray(out._data if isinstance(out, Tensor) else out))
    if not outs:
        raise DataValidationError("no window to forecast from")
    if len(outs) == 1:
        return outs[0].astype(np.float64, copy=False)
    return np.concatenate(outs).astype(np.float64, copy=False)


def _collection(data: Any) -> Any:
    from swets_timeseries.series import as_collection

    try:
        return as_collection(data)
    except Exception as exc:
        raise ConfigError(
            f"expected a TimeSeries, SeriesCollection or OHLCV, got {type(data).__name__}: {exc}"
        ) from exc


def _geometry(model: Any, lookback: int | None, horizon: int | None) -> tuple[int, int]:
    config = model.config() if callable(getattr(model, "config", None)) else {}
    if lookback is None:  # input_size: another name of the lookback (NeuralForecast's)
        lookback = config.get("lookback", config.get("input_size"))
    horizon = config.get("horizon") if horizon is None else horizon
    if lookback is None:
        raise ConfigError(
            f"{type(model).__name__} has no lookback in its config; pass lookback= (the input rows)"
        )
    if horizon is None:
        raise ConfigError(f"{type(model).__name__} has no horizon in its config; pass horizon=")
    return int(lookback), int(horizon)


def _quantiles(model: Any) -> tuple[float, ...] | None:
    config = model.config() if callable(getattr(model, "config", None)) else {}
    qs = config.get("quantiles")
    return None if qs is None else tuple(float(q) for q in qs)


def _check_output(model: Any, out: np.ndarray, n: int, horizon: int, quantiles: Any) -> None:
    name = getattr(model, "registry_name", type(model).__name__)
    expected = (n, horizon) if quantiles is None else (n, horizon, len(quantiles))
    if out.shape != expected:
        raise ShapeError(
            f"model {name!r} returned shape {out.shape}, expected {expected} "
            "(batch, horizon[, quantiles])"
        )


class _Scaling:
    """Applies a fitted series scaler to window inputs and inverts it on target forecasts."""

    __slots__ = ("per_series", "scaler")

    def __init__(self, scaler: Any) -> None:
        self.scaler = scaler
        if scaler is not None:
            if not getattr(scaler, "fitted", True):
                raise ConfigError(
                    f"{type(scaler).__name__} is not fitted; fit it on the training rows"
                )
            if getattr(scaler, "columns", ()) is None:
                raise ConfigError(
                    f"{type(scaler).__name__} was fitted on an array; fit it on the series "
                    "(scaler.fit(series, rows=...)) so its columns are known"
                )
        self.per_series = bool(getattr(scaler, "per_series", False))

    def _sid(self, sid: str) -> str | None:
        return sid if self.per_series else None

    def inputs(self, x: np.ndarray, columns: Sequence[str], sid: str) -> np.ndarray:
        if self.scaler is None:
            return x
        return self.scaler.transform(x, columns=list(columns), series_id=self._sid(sid))

    def target(self, values: np.ndarray, column: str, sid: str) -> np.ndarray:
        if self.scaler is None:
            return values
        return self.scaler.inverse_transform(
            values[..., None], columns=[column], series_id=self._sid(sid)
        )[..., 0]

    def inputs_of(self, x: np.ndarray, columns: Sequence[str], ids: np.ndarray) -> np.ndarray:
        """:meth:`inputs` of rows ``x`` whose series are ``ids`` (one call for a pooled scaler,
        one per series for a per-series one)."""
        if self.scaler is None:
            return x
        if not self.per_series:
            return self.inputs(x, columns, "")
        out = np.empty(x.shape, dtype=np.float64)
        for sid, rows in series_rows(ids):
            out[rows] = self.inputs(x[rows], columns, sid)
        return out

    def target_of(self, values: np.ndarray, column: str, ids: np.ndarray) -> np.ndarray:
        """:meth:`target` of forecasts ``values`` whose series are ``ids``."""
        if self.scaler is None:
            return values
        if not self.per_series:
            return self.target(values, column, "")
        out = np.empty(values.shape, dtype=np.float64)
        for sid, rows in series_rows(ids):
            out[rows] = self.target(values[rows], column, sid)
        return out

    def target_forward_of(self, values: np.ndarray, column: str, ids: np.ndarray) -> np.ndarray:
        """Target values ``values`` whose series are ``ids`` in the model's scale (the scaler's
        transform of the target column): the inverse of :meth:`target_of`."""
        if self.scaler is None:
            return values

        def forward(v: np.ndarray, sid: str) -> np.ndarray:
            return self.scaler.transform(v[..., None], columns=[column], series_id=self._sid(sid))[
                ..., 0
            ]

        if not self.per_series:
            return forward(values, "")
        out = np.empty(values.shape, dtype=np.float64)
        for sid, rows in series_rows(ids):
            out[rows] = forward(values[rows], sid)
        return out


def series_rows(ids: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """``(id, rows)`` for every distinct id of ``ids`` (each row's series), the rows in order:
    one sort, whatever the number of series."""
    arr = np.asarray(ids)
    if arr.shape[0] == 0:
        return []
    uniq, inverse = np.unique(arr, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    bounds = np.zeros(uniq.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(inverse, minlength=uniq.shape[0]), out=bounds[1:])
    return [(str(uniq[k]), order[bounds[k] : bounds[k + 1]]) for k in range(uniq.shape[0])]


def _windows(
    coll: Any,
    lookback: int,
    horizon: int,
    target: str | None,
    covariates: Any,
    stride: int,
    known_covariates: Any = None,
    static_encoder: Any = None,
):
    from swets_timeseries import WindowDataset

    return WindowDataset(
        coll,
        lookback,
        horizon,
        stride=stride,
        target=target,
        covariates=covariates,
        known_covariates=known_covariates,
        static_encoder=static_encoder,
        dtype="float64",
    )


def _history(coll: Any) -> Any:
    """The data up to each series' last target value (future rows left out)."""
    return coll.split_future()[0]


class _Inputs:
    """A model's inputs for some windows of a dataset, scaled as in training: ``x``, and the
    ``future`` and ``static`` covariates when the dataset has them."""

    __slots__ = ("future", "static", "x")

    def __init__(self, x: np.ndarray, future: np.ndarray | None, static: np.ndarray | None):
        self.x, self.future, self.static = x, future, static

    @classmethod
    def of(
        cls,
        ds: Any,
        x: np.ndarray,
        future: np.ndarray | None,
        static: np.ndarray | None,
        scaling: _Scaling,
        ids: np.ndarray,
    ) -> _Inputs:
        """``x``/``future`` scaled series by series (``ids``: each row's series)."""
        x_in = scaling.inputs_of(x, ds.past_columns, ids)
        f_in = None if future is None else scaling.inputs_of(future, ds.known_columns, ids)
        return cls(x_in, f_in, static)

    def run(self, model: Any, batch_size: int = 1024, rows: Any = None) -> np.ndarray:
        """:func:`run_model` on these inputs (``rows``: a subset)."""
        pick = (lambda a: a) if rows is None else (lambda a: None if a is None else a[rows])
        return run_model(
            model,
            pick(self.x),
            batch_size,
            future=pick(self.future),
            static=pick(self.static),
        )


def _target_name(ds: Any) -> str:
    if len(ds.target_columns) != 1:
        raise ConfigError(
            f"forecasting needs one target column, the data has {list(ds.target_columns)}; "
            "pass target="
        )
    return ds.target_columns[0]


def _interval_request(
    conformal: Any, levels: Any
) -> tuple[Conformal | None, tuple[float, ...] | None]:
    """``(conformal, levels)`` checked: both or neither."""
    if levels is None:
        return None, None
    levels = parse_levels(levels)
    if conformal is None:
        raise ConfigError(
            "levels= needs a calibration: conformal=swets_train.calibrate(model, calibration data) "
            "(a job's checkpoint stores one)"
        )
    if not isinstance(conformal, Conformal):
        raise ConfigError(
            f"conformal= must be a swets_train.Conformal (from calibrate), got "
            f"{type(conformal).__name__}"
        )
    return conformal, levels


def _bounds(
    conformal: Conformal,
    out: np.ndarray,
    levels: tuple[float, ...],
    scaling: _Scaling,
    tname: str,
    ids: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The intervals' bounds ``(N, H, L)`` of model outputs ``out`` (model scale), mapped back to
    the original scale series by series."""
    lower, upper = conformal.bounds(out, levels)
    return scaling.target_of(lower, tname, ids), scaling.target_of(upper, tname, ids)


def predict(
    model: Any,
    data: Any,
    *,
    scaler: Any = None,
    lookback: int | None = None,
    horizon: int | None = None,
    stride: int = 1,
    target: str | None = None,
    covariates: Sequence[str] | None = None,
    known_covariates: Sequence[str] | None = None,
    static_encoder: Any = None,
    batch_size: int = 1024,
    conformal: Conformal | None = None,
    levels: Any = None,
) -> Forecast:
    """Forecasts from every window origin of ``data`` (every ``stride`` rows), with the actuals.

    Args:
        model: a forecaster ``(B, L, F) -> (B, H)`` or ``(B, H, Q)``, called with ``future=`` and
            ``static=`` when the data has known or static covariates.
        data: TimeSeries / SeriesCollection / OHLCV in the original scale (rows after a series'
            last target value are left out).
        scaler: the fitted scaler the model was trained with (fitted on series), or None.
        lookback, horizon: default to the model's ``config()`` values.
        stride: rows between consecutive origins.
        target, covariates, known_covariates: as for the training ``WindowDataset`` (default: the
            data's roles).
        static_encoder: the trained :class:`~swets_timeseries.StaticEncoder` (default: one fitted
            on ``data``'s static covariates, if it has any).
        batch_size: windows per forward pass.
        conformal, levels: prediction intervals at ``levels`` (percent: ``(80, 95)`` or
            ``"80,95"``) from the calibration ``conformal`` (:func:`calibrate`).

    Returns:
        A :class:`Forecast` with ``values``, ``actuals`` and ``timestamps`` in the original scale
        (and ``lower``/``upper`` with ``levels``).
    """
    conformal, levels = _interval_request(conformal, levels)
    lookback, horizon = _geometry(model, lookback, horizon)
    coll = _history(_collection(data))
    ds = _windows(
        coll, lookback, horizon, target, covariates, stride, known_covariates, static_encoder
    )
    tname = _target_name(ds)
    scaling = _Scaling(scaler)
    quantiles = _quantiles(model)
    n = len(ds)
    idx = np.arange(n, dtype=np.int64)
    x, y, xf = ds.gather(idx)
    ids, origins = ds.window_info(idx)
    inputs = _Inputs.of(ds, x, xf, ds.gather_static(idx), scaling, ids)
    out = inputs.run(model, batch_size)
    _check_output(model, out, n, horizon, quantiles)
    values = scaling.target_of(out, tname, ids)
    timestamps = np.empty((n, horizon), dtype="datetime64[ns]")
    for sid, rows in series_rows(ids):
        ts = coll[sid].timestamps
        first = np.searchsorted(ts, origins[rows])
        timestamps[rows] = ts[first[:, None] + np.arange(horizon)]
    lower = upper = None
    if conformal is not None and levels is not None:
        lower, upper = _bounds(conformal, out, levels, scaling, tname, ids)
    actuals = np.asarray(y, np.float64)
    return Forecast(
        ids,
        origins,
        timestamps,
        values,
        quantiles,
        actuals,
        tname,
        levels=levels,
        lower=lower,
        upper=upper,
    )


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


class Forecaster:
    """A model kept ready to forecast beyond the end of series: the serving path of :func:`forecast`.

    What every forecast of the model needs is resolved once, when the forecaster is made: the
    window geometry and quantile levels (from the model's ``config()``), the dtype of its
    parameters and the scaler's checks; the model is put in eval mode (and put back in it by a
    forecast that finds it in training mode). :meth:`forecast` then reads each series' last
    ``lookback`` rows up to its last target value into one ``(N, lookback, F)`` array, scales it,
    runs the model's array forward once for all series (nothing recorded), maps the forecasts back
    to the original scale and gives them the horizon's timestamps. Keep one per loaded model in a
    serving process (docs/serving.md).

    Args:
        model: a forecaster ``(B, L, F) -> (B, H)`` or ``(B, H, Q)``.
        scaler, lookback, horizon, target, covariates, known_covariates, static_encoder: as for
            :func:`forecast`.
        conformal, levels: prediction intervals at ``levels`` from the calibration ``conformal``
            (as for :func:`predict`), checked once here; without them a forecast does no interval
            work.
    """

    __slots__ = (
        "_dtype",
        "conformal",
        "covariates",
        "horizon",
        "known_covariates",
        "levels",
        "lookback",
        "model",
        "quantiles",
        "scaling",
        "static_encoder",
        "target",
    )

    def __init__(
        self,
        model: Any,
        *,
        scaler: Any = None,
        lookback: int | None = None,
        horizon: int | None = None,
        target: str | None = None,
        covariates: Sequence[str] | None = None,
        known_covariates: Sequence[str] | None = None,
        static_encoder: Any = None,
        conformal: Conformal | None = None,
        levels: Any = None,
    ) -> None:
        self.conformal, self.levels = _interval_request(conformal, levels)
        self.lookback, self.horizon = _geometry(model, lookback, horizon)
        self.quantiles = _quantiles(model)
        self.scaling = _Scaling(scaler)
        self.target = target
        self.covariates = None if covariates is None else tuple(covariates)
        self.known_covariates = None if known_covariates is None else tuple(known_covariates)
        self.static_encoder = static_encoder
        self.model = model
        self._dtype = model_dtype(model)
        if getattr(model, "training", False):
            model.eval()

    def forecast(self, data: Any, *, future: Any = None) -> Forecast:
        """The forecast beyond the end of each series of ``data`` (see :func:`forecast`, whose
        ``data`` and ``future`` these are).

        Raises:
            DataValidationError: as :func:`forecast`.
        """
        from swets_timeseries import StaticEncoder, TimeSeries, window_roles

        model = self.model
        if getattr(model, "training", False):
            model.eval()
        # one series is forecast as it is, without a collection around it
        full = [data] if isinstance(data, TimeSeries) else list(_collection(data))
        if not full:
            raise DataValidationError("no series to forecast")
        roles = window_roles(full[0], self.target, self.covariates, self.known_covariates)
        if len(roles.target) != 1:
            raise ConfigError(
                f"forecasting needs one target column, the data has {list(roles.target)}; "
                "pass target="
            )
        tname = roles.target[0]
        past = roles.columns[roles.past]
        known = list(roles.known)
        lookback, horizon = self.lookback, self.horizon
        futures = None if future is None else _collection(future)
        count = len(full)
        x = np.empty((count, lookback, len(past)), dtype=np.float64)
        fx = np.empty((count, horizon, len(known)), dtype=np.float64) if known else None
        stamps = np.empty((count, horizon), dtype="datetime64[ns]")
        ids = []
        for i, s in enumerate(full):
            sid = s.id
            n = _history_length(s, roles.target)
            if n < lookback:
                raise DataValidationError(
                    f"series {sid!r} has {n} rows; a forecast needs lookback={lookback}"
                )
            for j, name in enumerate(past):
                x[i, :, j] = s.column(name)[n - lookback : n]
            rows, source = None, "the data"
            if futures is not None:
                if sid not in futures.ids:
                    raise DataValidationError(
                        f"series {sid!r}: future= has no series {sid!r} (it has "
                        f"{', '.join(futures.ids[:10])})"
                    )
                rows, source = futures[sid], "future="
            elif n < len(s):  # future rows after the last target value
                rows = s[n:]
            ts, values = _horizon_values(sid, s.timestamps[:n], rows, known, horizon, source)
            stamps[i] = ts
            if fx is not None:
                fx[i] = values
            ids.append(sid)
        finite = np.isfinite(x).all(axis=(1, 2))
        if not finite.all():
            i = int(np.flatnonzero(~finite)[0])
            bad = [c for j, c in enumerate(past) if not np.isfinite(x[i, :, j]).all()]
            raise DataValidationError(
                f"series {ids[i]!r}: the last {lookback} rows hold non-finite values in {bad}"
            )
        id_arr = np.asarray(ids, dtype=object)
        x = self.scaling.inputs_of(x, past, id_arr)
        if fx is not None:
            fx = self.scaling.inputs_of(fx, known, id_arr)
        static = None
        names = tuple(full[0].static)  # a collection's series agree on them
        if names:
            encoder = self.static_encoder or StaticEncoder(names).fit(full)
            if encoder.columns != names:
                raise ConfigError(
                    f"the static encoder encodes {list(encoder.columns or ())}, the data's "
                    f"static covariates are {list(names)}"
                )
            static = encoder.transform(full, dtype=np.float64)
        out = _forward(model, self._dtype, x, max(count, 1), fx, static)
        _check_output(model, out, count, horizon, self.quantiles)
        values = self.scaling.target_of(out, tname, id_arr)
        lower = upper = None
        if self.conformal is not None and self.levels is not None:
            lower, upper = _bounds(self.conformal, out, self.levels, self.scaling, tname, id_arr)
        return Forecast(
            id_arr,
            stamps[:, 0],
            stamps,
            values,
            self.quantiles,
            None,
            tname,
            levels=self.levels,
            lower=lower,
            upper=upper,
        )


def _history_length(s: Any, targets: Sequence[str]) -> int:
    """The rows of series ``s`` up to its last target value (all of them when the last row holds
    every target: the usual case, decided without reading the column)."""
    n = len(s)
    if n and all(np.isfinite(s.column(t)[n - 1]) for t in targets):
        return n
    return s.history_length()


def forecast(
    model: Any,
    data: Any,
    *,
    scaler: Any = None,
    lookback: int | None = None,
    horizon: int | None = None,
    target: str | None = None,
    covariates: Sequence[str] | None = None,
    known_covariates: Sequence[str] | None = None,
    static_encoder: Any = None,
    future: Any = None,
    conformal: Conformal | None = None,
    levels: Any = None,
) -> Forecast:
    """The forecast beyond the end of each series, from its last ``lookback`` rows up to its last
    target value.

    The horizon's timestamps and known covariates come from the rows after the last target value
    (future rows: target empty, known covariates filled), or from ``future`` (a TimeSeries /
    SeriesCollection with the known covariates' columns, by series id) when it is given. Without
    known covariates and without enough future rows, the timestamps continue each series at its
    most common sampling interval (of the last 1000 rows); calendars with gaps (weekends of daily
    market data) are then not modelled. ``actuals`` is None. Other arguments (``conformal`` and
    ``levels`` for prediction intervals among them) as :func:`predict`.

    All series go through the model in one forward pass. To forecast again and again with one
    model (serving), keep a :class:`Forecaster`: this function is ``Forecaster(model, ...)
    .forecast(data, future=future)``, with the model's training mode restored after it.

    Raises:
        DataValidationError: a known covariate without a value for a step of the horizon (naming
            the series, the column and the first timestamp without one), or too short a history.
    """
    was_training = bool(getattr(model, "training", False))
    try:
        return Forecaster(
            model,
            scaler=scaler,
            lookback=lookback,
            horizon=horizon,
            target=target,
            covariates=covariates,
            known_covariates=known_covariates,
            static_encoder=static_encoder,
            conformal=conformal,
            levels=levels,
        ).forecast(data, future=future)
    finally:
        if was_training:
            model.train(True)


# ------------------------------------------------------------------------------------------------
# conformal calibration
# ------------------------------------------------------------------------------------------------


def calibrate_windows(
    model: Any,
    windows: Any,
    *,
    scaler: Any = None,
    method: str = "auto",
    batch_size: int = 1024,
) -> Conformal:
    """Calibrate ``model`` on every window of an unscaled ``WindowDataset`` (a job's validation
    split): its outputs and the actuals in the model's scale (the target scaled with ``scaler``)."""
    n = len(windows)
    if n == 0:
        raise DataValidationError(
            "conformal: no calibration window (the validation split is empty)"
        )
    tname = _target_name(windows)
    scaling = _Scaling(scaler)
    idx = np.arange(n, dtype=np.int64)
    x, y, xf = windows.gather(idx)
    ids, _ = windows.window_info(idx)
    inputs = _Inputs.of(
        windows, np.asarray(x, np.float64), xf, windows.gather_static(idx), scaling, ids
    )
    out = inputs.run(model, batch_size)
    y = np.asarray(y, dtype=np.float64)
    y_model = scaling.target_forward_of(y, tname, ids)
    return scores_of(out, y_model, _quantiles(model), method)


def calibrate(
    model: Any,
    data: Any,
    *,
    scaler: Any = None,
    method: str = "auto",
    lookback: int | None = None,
    horizon: int | None = None,
    stride: int = 1,
    target: str | None = None,
    covariates: Sequence[str] | None = None,
    known_covariates: Sequence[str] | None = None,
    static_encoder: Any = None,
    batch_size: int = 1024,
) -> Conformal:
    """Calibrate a trained ``model`` on every ``stride``-th window of ``data`` (calibration data the
    model was not trained on, in the original scale; other arguments as
    :func:`swets_train.predict`).

    Returns:
        A :class:`Conformal`: pass it as ``conformal=`` to :func:`~swets_train.predict`,
        :func:`~swets_train.forecast` and :func:`~swets_train.backtest` with ``levels=``.
    """
    lookback, horizon = _geometry(model, lookback, horizon)
    coll = _history(_collection(data))
    ds = _windows(
        coll, lookback, horizon, target, covariates, stride, known_covariates, static_encoder
    )
    return calibrate_windows(model, ds, scaler=scaler, method=method, batch_size=batch_size)
