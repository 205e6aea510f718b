"""The public gradient check catches wrong gradients and reports them precisely."""

from __future__ import annotations

import types
import zlib

import numpy as np
import pytest

from swets_core import OpDef, Tensor, ops
from swets_core.errors import ArgumentTypeError, ConfigError, ShapeError
from swets_core.testing import GradCase, assert_no_grad, collect_cases, gradcheck

rng = np.random.default_rng(11)


@pytest.fixture(autouse=True)
def _generator_per_test(request) -> None:
    """Each test draws from its own stream, seeded by its name: its data does not depend on which
    tests ran before it (a test run alone, with -k, sees what it sees in the whole suite)."""
    global rng
    rng = np.random.default_rng(zlib.crc32(request.node.name.encode()))


def _op(backward_factory, forward=lambda x: x * x):
    def fwd(x):
        return forward(x), backward_factory(x)

    return OpDef("probe", fwd)


def test_wrong_gradient_is_reported_with_input_and_location() -> None:
    bad = _op(lambda x: lambda g, needs: (g * 2 * x + (np.arange(x.size).reshape(x.shape) == 4),))
    with pytest.raises(AssertionError) as info:
        gradcheck(lambda a: bad(a), rng.standard_normal((2, 3)))
    msg = str(info.value)
    assert "input 0 (shape (2, 3))" in msg
    assert "1 of 6 elements differ" in msg
    assert "worst at index (1, 1)" in msg
    assert "analytic" in msg and "numeric" in msg


def test_missing_gradient_is_reported() -> None:
    def fwd(a, b):
        return a * b, lambda g, needs: (g * b, None)

    op = OpDef("half", fwd)
    with pytest.raises(AssertionError, match=r"input 1 \(shape \(3,\)\): no gradient reached it"):
        gradcheck(lambda a, b: op(a, b), rng.standard_normal(3), rng.standard_normal(3))


def test_same_array_twice_checks_both_uses() -> None:
    def fwd(a, b):
        return a * b, lambda g, needs: (g * b if needs[0] else None, None)

    op = OpDef("first_only", fwd)
    x = rng.standard_normal(4)
    gradcheck(lambda a, b: op(a, b), x, x.copy(), atol=1e9)  # two inputs: second has no grad
    with pytest.raises(AssertionError, match="input 0"):
        gradcheck(lambda a, b: op(a, b), x, x)  # one input used twice: half the gradient missing
    gradcheck(lambda a, b: ops.mul(a, b), x, x)


def test_transposed_inputs_stay_non_contiguous() -> None:
    seen = []

    def fn(a):
        seen.append(a.numpy().flags.c_contiguous)
        return ops.exp(a)

    gradcheck(fn, rng.standard_normal((4, 3)).T)
    assert seen and not any(seen)


def test_broadcast_gradient_of_wrong_reduction_is_caught() -> None:
    def fwd(a, b):
        # forgets that b was broadcast: returns the un-reduced gradient scaled wrongly
        return a + b, lambda g, needs: (g, g / g.shape[0])

    op = OpDef("bad_add", fwd)
    with pytest.raises(AssertionError, match=r"input 1 \(shape \(1, 3\)\)"):
        gradcheck(lambda a, b: op(a, b), rng.standard_normal((4, 3)), rng.standard_normal((1, 3)))


def test_multi_output_uses_every_output() -> None:
    def fwd(x):
        def backward(gs, needs):
            g1, g2 = gs
            return ((0 if g1 is None else g1) + (0 if g2 is None else 3 * g2 * x * x),)

        return (x.copy(), x**3), backward

    gradcheck(lambda a: OpDef("two", fwd)(a), rng.standard_normal(3))

    def wrong(x):
        return (x.copy(), x**3), lambda gs, needs: (gs[0],)

    with pytest.raises(AssertionError):
        gradcheck(lambda a: OpDef("two_wrong", wrong)(a), rng.standard_normal(3))


def test_grad_output_and_float32_inputs() -> None:
    x32 = rng.standard_normal((2, 2)).astype(np.float32)
    gradcheck(lambda a: ops.square(a), x32, grad_output=np.ones((2, 2)))
    with pytest.raises(ShapeError, match="grad_output"):
        gradcheck(lambda a: ops.square(a), x32, grad_output=np.ones(3))
    with pytest.raises(ConfigError, match="no floating-point input"):
        gradcheck(lambda i: ops.neg(i), np.arange(3))


def test_assert_no_grad() -> None:
    assert_no_grad(lambda a: ops.less(a, 0.0), rng.standard_normal(3))
    with pytest.raises(AssertionError, match="input 0"):
        assert_no_grad(lambda a: ops.exp(a), rng.standard_normal(3))


def test_gradcase_check_and_collection() -> None:
    ok = GradCase("exp", lambda a: ops.exp(a), [rng.standard_normal(2)], name="tiny")
    assert ok.id == "exp-tiny" and isinstance(ok.inputs, tuple)
    ok.check()
    bad = GradCase(
        "probe", lambda a: _op(lambda x: lambda g, n: (g,))(a), (rng.standard_normal(2),)
    )
    with pytest.raises(AssertionError, match=r"^probe: gradcheck failed"):
        bad.check()

    mod = types.ModuleType("fake_cases")
    mod.CASES = [ok]
    assert collect_cases([mod]) == [ok]
    with pytest.raises(ArgumentTypeError, match="no_cases must define CASES"):
        collect_cases([types.ModuleType("no_cases")])


def test_fn_must_return_tensors() -> None:
    with pytest.raises(ArgumentTypeError, match="must return a Tensor"):
        gradcheck(lambda a: a.numpy(), rng.standard_normal(2))
    assert isinstance(Tensor(np.ones(1)), Tensor)
