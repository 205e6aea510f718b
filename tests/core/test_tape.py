"""Tape semantics, checked with the test-only op plugin of conftest.py."""

from __future__ import annotations

import numpy as np
import pytest

from swets_core import GradientTape, Module, Parameter, Tensor, call_op, no_grad
from swets_core.errors import OpError, ShapeError, TapeError

pytestmark = pytest.mark.usefixtures("tiny_registry")


def test_reused_tensor_accumulates():
    w = Parameter(np.array([1.0, 2.0, 3.0]))
    with GradientTape() as tape:
        y = (w * 2.0 + w * 3.0).sum()  # w used twice
    grads = tape.backward(y)
    np.testing.assert_array_equal(grads[w.id].numpy(), [5.0, 5.0, 5.0])


def test_same_tensor_as_both_operands():
    w = Parameter(np.array([1.0, -2.0, 3.0]))
    with GradientTape() as tape:
        y = (w * w).sum()
    np.testing.assert_array_equal(tape.backward(y)[w.id].numpy(), [2.0, -4.0, 6.0])


def test_unused_input_is_absent():
    a = Parameter(np.ones(3))
    b = Parameter(np.ones(3))
    with GradientTape() as tape:
        y = (a * 4.0).sum()
        _ = b * 2.0  # recorded but does not influence y
    grads = tape.backward(y)
    assert set(grads) == {a.id}


def test_detach_stops_gradient():
    w = Parameter(np.array([2.0, 3.0]))
    with GradientTape() as tape:
        y = (w * w.detach()).sum()  # d/dw = w.detach() only
    np.testing.assert_array_equal(tape.backward(y)[w.id].numpy(), [2.0, 3.0])
    assert np.shares_memory(w.detach().numpy(), w.numpy())
    assert w.detach().id != w.id


def test_watch_non_parameter_and_data_not_tracked():
    x = Tensor(np.array([1.0, 2.0]))
    data = Tensor(np.array([10.0, 20.0]))
    with GradientTape() as tape:
        tape.watch(x)
        y = (x * data).sum()
        _ = data * data  # involves no tracked tensor: not recorded
    assert tape.op_names == ["mul", "sum"]
    grads = tape.backward(y)
    np.testing.assert_array_equal(grads[x.id].numpy(), [10.0, 20.0])
    assert data.id not in grads


def test_non_persistent_reuse_raises():
    w = Parameter(np.ones(2))
    with GradientTape() as tape:
        y = (w * w).sum()
    tape.backward(y)
    with pytest.raises(TapeError, match="already called"):
        tape.backward(y)


def test_persistent_allows_several_backwards():
    w = Parameter(np.array([1.0, 2.0]))
    with GradientTape(persistent=True) as tape:
        y = (w * w).sum()
        z = (w * 3.0).sum()
    g1 = tape.backward(y)[w.id].numpy()
    g2 = tape.backward(z)[w.id].numpy()
    g3 = tape.backward(y)[w.id].numpy()
    np.testing.assert_array_equal(g1, [2.0, 4.0])
    np.testing.assert_array_equal(g2, [3.0, 3.0])
    np.testing.assert_array_equal(g3, g1)


def test_broadcast_gradient_is_reduced_by_the_tape():
    b = Parameter(np.array([1.0, 2.0, 3.0]))  # broadcast against (4, 3)
    x = Tensor(np.arange(12.0).reshape(4, 3))
    with GradientTape() as tape:
        y = (x * b).sum()
    np.testing.assert_array_equal(tape.backward(y)[b.id].numpy(), x.numpy().sum(axis=0))


def test_no_tape_records_nothing_and_costs_nothing():
    w = Parameter(np.ones(2))
    y = w * w
    assert isinstance(y, Tensor)
    tape = GradientTape()
    with tape, no_grad():
        _ = w * w
    assert len(tape) == 0


def test_stop_recording():
    w = Parameter(np.ones(2))
    with GradientTape() as tape:
        with tape.stop_recording():
            _ = w * w
        y = (w * 2.0).sum()
    assert tape.op_names == ["mul", "sum"]
    np.testing.assert_array_equal(tape.backward(y)[w.id].numpy(), [2.0, 2.0])


def test_multi_output_op_fills_missing_output_gradient():
    w = Parameter(np.array([1.0, 2.0, 3.0, 4.0]))
    with GradientTape() as tape:
        left, _right = call_op("split2", w)
        y = (left * 5.0).sum()  # the right half receives no gradient
    np.testing.assert_array_equal(tape.backward(y)[w.id].numpy(), [5.0, 5.0, 0.0, 0.0])


def test_sources_returns_intermediates():
    w = Parameter(np.array([1.0, -1.0]))
    with GradientTape() as tape:
        h = w * 2.0
        y = call_op("relu", h).sum()
    grads = tape.backward(y, sources=[h, w])
    np.testing.assert_array_equal(grads[h.id].numpy(), [1.0, 0.0])
    np.testing.assert_array_equal(grads[w.id].numpy(), [2.0, 0.0])
    assert set(grads) == {h.id, w.id}


