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

This module holds :func:`predict` and the calibration, and every public name of the modules the
forecasts were split into stays importable from here: :mod:`swets_train.forecasts`
(:class:`Forecast`, the result), :mod:`swets_train.forecaster` (:class:`Forecaster` and
:func:`forecast`, beyond the end of the data; :func:`horizon_timestamps`) and
:mod:`swets_train.inference` (what every forecast path shares: :func:`run_model`,
:func:`model_dtype`, :func:`series_rows`, the scaler series by series, the windows).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from swets_core.errors import DataValidationError
from swets_core.lazy import exports_of
from swets_train.conformal import Conformal, scores_of
from swets_train.forecaster import Forecaster as Forecaster
from swets_train.forecaster import forecast as forecast
from swets_train.forecaster import horizon_timestamps
from swets_train.forecasts import Forecast
from swets_train.inference import (
    _every_window,
    _forecast_rows,
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
    *exports_of("swets_train.forecaster"),
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
