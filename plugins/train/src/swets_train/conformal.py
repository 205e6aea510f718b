"""Conformal prediction intervals for any trained point or quantile forecaster.

:func:`swets_train.calibrate` runs a trained model on calibration windows (a job's validation split) and keeps
its nonconformity scores, per horizon step, in the model's scale (the scaled target a model trained
on scaled data sees, so one calibration fits every series of a panel scaled per series):

* **split conformal** (Vovk et al. 2005; Lei et al. 2018): the absolute residuals ``|y - ŷ|`` of the
  point forecast (the 0.5 level of a quantile model). The interval at level ``1 - α`` is
  ``ŷ ± q``, ``q`` the ``⌈(n + 1)(1 - α)⌉``-th smallest of the ``n`` scores of that horizon step;
  ``q = inf`` when ``⌈(n + 1)(1 - α)⌉ > n`` (too few calibration windows for the level).
* **conformalized quantile regression** (CQR, Romano et al. 2019), for a quantile model with the
  levels ``α/2`` and ``1 - α/2``: the scores ``max(ŷ_{α/2} - y, y - ŷ_{1-α/2})`` and the interval
  ``[ŷ_{α/2} - q, ŷ_{1-α/2} + q]``, ``q`` the same finite-sample quantile of those scores (which
  may be negative: the model's interval is then narrowed).

For exchangeable calibration and test windows, either interval covers the actual with probability at
least ``1 - α`` at each horizon step. The bounds are mapped back to the original scale with the
scaler's inverse, which is increasing, so the coverage carries over. Levels are given in percent
(``80``, ``95``). A :class:`Conformal` is plain data (:meth:`Conformal.state_dict`): a job stores it
in its checkpoint, so a loaded model forecasts intervals.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from swets_core.errors import CheckpointError, ConfigError
from swets_core.lazy import exports_of

__all__ = [*exports_of(__name__), "METHODS", "level_name", "parse_levels", "scores_of"]

METHODS = ("auto", "split", "cqr")
"""``auto``: CQR for a level whose two quantiles the model forecasts, split conformal otherwise."""

_ATOL = 1e-9


def parse_levels(value: Any, where: str = "levels") -> tuple[float, ...]:
    """Interval levels in percent, strictly between 0 and 100, distinct and sorted: from a sequence
    of numbers or a comma-separated string (``"80,95"``, the command line's spelling).

    Raises:
        ConfigError: naming ``where`` and the bad level.
    """
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",") if p.strip()]
        try:
            value = [float(p) for p in parts]
        except ValueError:
            raise ConfigError(
                f"{where}: expected interval levels in percent separated by commas (80,95), got "
                f"{value!r}"
            ) from None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple, np.ndarray)) or len(value) == 0:
        raise ConfigError(
            f"{where}: expected one or more interval levels in percent, got {value!r}"
        )
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0.0 < float(v) < 100.0:
            raise ConfigError(
                f"{where}: an interval level is a percentage strictly between 0 and 100 (80, 95), "
                f"got {v!r}"
            )
        out.append(float(v))
    if len(set(out)) != len(out):
        raise ConfigError(f"{where}: levels must be distinct, got {out}")
    return tuple(sorted(out))


def level_name(level: float) -> str:
    """``80`` for 80.0, ``97.5`` for 97.5: how a level names a column."""
    return f"{level:g}"


def _finite_sample_quantile(scores: np.ndarray, alpha: float) -> np.ndarray:
    """Per column of ``scores (n, H)`` (NaN = no score): the ``⌈(n + 1)(1 - α)⌉``-th smallest of its
    ``n`` finite scores, ``inf`` when that rank exceeds ``n``."""
    out = np.empty(scores.shape[1])
    for h in range(scores.shape[1]):
        col = np.sort(scores[np.isfinite(scores[:, h]), h])
        n = col.shape[0]
        k = math.ceil((n + 1) * (1.0 - alpha) - 1e-9)
        out[h] = np.inf if k > n or n == 0 else col[max(k, 1) - 1]
    return out


def _median_index(quantiles: Sequence[float] | None) -> int | None:
    if quantiles is None:
        return None
    hits = np.flatnonzero(np.isclose(np.asarray(quantiles), 0.5, rtol=0.0, atol=_ATOL))
    return int(hits[0]) if hits.size else None


def _index(quantiles: Sequence[float], q: float) -> int | None:
    hits = np.flatnonzero(np.isclose(np.asarray(quantiles), q, rtol=0.0, atol=_ATOL))
    return int(hits[0]) if hits.size else None


class Conformal:
    """The calibration scores of one trained model, and the intervals they give.

    Attributes:
        method: ``"auto"``, ``"split"`` or ``"cqr"`` (see :data:`METHODS`).
        quantiles: the model's quantile levels (None for a point model).
        residuals: ``(n, H)`` absolute residuals of the point forecast in the model's scale (NaN
            where the actual is missing); None for a quantile model without a 0.5 level.
        cqr: ``{lower level: (n, H) scores}`` of each symmetric pair ``(q, 1 - q)`` of the model's
            quantiles (empty for a point model or ``method="split"``).
    """

    __slots__ = ("cqr", "method", "quantiles", "residuals")

    def __init__(
        self,
        method: str,
        quantiles: Sequence[float] | None,
        residuals: np.ndarray | None,
        cqr: Mapping[float, np.ndarray] | None = None,
    ) -> None:
        if method not in METHODS:
            raise ConfigError(
                f"conformal: method must be one of {', '.join(METHODS)}, got {method!r}"
            )
        self.method = method
        self.quantiles = None if quantiles is None else tuple(float(q) for q in quantiles)
        self.residuals = None if residuals is None else np.asarray(residuals, dtype=np.float64)
        self.cqr = {float(k): np.asarray(v, dtype=np.float64) for k, v in (cqr or {}).items()}

    @property
    def size(self) -> int:
        """n, the number of calibration windows."""
        arr = self.residuals if self.residuals is not None else next(iter(self.cqr.values()))
        return int(arr.shape[0])

    @property
    def horizon(self) -> int:
        arr = self.residuals if self.residuals is not None else next(iter(self.cqr.values()))
        return int(arr.shape[1])

    def method_for(self, level: float) -> str:
        """``"cqr"`` or ``"split"``: how the interval at ``level`` (percent) is built."""
        low = (1.0 - level / 100.0) / 2.0
        pair = next((k for k in self.cqr if abs(k - low) <= _ATOL), None)
        if self.method != "split" and pair is not None:
            return "cqr"
        if self.method == "cqr":
            raise ConfigError(
                f"conformal: CQR at level {level_name(level)} needs the model's quantiles "
                f"{low:g} and {1 - low:g}; it forecasts {list(self.quantiles or ())}"
            )
        if self.residuals is None:
            raise ConfigError(
                f"conformal: the model's quantiles {list(self.quantiles or ())} have no 0.5 level "
                f"for split conformal and no pair ({low:g}, {1 - low:g}) for CQR at level "
                f"{level_name(level)}"
            )
        return "split"

    def margins(self, level: float) -> np.ndarray:
        """``(H,)`` the conformal margin of each horizon step at ``level`` (percent)."""
        alpha = 1.0 - level / 100.0
        if self.method_for(level) == "cqr":
            low = (1.0 - level / 100.0) / 2.0
            scores = next(v for k, v in self.cqr.items() if abs(k - low) <= _ATOL)
        else:
            assert self.residuals is not None
            scores = self.residuals
        return _finite_sample_quantile(scores, alpha)

    def bounds(self, out: np.ndarray, levels: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """``(lower, upper)``, each ``(N, H, L)``, of the model's output ``out`` (``(N, H)`` or
        ``(N, H, Q)``, the model's scale) at ``levels`` (percent)."""
        h = out.shape[1]
        if h != self.horizon:
            raise ConfigError(
                f"conformal: calibrated for a horizon of {self.horizon} steps, the forecast has {h}"
            )
        n = out.shape[0]
        lower = np.empty((n, h, len(levels)))
        upper = np.empty_like(lower)
        mid = _median_index(self.quantiles)
        for j, level in enumerate(levels):
            margin = self.margins(level)
            if self.method_for(level) == "cqr":
                low = (1.0 - level / 100.0) / 2.0
                lo = out[..., _index(self.quantiles or (), low)]
                hi = out[..., _index(self.quantiles or (), 1.0 - low)]
            else:
                lo = hi = out if self.quantiles is None else out[..., mid]
            lower[..., j] = lo - margin
            upper[..., j] = hi + margin
        return lower, upper

    # -- plain data ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Plain data (numbers, lists, float64 arrays) that :meth:`from_state` reads back."""
        return {
            "method": self.method,
            "quantiles": None if self.quantiles is None else list(self.quantiles),
            "residuals": self.residuals,
            "cqr": [[k, v] for k, v in sorted(self.cqr.items())],
        }

    @classmethod
    def from_state(cls, state: Any, source: str = "conformal") -> Conformal:
        """Rebuild from :meth:`state_dict`'s data, every field checked.

        Raises:
            CheckpointError: naming ``source`` and the field.
        """

        def bad(field: str, what: str) -> CheckpointError:
            return CheckpointError(f"{source}: field {field!r} must be {what}")

        if not isinstance(state, Mapping):
            raise bad("conformal", "a mapping")
        method = state.get("method")
        if method not in METHODS:
            raise bad("conformal.method", f"one of {', '.join(METHODS)}")
        qs = state.get("quantiles")
        if qs is not None and (
            not isinstance(qs, (list, tuple))
            or not qs
            or not all(isinstance(q, float) and 0.0 < q < 1.0 for q in qs)
        ):
            raise bad("conformal.quantiles", "None or a list of levels in (0, 1)")

        def scores(field: str, value: Any) -> np.ndarray:
            if (
                not isinstance(value, np.ndarray)
                or value.ndim != 2
                or value.dtype != np.float64
                or value.shape[0] < 1
                or value.shape[1] < 1
                or (np.isinf(value)).any()
            ):
                raise bad(field, "a float64 array (windows, horizon) of finite scores or NaN")
            return value

        residuals = state.get("residuals")
        if residuals is not None:
            residuals = scores("conformal.residuals", residuals)
        pairs = state.get("cqr")
        if not isinstance(pairs, list):
            raise bad("conformal.cqr", "a list of [level, scores] pairs")
        cqr = {}
        for i, pair in enumerate(pairs):
            if (
                not isinstance(pair, list)
                or len(pair) != 2
                or not isinstance(pair[0], float)
                or not 0.0 < pair[0] < 0.5
            ):
                raise bad(f"conformal.cqr[{i}]", "a [level in (0, 0.5), scores] pair")
            cqr[pair[0]] = scores(f"conformal.cqr[{i}][1]", pair[1])
        if residuals is None and not cqr:
            raise bad("conformal.residuals", "an array when there are no CQR scores")
        shapes = {
            a.shape[1] for a in ([residuals] if residuals is not None else []) + list(cqr.values())
        }
        if len(shapes) != 1:
            raise bad("conformal", "scores of one horizon")
        return cls(method, qs, residuals, cqr)

    def __repr__(self) -> str:
        kind = "point" if self.quantiles is None else f"quantiles {list(self.quantiles)}"
        return f"Conformal({self.method}, {self.size} windows x {self.horizon} steps, {kind})"


