"""The competitions' accuracy measures, computed the way the competitions define them.

For N series with H test values each (``y`` actual, ``ŷ`` forecast, ``x`` the training part of
length n, ``m`` the season length), every measure is computed **per series, then averaged over the
series** of a subset (docs/competitions.md has the formulas and their sources):

* sMAPE (M3, M4; 0 to 200):  ``200/H · Σ_h |y - ŷ| / (|y| + |ŷ|)``
* MAPE (Tourism; percent):    ``100/H · Σ_h |y - ŷ| / |y|``
* MASE (M4; Tourism):         ``(1/H · Σ_h |y - ŷ|) / (1/(n - m) · Σ_{t=m+1..n} |x_t - x_{t-m}|)``
* OWA (M4), on the subset's totals: ``0.5 · (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2)``

With one horizon per subset, the mean over series of a per-series mean equals the mean over all
N·H terms, so sMAPE, MAPE and MASE are the registered metrics ``smape``, ``mape`` and ``mase`` of
swets-train (the one definition of each formula) applied to the (N, H) arrays, MASE with one scale per
series (:func:`seasonal_scale`). What the competitions leave undefined is refused rather than skipped:
a zero actual in MAPE and a zero seasonal scale in MASE raise, naming the series. A term of sMAPE with
``y = ŷ = 0`` counts 0 (a perfect forecast).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from swets_competitions.baselines import naive2 as naive2_forecast
from swets_competitions.datasets import CompetitionSplit
from swets_core import registry
from swets_core.checks import array_pair
from swets_core.errors import ConfigError, DataValidationError, ShapeError
from swets_core.lazy import exports_of

__all__ = exports_of(__name__)  # listed once, in the package's table of lazy exports

METRICS = ("smape", "mape", "mase", "owa")


def _pair(y_true: Any, y_pred: Any, metric: str) -> tuple[np.ndarray, np.ndarray]:
    names = ("y_true", "y_pred")
    t, p = array_pair(y_true, y_pred, np.float64, 2, names, "(series, horizon)", metric)
    if t.size == 0:
        raise ShapeError(f"{metric}: empty input (shape {t.shape})")
    for what, arr in (("y_true", t), ("y_pred", p)):
        bad = np.argwhere(~np.isfinite(arr))
        if bad.size:
            i, j = (int(v) for v in bad[0])
            raise DataValidationError(
                f"{metric}: {what}[{i}, {j}] = {arr[i, j]} is not finite (series {i}, step {j + 1})"
            )
    return t, p


def _name(ids: Sequence[str] | None, i: int) -> str:
    return repr(ids[i]) if ids is not None else str(i)


def smape(y_true: Any, y_pred: Any) -> float:
    """sMAPE of M3 and M4, between 0 and 200, averaged over series.

    Args:
        y_true, y_pred: (N, H) actual and forecast values, one row per series.

    Returns:
        ``mean_i 200/H Σ_h |y - ŷ| / (|y| + |ŷ|)``; a term with ``y = ŷ = 0`` counts 0.

    Raises:
        ShapeError: shapes that differ or are not 2-D.
        DataValidationError: a non-finite value (named by row and step).
    """
    t, p = _pair(y_true, y_pred, "smape")
    return float(registry.get("metrics", "smape")(t, p))


def mape(y_true: Any, y_pred: Any, *, ids: Sequence[str] | None = None) -> float:
    """MAPE (the Tourism competition's measure), in percent, averaged over series.

    Args:
        y_true, y_pred: (N, H).
        ids: series names for the error message (default: row numbers).

    Returns:
        ``mean_i 100/H Σ_h |y - ŷ| / |y|``.

    Raises:
        DataValidationError: an actual value of 0 (MAPE is undefined there), naming the series.
    """
    t, p = _pair(y_true, y_pred, "mape")
    zero = np.argwhere(t == 0)
    if zero.size:
        i, j = (int(v) for v in zero[0])
        raise DataValidationError(
            f"mape: series {_name(ids, i)} has an actual value of 0 at step {j + 1}; MAPE is "
            "undefined there (use sMAPE or MASE)"
        )
    return float(registry.get("metrics", "mape")(t, p))


def seasonal_scale(
    history: Iterable[Any], season_length: int, *, ids: Sequence[str] | None = None
) -> np.ndarray:
    """MASE's scale of each series: the in-sample MAE of the seasonal naive forecast,
    ``1/(n - m) · Σ_{t=m+1..n} |x_t - x_{t-m}|``.

    Args:
        history: one training part (1-D, any length > m) per series.
        season_length: m (1 for yearly data: the naive one-step scale).
        ids: series names for the error messages.

    Returns:
        (N,) float64 scales.

    Raises:
        ConfigError: ``season_length`` not a positive integer.
        DataValidationError: a series of at most m values or with a zero scale (a training part
            whose seasonal differences are all 0), named.
    """
    from swets_train.metrics import in_sample_scale

    if isinstance(season_length, bool) or not isinstance(season_length, (int, np.integer)):
        raise ConfigError(f"seasonal_scale: season_length must be an int, got {season_length!r}")
    if season_length < 1:
        raise ConfigError(f"seasonal_scale: season_length must be >= 1, got {season_length}")
    scales = []
    for i, x in enumerate(history):
        arr = np.asarray(x, dtype=np.float64)
        if arr.ndim != 1 or arr.shape[0] <= season_length:
            raise DataValidationError(
                f"mase: series {_name(ids, i)} has {arr.size} training value(s); the seasonal "
                f"scale with season length {season_length} needs at least {season_length + 1}"
            )
        s = float(in_sample_scale(arr, int(season_length)))
        if not np.isfinite(s) or s == 0.0:
            raise DataValidationError(
                f"mase: series {_name(ids, i)} has a seasonal scale of {s} (its training part "
                f"repeats itself every {season_length} step(s)); MASE is undefined for it"
            )
        scales.append(s)
    return np.asarray(scales, dtype=np.float64)


def mase(y_true: Any, y_pred: Any, scale: Any) -> float:
    """MASE with one scale per series (:func:`seasonal_scale`), averaged over series.

    Args:
        y_true, y_pred: (N, H).
        scale: (N,) positive scales.

    Returns:
        ``mean_i (1/H Σ_h |y - ŷ|) / scale_i``.

    Raises:
        ShapeError: a scale per series is missing.
        DataValidationError: a scale that is not positive and finite.
    """
    t, p = _pair(y_true, y_pred, "mase")
    s = np.asarray(scale, dtype=np.float64)
    if s.shape != (t.shape[0],):
        raise ShapeError(f"mase: {t.shape[0]} series need a (N,) scale, got shape {s.shape}")
    bad = np.flatnonzero(~np.isfinite(s) | (s <= 0))
    if bad.size:
        raise DataValidationError(
            f"mase: the scale of series {int(bad[0])} is {s[bad[0]]}; scales must be > 0"
        )
    return float(registry.get("metrics", "mase")(t, p, scale=s))


def owa(smape: float, mase: float, smape_naive2: float, mase_naive2: float) -> float:
    """M4's overall weighted average: ``0.5 · (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2)``, from a
    subset's (or a whole competition's) totals. Below 1 beats Naive2.

    Raises:
        ConfigError: a Naive2 total that is not positive.
    """
    if not smape_naive2 > 0 or not mase_naive2 > 0:
        raise ConfigError(
            f"owa: the Naive2 totals must be > 0, got sMAPE {smape_naive2}, MASE {mase_naive2}"
        )
    return 0.5 * (smape / smape_naive2 + mase / mase_naive2)


def pooled_average(values: Sequence[float], points: Sequence[int]) -> float:
    """The average over several subsets in which every forecast value weighs the same, as the
    competitions' and the N-BEATS paper's "Average" column: ``Σ_k v_k · p_k / Σ_k p_k`` with
    ``p_k`` the subset's number of test values (``CompetitionSplit.n_points``).

    Raises:
        ShapeError: lists of different lengths or empty.
        ConfigError: a weight that is not positive.
    """
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(points, dtype=np.float64)
    if v.ndim != 1 or v.shape != w.shape or v.size == 0:
        raise ShapeError(
            f"pooled_average: one value per weight, got {v.size} values and {w.size} weights"
        )
    if np.any(w <= 0):
        raise ConfigError(f"pooled_average: weights must be > 0, got {w.tolist()}")
    return float(np.sum(v * w) / np.sum(w))


def _forecast_array(split: CompetitionSplit, forecast: Any, what: str) -> np.ndarray:
    if isinstance(forecast, Mapping):
        missing = [i for i in split.ids if i not in forecast]
        if missing:
            raise DataValidationError(
                f"{what}: no forecast for {len(missing)} series of {split.name} {split.subset} "
                f"(first: {', '.join(missing[:5])})"
            )
        rows = [np.asarray(forecast[i], dtype=np.float64) for i in split.ids]
        for sid, row in zip(split.ids, rows):
            if row.shape != (split.horizon,):
                raise ShapeError(
                    f"{what}: the forecast of series {sid!r} has shape {row.shape}, expected "
                    f"({split.horizon},)"
                )
        return np.stack(rows)
    arr = np.asarray(forecast, dtype=np.float64)
    if arr.shape != (len(split), split.horizon):
        raise ShapeError(
            f"{what}: expected ({len(split)}, {split.horizon}) for {split.name} {split.subset} "
            f"(series, horizon), got {arr.shape}"
        )
    return arr


def evaluate(
    split: CompetitionSplit,
    forecast: Any,
    *,
    metrics: Sequence[str] | None = None,
    naive2: Any = None,
) -> dict[str, float]:
    """Score a forecast of a split the competition's way.

    Args:
        split: the subset (its test values, training parts and season length are used).
        forecast: (N, H) in ``split.ids`` order, or a mapping id -> (H,).
        metrics: among ``"smape"``, ``"mape"``, ``"mase"``, ``"owa"``; default ``split.metrics``
            (sMAPE, MASE, OWA for M1/M3/M4; MAPE, MASE for Tourism).
        naive2: the Naive2 forecast OWA compares with (same layout as ``forecast``); computed
            with :func:`swets_competitions.naive2` when OWA is asked and it is not given.

    Returns:
        ``{metric: value}`` in the order asked; OWA also adds ``smape_naive2`` and
        ``mase_naive2``.

    Raises:
        ConfigError: an unknown metric name.
        ShapeError, DataValidationError: a forecast of the wrong shape, a missing series, or a
            value a metric cannot take (named).
    """
    names = tuple(split.metrics if metrics is None else metrics)
    unknown = [m for m in names if m not in METRICS]
    if unknown:
        raise ConfigError(f"evaluate: unknown metric(s) {unknown}; known: {', '.join(METRICS)}")
    y = split.test_values()
    f = _forecast_array(split, forecast, "evaluate")
    needs_scale = "mase" in names or "owa" in names
    scale = (
        seasonal_scale(split.train_values(), split.season_length, ids=split.ids)
        if needs_scale
        else None
    )
    out: dict[str, float] = {}
    for name in names:
        if name == "smape":
            out[name] = smape(y, f)
        elif name == "mape":
            out[name] = mape(y, f, ids=split.ids)
        elif name == "mase":
            out[name] = mase(y, f, scale)
        else:
            if naive2 is None:
                n2 = naive2_forecast(split)
            else:
                n2 = _forecast_array(split, naive2, "evaluate (naive2)")
            s, m = smape(y, f), mase(y, f, scale)
            s2, m2 = smape(y, n2), mase(y, n2, scale)
            out["owa"] = owa(s, m, s2, m2)
            out["smape_naive2"] = s2
            out["mase_naive2"] = m2
    return out
