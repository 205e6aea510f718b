"""Parity with PyTorch (forward and gradient) for the activations and reductions with a torch namesake."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from swets_core import GradientTape, Parameter, ops

pytestmark = pytest.mark.parity

torch = pytest.importorskip("torch")
F = torch.nn.functional

rng = np.random.default_rng(3)


@pytest.fixture(autouse=True)
def _generator_per_test(request) -> None:
    """Each test draws from its own stream, seeded by its name: its data does not depend on which
    tests ran before it (a test run alone, with -k, sees what it sees in the whole suite)."""
    global rng
    rng = np.random.default_rng(zlib.crc32(request.node.name.encode()))


X = np.concatenate([rng.standard_normal(200) * 3, [-12.0, -8.0, -0.0, 0.0, 8.0, 12.0]])


def _both(swets_fn, torch_fn, x: np.ndarray, dtype=np.float64):
    x = x.astype(dtype)
    p = Parameter(x)
    g = rng.standard_normal(np.shape(swets_fn(Parameter(x)).numpy())).astype(dtype)
    with GradientTape() as tape:
        y = swets_fn(p)
    gx = tape.backward(y, grad=g)[p.id].numpy()
    t = torch.tensor(x, requires_grad=True)
    ty = torch_fn(t)
    ty.backward(torch.tensor(g))
    return y.numpy(), gx, ty.detach().numpy(), t.grad.numpy()


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gelu_matches_torch(approximate: str, dtype) -> None:
    y, gx, ty, tg = _both(
        lambda a: ops.gelu(a, approximate=approximate),
        lambda t: F.gelu(t, approximate=approximate),
        X,
        dtype,
    )
    tol = 1e-12 if dtype == np.float64 else 2e-6
    assert y.dtype == dtype and gx.dtype == dtype
    np.testing.assert_allclose(y, ty, rtol=tol, atol=tol)
    np.testing.assert_allclose(gx, tg, rtol=tol, atol=tol)


ACTIVATIONS = [
    ("relu", lambda a: ops.relu(a), F.relu),
    ("leaky_relu", lambda a: ops.leaky_relu(a, negative_slope=0.2), lambda t: F.leaky_relu(t, 0.2)),
    ("elu", lambda a: ops.elu(a, alpha=0.7), lambda t: F.elu(t, alpha=0.7)),
    ("silu", lambda a: ops.silu(a), F.silu),
    ("sigmoid", lambda a: ops.sigmoid(a), torch.sigmoid),
    ("tanh", lambda a: ops.tanh(a), torch.tanh),
    (
        "softplus",
        lambda a: ops.softplus(a, beta=1.5, threshold=4.0),
        lambda t: F.softplus(t, beta=1.5, threshold=4.0),
    ),
    ("abs", lambda a: ops.abs(a), torch.abs),
    ("clip", lambda a: ops.clip(a, min=-1.0, max=0.0), lambda t: torch.clamp(t, -1.0, 0.0)),
]


@pytest.mark.parametrize(("name", "ours", "theirs"), ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_matches_torch(name, ours, theirs) -> None:
    y, gx, ty, tg = _both(ours, theirs, X)
    np.testing.assert_allclose(y, ty, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gx, tg, rtol=1e-12, atol=1e-14)


M = rng.standard_normal((3, 4, 5))
M[0, 1, :2] = 2.5  # ties for max/min
M[2, 3, 1:4] = -3.0

REDUCTIONS = [
    (
        "var",
        lambda a: ops.var(a, axis=(0, 2), correction=1),
        lambda t: torch.var(t, dim=(0, 2), correction=1),
    ),
    (
        "std",
        lambda a: ops.std(a, axis=1, correction=0),
        lambda t: torch.std(t, dim=1, correction=0),
    ),
    ("logsumexp", lambda a: ops.logsumexp(a, axis=-1), lambda t: torch.logsumexp(t, dim=-1)),
    ("softmax", lambda a: ops.softmax(a, axis=1), lambda t: torch.softmax(t, dim=1)),
    ("log_softmax", lambda a: ops.log_softmax(a), lambda t: torch.log_softmax(t, dim=-1)),
    ("max", lambda a: ops.max(a, axis=2), lambda t: torch.amax(t, dim=2)),
    ("min", lambda a: ops.min(a, axis=(0, 2)), lambda t: torch.amin(t, dim=(0, 2))),
]


@pytest.mark.parametrize(("name", "ours", "theirs"), REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reduction_matches_torch(name, ours, theirs) -> None:
    y, gx, ty, tg = _both(ours, theirs, M)
    np.testing.assert_allclose(y, ty, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gx, tg, rtol=1e-12, atol=1e-14)


def test_matmul_broadcast_gradients_match_torch() -> None:
    a, b = rng.standard_normal((2, 1, 3, 4)), rng.standard_normal((5, 4, 2))
    pa, pb = Parameter(a), Parameter(b)
    g = rng.standard_normal((2, 5, 3, 2))
    with GradientTape() as tape:
        y = pa @ pb
    grads = tape.backward(y, grad=g)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    (ta @ tb).backward(torch.tensor(g))
    np.testing.assert_allclose(grads[pa.id].numpy(), ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(grads[pb.id].numpy(), tb.grad.numpy(), rtol=1e-12)