def scores_of(
    out: np.ndarray, y: np.ndarray, quantiles: Sequence[float] | None, method: str = "auto"
) -> Conformal:
    """The :class:`Conformal` of model outputs ``out`` (``(n, H)`` or ``(n, H, Q)``) against the
    actuals ``y`` ``(n, H)``, both in the model's scale (NaN actuals give NaN scores)."""
    if method not in METHODS:
        raise ConfigError(f"conformal: method must be one of {', '.join(METHODS)}, got {method!r}")
    y = np.asarray(y, dtype=np.float64)
    out = np.asarray(out, dtype=np.float64)
    mid = _median_index(quantiles)
    residuals = None
    if quantiles is None:
        residuals = np.abs(y - out)
    elif mid is not None:
        residuals = np.abs(y - out[..., mid])
    cqr = {}
    if quantiles is not None and method != "split":
        for i, q in enumerate(quantiles):
            j = _index(quantiles, 1.0 - q)
            if q < 0.5 and j is not None:
                cqr[float(q)] = np.maximum(out[..., i] - y, y - out[..., j])
    if method == "cqr" and not cqr:
        raise ConfigError(
            "conformal: CQR needs a quantile model with symmetric levels (q, 1 - q); "
            f"the model forecasts {'a point' if quantiles is None else list(quantiles)}"
        )
    if residuals is None and not cqr:
        raise ConfigError(
            f"conformal: the model's quantiles {list(quantiles or ())} have neither a 0.5 level nor "
            "a symmetric pair (q, 1 - q)"
        )
    return Conformal(method, quantiles, residuals, cqr)
