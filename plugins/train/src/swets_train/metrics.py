"""Forecast metrics: MAE, RMSE, MAPE, sMAPE, MASE, R², directional accuracy, pinball loss, coverage,
CRPS, and the scores of prediction intervals (:func:`interval_scores`).

Every metric is an object satisfying :class:`swets_core.protocols.Metric`:
``metric(y_true, y_pred, **context) -> float`` on numpy arrays (Tensors are accepted too), with a
``greater_is_better`` flag and a ``name``. The formulas, and what each metric returns when a denominator
is zero, are documented in ``docs/metrics.md`` and on each class.

Shapes:
    * point metrics: ``y_true`` and ``y_pred`` of the same shape, usually ``(N, H)`` (N forecasts of H
      steps); any shape is accepted, all elements are pooled.
    * quantile metrics (``pinball``, ``coverage``): ``y_true`` of shape ``S`` and ``y_pred`` of shape
      ``S + (Q,)``, with ``quantiles=`` giving the Q levels of the last axis.

The ``context`` keywords are shared by all metrics (a trainer or a backtest passes the same context to
each); a metric reads the ones it knows and ignores the others:

    ``mask``       bool array of ``y_true``'s shape, True where an element counts (missing targets).
    ``insample``   MASE: the in-sample history, ``(T,)`` shared by every row or ``(N, T)`` one per row.
    ``scale``      MASE: the in-sample scale itself, a scalar or ``(N,)`` one per row (wins over insample).
    ``quantiles``  pinball/coverage: the quantile levels of ``y_pred``'s last axis.
    ``last``       directional accuracy: the last observed value before each forecast, ``y_true.shape[:-1]``.

All computations run in float64. NaN in the inputs propagates to a NaN result (it is never skipped
silently); use ``mask`` to leave out missing values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from swets_core.checks import is_int
from swets_core.errors import ConfigError, ShapeError
from swets_core.lazy import exports_of

__all__ = [
    *exports_of(__name__),
    "FORECAST_METRICS",
    "MAE",
    "MAPE",
    "MASE",
    "R2",
    "RMSE",
    "SMAPE",
    "Coverage",
    "DirectionalAccuracy",
    "CRPS",
    "MetricBase",
    "Pinball",
    "default_metrics",
    "get_metric",
    "crps_samples",
    "in_sample_scale",
    "interval_metric_names",
    "interval_scores",
]


FORECAST_METRICS = ("mae", "rmse", "smape", "mase")
"""The metrics every table of forecasts shows by default, in this order (``swets train``,
``evaluate``, ``backtest``, :func:`swets_train.backtest`, sweeps)."""


def _array(value: Any, what: str, metric: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{metric}: {what} must be numeric, got {type(value).__name__}") from exc
    return arr


def _mask_of(context: Mapping[str, Any], shape: tuple[int, ...], metric: str) -> np.ndarray | None:
    mask = context.get("mask")
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise ConfigError(f"{metric}: mask must be a bool array, got dtype {mask.dtype}")
    if mask.shape != shape:
        try:
            mask = np.broadcast_to(mask, shape)
        except ValueError:
            raise ShapeError(
                f"{metric}: mask has shape {mask.shape} but y_true has shape {shape}"
            ) from None
    return mask


class MetricBase:
    """Shared machinery: input conversion and shape checks. Subclasses implement ``_compute``.

    Attributes:
        name: the registry name (``"mae"``).
        greater_is_better: True when a larger value is a better forecast.
        kind: ``"point"`` (``y_pred`` shaped like ``y_true``) or ``"quantile"`` (an extra last axis of
            quantiles).
    """

    __slots__ = ()
    name = "metric"
    greater_is_better = False
    kind = "point"

    def __call__(self, y_true: Any, y_pred: Any, **context: Any) -> float:
        """The metric value as a Python float (see the class docstring for the formula)."""
        t = _array(y_true, "y_true", self.name)
        p = _array(y_pred, "y_pred", self.name)
        if self.kind == "point":
            if t.shape != p.shape:
                raise ShapeError(
                    f"{self.name}: y_true has shape {t.shape} but y_pred has shape {p.shape}; "
                    "they must match"
                )
        elif p.shape[:-1] != t.shape or p.ndim != t.ndim + 1:
            raise ShapeError(
                f"{self.name}: y_pred must have y_true's shape {t.shape} plus a last axis of "
                f"quantiles, got {p.shape}"
            )
        if t.size == 0:
            raise ShapeError(f"{self.name}: empty input (y_true has shape {t.shape})")
        mask = _mask_of(context, t.shape, self.name)
        return float(self._compute(t, p, mask, context))

    def _compute(
        self, t: np.ndarray, p: np.ndarray, mask: np.ndarray | None, context: Mapping[str, Any]
    ) -> float:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """The constructor arguments (plain data)."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.config() == self.config()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self.config())))


