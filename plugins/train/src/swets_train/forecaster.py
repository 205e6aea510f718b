"""Forecasts beyond the end of series: :class:`Forecaster` (the serving path) and :func:`forecast`.

Each series is forecast from its last ``lookback`` rows up to its last target value. The horizon's
timestamps continue the series' sampling interval, or are those of the rows after its last target
value (future rows), whose known covariates the forecast reads; or of a separate ``future=``
frame (:func:`horizon_timestamps`). A known covariate missing for a step of the horizon is an error
naming the column and the first timestamp without a value, never a silent fallback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from swets_core.errors import ConfigError, DataValidationError
from swets_core.lazy import exports_of
from swets_train.conformal import Conformal
from swets_train.forecasts import Forecast
from swets_train.inference import (
    _bounds,
    _check_output,
    _collection,
    _forward,
    _geometry,
    _interval_request,
    _quantiles,
    _Scaling,
    model_dtype,
)

__all__ = [*exports_of(__name__), "horizon_timestamps"]


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
