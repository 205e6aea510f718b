"""The output distributions of probabilistic forecasts: parameter layout, link functions, likelihood,
sampling and summaries, defined once for the distribution losses and DeepAR's heads.

A model with a distribution head emits ``P`` **unconstrained** values per forecast point, on the last
axis: ``raw (..., P)``. :meth:`Distribution.constrain` maps them to the distribution's parameters
through its link functions, optionally rescaled by a per-series ``scale`` (DeepAR's mean scaling);
:meth:`Distribution.nll` is the negative log-likelihood of targets under those parameters. Both are
written with registered ops through an ``op(name, *inputs, **attrs)`` callable, so one definition
runs on Tensors (:func:`swets_core.call_op`, recorded on the tape: the losses, training) and on arrays
(:func:`swets_core.run_op`: forecasting). Sampling and summaries work on arrays with an explicit
:class:`numpy.random.Generator`.

===================== ======================= ======================================================
distribution          raw layout ``(..., P)``  parameters (links; ``s`` the scale, 1 without one)
===================== ======================= ======================================================
``normal``            ``loc, scale``           ``mu = s loc``, ``sigma = s (softplus(scale) + MIN)``
``student_t``         ``loc, scale, df``       as ``normal``, and ``nu = 2 + softplus(df)``
``negative_binomial`` ``mu, alpha``            ``mu = s (softplus(mu) + MIN)``,
                                               ``alpha = (softplus(alpha) + MIN) / sqrt(s)``
===================== ======================= ======================================================

``MIN`` (:data:`MIN_POSITIVE`, 1e-6) keeps a softplus that underflows in float32 away from 0. The
negative binomial is DeepAR's parametrization (Salinas et al. 2020, section 3.1): mean ``mu``, shape
``alpha``, variance ``mu + alpha mu^2``, ``P(z) = Gamma(z + 1/alpha) / (Gamma(z + 1) Gamma(1/alpha))
(1 / (1 + alpha mu))^(1/alpha) (alpha mu / (1 + alpha mu))^z``; the scale handling of its
section 3.3 (``mu`` times the scale, ``alpha`` divided by its square root) is the ``scale`` argument.
The Student-t's ``nu > 2`` keeps its variance finite (GluonTS's choice).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from swets_core.errors import ConfigError, DataValidationError

Op = Callable[..., Any]
"""``op(name, *inputs, **attrs)``: :func:`swets_core.call_op` on Tensors, :func:`swets_core.run_op`
on arrays."""

MIN_POSITIVE = 1e-6
"""Added to every softplus link, so a positive parameter stays positive in float32."""

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_HALF_LOG_PI = 0.5 * math.log(math.pi)


class Distribution:
    """One family of output distributions (the instances in :data:`DISTRIBUTIONS`).

    Attributes:
        name: the registry-style name (``"normal"``, ``"student_t"``, ``"negative_binomial"``).
        params: the names of the ``P`` raw values on the last axis, in order.
        discrete: True for a distribution of counts (targets must be non-negative integers).
    """

    name: ClassVar[str] = ""
    params: ClassVar[tuple[str, ...]] = ()
    discrete: ClassVar[bool] = False

    @property
    def n_params(self) -> int:
        """``P``, the raw values per forecast point."""
        return len(self.params)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def split(self, op: Op, raw: Any) -> list[Any]:
        """``raw (..., P)`` -> ``P`` values of shape ``(...)``."""
        parts = op("split", raw, sections=self.n_params, axis=-1)
        return [op("squeeze", part, axis=-1) for part in parts]

    def constrain(self, op: Op, raw: Any, scale: Any = None) -> list[Any]:
        """The distribution's parameters from ``raw (..., P)``, each ``(...)``; ``scale`` (``(...)``
        or broadcastable, positive) rescales them (see the module doc)."""
        raise NotImplementedError

    def nll(self, op: Op, params: list[Any], target: Any) -> Any:
        """The negative log-likelihood of ``target (...)`` elementwise, ``(...)``."""
        raise NotImplementedError

    def check_target(self, owner: str, target: np.ndarray) -> None:
        """Raise :class:`DataValidationError` for targets outside the support (observed ones)."""

    # -- arrays -------------------------------------------------------------------------------
    def sample(self, params: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
        """One draw per point, ``(...)``, from ``rng`` (arrays of the parameters' dtype)."""
        raise NotImplementedError

    def mean(self, params: list[np.ndarray]) -> np.ndarray:
        """The mean of each point, ``(...)``."""
        return params[0]


def _positive(op: Op, raw: Any) -> Any:
    return op("add", op("softplus", raw), MIN_POSITIVE)


class Normal(Distribution):
    """The Gaussian: ``-log p(y) = log sigma + (y - mu)^2 / (2 sigma^2) + log(2 pi) / 2``."""

    name = "normal"
    params = ("loc", "scale")

    def constrain(self, op: Op, raw: Any, scale: Any = None) -> list[Any]:
        loc, spread = self.split(op, raw)[:2]
        sigma = _positive(op, spread)
        if scale is not None:
            loc, sigma = op("mul", loc, scale), op("mul", sigma, scale)
        return [loc, sigma]

    def nll(self, op: Op, params: list[Any], target: Any) -> Any:
        mu, sigma = params[:2]
        z = op("div", op("sub", target, mu), sigma)
        half_sq = op("mul", op("square", z), 0.5)
        return op("add", op("add", op("log", sigma), half_sq), _HALF_LOG_2PI)

    def sample(self, params: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
        mu, sigma = params[:2]
        eps = rng.standard_normal(mu.shape)
        return (mu + sigma * eps).astype(mu.dtype, copy=False)


class StudentT(Normal):
    """Student's t with location ``mu``, scale ``sigma`` and ``nu`` degrees of freedom:
    ``-log p(y) = log Gamma(nu/2) - log Gamma((nu+1)/2) + log(nu pi)/2 + log sigma
    + (nu+1)/2 log(1 + ((y - mu)/sigma)^2 / nu)``."""

    name = "student_t"
    params = ("loc", "scale", "df")

    def constrain(self, op: Op, raw: Any, scale: Any = None) -> list[Any]:
        loc, spread, df = self.split(op, raw)
        sigma = _positive(op, spread)
        nu = op("add", op("softplus", df), 2.0)
        if scale is not None:
            loc, sigma = op("mul", loc, scale), op("mul", sigma, scale)
        return [loc, sigma, nu]

    def nll(self, op: Op, params: list[Any], target: Any) -> Any:
        mu, sigma, nu = params
        z = op("div", op("sub", target, mu), sigma)
        half_nu = op("mul", nu, 0.5)
        half_nu1 = op("add", half_nu, 0.5)
        norm = op("sub", op("lgamma", half_nu), op("lgamma", half_nu1))
        norm = op("add", norm, op("add", op("mul", op("log", nu), 0.5), _HALF_LOG_PI))
        tail = op("mul", half_nu1, op("log1p", op("div", op("square", z), nu)))
        return op("add", op("add", norm, op("log", sigma)), tail)

    def sample(self, params: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
        mu, sigma, nu = params
        t = rng.standard_t(nu.astype(np.float64))
        return (mu + sigma * t).astype(mu.dtype, copy=False)


class NegativeBinomial(Distribution):
    """The negative binomial of counts with mean ``mu`` and shape ``alpha`` (variance
    ``mu + alpha mu^2``), DeepAR's parametrization; with ``r = 1 / alpha``:
    ``-log p(z) = log Gamma(z + 1) + log Gamma(r) - log Gamma(z + r) + r log(1 + alpha mu)
    - z log(alpha mu / (1 + alpha mu))``."""

    name = "negative_binomial"
    params = ("mu", "alpha")
    discrete = True

    def constrain(self, op: Op, raw: Any, scale: Any = None) -> list[Any]:
        mu, alpha = (_positive(op, part) for part in self.split(op, raw))
        if scale is not None:
            mu = op("mul", mu, scale)
            alpha = op("div", alpha, op("sqrt", scale))
        return [mu, alpha]

    def nll(self, op: Op, params: list[Any], target: Any) -> Any:
        mu, alpha = params
        r = op("div", 1.0, alpha)
        am = op("mul", alpha, mu)
        log1p_am = op("log1p", am)
        log_gammas = op(
            "sub",
            op("add", op("lgamma", op("add", target, 1.0)), op("lgamma", r)),
            op("lgamma", op("add", target, r)),
        )
        log_odds = op("sub", op("log", am), log1p_am)
        return op("sub", op("add", log_gammas, op("mul", r, log1p_am)), op("mul", target, log_odds))

    def check_target(self, owner: str, target: np.ndarray) -> None:
        bad = (target < 0) | (target != np.round(target))
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise DataValidationError(
                f"{owner}: the negative binomial is a distribution of counts; {int(bad.sum())} "
                f"target(s) are negative or not whole numbers (the first at index {where}: "
                f"{target[where]!r})"
            )

    def sample(self, params: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
        mu, alpha = (np.asarray(v, dtype=np.float64) for v in params)
        # a Gamma-Poisson mixture: rate ~ Gamma(shape 1/alpha, scale alpha mu), z ~ Poisson(rate)
        rate = rng.gamma(1.0 / alpha, alpha * mu)
        return rng.poisson(rate).astype(params[0].dtype)


class DistributionPrediction(tuple):
    """What a distribution head trained with teacher forcing returns: ``(raw, scale)`` with the
    distribution. A tuple, so code that takes the first output of a model takes ``raw``.

    Attributes:
        raw: ``(..., P)`` the head's unconstrained values (a Tensor when recorded).
        scale: positive array broadcastable to ``raw.shape[:-1]`` (DeepAR's mean scale), or None.
        distribution: the :class:`Distribution` of the layout.

    The distribution losses take it as ``pred`` (``loss(prediction, target)``: the scale is
    applied); :meth:`point` is the distribution's mean, for metrics.
    """

    __slots__ = ()

    def __new__(cls, raw: Any, scale: Any, distribution: Distribution) -> DistributionPrediction:
        return super().__new__(cls, (raw, scale, distribution))

    @property
    def raw(self) -> Any:
        return self[0]

    @property
    def scale(self) -> Any:
        return self[1]

    @property
    def distribution(self) -> Distribution:
        return self[2]

    def parameters(self) -> list[np.ndarray]:
        """The constrained parameters as arrays (nothing recorded)."""
        from swets_core import run_op

        raw = getattr(self.raw, "_data", self.raw)
        return self.distribution.constrain(run_op, np.asarray(raw), self.scale)

    def point(self) -> np.ndarray:
        """The mean of every point, ``raw.shape[:-1]``."""
        return self.distribution.mean(self.parameters())


DISTRIBUTIONS: dict[str, Distribution] = {
    d.name: d for d in (Normal(), StudentT(), NegativeBinomial())
}
"""The distributions by name."""


def get_distribution(name: Any, owner: str) -> Distribution:
    """The distribution called ``name``, or a :class:`ConfigError` naming ``owner`` and the choices."""
    dist = DISTRIBUTIONS.get(name) if isinstance(name, str) else None
    if dist is None:
        shown = ", ".join(repr(n) for n in DISTRIBUTIONS)
        raise ConfigError(f"{owner}: distribution must be one of {shown}, got {name!r}")
    return dist


def sample_quantiles(samples: np.ndarray, levels: Any, axis: int = 0) -> np.ndarray:
    """Empirical quantiles of ``samples`` along ``axis`` at ``levels``, on a new last axis
    ``(..., len(levels))`` (numpy's default linear interpolation)."""
    q = np.quantile(samples, np.asarray(levels, dtype=np.float64), axis=axis)
    return np.moveaxis(q, 0, -1).astype(samples.dtype, copy=False)


__all__ = [
    "DISTRIBUTIONS",
    "MIN_POSITIVE",
    "Distribution",
    "DistributionPrediction",
    "NegativeBinomial",
    "Normal",
    "Op",
    "StudentT",
    "get_distribution",
    "sample_quantiles",
]
