"""The distribution losses and distributions: values against the closed-form densities, gradients
against finite differences (float64), masks, scales, errors, sampling and quantiles."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest

from swets_core import GradientTape, Tensor, registry, run_op
from swets_core.errors import ConfigError, DataValidationError, ShapeError
from swets_core.testing import check_loss, gradcheck
from swets_ops.distributions import DISTRIBUTIONS, get_distribution, sample_quantiles

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _generator_per_test(request) -> None:
    global RNG
    RNG = np.random.default_rng(zlib.crc32(request.node.name.encode()))


def softplus(x):
    return np.log1p(np.exp(x))


LGAMMA = np.vectorize(math.lgamma)


def normal_nll(raw, y, s=1.0):
    mu = raw[..., 0] * s
    sigma = (softplus(raw[..., 1]) + 1e-6) * s
    # -log of the density exp(-(y - mu)^2 / (2 sigma^2)) / (sigma sqrt(2 pi))
    return -np.log(np.exp(-((y - mu) ** 2) / (2 * sigma**2)) / (sigma * math.sqrt(2 * math.pi)))


def student_t_nll(raw, y, s=1.0):
    mu = raw[..., 0] * s
    sigma = (softplus(raw[..., 1]) + 1e-6) * s
    nu = 2 + softplus(raw[..., 2])
    z = (y - mu) / sigma
    log_density = (
        LGAMMA((nu + 1) / 2)
        - LGAMMA(nu / 2)
        - 0.5 * np.log(nu * math.pi)
        - np.log(sigma)
        - (nu + 1) / 2 * np.log(1 + z * z / nu)
    )
    return -log_density


def negative_binomial_nll(raw, y, s=1.0):
    mu = (softplus(raw[..., 0]) + 1e-6) * s
    alpha = (softplus(raw[..., 1]) + 1e-6) / np.sqrt(s)
    r = 1 / alpha
    # P(z) = C(z + r - 1, z) p^r (1 - p)^z with p = 1 / (1 + alpha mu): the binomial coefficient
    # of a real r through Gamma functions
    p = 1 / (1 + alpha * mu)
    log_pmf = LGAMMA(y + r) - LGAMMA(y + 1) - LGAMMA(r) + r * np.log(p) + y * np.log(1 - p)
    return -log_pmf


CLOSED = {
    "normal_nll": (normal_nll, 2),
    "student_t_nll": (student_t_nll, 3),
    "negative_binomial_nll": (negative_binomial_nll, 2),
}


def data(name, shape=(3, 5)):
    _, p = CLOSED[name]
    raw = RNG.normal(0.0, 0.8, (*shape, p))
    if name == "negative_binomial_nll":
        y = RNG.poisson(2.0, shape).astype(np.float64)
    else:
        y = RNG.normal(0.0, 1.5, shape)
    return raw, y


@pytest.mark.parametrize("name", list(CLOSED))
def test_values_match_closed_forms(name):
    raw, y = data(name)
    ref, _ = CLOSED[name]
    loss = registry.create("losses", name, reduction="none")
    np.testing.assert_allclose(loss(raw, y).numpy(), ref(raw, y), rtol=1e-12, atol=1e-12)
    mean = registry.create("losses", name)(raw, y[..., None]).numpy()
    np.testing.assert_allclose(mean, ref(raw, y).mean(), rtol=1e-12)
    scale = RNG.uniform(0.5, 4.0, (3, 1))
    np.testing.assert_allclose(
        loss(raw, y, scale=scale).numpy(), ref(raw, y, scale), rtol=1e-12, atol=1e-12
    )


def test_negative_binomial_is_a_distribution():
    """Its probabilities over 0..K sum to 1 (up to the tail) and its mean and variance are
    ``mu`` and ``mu + alpha mu^2``."""
    loss = registry.create("losses", "negative_binomial_nll", reduction="none")
    z = np.arange(400, dtype=np.float64)
    raw = np.broadcast_to(np.array([1.2, -0.4]), (400, 2)).copy()
    p = np.exp(-loss(raw, z).numpy())
    mu, alpha = softplus(1.2) + 1e-6, softplus(-0.4) + 1e-6
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert (p * z).sum() == pytest.approx(mu, rel=1e-10)
    assert (p * (z - mu) ** 2).sum() == pytest.approx(mu + alpha * mu * mu, rel=1e-9)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", list(CLOSED))
def test_gradcheck(name, reduction):
    raw, y = data(name)
    loss = registry.create("losses", name, reduction=reduction)
    gradcheck(lambda p: loss(p, y), raw)
    scale = RNG.uniform(0.5, 4.0, (3, 1))
    gradcheck(lambda p: loss(p, y, scale=scale), raw)
    check_loss(registry.create("losses", name), raw, y)


@pytest.mark.parametrize("name", list(CLOSED))
def test_mask_drops_missing_targets(name):
    raw, y = data(name)
    mask = RNG.random(y.shape) > 0.3
    holes = np.where(mask, y, np.nan)
    loss = registry.create("losses", name)
    value = loss(raw, holes, mask=mask).numpy()
    ref, _ = CLOSED[name]
    assert value == pytest.approx(ref(raw, y)[mask].mean(), rel=1e-12)
    gradcheck(lambda p: loss(p, holes, mask=mask), raw)
    assert np.isfinite(value)


@pytest.mark.parametrize("name", list(CLOSED))
def test_float32_training_step(name):
    raw, y = data(name)
    pred = Tensor(raw.astype(np.float32))
    loss = registry.create("losses", name)
    with GradientTape() as tape:
        tape.watch(pred)
        value = loss(pred, y)
    grad = tape.backward(value)[pred.id]
    assert value.numpy().dtype == np.float32 and grad.numpy().dtype == np.float32
    assert np.isfinite(grad.numpy()).all()


def test_errors():
    loss = registry.create("losses", "student_t_nll")
    with pytest.raises(ShapeError, match=r"last axis must hold the 3 raw parameters \(loc, scale"):
        loss(np.zeros((2, 3, 2)), np.zeros((2, 3)))
    with pytest.raises(ShapeError, match="target must have shape"):
        loss(np.zeros((2, 3, 3)), np.zeros((2, 4)))
    with pytest.raises(DataValidationError, match="scale must be finite and > 0"):
        loss(np.zeros((2, 3, 3)), np.zeros((2, 3)), scale=np.zeros((2, 1)))
    with pytest.raises(ShapeError, match="scale has shape"):
        loss(np.zeros((2, 3, 3)), np.zeros((2, 3)), scale=np.ones((3, 1)))
    nb = registry.create("losses", "negative_binomial_nll")
    with pytest.raises(DataValidationError, match=r"counts; 2 target\(s\).*index \(0, 1\)"):
        nb(np.zeros((2, 3, 2)), np.array([[0.0, 1.5, 2.0], [-1.0, 0.0, 1.0]]))
    with pytest.raises(ConfigError, match="distribution must be one of 'normal'"):
        get_distribution("poisson", "DeepAR")


@pytest.mark.parametrize("name", ["normal", "student_t", "negative_binomial"])
def test_sampling_moments_and_reproducibility(name):
    dist = DISTRIBUTIONS[name]
    raw = np.array([[0.8, -0.3, 1.5][: dist.n_params]], dtype=np.float64)
    raw = np.broadcast_to(raw, (200_000, dist.n_params))
    params = dist.constrain(run_op, raw, np.full((200_000,), 3.0))
    draws = dist.sample(params, np.random.default_rng(7))
    again = dist.sample(params, np.random.default_rng(7))
    np.testing.assert_array_equal(draws, again)
    mean = dist.mean(params)[0]
    if name == "negative_binomial":
        mu, alpha = params[0][0], params[1][0]
        var = mu + alpha * mu * mu
        assert np.all(draws == np.round(draws)) and draws.min() >= 0
    elif name == "normal":
        var = params[1][0] ** 2
    else:
        nu = params[2][0]
        var = params[1][0] ** 2 * nu / (nu - 2)
    # 200 000 draws: the sample mean is within 5 standard errors
    assert abs(draws.mean() - mean) < 5 * math.sqrt(var / draws.size)
    if name != "student_t":  # the t's variance estimate converges too slowly for a tight bound
        assert draws.var() == pytest.approx(var, rel=0.03)


def test_sample_quantiles():
    samples = np.arange(101, dtype=np.float64)[:, None, None] * np.ones((1, 2, 3))
    q = sample_quantiles(samples, [0.1, 0.5, 0.9])
    assert q.shape == (2, 3, 3)
    np.testing.assert_allclose(q[0, 0], [10.0, 50.0, 90.0])


@pytest.mark.parametrize("name", list(CLOSED))
def test_config_round_trip(name):
    loss = registry.create("losses", name, reduction="sum")
    again = registry.create("losses", name, **loss.config())
    assert again.config() == loss.config() == {"reduction": "sum"}
