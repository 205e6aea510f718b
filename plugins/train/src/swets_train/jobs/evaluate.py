"""Scoring a trained job in the original scale next to the naive and seasonal-naive baselines.

:func:`evaluate_windows` scores a model and the baselines on every window of an unscaled
``WindowDataset`` (inputs scaled for the model, its forecasts mapped back); MASE is scaled per series
(:func:`mase_scales`). :func:`evaluate_prepared` does that on a prepared job's validation and test
splits, :meth:`LoadedJob.evaluate <swets_train.jobs.LoadedJob.evaluate>` on a checkpoint's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from swets_core import registry
from swets_core.errors import ConfigError
from swets_core.lazy import exports_of
from swets_train.metrics import FORECAST_METRICS

__all__ = exports_of(__name__)

METRICS = FORECAST_METRICS
"""The metrics of every job table, in their order."""
BASELINES = ("naive", "seasonal_naive")
"""The baselines every job is scored against."""

Scores = dict[str, dict[str, float]]


def mase_scales(
    series: Any, target: str, rows: Mapping[str, tuple[int, int]] | None, m: int
) -> dict:
    """The MASE scale of each series: ``mean |z_t - z_{t-m}|`` of its target over ``rows``
    (``{id: (start, stop)}``, e.g. the training rows; None: every row). NaN when the rows hold no
    seasonal difference."""
    out = {}
    for s in series:
        z = np.asarray(s.column(target), dtype=np.float64)
        lo, hi = (0, z.shape[0]) if rows is None else rows.get(s.id, (0, 0))
        z = z[lo:hi]
        out[s.id] = float(np.mean(np.abs(z[m:] - z[:-m]))) if z.shape[0] > m else math.nan
    return out


def evaluate_windows(
    model: Any,
    windows: Any,
    *,
    scaler: Any,
    season_length: int,
    scales: Mapping[str, float],
    baselines: Sequence[str] = BASELINES,
    chunk: int = 4096,
    conformal: Any = None,
    levels: Any = None,
) -> Scores:
    """Score ``model`` and the baselines on every window of ``windows`` in the original scale.

    Args:
        model: the trained forecaster (inputs scaled with ``scaler``, outputs mapped back; known
            and static covariates given as ``future=`` and ``static=`` when the windows have them).
        windows: an unscaled WindowDataset (a split of :attr:`Prepared.dataset`).
        scaler: the fitted scaler, or None.
        season_length: the period of ``seasonal_naive`` and of MASE.
        scales: the MASE scale of each series id (:func:`mase_scales`).
        baselines: registered baseline models run on the unscaled inputs.
        conformal, levels: the model's calibration (:class:`~swets_train.Conformal`) and the
            levels (percent) of the prediction intervals to score; the model's scores then add
            ``coverage<L>``, ``width<L>``, ``pinball`` and ``crps``
            (:func:`swets_train.metrics.interval_scores`).

    Returns:
        ``{name: {"mae", "rmse", "smape", "mase"}}`` for the model (under its registry name) and
        each baseline (but the one the model is, when it is a baseline). A quantile model is scored
        on its 0.5 level.
    """
    from swets_train.inference import (
        _bounds,
        _Inputs,
        _interval_request,
        _quantiles,
        _Scaling,
        run_model,
    )
    from swets_train.metrics import MASE, evaluate, interval_scores

    if levels is not None:
        conformal, levels = _interval_request(conformal, levels)

    name = getattr(model, "registry_name", type(model).__name__.lower())
    quantiles = _quantiles(model)
    quantiles = None if quantiles is None else list(quantiles)
    horizon = windows.horizon
    base_models = {}
    for b in baselines:
        if b == name:  # the model is this baseline (swets train --model seasonal_naive)
            continue
        config: dict[str, Any] = {"horizon": horizon}
        if b == "seasonal_naive":
            config["season_length"] = season_length
        base_models[b] = registry.create("models", b, **config)
    if len(windows.target_columns) != 1:
        raise ConfigError(f"a job forecasts one target, the windows have {windows.target_columns}")
    target = windows.target_columns[0]
    scaling = _Scaling(scaler)
    n = len(windows)
    ys, preds = [], {k: [] for k in [name, *base_models]}
    lows: list[np.ndarray] = []
    highs: list[np.ndarray] = []
    row_scales = np.empty(n)
    for lo in range(0, n, chunk):
        idx = np.arange(lo, min(n, lo + chunk), dtype=np.int64)
        x, y, xf = windows.gather(idx)
        x = np.asarray(x, dtype=np.float64)
        ids, _ = windows.window_info(idx)
        ys.append(np.asarray(y, dtype=np.float64))
        inputs = _Inputs.of(windows, x, xf, windows.gather_static(idx), scaling, ids)
        out = np.empty((idx.shape[0], horizon) + ((len(quantiles),) if quantiles else ()))
        if levels is not None:
            lows.append(np.empty((idx.shape[0], horizon, len(levels))))
            highs.append(np.empty((idx.shape[0], horizon, len(levels))))
        for sid in np.unique(ids):
            rows = np.flatnonzero(ids == sid)
            pred = inputs.run(model, rows=rows)
            if pred.shape[1:] != out.shape[1:]:
                raise ConfigError(
                    f"model {name!r} returned shape {pred.shape}, expected "
                    f"{(rows.shape[0], *out.shape[1:])} (batch, horizon[, quantiles])"
                )
            out[rows] = scaling.target(pred, target, sid)
            if levels is not None:
                lo, hi = _bounds(conformal, pred, levels, scaling, target, ids[rows])
                lows[-1][rows], highs[-1][rows] = lo, hi
            row_scales[idx[rows]] = scales.get(sid, math.nan)
        preds[name].append(out)
        for b, bm in base_models.items():
            preds[b].append(run_model(bm, x))
    y_all = np.concatenate(ys)
    metric_objs = ["mae", "rmse", "smape", MASE(m=season_length)]
    result = {}
    for key, parts in preds.items():
        p = np.concatenate(parts)
        context: dict[str, Any] = {"scale": row_scales}
        if key == name and quantiles is not None:
            context["quantiles"] = quantiles
        result[key] = {k: float(v) for k, v in evaluate(metric_objs, y_all, p, **context).items()}
        if key == name and levels is not None:
            point = p if quantiles is None else _median(p, quantiles, name)
            result[key].update(
                interval_scores(y_all, point, np.concatenate(lows), np.concatenate(highs), levels)
            )
    return result


def _median(p: np.ndarray, quantiles: Sequence[float], name: str) -> np.ndarray:
    hits = np.flatnonzero(np.isclose(np.asarray(quantiles), 0.5, rtol=0.0, atol=1e-9))
    if not hits.size:
        raise ConfigError(
            f"model {name!r}: interval scores need the 0.5 level, its quantiles are {list(quantiles)}"
        )
    return p[..., int(hits[0])]


def score_splits(
    model: Any,
    parts: Iterable[tuple[str, Any]],
    *,
    scaler: Any,
    season_length: int,
    scales: Mapping[str, float],
    conformal: Any = None,
    levels: Any = None,
) -> tuple[Scores, dict[str, Scores]]:
    """:func:`evaluate_windows` on each ``(split name, windows)`` of ``parts`` (None windows are
    skipped): ``(metrics, baselines)`` as :func:`evaluate_prepared` returns them."""
    name = getattr(model, "registry_name", type(model).__name__.lower())
    metrics: Scores = {}
    baselines: dict[str, Scores] = {b: {} for b in BASELINES}
    for split, windows in parts:
        if windows is None:
            continue
        scores = evaluate_windows(
            model,
            windows,
            scaler=scaler,
            season_length=season_length,
            scales=scales,
            conformal=conformal,
            levels=levels,
        )
        metrics[split] = scores.pop(name)
        for b, s in scores.items():
            baselines[b][split] = s
    return metrics, baselines


def evaluate_prepared(
    prepared: Any, model: Any = None, *, conformal: Any = None, levels: Any = None
) -> tuple[Scores, dict[str, Scores]]:
    """Score the trained model (default ``prepared.model``) on the validation and test splits
    (with ``levels``, its prediction intervals from the calibration ``conformal`` too).

    Returns:
        ``(metrics, baselines)``: ``metrics[split][metric]`` for the model and
        ``baselines[name][split][metric]``, with ``split`` in ``"validation"``, ``"test"`` (when the
        job has a test part). MASE is scaled by each series' seasonal-naive error on the training rows.
    """
    p = prepared
    scales = mase_scales(p.series, p.spec.data.target, p.splits.train.rows, p.season_length)
    return score_splits(
        p.model if model is None else model,
        (("validation", p.splits.val), ("test", p.splits.test)),
        scaler=p.scaler,
        season_length=p.season_length,
        scales=scales,
        conformal=conformal,
        levels=levels,
    )
