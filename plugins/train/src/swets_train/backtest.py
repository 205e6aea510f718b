"""Rolling-origin backtesting with per-fold and overall metrics, learned models next to baselines.

``backtest(models, data, folds=..., horizon=..., stride=...)`` places ``folds`` forecast origins
``stride`` rows apart, the last fold ending at the end of each series (the walk-forward folds of
:meth:`swets_timeseries.WindowDataset.walk_forward`). Fold ``k`` forecasts the ``test_size`` rows
(default: one horizon) after its origin ``o_k`` from windows whose inputs end before their targets.

* Without refitting, the windows of every fold and series are stacked and run through each model as
  batched forward passes (``batch_size`` windows at a time), not one call per cutoff.
* With ``refit=True`` (or an int ``n``: every ``n`` folds), ``fit(train_data, fold)`` is called before
  the fold with the data of the fold's training rows (original scale; rows before ``o_k - gap``, the
  last ``train_size`` of them when given) and returns the trained model, or ``(model, scaler)``.

Learned models see inputs scaled with ``scaler`` and their forecasts are mapped back to the original
scale; baselines run on the original values. Metrics are computed in the original scale, per fold
and over all folds pooled. For MASE the scale of each forecast comes from its own series' history
before its origin, with the seasonal period ``season_length`` (which also configures the
``seasonal_naive`` baseline) unless a ``MASE(m=...)`` object is passed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from swets_core import registry
from swets_core.checks import check_count
from swets_core.errors import ConfigError
from swets_core.lazy import exports_of
from swets_train.conformal import Conformal, parse_levels
from swets_train.forecasts import Forecast
from swets_train.inference import (
    _check_output,
    _forecast_rows,
    _geometry,
    _interval_request,
    _quantiles,
    _target_name,
    _windows,
    run_model,
)
from swets_train.metrics import (
    FORECAST_METRICS,
    MASE,
    get_metric,
    interval_metric_names,
    interval_scores,
    metric_name,
)
from swets_train.tables import text_table

__all__ = exports_of(__name__)


@attrs.define(eq=False)
class BacktestReport:
    """The result of :func:`backtest`.

    Attributes:
        models: model names in order (learned models first, then baselines).
        metrics: metric names in order.
        overall: ``{model: {metric: value}}`` over all folds pooled.
        per_fold: ``{model: {metric: (folds,) array}}``.
        origins: one ``{series_id: datetime64}`` per fold (the first forecast step).
        forecasts: ``{model: Forecast}`` with the actuals, in the original scale.
        fold_index: ``(N,)`` the fold of each forecast row.
    """

    models: list[str]
    metrics: list[str]
    overall: dict[str, dict[str, float]]
    per_fold: dict[str, dict[str, np.ndarray]]
    origins: list[dict[str, Any]]
    forecasts: dict[str, Forecast]
    fold_index: np.ndarray

    @property
    def folds(self) -> int:
        """Number of folds."""
        return len(self.origins)

    def best(self, metric: str) -> str:
        """The model with the best overall ``metric`` (NaN never wins)."""
        higher = bool(getattr(_resolve(metric, 1), "greater_is_better", False))
        scored = [(m, self.overall[m][metric]) for m in self.models]
        scored = [(m, v) for m, v in scored if not np.isnan(v)]
        if not scored:
            raise ConfigError(f"no model has a finite {metric!r}")
        return (max if higher else min)(scored, key=lambda t: t[1])[0]

    def to_dict(self) -> dict[str, Any]:
        """Plain data: overall and per-fold metrics, fold origins as ISO strings."""
        return {
            "models": list(self.models),
            "metrics": list(self.metrics),
            "overall": {m: dict(v) for m, v in self.overall.items()},
            "per_fold": {
                m: {k: [float(x) for x in arr] for k, arr in v.items()}
                for m, v in self.per_fold.items()
            },
            "origins": [{sid: str(t) for sid, t in o.items()} for o in self.origins],
        }

    def table(self, per_fold: bool = False) -> str:
        """A text table: one row per model (and per fold with ``per_fold``), one column per metric."""
        head = ["model"] + (["fold"] if per_fold else []) + self.metrics
        rows = []
        for m in self.models:
            if per_fold:
                for k in range(self.folds):
                    rows.append([m, str(k)] + [self.per_fold[m][x][k] for x in self.metrics])
            rows.append(
                [m] + (["all"] if per_fold else []) + [self.overall[m][x] for x in self.metrics]
            )
        return text_table(head, rows, left=1)

    def __repr__(self) -> str:
        return f"BacktestReport({self.folds} folds, models={self.models}, metrics={self.metrics})"


def _resolve(spec: Any, season_length: int) -> Any:
    if spec == "mase":
        return MASE(m=season_length)
    return get_metric(spec)


def _history_scales(z: np.ndarray, first: np.ndarray, m: int) -> np.ndarray:
    """MASE scale of each forecast: ``mean |z_t - z_{t-m}|`` over the rows before its origin."""
    if z.shape[0] <= m:
        return np.full(first.shape, np.nan)
    d = np.abs(z[m:] - z[:-m])
    ok = np.isfinite(d)
    total = np.concatenate([[0.0], np.cumsum(np.where(ok, d, 0.0))])
    count = np.concatenate([[0], np.cumsum(ok)])
    k = np.clip(first - m, 0, d.shape[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count[k] > 0, total[k] / np.maximum(count[k], 1), np.nan)


def _baseline_models(baselines: Sequence[Any], horizon: int, season_length: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in baselines:
        if isinstance(spec, str):
            config: dict[str, Any] = {"horizon": horizon}
            if spec == "seasonal_naive":
                config["season_length"] = season_length
            model = registry.create("models", spec, **config)
            name = spec
        elif isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str):
            model = registry.create("models", spec[0], **{"horizon": horizon, **dict(spec[1])})
            name = spec[0]
        else:
            model = spec
            name = getattr(model, "registry_name", type(model).__name__.lower())
        if name in out:
            raise ConfigError(f"backtest: baseline {name!r} is given twice")
        out[name] = model
    return out


def backtest(
    models: Any,
    data: Any,
    *,
    horizon: int | None = None,
    lookback: int | None = None,
    folds: int = 5,
    stride: int | None = None,
    test_size: int | None = None,
    scaler: Any = None,
    refit: bool | int = False,
    fit: Callable[[Any, int], Any] | None = None,
    baselines: Sequence[Any] = ("naive", "seasonal_naive"),
    season_length: int = 1,
    metrics: Sequence[Any] = FORECAST_METRICS,
    target: str | None = None,
    covariates: Sequence[str] | None = None,
    known_covariates: Sequence[str] | None = None,
    static_encoder: Any = None,
    train_size: int | None = None,
    gap: int = 0,
    batch_size: int = 1024,
    conformal: Conformal | Mapping[str, Conformal] | None = None,
    levels: Any = None,
) -> BacktestReport:
    """Rolling-origin backtest of ``models`` (and baselines) on ``data`` (see the module docstring).

    Args:
        models: a forecaster, or ``{name: forecaster}``; may be empty ``{}`` to score baselines only.
        data: TimeSeries / SeriesCollection / OHLCV in the original scale.
        horizon, lookback: default to the first learned model's ``config()``; required otherwise.
        folds: number of forecast origins (folds) per series.
        stride: rows between consecutive origins (default ``test_size``).
        test_size: target rows per fold (default ``horizon``: one forecast per fold and series;
            larger values add a forecast from every row whose targets fit in the fold).
        scaler: the fitted (series) scaler the learned models were trained with.
        refit: False, True (refit before every fold) or an int n (before every n-th fold);
            needs ``fit``.
        fit: ``fit(train_data, fold_index) -> model or (model, scaler)``.
        baselines: registered baseline names (``naive``, ``seasonal_naive``, ``mean``, ``drift``),
            ``(name, config)`` pairs, or model objects.
        season_length: the seasonal period for ``seasonal_naive`` and MASE.
        metrics: names or Metric objects.
        target, covariates, known_covariates, train_size, gap: as for ``WindowDataset`` /
            ``walk_forward`` (learned models get the known covariates over each horizon as
            ``future=``; rows after a series' last target value are left out).
        static_encoder: the trained :class:`~swets_timeseries.StaticEncoder` of the learned
            models' static covariates (default: one fitted on ``data``); a ``fit`` returning
            ``(model, scaler, static_encoder)`` replaces it for its folds.
        batch_size: windows per forward pass.
        conformal, levels: prediction intervals at ``levels`` (percent, ``(80, 95)``) for the
            learned models from their calibration (:func:`~swets_train.calibrate`): one
            :class:`~swets_train.Conformal` for every learned model, or ``{name: Conformal}``; a
            ``fit`` returning ``(model, scaler, static_encoder, conformal)`` gives each refitted
            model its own. The report then adds the columns ``coverage<L>``, ``width<L>``,
            ``pinball`` and ``crps`` (NaN for a model without intervals, the baselines).

    Returns:
        A :class:`BacktestReport`.
    """
    calibrations: dict[str, Any] = {}
    if levels is not None:
        if isinstance(conformal, Mapping):
            calibrations = dict(conformal)
        elif conformal is not None:
            calibrations = {"*": conformal}
        elif fit is None or not refit:
            _interval_request(None, levels)  # the error: levels need a calibration
        levels = parse_levels(levels, "backtest: levels")
    if isinstance(models, Mapping):
        learned = dict(models)
    elif not callable(models):
        raise ConfigError(
            f"backtest: models must be a model or a {{name: model}} mapping, got {type(models).__name__}"
        )
    else:
        learned = {getattr(models, "registry_name", type(models).__name__.lower()): models}
    if refit and fit is None:
        raise ConfigError("backtest: refit needs fit= (a function returning the trained model)")
    if refit is True:
        every = 1
    elif refit is False or refit == 0:
        every = 0
    elif isinstance(refit, (int, np.integer)) and refit > 0:
        every = int(refit)
    else:
        raise ConfigError(f"backtest: refit must be a bool or an int >= 1, got {refit!r}")
    check_count(season_length, "season_length", where="backtest")
    first_model = next(iter(learned.values()), None)
    if first_model is not None:
        lookback, horizon = _geometry(first_model, lookback, horizon)
    elif lookback is None or horizon is None:
        raise ConfigError("backtest: pass lookback= and horizon= when no learned model is given")
    test_size = horizon if test_size is None else test_size
    base = _baseline_models(baselines, horizon, season_length)
    clash = sorted(set(base) & set(learned))
    if clash:
        raise ConfigError(f"backtest: model name(s) {clash} used by both a model and a baseline")
    metric_objs = [_resolve(m, season_length) for m in metrics]
    names = [metric_name(m) for m in metric_objs]
    if levels is not None:
        names += interval_metric_names(levels)
    if len(set(names)) != len(names):
        raise ConfigError(f"backtest: duplicate metric names {names}")

    coll, ds = _windows(
        data, lookback, horizon, target, covariates, 1, known_covariates, static_encoder
    )
    tname = _target_name(ds)
    fold_list = ds.walk_forward(folds, test_size, step=stride, train_size=train_size, gap=gap)
    xs, fs, ss, ys, ids, origins, fold_of = [], [], [], [], [], [], []
    for fold in fold_list:
        idx = np.arange(len(fold.test), dtype=np.int64)
        x, y, xf = fold.test.gather(idx)
        sid, org = fold.test.window_info(idx)
        xs.append(np.asarray(x))
        fs.append(xf)
        ss.append(fold.test.gather_static(idx))
        ys.append(np.asarray(y))
        ids.append(sid)
        origins.append(org)
        fold_of.append(np.full(idx.shape[0], fold.index))
    x_all = np.concatenate(xs)
    f_all = None if fs[0] is None else np.concatenate(fs)
    s_all = None if ss[0] is None else np.concatenate(ss)
    y_all = np.concatenate(ys).astype(np.float64)
    ids_all = np.concatenate(ids)
    org_all = np.concatenate(origins)
    fold_all = np.concatenate(fold_of)
    n = x_all.shape[0]

    # per-row timestamps, last observed values and MASE scales, from each series' own history
    timestamps = np.empty((n, horizon), dtype="datetime64[ns]")
    last = np.empty(n)
    rows_of: dict[str, np.ndarray] = {}
    first_row = np.empty(n, dtype=np.int64)
    for sid in coll.ids:
        rows = np.flatnonzero(ids_all == sid)
        rows_of[sid] = rows
        if not rows.size:
            continue
        s = coll[sid]
        first = np.searchsorted(s.timestamps, org_all[rows])
        first_row[rows] = first
        timestamps[rows] = s.timestamps[first[:, None] + np.arange(horizon)]
        last[rows] = s.column(tname)[first - 1]
    scales: dict[int, np.ndarray] = {}
    for m in metric_objs:
        if isinstance(m, MASE) and m.m not in scales:
            sc = np.empty(n)
            for sid, rows in rows_of.items():
                if rows.size:
                    z = np.asarray(coll[sid].column(tname), dtype=np.float64)
                    sc[rows] = _history_scales(z, first_row[rows], m.m)
            scales[m.m] = sc

    preds: dict[str, np.ndarray] = {}
    bounds: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    model_quantiles: dict[str, Any] = {}
    for name, model in learned.items():
        model_quantiles[name] = _quantiles(model)
        calibration = calibrations.get(name, calibrations.get("*"))
        if not every:
            got = _forecast_rows(
                model,
                scaler,
                (x_all, f_all, s_all),
                ds,
                tname,
                ids_all,
                batch_size,
                _calibration(calibration, levels, name),
            )
            preds[name] = got[0]
            if got[1] is not None:
                bounds[name] = got[1]
            continue
        out, lows, highs = None, None, None
        current, current_scaler, static = model, scaler, s_all
        for fold in fold_list:
            k = fold.index
            if k % every == 0:
                train_part = _train_data(coll, fold.train.rows)
                result = fit(train_part, k)
                encoder = None
                if isinstance(result, tuple) and len(result) in (2, 3, 4):
                    current, current_scaler, *rest = result
                    encoder = rest[0] if rest else None
                    if len(rest) == 2:
                        calibration = rest[1]
                else:
                    current = result
                if not callable(current):
                    raise ConfigError(
                        f"backtest: fit(train_data, {k}) must return a model, (model, scaler), "
                        f"(model, scaler, static_encoder) or (model, scaler, static_encoder, "
                        f"conformal), got {type(current).__name__}"
                    )
                if encoder is not None and s_all is not None:
                    static = encoder.transform(list(coll), dtype=np.float64)[
                        _series_index(ds, ids_all)
                    ]
            rows = np.flatnonzero(fold_all == k)
            got = _forecast_rows(
                current,
                current_scaler,
                (x_all[rows], _rows(f_all, rows), _rows(static, rows)),
                ds,
                tname,
                ids_all[rows],
                batch_size,
                _calibration(calibration, levels, name),
            )
            if out is None:
                out = np.empty((n, *got[0].shape[1:]))
            out[rows] = got[0]
            if got[1] is not None:
                if lows is None or highs is None:
                    lows, highs = (
                        np.empty((n, horizon, len(levels))),
                        np.empty((n, horizon, len(levels))),
                    )
                lows[rows], highs[rows] = got[1]
        preds[name] = out
        if lows is not None and highs is not None:
            bounds[name] = (lows, highs)
    for name, model in base.items():
        model_quantiles[name] = None
        out = run_model(model, x_all, batch_size)
        _check_output(model, out, n, horizon, None)
        preds[name] = out

    model_names = list(preds)
    overall: dict[str, dict[str, float]] = {}
    per_fold: dict[str, dict[str, np.ndarray]] = {}
    forecasts: dict[str, Forecast] = {}
    for name in model_names:
        p = preds[name]
        qs = model_quantiles[name]
        b = bounds.get(name)
        overall[name] = _score(metric_objs, names, y_all, p, qs, last, scales, None)
        overall[name].update(_interval_score(levels, y_all, p, qs, b, None))
        per_fold[name] = {k: np.empty(len(fold_list)) for k in names}
        for fold in fold_list:
            rows = np.flatnonzero(fold_all == fold.index)
            got = _score(metric_objs, names, y_all, p, qs, last, scales, rows)
            got.update(_interval_score(levels, y_all, p, qs, b, rows))
            for k, v in got.items():
                per_fold[name][k][fold.index] = v
        lower, upper = (None, None) if b is None else b
        forecasts[name] = Forecast(
            ids_all,
            org_all,
            timestamps,
            p,
            qs,
            y_all,
            tname,
            levels=None if b is None else levels,
            lower=lower,
            upper=upper,
        )
    return BacktestReport(
        model_names,
        names,
        overall,
        per_fold,
        [dict(f.origins) for f in fold_list],
        forecasts,
        fold_all,
    )


def _calibration(calibration: Any, levels: Any, name: str) -> tuple[Any, Any] | None:
    """``(conformal, levels)`` for a learned model's intervals, None without ``levels``."""
    if levels is None:
        return None
    if calibration is None:
        raise ConfigError(
            f"backtest: levels= needs a calibration of model {name!r}: conformal= (one "
            "Conformal, or {name: Conformal}), or a fit returning (model, scaler, static_encoder, "
            "conformal)"
        )
    if not isinstance(calibration, Conformal):
        raise ConfigError(
            f"backtest: the calibration of model {name!r} must be a swets_train.Conformal, got "
            f"{type(calibration).__name__}"
        )
    return calibration, levels


def _interval_score(
    levels: Any,
    y: np.ndarray,
    p: np.ndarray,
    quantiles: Any,
    b: tuple[np.ndarray, np.ndarray] | None,
    rows: np.ndarray | None,
) -> dict[str, float]:
    """The interval columns of one model (NaN without intervals)."""
    if levels is None:
        return {}
    if b is None:
        return {k: float("nan") for k in interval_metric_names(levels)}
    sel = slice(None) if rows is None else rows
    point = p[sel]
    if quantiles is not None:
        hit = np.flatnonzero(np.isclose(np.asarray(quantiles), 0.5, rtol=0.0, atol=1e-9))
        if not hit.size:
            return {k: float("nan") for k in interval_metric_names(levels)}
        point = point[..., int(hit[0])]
    return interval_scores(y[sel], point, b[0][sel], b[1][sel], levels)


def _rows(a: np.ndarray | None, rows: np.ndarray) -> np.ndarray | None:
    return None if a is None else a[rows]


def _series_index(ds: Any, ids: np.ndarray) -> np.ndarray:
    """The position of each row's series among ``ds.ids``."""
    where = {sid: i for i, sid in enumerate(ds.ids)}
    return np.asarray([where[str(sid)] for sid in ids], dtype=np.int64)


def _train_data(coll: Any, rows: Mapping[str, tuple[int, int]]) -> Any:
    from swets_timeseries import SeriesCollection

    parts = [coll[sid][lo:hi] for sid, (lo, hi) in rows.items() if hi > lo]
    if len(parts) == 1:
        return parts[0]
    return SeriesCollection(parts)


def _score(
    metric_objs: list[Any],
    names: list[str],
    y: np.ndarray,
    p: np.ndarray,
    quantiles: Any,
    last: np.ndarray,
    scales: Mapping[int, np.ndarray],
    rows: np.ndarray | None,
) -> dict[str, float]:
    sel = slice(None) if rows is None else rows
    yy, pp, ll = y[sel], p[sel], last[sel]
    point = pp
    if quantiles is not None:
        levels = np.asarray(quantiles)
        hit = np.flatnonzero(np.isclose(levels, 0.5, rtol=0.0, atol=1e-9))
        point = pp[..., int(hit[0])] if hit.size else None
    out: dict[str, float] = {}
    for metric, name in zip(metric_objs, names):
        context: dict[str, Any] = {"last": ll}
        if quantiles is not None:
            context["quantiles"] = quantiles
        if isinstance(metric, MASE):
            context["scale"] = scales[metric.m][sel]
        if getattr(metric, "kind", "point") == "quantile":
            out[name] = metric(yy, pp, **context) if quantiles is not None else float("nan")
        elif point is None:
            out[name] = float("nan")
        else:
            out[name] = metric(yy, point, **context)
    return out