def _select(values: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    return values.ravel() if mask is None else values[mask]


def _mean_or_nan(values: np.ndarray) -> float:
    return float(np.mean(values)) if values.size else float("nan")


class MAE(MetricBase):
    """Mean absolute error: ``mean(|y - ŷ|)``. Lower is better. A fully masked input gives NaN."""

    __slots__ = ()
    name = "mae"

    def _compute(self, t, p, mask, context):
        return _mean_or_nan(_select(np.abs(t - p), mask))


class RMSE(MetricBase):
    """Root mean squared error: ``sqrt(mean((y - ŷ)²))``. Lower is better. Fully masked: NaN."""

    __slots__ = ()
    name = "rmse"

    def _compute(self, t, p, mask, context):
        return float(np.sqrt(_mean_or_nan(_select(np.square(t - p), mask))))


class MAPE(MetricBase):
    """Mean absolute percentage error, in percent: ``100 · mean(|y - ŷ| / |y|)`` over ``y != 0``.

    Elements whose actual value is exactly zero have no percentage error and are left out; when every
    actual is zero (or masked) the result is NaN. It is never infinite. Lower is better.
    """

    __slots__ = ()
    name = "mape"

    def _compute(self, t, p, mask, context):
        keep = t != 0
        if mask is not None:
            keep &= mask
        tt, pp = t[keep], p[keep]
        return 100.0 * _mean_or_nan(np.abs(tt - pp) / np.abs(tt))


class SMAPE(MetricBase):
    """Symmetric MAPE, in percent: ``100 · mean(2 |y - ŷ| / (|y| + |ŷ|))``, between 0 and 200.

    A term whose denominator is zero (``y = ŷ = 0``, a perfect forecast) counts as 0. Lower is better.
    """

    __slots__ = ()
    name = "smape"

    def _compute(self, t, p, mask, context):
        num = 2.0 * np.abs(t - p)
        den = np.abs(t) + np.abs(p)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(den == 0, 0.0, num / np.where(den == 0, 1.0, den))
        return 100.0 * _mean_or_nan(_select(terms, mask))


def in_sample_scale(insample: Any, m: int = 1) -> np.ndarray:
    """The MASE scale: ``mean(|x_t - x_{t-m}|)`` over the last axis of ``insample``.

    Args:
        insample: ``(T,)`` or ``(N, T)`` history.
        m: seasonal period (1 for the non-seasonal naive scale).

    Returns:
        A 0-d array for ``(T,)`` input, else ``(N,)``. NaN in the history propagates.

    Raises:
        ShapeError: when the history has ``T <= m`` (no seasonal difference exists).
    """
    x = np.asarray(insample, dtype=np.float64)
    if x.ndim not in (1, 2):
        raise ShapeError(f"mase: insample must be (T,) or (N, T), got shape {x.shape}")
    if x.shape[-1] <= m:
        raise ShapeError(
            f"mase: the in-sample history has {x.shape[-1]} values; a seasonal period m={m} needs "
            f"at least {m + 1}"
        )
    return np.mean(np.abs(x[..., m:] - x[..., :-m]), axis=-1)


class MASE(MetricBase):
    """Mean absolute scaled error: ``mean(|y - ŷ| / s)`` with the in-sample scale
    ``s = mean_{t>m}(|x_t - x_{t-m}|)`` of the history ``x`` (Hyndman and Koehler, 2006).

    Args:
        m: seasonal period of the scale (1: the naive one-step scale; 48 for half-hourly data with a
            daily season...).

    Context: ``insample`` (``(T,)`` shared or ``(N, T)`` per row of a 2-d ``y_true``) or ``scale``
    (a scalar or ``(N,)``); one of them is required. With per-row scales the result is the mean over
    all elements of ``|y_ij - ŷ_ij| / s_i``.

    Rows whose scale is zero (a constant history) are left out; when no row remains the result is NaN,
    never infinite. Lower is better; below 1 beats the in-sample seasonal naive forecast.
    """

    __slots__ = ("m",)
    name = "mase"

    def __init__(self, m: int = 1) -> None:
        if not is_int(m) or m < 1:
            raise ConfigError(f"mase: the seasonal period m must be an int >= 1, got {m!r}")
        self.m = int(m)

    def config(self) -> dict[str, Any]:
        return {"m": self.m}

    def _compute(self, t, p, mask, context):
        scale = context.get("scale")
        if scale is not None:
            s = np.asarray(scale, dtype=np.float64)
            if s.ndim > 1:
                raise ShapeError(f"mase: scale must be a scalar or (N,), got shape {s.shape}")
        elif context.get("insample") is not None:
            s = in_sample_scale(context["insample"], self.m)
        else:
            raise ConfigError(
                "mase needs the in-sample history: pass insample=(T,) or (N, T), or scale="
            )
        if s.ndim == 1:
            if t.ndim < 1 or s.shape[0] != t.shape[0]:
                raise ShapeError(
                    f"mase: {s.shape[0]} per-row scales for y_true of shape {t.shape} "
                    "(one scale per row of the first axis)"
                )
            s = s.reshape((-1,) + (1,) * (t.ndim - 1))
        s = np.broadcast_to(s, t.shape)
        keep = s != 0
        if mask is not None:
            keep = keep & mask
        err = np.abs(t - p)[keep]
        return _mean_or_nan(err / s[keep])


class R2(MetricBase):
    """Coefficient of determination: ``1 - Σ(y - ŷ)² / Σ(y - ȳ)²`` over all elements pooled.

    When the actuals are constant (``Σ(y - ȳ)² = 0``) the ratio is undefined; the result is then
    1.0 for a perfect forecast and 0.0 otherwise (the convention of scikit-learn). Greater is better.
    """

    __slots__ = ()
    name = "r2"
    greater_is_better = True

    def _compute(self, t, p, mask, context):
        tt, pp = _select(t, mask), _select(p, mask)
        if tt.size == 0:
            return float("nan")
        ss_res = float(np.sum(np.square(tt - pp)))
        ss_tot = float(np.sum(np.square(tt - np.mean(tt))))
        if ss_tot == 0.0:
            if np.isnan(ss_res):
                return float("nan")
            return 1.0 if ss_res == 0.0 else 0.0
        return 1.0 - ss_res / ss_tot


class DirectionalAccuracy(MetricBase):
    """Share of steps whose direction of change is forecast right (mean directional accuracy):
    ``mean(sign(y_t - y_{t-1}) == sign(ŷ_t - y_{t-1}))`` along the last axis, where ``y_{t-1}`` is
    the actual previous value.

    Context ``last`` (shape ``y_true.shape[:-1]``) gives the observation before the first step, so every
    step is scored; without it the first step of each row has no previous value and is not scored.
    A flat actual change (sign 0) is matched only by a flat forecast change. Between 0 and 1; greater is
    better. Raises when no step can be scored (one step and no ``last``).
    """

    __slots__ = ()
    name = "directional_accuracy"
    greater_is_better = True

    def _compute(self, t, p, mask, context):
        if t.ndim == 0:
            raise ShapeError("directional_accuracy: needs at least one time axis, got a scalar")
        last = context.get("last")
        if last is not None:
            last = np.asarray(last, dtype=np.float64)
            if last.shape != t.shape[:-1]:
                raise ShapeError(
                    f"directional_accuracy: last must have shape {t.shape[:-1]} (y_true without "
                    f"its last axis), got {last.shape}"
                )
            prev = np.concatenate([last[..., None], t[..., :-1]], axis=-1)
            tt, pp = t, p
        else:
            if t.shape[-1] < 2:
                raise ShapeError(
                    "directional_accuracy: one step per row and no `last` value: no direction "
                    "can be scored; pass last= (the observation before each forecast)"
                )
            prev, tt, pp = t[..., :-1], t[..., 1:], p[..., 1:]
            if mask is not None:
                mask = mask[..., 1:]
        hit = np.sign(tt - prev) == np.sign(pp - prev)
        nan = np.isnan(tt) | np.isnan(pp) | np.isnan(prev)
        sel_hit, sel_nan = _select(hit, mask), _select(nan, mask)
        if sel_nan.any():
            return float("nan")
        return _mean_or_nan(sel_hit.astype(np.float64))


def _quantile_levels(
    metric: str, context: Mapping[str, Any], default: Sequence[float] | None, q_count: int
) -> np.ndarray:
    qs = context.get("quantiles", default)
    if qs is None:
        raise ConfigError(f"{metric}: pass quantiles= (the levels of y_pred's last axis)")
    qs = np.asarray(qs, dtype=np.float64).ravel()
    if qs.size != q_count:
        raise ShapeError(
            f"{metric}: {qs.size} quantile levels for a y_pred last axis of size {q_count}"
        )
    if np.any((qs <= 0) | (qs >= 1)) or np.any(np.isnan(qs)):
        raise ConfigError(f"{metric}: quantile levels must be in (0, 1), got {qs.tolist()}")
    return qs


def _check_levels(name: str, qs: Iterable[float] | None) -> tuple[float, ...] | None:
    if qs is None:
        return None
    out = tuple(float(q) for q in qs)
    if not out or any(not 0.0 < q < 1.0 for q in out):
        raise ConfigError(f"{name}: quantile levels must be in (0, 1), got {list(out)}")
    return out


class _QuantileMetric(MetricBase):
    """A metric of quantile forecasts (``y_pred``: ``y_true``'s shape plus a last axis of quantile
    levels), with default levels for that axis (the ``quantiles`` context wins)."""

    __slots__ = ("quantiles",)
    kind = "quantile"

    def __init__(self, quantiles: Sequence[float] | None = None) -> None:
        self.quantiles = _check_levels(self.name, quantiles)

    def config(self) -> dict[str, Any]:
        return {"quantiles": None if self.quantiles is None else list(self.quantiles)}

    def _levels(self, context: Mapping[str, Any], p: np.ndarray) -> np.ndarray:
        """The levels of ``p``'s last axis."""
        return _quantile_levels(self.name, context, self.quantiles, p.shape[-1])


class Pinball(_QuantileMetric):
    """Pinball (quantile) loss averaged over elements and quantiles:
    ``mean_{i,q} max(q (y_i - ŷ_{i,q}), (q - 1)(y_i - ŷ_{i,q}))``.

    Args:
        quantiles: default levels of ``y_pred``'s last axis (the ``quantiles`` context wins).

    For the single level 0.5 it equals half the MAE. Lower is better.
    """

    __slots__ = ()
    name = "pinball"

    def _compute(self, t, p, mask, context):
        qs = self._levels(context, p)
        diff = t[..., None] - p
        loss = np.maximum(qs * diff, (qs - 1.0) * diff)
        if mask is not None:
            loss = loss[mask]
        return _mean_or_nan(loss.ravel())


class Coverage(_QuantileMetric):
    """Interval coverage: the share of actuals inside ``[ŷ_lower, ŷ_upper]`` (bounds included).

    Args:
        lower, upper: the quantile levels of the interval's bounds; by default the lowest and highest
            of the ``quantiles`` context (or of ``quantiles`` given here).
        quantiles: default levels of ``y_pred``'s last axis.

    A crossed interval (lower bound above the upper) covers nothing. A NaN bound or actual gives NaN.
    Between 0 and 1; a calibrated ``[q_lo, q_hi]`` interval covers about ``q_hi - q_lo``. It is
    flagged greater-is-better (wider coverage), but compare it with the nominal level.
    """

    __slots__ = ("lower", "upper")
    name = "coverage"
    greater_is_better = True

    def __init__(
        self,
        lower: float | None = None,
        upper: float | None = None,
        quantiles: Sequence[float] | None = None,
    ) -> None:
        for label, v in (("lower", lower), ("upper", upper)):
            if v is not None and not 0.0 < float(v) < 1.0:
                raise ConfigError(f"coverage: {label} must be a quantile level in (0, 1), got {v}")
        if lower is not None and upper is not None and float(lower) >= float(upper):
            raise ConfigError(f"coverage: lower ({lower}) must be below upper ({upper})")
        self.lower = None if lower is None else float(lower)
        self.upper = None if upper is None else float(upper)
        super().__init__(quantiles)

    def config(self) -> dict[str, Any]:
        return {"lower": self.lower, "upper": self.upper, **super().config()}

    def _index(self, qs: np.ndarray, level: float | None, default: int) -> int:
        if level is None:
            return default
        hits = np.flatnonzero(np.isclose(qs, level, rtol=0.0, atol=1e-9))
        if hits.size == 0:
            raise ConfigError(
                f"coverage: level {level} is not among the forecast quantiles {qs.tolist()}"
            )
        return int(hits[0])

    def _compute(self, t, p, mask, context):
        qs = self._levels(context, p)
        lo = self._index(qs, self.lower, int(np.argmin(qs)))
        hi = self._index(qs, self.upper, int(np.argmax(qs)))
        if qs[lo] >= qs[hi]:
            raise ConfigError(
                f"coverage: needs two distinct quantile levels for an interval, got {qs.tolist()}"
            )
        lower, upper = p[..., lo], p[..., hi]
        inside = (t >= lower) & (t <= upper)
        nan = np.isnan(t) | np.isnan(lower) | np.isnan(upper)
        if _select(nan, mask).any():
            return float("nan")
        return _mean_or_nan(_select(inside, mask).astype(np.float64))


class CRPS(_QuantileMetric):
    """Continuous ranked probability score, ``CRPS(F, y) = ∫ (F(z) - 1{y <= z})² dz = 2 ∫₀¹ ρ_q(y -
    F⁻¹(q)) dq`` (lower is better; it equals the MAE for a point forecast).

    * From quantiles (``y_pred (..., Q)`` at the ``quantiles`` levels): ``2 · mean_q ρ_q``, twice
      the pinball loss, the discretization of the integral over the forecast's levels.
    * From samples (the ``samples`` context, ``(S, *y_true.shape)``, e.g. DeepAR's sample paths):
      the empirical distribution's exact CRPS, ``mean_i |x_i - y| - 1/(2 S²) Σ_ij |x_i - x_j|``,
      computed from the sorted samples (``Σ_ij |x_i - x_j| = 2 Σ_i (2i - S - 1) x_(i)``); the
      quantile axis of ``y_pred`` is then not read.

    Averaged over elements (and the ``mask``). A NaN gives NaN.
    """

    __slots__ = ()
    name = "crps"

    def _compute(self, t, p, mask, context):
        samples = context.get("samples")
        if samples is not None:
            return crps_samples(t, samples, mask)
        return 2.0 * Pinball(self.quantiles)._compute(t, p, mask, context)


def crps_samples(y: Any, samples: Any, mask: Any = None) -> float:
    """The mean CRPS of the empirical distributions of ``samples`` ``(S, *y.shape)`` at ``y``."""
    t = _array(y, "y_true", "crps")
    x = _array(samples, "samples", "crps")
    if x.shape[1:] != t.shape or x.shape[0] < 1:
        raise ShapeError(
            f"crps: samples must have shape (S, *{t.shape}) (S draws of each point), got {x.shape}"
        )
    s = x.shape[0]
    x = np.sort(x, axis=0)
    spread = np.tensordot((2.0 * np.arange(1, s + 1) - s - 1.0) / (s * s), x, axes=(0, 0))
    score = np.mean(np.abs(x - t), axis=0) - spread
    m = _mask_of({"mask": mask}, t.shape, "crps") if mask is not None else None
    return _mean_or_nan(_select(score, m).ravel())


def interval_metric_names(levels: Sequence[float]) -> list[str]:
    """The columns of :func:`interval_scores` in order: ``coverage<L>`` and ``width<L>`` for each
    level ``L`` (percent: ``coverage80``), then ``pinball`` and ``crps``."""
    names = []
    for level in levels:
        names += [f"coverage{level:g}", f"width{level:g}"]
    return [*names, "pinball", "crps"]


def interval_scores(
    y: Any,
    point: Any,
    lower: Any,
    upper: Any,
    levels: Sequence[float],
    *,
    samples: Any = None,
    mask: Any = None,
) -> dict[str, float]:
    """The probabilistic scores of a forecast with prediction intervals, in the order of
    :func:`interval_metric_names`.

    Args:
        y: ``(N, H)`` actuals; point: ``(N, H)`` point forecasts (the median);
        lower, upper: ``(N, H, L)`` the bounds at ``levels`` (percent).
        samples: ``(S, N, H)`` sample paths: CRPS from them instead of the quantiles.
        mask: bool ``(N, H)``, True where an actual counts.

    ``coverage<L>``: the share of actuals inside ``[lower, upper]`` (bounds included; to compare
    with ``L`` %); ``width<L>``: the mean width ``upper - lower``; ``pinball``: the pinball loss
    at the quantile levels the intervals and the median form (``(1 - L/100)/2``, 0.5,
    ``(1 + L/100)/2``); ``crps``: :class:`CRPS` of those quantiles, or of ``samples``.
    """
    t = _array(y, "y_true", "intervals")
    lo = _array(lower, "lower", "intervals")
    hi = _array(upper, "upper", "intervals")
    mid = _array(point, "point", "intervals")
    if lo.shape != (*t.shape, len(levels)) or hi.shape != lo.shape or mid.shape != t.shape:
        raise ShapeError(
            f"intervals: y {t.shape}, point {mid.shape}, lower {lo.shape} and upper {hi.shape} "
            f"do not fit {len(levels)} level(s): expected y's shape and y's shape + (L,)"
        )
    m = _mask_of({"mask": mask}, t.shape, "intervals") if mask is not None else None
    out: dict[str, float] = {}
    for j, level in enumerate(levels):
        inside = ((t >= lo[..., j]) & (t <= hi[..., j])).astype(np.float64)
        inside[np.isnan(t) | np.isnan(lo[..., j]) | np.isnan(hi[..., j])] = np.nan
        out[f"coverage{level:g}"] = _mean_or_nan(_select(inside, m).ravel())
        out[f"width{level:g}"] = _mean_or_nan(_select(hi[..., j] - lo[..., j], m).ravel())
    qs = [0.5]
    cols = [mid]
    for j, level in enumerate(levels):
        a = (1.0 - level / 100.0) / 2.0
        qs += [a, 1.0 - a]
        cols += [lo[..., j], hi[..., j]]
    order = np.argsort(qs)
    stacked = np.stack([cols[i] for i in order], axis=-1)
    levels_q = [qs[i] for i in order]
    context = {"quantiles": levels_q, "mask": m}
    out["pinball"] = Pinball()(t, stacked, **context)
    crps_context = dict(context, samples=samples)
    out["crps"] = CRPS()(t, stacked, **crps_context)
    return out


def default_metrics() -> dict[str, MetricBase]:
    """The registered metric objects by name (default settings: MASE with ``m=1``)."""
    return {
        "mae": MAE(),
        "rmse": RMSE(),
        "mape": MAPE(),
        "smape": SMAPE(),
        "mase": MASE(),
        "r2": R2(),
        "directional_accuracy": DirectionalAccuracy(),
        "pinball": Pinball(),
        "coverage": Coverage(),
        "crps": CRPS(),
    }


def get_metric(spec: Any) -> Any:
    """Resolve a metric: a Metric object is returned as is, a string is looked up in the registry.

    Raises:
        UnknownComponentError: for an unknown name (with suggestions).
        ConfigError: for anything else.
    """
    if isinstance(spec, str):
        from swets_core import registry

        return registry.get("metrics", spec)
    if callable(spec) and hasattr(spec, "greater_is_better"):
        return spec
    raise ConfigError(
        f"a metric must be a registered name or an object with __call__ and greater_is_better, "
        f"got {spec!r}"
    )


def metric_name(metric: Any) -> str:
    """The name a metric is reported under: its ``name`` attribute, else its class name in lower case."""
    name = getattr(metric, "name", None)
    return name if isinstance(name, str) and name else type(metric).__name__.lower()


def evaluate(
    metrics: Iterable[Any],
    y_true: Any,
    y_pred: Any,
    **context: Any,
) -> dict[str, float]:
    """Compute several metrics at once: ``{name: value}``.

    ``metrics`` are names or Metric objects. For a quantile forecast (``y_pred`` with one more axis than
    ``y_true``) the point metrics score the median: the 0.5 level of ``quantiles`` must be present.
    """
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    point = p
    out: dict[str, float] = {}
    for spec in metrics:
        metric = get_metric(spec)
        kind = getattr(metric, "kind", "point")
        name = metric_name(metric)
        if kind == "point" and p.ndim == t.ndim + 1:
            if point is p:
                qs = context.get("quantiles")
                if qs is None:
                    raise ConfigError(
                        f"{name}: the forecast has a quantile axis; pass quantiles= so the point "
                        "metrics can score the median"
                    )
                qs = np.asarray(qs, dtype=np.float64).ravel()
                hits = np.flatnonzero(np.isclose(qs, 0.5, rtol=0.0, atol=1e-9))
                if hits.size == 0:
                    raise ConfigError(
                        f"{name}: a point metric on a quantile forecast needs the 0.5 level, "
                        f"quantiles are {qs.tolist()}"
                    )
                point = p[..., int(hits[0])]
            out[name] = metric(t, point, **context)
        else:
            out[name] = metric(t, p, **context)
    return out
