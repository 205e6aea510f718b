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
* :func:`calibrate` / :func:`calibrate_windows`: the conformal calibration of a trained model, for
  prediction intervals.

This module holds the public entry points (:func:`predict`, :func:`forecast`, :class:`Forecaster`,
:func:`calibrate`, :func:`calibrate_windows`); the rest is in :mod:`swets_train.forecasts`
(:class:`Forecast`, the result), :mod:`swets_train.horizon` (the horizon's timestamps and known
covariates beyond the data: :func:`horizon_timestamps`) and :mod:`swets_train.inference` (what
every forecast path shares: :func:`run_model`, :func:`model_dtype`, :func:`series_rows`, the scaler
series by series, the windows). Their public names stay importable from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from swets_core.errors import ConfigError, DataValidationError
from swets_core.lazy import exports_of
from swets_train.conformal import Conformal, scores_of
from swets_train.forecasts import Forecast
from swets_train.horizon import _history_length, _horizon_values, horizon_timestamps
from swets_train.inference import (
    _bounds,
    _check_output,
    _collection,
    _every_window,
    _forecast_rows,
    _forward,
    _geometry,
    _Inputs,
    _interval_request,
    _quantiles,
    _Scaling,
    _target_name,
    _windows,
    model_dtype,
    run_model,
    series_rows,
)

__all__ = [
    *exports_of(__name__),
    *exports_of("swets_train.forecasts"),
    "horizon_timestamps",
    "model_dtype",
    "run_model",
    "series_rows",
]


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
    coll, ds = _windows(
        data, lookback, horizon, target, covariates, stride, known_covariates, static_encoder
    )
    tname = _target_name(ds)
    x, actuals, xf, static, ids, origins = _every_window(ds)
    intervals = None if levels is None else (conformal, levels)
    values, bounds = _forecast_rows(
        model, scaler, (x, xf, static), ds, tname, ids, batch_size, intervals
    )
    timestamps = np.empty((len(ds), horizon), dtype="datetime64[ns]")
    for sid, rows in series_rows(ids):
        ts = coll[sid].timestamps
        first = np.searchsorted(ts, origins[rows])
        timestamps[rows] = ts[first[:, None] + np.arange(horizon)]
    lower, upper = (None, None) if bounds is None else bounds
    return Forecast(
        ids,
        origins,
        timestamps,
        values,
        _quantiles(model),
        actuals,
        tname,
        levels=levels,
        lower=lower,
        upper=upper,
    )


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


def forecast(
    model: Any,
    data: Any,
    *,
    future: Any = None,
    **options: Any,
) -> Forecast:
    """The forecast beyond the end of each series, from its last ``lookback`` rows up to its last
    target value.

    The horizon's timestamps and known covariates come from the rows after the last target value
    (future rows: target empty, known covariates filled), or from ``future`` (a TimeSeries /
    SeriesCollection with the known covariates' columns, by series id) when it is given. Without
    known covariates and without enough future rows, the timestamps continue each series at its
    most common sampling interval (of the last 1000 rows); calendars with gaps (weekends of daily
    market data) are then not modelled. ``actuals`` is None.

    ``options`` are :class:`Forecaster`'s keyword arguments (``scaler``, ``lookback``,
    ``horizon``, ``target``, ``covariates``, ``known_covariates``, ``static_encoder``, and
    ``conformal`` and ``levels`` for prediction intervals), as :func:`predict` takes them. All
    series go through the model in one forward pass. To forecast again and again with one model
    (serving), keep a :class:`Forecaster`: this function is ``Forecaster(model, **options)
    .forecast(data, future=future)``, with the model's training mode restored after it.

    Raises:
        DataValidationError: a known covariate without a value for a step of the horizon (naming
            the series, the column and the first timestamp without one), or too short a history.
    """
    was_training = bool(getattr(model, "training", False))
    try:
        return Forecaster(model, **options).forecast(data, future=future)
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
    x, y, xf, static, ids, _ = _every_window(windows)
    out = _Inputs.of(windows, x, xf, static, scaling, ids).run(model, batch_size)
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
    _, ds = _windows(
        data, lookback, horizon, target, covariates, stride, known_covariates, static_encoder
    )
    return calibrate_windows(model, ds, scaler=scaler, method=method, batch_size=batch_size)
