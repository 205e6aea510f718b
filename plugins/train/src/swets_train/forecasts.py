"""The result of every forecast of swets-train: :class:`Forecast`, forecasts with their timestamps
in the original scale (from :func:`~swets_train.predict`, :func:`~swets_train.forecast`,
:class:`~swets_train.Forecaster` and :func:`~swets_train.backtest`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from swets_core.errors import ConfigError
from swets_core.lazy import exports_of
from swets_train.conformal import level_name

__all__ = exports_of(__name__)


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