def test_explicit_seed_gradient_and_shape_check():
    w = Parameter(np.array([1.0, 2.0]))
    with GradientTape(persistent=True) as tape:
        y = w * 3.0
    g = tape.backward(y, grad=np.array([1.0, 10.0]))
    np.testing.assert_array_equal(g[w.id].numpy(), [3.0, 30.0])
    with pytest.raises(ShapeError, match=r"\(3,\)"):
        tape.backward(y, grad=np.ones(3))


def test_backward_of_untracked_output_raises():
    x = Tensor(np.ones(2))
    with GradientTape() as tape:
        y = x * x
    with pytest.raises(TapeError, match="not computed from any tracked tensor"):
        tape.backward(y)


def test_comparison_has_no_gradient():
    w = Parameter(np.array([1.0, 3.0]))
    with GradientTape() as tape:
        mask = w < 2.0
        y = (w * mask).sum()
    assert mask.numpy().dtype == np.bool_
    np.testing.assert_array_equal(tape.backward(y)[w.id].numpy(), [1.0, 0.0])


def test_numpy_errors_become_op_errors_naming_the_op():
    with pytest.raises(OpError, match=r"mul: .*\(3,\), \(4,\)"):
        Tensor(np.ones(3)) * Tensor(np.ones(4))


def test_explicit_tape_through_layer_forward():
    class Scale(Module):
        def __init__(self):
            super().__init__()
            self.w = Parameter(np.array([2.0]))

        def forward(self, x):
            return x * self.w

    layer = Scale()
    x = Tensor(np.array([1.0, 2.0]))
    tape = GradientTape()
    y = layer(x, tape=tape)  # tape passed explicitly, not active
    assert tape.op_names == ["mul"]
    with tape:
        loss = y.sum()
    np.testing.assert_array_equal(tape.backward(loss)[layer.w.id].numpy(), [3.0])
    tape2 = GradientTape()
    layer.forward(x, tape=tape2)
    assert len(tape2) == 1


def test_gradients_keep_parameter_dtype():
    w = Parameter(np.ones(3, dtype=np.float32))
    with GradientTape() as tape:
        y = (w * np.float64(2.0)).sum()
    g = tape.backward(y)[w.id]
    assert g.numpy().dtype == np.float32


def test_numpy_array_on_the_left_keeps_the_gradient():
    w = Parameter(np.array([1.0, 2.0]))
    with GradientTape() as tape:
        y = np.array([3.0, 4.0]) * w  # ndarray.__mul__ defers to Tensor.__rmul__
        assert isinstance(y, Tensor)
        z = y.sum()
    np.testing.assert_array_equal(tape.backward(z)[w.id].numpy(), [3.0, 4.0])


def _op_with_backward(returns):
    """An op ``bad(a, b) = a * b`` whose backward returns ``returns(grad)``."""
    from swets_core.autograd import OpDef

    def forward(a, b):
        return a * b, lambda g, needs: returns(g)

    return OpDef("bad_backward", forward)


@pytest.mark.parametrize(
    ("returns", "said"),
    [
        (lambda g: None, "returned None for 2 input(s)"),
        (lambda g: (g,), "returned a tuple of 1 gradient(s) for 2 input(s)"),
        (lambda g: (g, g, g), "returned a tuple of 3 gradient(s) for 2 input(s)"),
        (lambda g: g, "returned an array of shape (3,) (not wrapped in a tuple)"),
        (lambda g: (g, 1.0), "returned a float as the gradient of input 1"),
        (lambda g: (g, np.ones((2, 2))), "gradient of shape (2, 2) for input 1 of shape (3,)"),
    ],
    ids=["none", "too-few", "too-many", "bare-array", "not-an-array", "wrong-shape"],
)
def test_a_backward_returning_the_wrong_thing_is_named(returns, said):
    from swets_core.autograd import apply

    a, b = Parameter(np.ones(3)), Parameter(np.full(3, 2.0))
    with GradientTape() as tape:
        y = apply(_op_with_backward(returns), a, b).sum()
    with pytest.raises(TapeError) as info:
        tape.backward(y)
    message = str(info.value)
    assert message.startswith("op 'bad_backward': its backward returned"), message
    assert said in message
    if "for 2 input(s)" in said:
        assert "it must return a tuple of 2 gradient(s), one per input" in message


def test_a_backward_returning_a_list_of_one_per_input_is_accepted():
    from swets_core.autograd import apply

    a, b = Parameter(np.ones(3)), Parameter(np.full(3, 2.0))
    with GradientTape() as tape:
        y = apply(_op_with_backward(lambda g: [g * 2.0, g * 1.0]), a, b).sum()
    grads = tape.backward(y)
    np.testing.assert_array_equal(grads[a.id].numpy(), [2.0, 2.0, 2.0])
