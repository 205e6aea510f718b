"""Values and gradients equal PyTorch's built-in losses (float64), reductions, weights, smoothing."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from swets_core import GradientTape, Tensor, registry

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.parity

F = torch.nn.functional
REDUCTIONS = ["mean", "sum", "none"]


def ours_value_and_grads(loss, inputs: list[np.ndarray], call, seed: int = 0):
    """Run ``call(loss, *tensors)``; return its value and the gradients of every input."""
    tensors = [Tensor(a.copy()) for a in inputs]
    with GradientTape(watch=tensors) as tape:
        out = call(loss, *tensors)
    g = np.random.default_rng(seed).standard_normal(out.shape)
    grads = tape.backward(out, grad=g)
    return out.numpy(), [grads[t.id].numpy() if t.id in grads else None for t in tensors], g


def torch_value_and_grads(fn, inputs: list[np.ndarray], g: np.ndarray):
    tensors = [torch.tensor(a, requires_grad=True) for a in inputs]
    out = fn(*tensors)
    out.backward(torch.from_numpy(np.asarray(g)))
    return out.detach().numpy(), [t.grad.numpy() if t.grad is not None else None for t in tensors]


def compare(ours, theirs, rtol=1e-12, atol=1e-14):
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _generator_per_test(request) -> None:
    """Each test draws from its own stream, seeded by its name: its data does not depend on which
    tests ran before it (a test run alone, with -k, sees what it sees in the whole suite)."""
    global RNG
    RNG = np.random.default_rng(zlib.crc32(request.node.name.encode()))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("name", "config", "torch_fn"),
    [
        ("mse", {}, F.mse_loss),
        ("mae", {}, F.l1_loss),
        ("huber", {}, lambda a, b, reduction: F.huber_loss(a, b, reduction=reduction)),
        (
            "huber",
            {"delta": 0.4},
            lambda a, b, reduction: F.huber_loss(a, b, reduction=reduction, delta=0.4),
        ),
        (
            "huber",
            {"delta": 3.0},
            lambda a, b, reduction: F.huber_loss(a, b, reduction=reduction, delta=3.0),
        ),
    ],
)
@pytest.mark.parametrize("shape", [(7,), (4, 3), (2, 3, 5)])
def test_pointwise_losses_match_torch(name, config, torch_fn, reduction, shape):
    pred = RNG.standard_normal(shape) * 2
    target = RNG.standard_normal(shape) * 2
    loss = registry.create("losses", name, reduction=reduction, **config)
    value, grads, g = ours_value_and_grads(loss, [pred, target], lambda lf, p, t: lf(p, t))
    tvalue, tgrads = torch_value_and_grads(
        lambda p, t: torch_fn(p, t, reduction=reduction), [pred, target], g
    )
    compare(value, tvalue)
    compare(grads[0], tgrads[0])
    compare(grads[1], tgrads[1])


def ce_cases():
    cases = []
    for shape in [(6, 4), (3, 5, 2, 3)]:
        for weight in [None, [0.5, 2.0, 1.0, 0.1, 3.0][: shape[1]]]:
            for smoothing in [0.0, 0.25]:
                for ignore in [-100, 2]:
                    cases.append((shape, weight, smoothing, ignore))
    return cases


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("shape", "weight", "smoothing", "ignore"), ce_cases(), ids=str)
def test_cross_entropy_matches_torch(shape, weight, smoothing, ignore, reduction):
    rng = np.random.default_rng(1)
    logits = rng.standard_normal(shape) * 2
    c = shape[1]
    tshape = (shape[0], *shape[2:])
    target = rng.integers(0, c, size=tshape)
    flat = target.reshape(-1)
    flat[::4] = ignore if ignore < 0 else flat[::4]  # some ignored samples (ignore=-100)
    if ignore >= 0:
        flat[1] = ignore  # class `ignore` is ignored wherever it appears
    loss = registry.create(
        "losses",
        "cross_entropy",
        weight=weight,
        label_smoothing=smoothing,
        ignore_index=ignore,
        reduction=reduction,
    )
    value, grads, g = ours_value_and_grads(loss, [logits], lambda lf, x: lf(x, target))
    tw = None if weight is None else torch.tensor(weight, dtype=torch.float64)
    tvalue, tgrads = torch_value_and_grads(
        lambda x: F.cross_entropy(
            x,
            torch.from_numpy(target),
            weight=tw,
            ignore_index=ignore,
            label_smoothing=smoothing,
            reduction=reduction,
        ),
        [logits],
        g,
    )
    compare(value, tvalue)
    compare(grads[0], tgrads[0])


def test_cross_entropy_unbatched_and_all_ignored():
    logits = np.array([0.5, -1.0, 2.0])
    loss = registry.create("losses", "cross_entropy", label_smoothing=0.1)
    value, grads, g = ours_value_and_grads(loss, [logits], lambda lf, x: lf(x, np.array(2)))
    tvalue, tgrads = torch_value_and_grads(
        lambda x: F.cross_entropy(x, torch.tensor(2), label_smoothing=0.1), [logits], g
    )
    compare(value, tvalue)
    compare(grads[0], tgrads[0])
    # every target ignored: the mean is NaN, as in PyTorch
    x = np.zeros((2, 3))
    t = np.full(2, -100)
    ours = registry.create("losses", "cross_entropy")(Tensor(x), t).item()
    theirs = F.cross_entropy(torch.from_numpy(x), torch.from_numpy(t)).item()
    assert np.isnan(ours) and np.isnan(theirs)


def gnll_cases():
    return [
        ((4, 3), (4, 3), False),
        ((4, 3), (4, 3), True),
        ((4, 3), (4,), False),  # one variance per row
        ((4, 3), (4, 1), True),
        ((2, 3, 5), (2, 1, 5), False),
        ((6,), (6,), False),
    ]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("shape", "vshape", "full"), gnll_cases(), ids=str)
def test_gaussian_nll_matches_torch(shape, vshape, full, reduction):
    rng = np.random.default_rng(2)
    mean = rng.standard_normal(shape)
    target = rng.standard_normal(shape)
    var = rng.uniform(0.1, 2.0, vshape)
    var.reshape(-1)[0] = 1e-9  # below eps: clamped value, gradient passed through (as torch)
    loss = registry.create("losses", "gaussian_nll", full=full, eps=1e-6, reduction=reduction)
    value, grads, g = ours_value_and_grads(
        loss, [mean, target, var], lambda lf, m, t, v: lf(m, t, var=v)
    )
    tvalue, tgrads = torch_value_and_grads(
        lambda m, t, v: F.gaussian_nll_loss(m, t, v, full=full, eps=1e-6, reduction=reduction),
        [mean, target, var],
        g,
    )
    compare(value, tvalue, rtol=1e-10)
    for ours, theirs in zip(grads, tgrads):
        compare(ours, theirs, rtol=1e-10)


def test_gaussian_nll_tuple_and_float_var_match_torch():
    rng = np.random.default_rng(3)
    mean, target = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    loss = registry.create("losses", "gaussian_nll")
    var = rng.uniform(0.5, 1.5, (5, 2))
    a = loss((Tensor(mean), Tensor(var)), Tensor(target)).item()
    b = F.gaussian_nll_loss(*(torch.from_numpy(x) for x in (mean, target, var))).item()
    assert a == pytest.approx(b, rel=1e-12)
    a = loss(Tensor(mean), Tensor(target), var=0.7).item()
    b = F.gaussian_nll_loss(torch.from_numpy(mean), torch.from_numpy(target), 0.7).item()
    assert a == pytest.approx(b, rel=1e-12)


@pytest.mark.parametrize("name", ["mse", "mae", "huber"])
def test_masked_mean_equals_torch_mean_over_observed(name):
    rng = np.random.default_rng(4)
    pred, target = rng.standard_normal((6, 5)), rng.standard_normal((6, 5))
    mask = rng.uniform(size=(6, 5)) > 0.3
    target_nan = np.where(mask, target, np.nan)  # missing targets are NaN
    loss = registry.create("losses", name)
    value, grads, g = ours_value_and_grads(loss, [pred], lambda lf, p: lf(p, target_nan, mask=mask))
    tfn = {"mse": F.mse_loss, "mae": F.l1_loss, "huber": F.huber_loss}[name]
    p = torch.tensor(pred, requires_grad=True)
    m = torch.from_numpy(mask)
    out = tfn(p[m], torch.from_numpy(target)[m])
    out.backward(torch.tensor(g))
    compare(value, out.detach().numpy())
    compare(grads[0], p.grad.numpy())
    assert np.all(grads[0][~mask] == 0)


def test_cross_entropy_sample_weights_and_mask_generalize_ignore_index():
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((8, 3))
    target = rng.integers(0, 3, 8)
    mask = np.array([True, False, True, True, False, True, True, True])
    loss = registry.create("losses", "cross_entropy", weight=[1.0, 2.0, 0.5], label_smoothing=0.1)
    masked = loss(Tensor(logits), target, mask=mask).item()
    ignored = F.cross_entropy(
        torch.from_numpy(logits),
        torch.from_numpy(np.where(mask, target, -100)),
        weight=torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64),
        label_smoothing=0.1,
    ).item()
    assert masked == pytest.approx(ignored, rel=1e-12)
    # integer sample weights: the same as repeating samples
    w = np.array([1, 0, 2, 1, 0, 1, 1, 3])
    weighted = loss(Tensor(logits), target, weights=w).item()
    rep = np.repeat(np.arange(8), w)
    repeated = F.cross_entropy(
        torch.from_numpy(logits[rep]),
        torch.from_numpy(target[rep]),
        weight=torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64),
        label_smoothing=0.1,
    ).item()
    assert weighted == pytest.approx(repeated, rel=1e-12)
