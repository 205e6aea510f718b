"""The competitions' reference statistical forecasts: Naive2 and Theta, in numpy.

Both forecast a **seasonally adjusted** series and put the season back (the M4 competitors' guide;
Makridakis, Wheelwright and Hyndman's classical decomposition):

1. *Seasonality test* (90 %): a series of ``n >= 3m`` values (m > 1) is seasonal when its lag-m
   autocorrelation exceeds its 90 % limit,
   ``|r_m| > 1.645 · sqrt((1 + 2 Σ_{k=1}^{m-1} r_k²) / n)``, with
   ``r_k = Σ_{t=1}^{n-k} (x_t - x̄)(x_{t+k} - x̄) / Σ_t (x_t - x̄)²``. As in the M4 reference code,
   the autocorrelations are taken up to lag ``min(floor(10 log10 n), n - 1)``: a longer m is not
   tested (not seasonal).
2. *Classical multiplicative decomposition* of a seasonal series: the trend is the centred moving
   average of order m (a 2×m average for even m); the seasonal index of position ``t mod m`` is the
   mean of ``x_t / trend_t`` over the positions where the trend exists, the m indices then divided by
   their mean. The adjusted series is ``x_t / index(t mod m)``; forecasts are multiplied by
   ``index((n + h - 1) mod m)`` (positions count from the series' first value). A series whose
   indices are not all positive and finite (zeros in the data) is left unadjusted.

Then:

* **Naive2**: the last adjusted value, reseasonalised.
* **Theta** (Assimakopoulos and Nikolopoulos, 2000; the M3 winner), in the M4 benchmark's form: the
  least-squares line ``L_t = a + b t`` (t = 1..n) of the adjusted series ``y``; simple exponential
  smoothing (SES) of the theta-line ``Z_t = 2 y_t - L_t``; the forecast is the equal-weight
  combination ``0.5 · SES(Z) + 0.5 · L_{n+h}``, set to 0 where negative, then reseasonalised.
  Writing ``L_{n+h} = L_n + b h`` shows it is SES-like level plus **half the trend's drift**
  ``(b/2) h``, the equivalence of Hyndman and Billah (2003) to SES with drift.

SES is fitted as ``forecast::ses`` / ``ets(ANN)`` do: the smoothing parameter ``α`` in
[0.0001, 0.9999] and the initial level ``ℓ_0`` minimise the sum of squared one-step errors. For a
given ``α`` the errors are linear in ``ℓ_0``, so its optimum is closed-form; ``α`` is found on a grid
refined twice around its best point (a global search of the one-dimensional profile).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from swets_competitions.datasets import CompetitionSplit, finite_series
from swets_core.checks import is_int
from swets_core.errors import ConfigError, DataValidationError, ShapeError
from swets_core.lazy import exports_of

__all__ = exports_of(__name__)  # listed once, in the package's table of lazy exports

ALPHA_BOUNDS = (1e-4, 0.9999)
"""The bounds of SES's smoothing parameter (those of R's forecast::ets)."""

_T_CRIT = 1.645  # the one-sided 95 % normal quantile: a two-sided 90 % limit


def _int(value: Any, name: str, what: str, minimum: int = 1) -> int:
    if not is_int(value) or value < minimum:
        raise ConfigError(f"{what}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def acf(x: Any, max_lag: int) -> np.ndarray:
    """Sample autocorrelations ``r_1 .. r_max_lag`` (demeaned, divided by the lag-0 sum, as R's
    ``acf``). NaN for a constant series.

    Returns:
        (max_lag,) float64.
    """
    arr = finite_series(x, "acf")
    lag = _int(max_lag, "max_lag", "acf")
    if lag >= arr.shape[0]:
        raise ConfigError(f"acf: max_lag {lag} needs more than {lag} values, got {arr.shape[0]}")
    d = arr - arr.mean()
    c0 = float(np.dot(d, d))
    if c0 == 0.0:
        return np.full(lag, np.nan)
    return np.array([np.dot(d[:-k], d[k:]) / c0 for k in range(1, lag + 1)])


def seasonality_test(x: Any, season_length: int) -> bool:
    """The M4 guide's 90 % autocorrelation test of seasonality at lag ``season_length``.

    False for ``season_length == 1``, for fewer than ``3 · season_length`` values, for a constant
    series and when ``season_length`` exceeds ``min(floor(10 log10 n), n - 1)`` (the lags the M4
    reference code computes).
    """
    arr = finite_series(x, "seasonality_test")
    m = _int(season_length, "season_length", "seasonality_test")
    n = arr.shape[0]
    if m == 1 or n < 3 * m:
        return False
    if m > min(math.floor(10 * math.log10(n)), n - 1):
        return False
    r = acf(arr, m)
    if np.isnan(r).any():
        return False
    limit = _T_CRIT / math.sqrt(n) * math.sqrt(1.0 + 2.0 * float(np.sum(r[: m - 1] ** 2)))
    return bool(abs(r[m - 1]) > limit)


def multiplicative_indices(x: Any, season_length: int) -> np.ndarray:
    """The seasonal indices of the classical multiplicative decomposition.

    Returns:
        (m,) indices with mean 1; index ``k`` belongs to the positions ``t`` (0-based, from the
        series' first value) with ``t mod m == k``. Not finite or not positive if the data make
        the ratios so (zeros, negative values).

    Raises:
        ConfigError: fewer than two full seasons (``n < 2m``) or m < 2.
    """
    arr = finite_series(x, "multiplicative_indices")
    m = _int(season_length, "season_length", "multiplicative_indices", minimum=2)
    n = arr.shape[0]
    if n < 2 * m:
        raise ConfigError(
            f"multiplicative_indices: needs two full seasons ({2 * m} values), got {n}"
        )
    if m % 2 == 0:
        weights = np.r_[0.5, np.ones(m - 1), 0.5] / m
    else:
        weights = np.ones(m) / m
    half = weights.shape[0] // 2
    trend = np.convolve(arr, weights, mode="valid")  # positions half .. n - 1 - half
    pos = np.arange(half, n - half)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = arr[half : n - half] / trend
    sums = np.bincount(pos % m, weights=ratio, minlength=m)
    counts = np.bincount(pos % m, minlength=m)
    figure = sums / counts
    with np.errstate(divide="ignore", invalid="ignore"):
        return figure / figure.mean()


@attrs.frozen(eq=False)
class SeasonalAdjustment:
    """A seasonally adjusted series and the indices that reseasonalise its forecasts.

    Attributes:
        adjusted: (n,) the series divided by its seasonal indices (the series itself if not
            seasonal).
        future: (horizon,) the indices of the forecast steps (ones if not seasonal).
        seasonal: whether the test found seasonality and the indices were usable.
    """

    adjusted: np.ndarray
    future: np.ndarray
    seasonal: bool


def seasonal_adjustment(x: Any, season_length: int, horizon: int) -> SeasonalAdjustment:
    """Test for seasonality and, if found, divide the multiplicative indices out (module
    docstring, steps 1 and 2)."""
    arr = finite_series(x, "seasonal_adjustment")
    m = _int(season_length, "season_length", "seasonal_adjustment")
    h = _int(horizon, "horizon", "seasonal_adjustment")
    n = arr.shape[0]
    if m > 1 and seasonality_test(arr, m):
        index = multiplicative_indices(arr, m)
        if np.all(np.isfinite(index)) and np.all(index > 0):
            return SeasonalAdjustment(
                adjusted=arr / index[np.arange(n) % m],
                future=index[(n + np.arange(h)) % m],
                seasonal=True,
            )
    return SeasonalAdjustment(adjusted=arr.copy(), future=np.ones(h), seasonal=False)


@attrs.frozen(eq=False)
class SesFit:
    """A fitted simple exponential smoothing.

    Attributes:
        alpha: the smoothing parameter.
        level0: the initial level ``ℓ_0``.
        level: the last level ``ℓ_n``, the forecast of every step ahead.
        sse: the sum of squared one-step errors.
    """

    alpha: float
    level0: float
    level: float
    sse: float


def _ses_profile(x: np.ndarray, alphas: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each α: the minimal SSE over ℓ_0, that ℓ_0, and the last level.

    With ``ℓ_0 = 0`` the one-step errors are ``a_t``; a general ``ℓ_0`` adds ``-(1 - α)^(t-1) ℓ_0``
    to error t (1-based) and ``(1 - α)^n ℓ_0`` to the last level, so the least-squares ``ℓ_0`` is
    ``Σ a_t w_t / Σ w_t²`` with ``w_t = (1 - α)^(t-1)``.
    """
    n = x.shape[0]
    errors = np.empty((alphas.shape[0], n))
    level = np.zeros_like(alphas)
    for t in range(n):
        e = x[t] - level
        errors[:, t] = e
        level = level + alphas * e
    w = (1.0 - alphas)[:, None] ** np.arange(n)
    sww = np.sum(w * w, axis=1)
    saw = np.sum(errors * w, axis=1)
    level0 = saw / sww
    sse = np.sum(errors * errors, axis=1) - saw * level0
    last = level + (1.0 - alphas) ** n * level0
    return np.maximum(sse, 0.0), level0, last


def fit_ses(x: Any) -> SesFit:
    """Fit SES by least squares over ``α`` in :data:`ALPHA_BOUNDS` and ``ℓ_0`` (module docstring).

    The grid: 100 values of ``α`` over the bounds, then twice 41 values between the neighbours of
    the best one (final spacing about 2.5e-5).
    """
    arr = finite_series(x, "fit_ses")
    lo, hi = ALPHA_BOUNDS
    alphas = np.linspace(lo, hi, 100)
    for _ in range(3):
        sse, level0, last = _ses_profile(arr, alphas)
        k = int(np.argmin(sse))
        best = (float(alphas[k]), float(level0[k]), float(last[k]), float(sse[k]))
        left = alphas[max(k - 1, 0)]
        right = alphas[min(k + 1, alphas.shape[0] - 1)]
        alphas = np.linspace(left, right, 41)
    return SesFit(alpha=best[0], level0=best[1], level=best[2], sse=best[3])


def naive2_forecast(x: Any, horizon: int, season_length: int) -> np.ndarray:
    """Naive2: the last seasonally adjusted value, reseasonalised. Returns (horizon,)."""
    adj = seasonal_adjustment(x, season_length, horizon)
    return adj.adjusted[-1] * adj.future


def theta_forecast(x: Any, horizon: int, season_length: int) -> np.ndarray:
    """Theta (the M4 benchmark's classical Theta, module docstring). Returns (horizon,)."""
    adj = seasonal_adjustment(x, season_length, horizon)
    y = adj.adjusted
    n = y.shape[0]
    t = np.arange(1, n + 1, dtype=np.float64)
    if n > 1:
        tc = t - t.mean()
        b = float(np.dot(tc, y - y.mean()) / np.dot(tc, tc))
    else:
        b = 0.0
    a = float(y.mean() - b * t.mean())
    z = 2.0 * y - (a + b * t)
    ses = fit_ses(z)
    steps = n + np.arange(1, adj.future.shape[0] + 1, dtype=np.float64)
    f = 0.5 * ses.level + 0.5 * (a + b * steps)
    return np.maximum(f, 0.0) * adj.future


def _panel(
    method: Any,
    data: Any,
    horizon: int | None,
    season_length: int | None,
    name: str,
) -> np.ndarray:
    if isinstance(data, CompetitionSplit):
        series: Sequence[Any] = data.train_values()
        ids: Sequence[str] = data.ids
        horizon = data.horizon if horizon is None else horizon
        season_length = data.season_length if season_length is None else season_length
    else:
        if horizon is None or season_length is None:
            raise ConfigError(
                f"{name}: pass horizon= and season_length= with a list of series (a "
                "CompetitionSplit carries its own)"
            )
        series = list(data)
        ids = [str(i) for i in range(len(series))]
    h = _int(horizon, "horizon", name)
    m = _int(season_length, "season_length", name)
    out = np.empty((len(series), h))
    for i, x in enumerate(series):
        try:
            out[i] = method(x, h, m)
        except (DataValidationError, ShapeError) as exc:
            raise type(exc)(f"{name}: series {ids[i]!r}: {exc}") from exc
    return out


def naive2(data: Any, horizon: int | None = None, season_length: int | None = None) -> np.ndarray:
    """Naive2 forecasts of every series of a :class:`~swets_competitions.CompetitionSplit` (or of a
    list of 1-D training parts, with ``horizon`` and ``season_length``). Returns (N, horizon)."""
    return _panel(naive2_forecast, data, horizon, season_length, "naive2")


def theta(data: Any, horizon: int | None = None, season_length: int | None = None) -> np.ndarray:
    """Theta forecasts of every series (as :func:`naive2`). Returns (N, horizon)."""
    return _panel(theta_forecast, data, horizon, season_length, "theta")
