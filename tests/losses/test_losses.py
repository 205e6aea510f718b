"""Gradient checks (float64), formulas of the losses without a PyTorch twin, masks, weights, errors."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from swets_core import GradientTape, Parameter, Tensor, registry
from swets_core.errors import ConfigError, DataValidationError, DTypeError, OpError, ShapeError
from swets_core.testing import check_loss, check_registered, gradcheck

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _generator_per_test(request) -> None:
    """Each test draws from its own stream, seeded by its name: its data does not depend on which
    tests ran before it (a test run alone, with -k, sees what it sees in the whole suite)."""
    global RNG
    RNG = np.random.default_rng(zlib.crc32(request.node.name.encode()))


def away_from_zero(shape, low=0.3, high=2.0, rng=None):
    """Values with |x| in [low, high]: no kinks of abs/max inside the finite-difference step."""
    rng = RNG if rng is None else rng
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


# -- gradient checks -------------------------------------------------------------------------------
POINTWISE = [
    ("mse", {}),
    ("mae", {}),
    ("huber", {"delta": 0.7}),
    ("mape", {}),
    ("smape", {}),
    ("smape", {"mean_over": "all"}),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(("name", "config"), POINTWISE, ids=str)
def test_gradcheck_pointwise(name, config, reduction):
    target = away_from_zero((3, 4))
    pred = target + away_from_zero((3, 4), 0.1, 1.0)  # |pred - target| >= 0.1: no kink
    loss = registry.create("losses", name, reduction=reduction, **config)
    gradcheck(lambda p, t: loss(p, t), pred, target)


@pytest.mark.parametrize(("name", "config"), POINTWISE, ids=str)
def test_gradcheck_with_mask_and_weights(name, config):
    target = away_from_zero((4, 3))
    pred = target + away_from_zero((4, 3), 0.1, 1.0)
    mask = RNG.uniform(size=(4, 3)) > 0.3
    weights = RNG.uniform(0.5, 2.0, (4, 1))  # broadcast over the last axis
    loss = registry.create("losses", name, **config)
    gradcheck(lambda p: loss(p, target, mask=mask, weights=weights), pred)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradcheck_quantile(reduction):
    pred = RNG.standard_normal((5, 2, 3))
    target = RNG.standard_normal((5, 2)) + 3.0  # far from every prediction
    loss = registry.create("losses", "quantile", quantiles=[0.1, 0.5, 0.9], reduction=reduction)
    gradcheck(lambda p, t: loss(p, t), pred, target)
    gradcheck(lambda p: loss(p, target[..., None], mask=target > 3.0), pred)


@pytest.mark.parametrize("full", [False, True])
def test_gradcheck_gaussian_nll(full):
    mean, target = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
    var = RNG.uniform(0.2, 2.0, (4, 3))
    loss = registry.create("losses", "gaussian_nll", full=full)
    gradcheck(lambda m, t, v: loss(m, t, var=v), mean, target, var)
    gradcheck(lambda m, v: loss((m, v), target, weights=np.arange(4.0)[:, None]), mean, var[:, 0])


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_gradcheck_cross_entropy(smoothing):
    logits = RNG.standard_normal((4, 5, 3))
    target = RNG.integers(0, 5, (4, 3))
    target[0, 0] = -100
    loss = registry.create(
        "losses", "cross_entropy", weight=[1.0, 0.5, 2.0, 1.0, 0.1], label_smoothing=smoothing
    )
    gradcheck(lambda x: loss(x, target), logits)
    w = RNG.uniform(0.5, 1.0, (4, 3))
    gradcheck(lambda x: loss(x, target, weights=w), logits)


def test_gradcheck_mase():
    target = RNG.standard_normal((3, 4))
    pred = target + away_from_zero((3, 4), 0.1, 1.0)
    insample = RNG.standard_normal((3, 10))
    loss = registry.create("losses", "mase", m=2)
    gradcheck(lambda p: loss(p, target, insample=insample), pred)


# -- values of the losses without a PyTorch built-in --------------------------------------------------
def test_quantile_values():
    quantiles = [0.1, 0.5, 0.9]
    pred = RNG.standard_normal((6, 4, 3))
    target = RNG.standard_normal((6, 4))
    d = target[..., None] - pred
    q = np.array(quantiles)
    expected = np.maximum(q * d, (q - 1) * d)
    none = registry.create("losses", "quantile", quantiles=quantiles, reduction="none")
    np.testing.assert_allclose(none(Tensor(pred), Tensor(target)).numpy(), expected, rtol=1e-14)
    mean = registry.create("losses", "quantile", quantiles=quantiles)
    assert mean(Tensor(pred), Tensor(target[..., None])).item() == pytest.approx(expected.mean())
    # the median level is half the absolute error
    med = registry.create("losses", "quantile", quantiles=[0.5])
    value = med(Tensor(pred[..., :1]), Tensor(target)).item()
    assert value == pytest.approx(0.5 * np.abs(target - pred[..., 0]).mean())


def test_quantile_mask_counts_every_level():
    pred = RNG.standard_normal((4, 2))
    target = RNG.standard_normal(4)
    mask = np.array([True, False, True, True])
    loss = registry.create("losses", "quantile", quantiles=[0.2, 0.8])
    none = registry.create("losses", "quantile", quantiles=[0.2, 0.8], reduction="none")
    per = none(Tensor(pred), Tensor(target)).numpy()
    assert loss(Tensor(pred), Tensor(target), mask=mask).item() == pytest.approx(per[mask].mean())


def test_mape_smape_values_and_zero_denominators():
    target = np.array([2.0, -4.0, 0.0, 1.0])
    pred = np.array([1.0, -5.0, 0.5, 1.0])
    mape = registry.create("losses", "mape", reduction="none", eps=1e-3)
    np.testing.assert_allclose(
        mape(Tensor(pred), Tensor(target)).numpy(), [0.5, 0.25, 0.5 / 1e-3, 0.0]
    )
    masked = registry.create("losses", "mape")(Tensor(pred), Tensor(target), mask=target != 0)
    assert masked.item() == pytest.approx((0.5 + 0.25 + 0.0) / 3)
    # zero_targets="skip": the zero target is left out as a masked one, gradient included
    skip = registry.create("losses", "mape", zero_targets="skip")
    with GradientTape() as tape:
        p = Tensor(pred)
        tape.watch(p)
        value = skip(p, Tensor(target))
    assert value.item() == pytest.approx(masked.item(), rel=1e-12)
    assert tape.backward(value)[p.id].numpy()[2] == 0.0
    with_mask = skip(Tensor(pred), Tensor(target), mask=[True, False, True, True])
    assert with_mask.item() == pytest.approx((0.5 + 0.0) / 2)
    per = registry.create("losses", "mape", zero_targets="skip", reduction="none")
    np.testing.assert_allclose(per(Tensor(pred), Tensor(target)).numpy(), [0.5, 0.25, 0.0, 0.0])
    smape = registry.create("losses", "smape", reduction="none")
    np.testing.assert_allclose(
        smape(Tensor(pred), Tensor(target)).numpy(), [2 / 3, 2 / 9, 2.0, 0.0]
    )
    both_zero = smape(Tensor(np.zeros(3)), Tensor(np.zeros(3))).numpy()
    assert np.array_equal(both_zero, np.zeros(3))


def test_smape_mean_over_all_forecast_points_is_the_competition_definition():
    # M4's sMAPE (and the N-BEATS reference's training loss) averages over every forecast point,
    # masked points counting 0; swets' default mean is over the unmasked points only
    target = np.array([[2.0, -4.0, 1.0], [3.0, 1.0, 5.0]])
    pred = np.array([[1.0, -5.0, 2.0], [3.0, 2.0, 4.0]])
    mask = np.array([[True, True, False], [True, False, False]])
    per = 2 * np.abs(pred - target) / (np.abs(pred) + np.abs(target))
    observed = registry.create("losses", "smape")(Tensor(pred), Tensor(target), mask=mask)
    assert observed.item() == pytest.approx(per[mask].mean(), rel=1e-12)
    every = registry.create("losses", "smape", mean_over="all")
    assert every(Tensor(pred), Tensor(target), mask=mask).item() == pytest.approx(
        per[mask].sum() / per.size, rel=1e-12
    )
    w = np.array([[2.0], [1.0]])
    assert every(Tensor(pred), Tensor(target), mask=mask, weights=w).item() == pytest.approx(
        (w * per)[mask].sum() / per.size, rel=1e-12
    )
    # without a mask both are the plain mean; sum and none are unaffected
    assert every(Tensor(pred), Tensor(target)).item() == pytest.approx(per.mean(), rel=1e-12)
    for reduction in ("sum", "none"):
        a = registry.create("losses", "smape", reduction=reduction, mean_over="all")
        b = registry.create("losses", "smape", reduction=reduction)
        np.testing.assert_array_equal(
            a(Tensor(pred), Tensor(target), mask=mask).numpy(),
            b(Tensor(pred), Tensor(target), mask=mask).numpy(),
        )


def test_mase_scale_sources_agree():
    insample = RNG.standard_normal((3, 12)).cumsum(axis=1)
    target = RNG.standard_normal((3, 5))
    pred = RNG.standard_normal((3, 5))
    m = 4
    scale = np.abs(insample[:, m:] - insample[:, :-m]).mean(axis=1)
    expected = (np.abs(pred - target) / scale[:, None]).mean()
    loss = registry.create("losses", "mase", m=m)
    assert loss(Tensor(pred), Tensor(target), insample=insample).item() == pytest.approx(expected)
    assert loss(Tensor(pred), Tensor(target), scale=scale).item() == pytest.approx(expected)
    fixed = registry.create("losses", "mase", scale=2.0)
    assert fixed(Tensor(pred), Tensor(target)).item() == pytest.approx(
        np.abs(pred - target).mean() / 2.0
    )
    # NaN (missing) history values are skipped
    gappy = insample.copy()
    gappy[0, 0] = np.nan
    s = loss.series_scale(gappy)
    assert s[0] == pytest.approx(np.abs(insample[0, m + 1 :] - insample[0, 1:-m]).mean())
    # a constant history: the scale is clamped to eps, the loss stays finite
    flat = registry.create("losses", "mase", eps=1e-3)
    v = flat(Tensor(pred), Tensor(target), insample=np.ones((3, 12))).item()
    assert np.isfinite(v) and v == pytest.approx(np.abs(pred - target).mean() / 1e-3)


def test_float32_stays_float32_and_tape_argument():
    pred = Parameter(RNG.standard_normal((4, 3)).astype(np.float32))
    target = RNG.standard_normal((4, 3))  # float64 data: converted to pred's dtype
    for name, extra in [("mse", {}), ("quantile", {}), ("gaussian_nll", {"var": 0.5})]:
        loss = registry.create("losses", name)
        p = pred if name != "quantile" else Parameter(np.zeros((4, 3, 3), np.float32))
        tape = GradientTape()
        value = loss(p, target, tape=tape, **extra)
        assert value.numpy().dtype == np.float32
        grads = tape.backward(value)
        assert grads[p.id].numpy().dtype == np.float32


def test_masked_nan_targets_do_not_leak():
    pred = Parameter(RNG.standard_normal((3, 4)))
    target = RNG.standard_normal((3, 4))
    target[1, 2] = np.nan
    mask = ~np.isnan(target)
    for name in ["mse", "mae", "huber", "mape", "smape"]:
        loss = registry.create("losses", name)
        with GradientTape() as tape:
            value = loss(pred, target, mask=mask)
        g = tape.backward(value)[pred.id].numpy()
        assert np.isfinite(value.item()) and np.all(np.isfinite(g)), name
        assert g[1, 2] == 0.0
        none = registry.create("losses", name, reduction="none")(pred, target, mask=mask)
        assert none.numpy()[1, 2] == 0.0
    # without the mask the NaN propagates, as in PyTorch
    assert np.isnan(registry.create("losses", "mse")(pred, target).item())
    # everything masked: the mean of nothing is NaN
    nothing = registry.create("losses", "mse")(pred, target, mask=np.zeros((3, 4), bool))
    assert np.isnan(nothing.item())


def test_weights_are_a_weighted_mean():
    pred, target = RNG.standard_normal(5), RNG.standard_normal(5)
    w = np.array([1.0, 2.0, 0.0, 0.5, 1.0])
    loss = registry.create("losses", "mae")
    expected = (w * np.abs(pred - target)).sum() / w.sum()
    assert loss(Tensor(pred), Tensor(target), weights=w).item() == pytest.approx(expected)
    summed = registry.create("losses", "mae", reduction="sum")
    assert summed(Tensor(pred), Tensor(target), weights=w).item() == pytest.approx(
        (w * np.abs(pred - target)).sum()
    )


def test_config_round_trips_through_the_registry():
    for name, config in [
        ("huber", {"delta": 0.5, "reduction": "sum"}),
        ("quantile", {"quantiles": [0.05, 0.95]}),
        ("cross_entropy", {"weight": [1.0, 2.0], "label_smoothing": 0.1, "ignore_index": 3}),
        ("gaussian_nll", {"full": True, "eps": 1e-4}),
        ("mase", {"m": 7, "scale": 1.5}),
        ("mape", {"eps": 1e-3, "zero_targets": "skip"}),
        ("smape", {"mean_over": "all", "eps": 1e-4}),
    ]:
        loss = registry.create("losses", name, **config)
        twin = registry.create("losses", name, **loss.config())
        assert twin.config() == loss.config()
        for k, v in config.items():
            assert loss.config()[k] == v


# -- errors ---------------------------------------------------------------------------------------
def test_shape_mismatch_names_loss_and_shapes():
    p, t = Tensor(np.zeros((4, 3))), Tensor(np.zeros((4,)))
    for name in ["mse", "mae", "huber", "mape", "smape"]:
        with pytest.raises(ShapeError, match=rf"{name}: pred has shape \(4, 3\).*\(4,\)"):
            registry.create("losses", name)(p, t)
    with pytest.raises(ShapeError, match=r"quantile.*3 quantile"):
        registry.create("losses", "quantile", quantiles=[0.1, 0.5, 0.9])(
            Tensor(np.zeros((4, 2))), Tensor(np.zeros(4))
        )
    with pytest.raises(ShapeError, match=r"quantile.*target must have shape \(4,\) or \(4, 1\)"):
        registry.create("losses", "quantile", quantiles=[0.5])(
            Tensor(np.zeros((4, 1))), Tensor(np.zeros(5))
        )
    with pytest.raises(ShapeError, match=r"cross_entropy.*target must have shape \(4,\)"):
        registry.create("losses", "cross_entropy")(Tensor(np.zeros((4, 3))), np.zeros((4, 1), int))
    with pytest.raises(ShapeError, match="weight has 2 entries"):
        registry.create("losses", "cross_entropy", weight=[1, 2])(
            Tensor(np.zeros((4, 3))), np.zeros(4, int)
        )
    with pytest.raises(ShapeError, match=r"gaussian_nll: var has shape \(3,\)"):
        registry.create("losses", "gaussian_nll")(p, p, var=np.ones(3))
    with pytest.raises(ShapeError, match=r"mse: mask has shape \(5,\)"):
        registry.create("losses", "mse")(p, p, mask=np.ones(5, bool))
    with pytest.raises(ShapeError, match=r"mase: scale has shape \(3,\).*\(4,\)"):
        registry.create("losses", "mase")(p, p, scale=np.ones(3))
    with pytest.raises(ShapeError, match="insample needs more than m=4"):
        registry.create("losses", "mase", m=4)(p, p, insample=np.ones((4, 4)))


@pytest.mark.parametrize(
    ("name", "config", "match"),
    [
        ("quantile", {"quantiles": [0.1, 1.0]}, r"quantiles\[1\] = 1.0 is outside \(0, 1\)"),
        ("quantile", {"quantiles": [0.0]}, "outside"),
        ("quantile", {"quantiles": [-0.5, 0.5]}, "outside"),
        ("quantile", {"quantiles": []}, "empty"),
        ("quantile", {"quantiles": 0.5}, "list"),
        ("mse", {"reduction": "avg"}, "reduction"),
        ("huber", {"delta": 0.0}, "delta"),
        ("huber", {"delta": float("nan")}, "delta"),
        ("cross_entropy", {"label_smoothing": 1.5}, "label_smoothing"),
        ("cross_entropy", {"weight": [1.0, -1.0]}, "weight"),
        ("cross_entropy", {"ignore_index": 1.5}, "ignore_index"),
        ("gaussian_nll", {"eps": 0}, "eps"),
        ("gaussian_nll", {"full": 1}, "full"),
        ("mape", {"eps": -1.0}, "eps"),
        ("mape", {"zero_targets": "mask"}, "'eps'.*'skip'"),
        ("mase", {"m": 0}, "seasonal period"),
        ("smape", {"mean_over": "unmasked"}, "'observed'.*'all'"),
        ("mase", {"scale": -2.0}, "scale"),
    ],
)
def test_bad_config_raises_config_error(name, config, match):
    with pytest.raises(ConfigError, match=match):
        registry.create("losses", name, **config)


def test_bad_call_arguments():
    p = Tensor(np.zeros((2, 3)))
    with pytest.raises(ConfigError, match="variance is required"):
        registry.create("losses", "gaussian_nll")(p, p)
    with pytest.raises(DataValidationError, match="negative"):
        registry.create("losses", "gaussian_nll")(p, p, var=-np.ones((2, 3)))
    with pytest.raises(ConfigError, match="exactly one"):
        registry.create("losses", "mase")(p, p)
    with pytest.raises(ConfigError, match="exactly one"):
        registry.create("losses", "mase", scale=1.0)(p, p, scale=np.ones(2))
    with pytest.raises(DataValidationError, match="not finite"):
        registry.create("losses", "mase")(p, p, insample=np.full((2, 5), np.nan))
    with pytest.raises(ConfigError, match="unexpected keyword"):
        registry.create("losses", "mse")(p, p, var=1.0)
    with pytest.raises(DTypeError, match="integer class indices"):
        registry.create("losses", "cross_entropy")(p, np.zeros(2))
    with pytest.raises(OpError, match="target 3 at index"):
        registry.create("losses", "cross_entropy")(p, np.array([0, 3]))
    with pytest.raises(DTypeError, match="mask must be bool"):
        registry.create("losses", "mse")(p, p, mask=np.full((2, 3), 0.5))
    with pytest.raises(DataValidationError, match="weights"):
        registry.create("losses", "mse")(p, p, weights=-np.ones((2, 3)))
    with pytest.raises(DTypeError, match="pred must be a float"):
        registry.create("losses", "mse")(Tensor(np.zeros(3, int)), np.zeros(3))


NAMES = [
    "mse",
    "mae",
    "huber",
    "cross_entropy",
    "quantile",
    "gaussian_nll",
    "mape",
    "smape",
    "mase",
    "normal_nll",
    "student_t_nll",
    "negative_binomial_nll",
]


def test_registered_by_swets_losses():
    check_registered("swets-losses", {"losses": NAMES})


@pytest.mark.parametrize("name", ["mse", "mae", "huber", "mape", "smape"])
def test_conformance_kit(name):
    target = away_from_zero((3, 2))
    check_loss(registry.create("losses", name), target + away_from_zero((3, 2), 0.1, 1.0), target)


def test_protocol_and_facade_names():
    import swets
    from swets_core import protocols

    for name in ["MSE", "MAE", "Huber", "CrossEntropy", "Quantile", "GaussianNLL", "MAPE", "SMAPE"]:
        loss = getattr(swets.losses, name)()
        assert isinstance(loss, protocols.Loss), name
    assert swets.losses.MASE(m=12).m == 12
