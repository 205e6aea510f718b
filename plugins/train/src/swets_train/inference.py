"""What every forecast path shares: running a trained model on arrays and feeding it data the way
training did.

* The model: :func:`model_dtype`, its window geometry and quantile levels (from its ``config()``),
  :func:`run_model` (eval mode, no gradients, batches, the array forward of a layer) and the check
  of its output's shape.
* The scaler: applied to the inputs and inverted on the target forecasts series by series
  (:func:`series_rows`), one call for a pooled scaler.
* The data: a model's windows of a series collection up to each series' last target value, and
  their scaled inputs; prediction intervals asked for (a calibration and levels) and their bounds
  in the original scale.

:func:`~swets_train.predict`, :class:`~swets_train.Forecaster`, :func:`~swets_train.backtest` and a
job's evaluation use these; :mod:`swets_train.predict` re-exports the public ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from swets_core import Tensor, no_grad
from swets_core.checks import is_int
from swets_core.errors import ConfigError, DataValidationError, ShapeError
from swets_train.conformal import Conformal, parse_levels

__all__ = ["model_dtype", "run_model", "series_rows"]


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
    """Applies a fitted series scaler to window inputs and inverts it on target forecasts, series by
    series for a per-series scaler."""

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
        """Forecasts of the target ``column`` back in the original scale."""
        return self._target("inverse_transform", values, column, sid)

    def target_forward(self, values: np.ndarray, column: str, sid: str) -> np.ndarray:
        """Target values in the model's scale: the inverse of :meth:`target`."""
        return self._target("transform", values, column, sid)

    def _target(self, how: str, values: np.ndarray, column: str, sid: str) -> np.ndarray:
        if self.scaler is None:
            return values
        scale = getattr(self.scaler, how)
        return scale(values[..., None], columns=[column], series_id=self._sid(sid))[..., 0]

    def _by_series(
        self,
        apply: Callable[[np.ndarray, Any, str], np.ndarray],
        values: np.ndarray,
        columns: Any,
        ids: np.ndarray,
    ) -> np.ndarray:
        """``apply(rows, columns, series id)`` on the rows of ``values`` whose series are ``ids``:
        one call for a pooled scaler, one per series for a per-series one."""
        if self.scaler is None:
            return values
        if not self.per_series:
            return apply(values, columns, "")
        out = np.empty(values.shape, dtype=np.float64)
        for sid, rows in series_rows(ids):
            out[rows] = apply(values[rows], columns, sid)
        return out

    def inputs_of(self, x: np.ndarray, columns: Sequence[str], ids: np.ndarray) -> np.ndarray:
        """:meth:`inputs` of rows ``x`` whose series are ``ids``."""
        return self._by_series(self.inputs, x, columns, ids)

    def target_of(self, values: np.ndarray, column: str, ids: np.ndarray) -> np.ndarray:
        """:meth:`target` of forecasts ``values`` whose series are ``ids``."""
        return self._by_series(self.target, values, column, ids)

    def target_forward_of(self, values: np.ndarray, column: str, ids: np.ndarray) -> np.ndarray:
        """:meth:`target_forward` of target values ``values`` whose series are ``ids``: the
        inverse of :meth:`target_of`."""
        return self._by_series(self.target_forward, values, column, ids)


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
    data: Any,
    lookback: int,
    horizon: int,
    target: str | None,
    covariates: Any,
    stride: int,
    known_covariates: Any = None,
    static_encoder: Any = None,
) -> tuple[Any, Any]:
    """``(history, windows)``: ``data`` as a collection up to each series' last target value
    (future rows left out) and its float64 ``WindowDataset``, built as training built it."""
    from swets_timeseries import WindowDataset

    coll = _collection(data).split_future()[0]
    return coll, WindowDataset(
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


def _every_window(ds: Any) -> tuple[Any, ...]:
    """Every window of ``ds``: ``(x, y, future, static, ids, origins)``, the inputs and targets as
    float64, the known covariates over the horizon and the static covariates (or None), each
    window's series and origin."""
    idx = np.arange(len(ds), dtype=np.int64)
    x, y, future = ds.gather(idx)
    ids, origins = ds.window_info(idx)
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return x, y, future, ds.gather_static(idx), ids, origins


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


def _forecast_rows(
    model: Any,
    scaler: Any,
    parts: tuple[np.ndarray, np.ndarray | None, np.ndarray | None],
    ds: Any,
    tname: str,
    ids: np.ndarray,
    batch_size: int,
    intervals: tuple[Any, Any] | None = None,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """The forecasts of ``model`` for windows ``parts`` of ``ds`` (``x``, the known covariates
    over the horizon, the static covariates; ``ids``: each window's series) in the original scale,
    and with ``intervals`` (``(conformal, levels)``) their intervals' bounds ``(lower, upper)``."""
    x, future, static = parts
    scaling = _Scaling(scaler)
    out = _Inputs.of(ds, x, future, static, scaling, ids).run(model, batch_size)
    _check_output(model, out, x.shape[0], ds.horizon, _quantiles(model))
    values = scaling.target_of(out, tname, ids)
    if intervals is None:
        return values, None
    return values, _bounds(intervals[0], out, intervals[1], scaling, tname, ids)
