"""Bad input raises a swets error that names the op and the shapes, never a bare numpy traceback."""

from __future__ import annotations

import numpy as np
import pytest

from swets_core import Tensor, ops
from swets_core.errors import DTypeError, OpError, ShapeError, SwetsError

A = Tensor(np.zeros((2, 3)))
B = Tensor(np.zeros((4,)))
I = Tensor(np.arange(6).reshape(2, 3))  # noqa: E741


BAD = [
    # (call, error type, fragments the message must contain)
    (lambda: A + B, ShapeError, ["add", "(2, 3)", "(4,)"]),
    (lambda: ops.mul(A, B), ShapeError, ["mul", "(2, 3)", "(4,)"]),
    (lambda: ops.pow(A, B), ShapeError, ["pow", "(2, 3)", "(4,)"]),
    (lambda: ops.maximum(A, B), ShapeError, ["maximum", "(2, 3)", "(4,)"]),
    (lambda: A < B, ShapeError, ["less", "(2, 3)", "(4,)"]),
    (lambda: ops.where(A > 0, A, B), ShapeError, ["where", "(2, 3)", "(4,)"]),
    (lambda: ops.where(A, A, A), DTypeError, ["where", "bool", "float64"]),
    (lambda: ops.clip(A), OpError, ["clip", "min", "max"]),
    (lambda: ops.neg(A > 0), DTypeError, ["neg", "bool"]),
    (lambda: ops.gelu(A, approximate="fast"), OpError, ["gelu", "'fast'"]),
    (lambda: ops.cast(A, dtype="complex64"), DTypeError, ["complex64"]),
    (lambda: ops.sum(A, axis=2), ShapeError, ["sum", "axis 2", "2-d", "(2, 3)"]),
    (lambda: ops.mean(A, axis=(0, -3)), ShapeError, ["mean", "axis -3", "(2, 3)"]),
    (lambda: ops.max(A, axis=(1, 1)), OpError, ["max", "repeats"]),
    (lambda: ops.max(Tensor(np.zeros((0, 3))), axis=0), ShapeError, ["max", "empty", "(0, 3)"]),
    (lambda: ops.var(A, axis=5), ShapeError, ["var", "axis 5"]),
    (lambda: ops.std(A, correction="1"), OpError, ["std", "correction"]),
    (lambda: ops.softmax(A, axis=2), ShapeError, ["softmax", "axis 2", "(2, 3)"]),
    (lambda: ops.log_softmax(A, axis=None), OpError, ["log_softmax", "axis"]),
    (lambda: ops.logsumexp(A, axis=-4), ShapeError, ["logsumexp", "axis -4"]),
    (lambda: A @ B, ShapeError, ["matmul", "(2, 3)", "(4,)", "3", "4"]),
    (
        lambda: ops.matmul(A, Tensor(np.zeros((3, 2, 2)))),
        ShapeError,
        ["matmul", "(2, 3)", "(3, 2, 2)"],
    ),
    (
        lambda: ops.matmul(Tensor(np.zeros((2, 2, 3))), Tensor(np.zeros((3, 3, 4)))),
        ShapeError,
        ["matmul", "batch", "(2, 2, 3)", "(3, 3, 4)"],
    ),
    (lambda: ops.matmul(Tensor(np.float64(1.0)), A), ShapeError, ["matmul", "1-d", "()"]),
    (lambda: ops.linear(A, Tensor(np.zeros((5, 4)))), ShapeError, ["linear", "(2, 3)", "(5, 4)"]),
    (lambda: ops.linear(A, Tensor(np.zeros(3))), ShapeError, ["linear", "weight", "2-d", "(3,)"]),
    (
        lambda: ops.linear(A, Tensor(np.zeros((5, 3))), Tensor(np.zeros(4))),
        ShapeError,
        ["linear", "bias", "(5,)", "(4,)"],
    ),
    (lambda: ops.linear(I, Tensor(np.zeros((5, 3)))), DTypeError, ["linear", "x", "int64"]),
    (
        lambda: ops.reshape(A, shape=(4, 2)),
        ShapeError,
        ["reshape", "(2, 3)", "6 elements", "(4, 2)"],
    ),
    (lambda: ops.reshape(A, shape=(2.5, 2)), OpError, ["reshape", "shape"]),
    (lambda: ops.transpose(A, axes=(0, 0)), ShapeError, ["transpose", "permutation", "(2, 3)"]),
    (lambda: ops.transpose(A, axes=(0, 1, 2)), ShapeError, ["transpose", "axis 2"]),
    (lambda: ops.broadcast_to(A, shape=(3, 3)), ShapeError, ["broadcast_to", "(2, 3)", "(3, 3)"]),
    (lambda: ops.expand(A, shape=(3,)), ShapeError, ["expand", "(2, 3)", "(3,)"]),
    (lambda: ops.expand(A, shape=(-1, 2, 3)), ShapeError, ["expand", "-1", "leading"]),
    (lambda: ops.squeeze(A, axis=2), ShapeError, ["squeeze", "axis 2"]),
    (
        lambda: ops.unsqueeze(A, axis=4),
        ShapeError,
        ["unsqueeze", "axis 4", "3-d output", "input shape (2, 3)"],
    ),
    (lambda: ops.stack(A, A, axis=-4), ShapeError, ["stack", "axis -4", "3-d output"]),
    (lambda: ops.concat(A, B), ShapeError, ["concat", "(2, 3)", "(4,)"]),
    (
        lambda: ops.concat(A, Tensor(np.zeros((2, 4))), axis=0),
        ShapeError,
        ["concat", "axis 0", "(2, 4)"],
    ),
    (lambda: ops.concat(), OpError, ["concat", "at least one"]),
    (lambda: ops.stack(A, Tensor(np.zeros((3, 2)))), ShapeError, ["stack", "(2, 3)", "(3, 2)"]),
    (
        lambda: ops.split(A, sections=2, axis=1),
        ShapeError,
        ["split", "length 3", "(2, 3)", "2 equal"],
    ),
    (lambda: ops.split(A, sections=[1, 1], axis=1), ShapeError, ["split", "(1, 1)", "3"]),
    (lambda: ops.split(A, sections=0), OpError, ["split", "positive"]),
    (lambda: A[5], OpError, ["getitem", "out of bounds", "(2, 3)"]),
    (lambda: A[np.array([0.5])], OpError, ["getitem", "(2, 3)", "float64 array"]),
    (lambda: A[0, 0, 0], OpError, ["getitem", "(2, 3)"]),
    (lambda: ops.pad(A, pad_width=((1, 1), (1, 1), (1, 1))), ShapeError, ["pad", "(2, 3)"]),
    (lambda: ops.pad(A, pad_width=-1), OpError, ["pad", "non-negative"]),
    (lambda: ops.pad(A, pad_width=1.5), OpError, ["pad", "ints"]),
    (lambda: ops.flip(A, axis=3), ShapeError, ["flip", "axis 3"]),
    (
        lambda: ops.gather(A, Tensor(np.zeros((2, 3))), axis=1),
        DTypeError,
        ["gather", "integer", "float64"],
    ),
    (
        lambda: ops.gather(A, Tensor(np.zeros(3, dtype=np.int64)), axis=0),
        ShapeError,
        ["gather", "(3,)", "(2, 3)"],
    ),
    (
        lambda: ops.gather(A, Tensor(np.full((2, 3), 3)), axis=1),
        OpError,
        ["gather", "[0, 3)", "axis 1"],
    ),
    (
        lambda: ops.gather(A, Tensor(np.zeros((3, 1), dtype=np.int64)), axis=1),
        ShapeError,
        ["gather", "(3, 1)", "axis 0"],
    ),
    (
        lambda: ops.gather(A, Tensor(np.zeros((2, 1), dtype=np.int64)), axis=2),
        ShapeError,
        ["gather", "axis 2"],
    ),
]


@pytest.mark.parametrize(
    ("call", "exc", "fragments"), BAD, ids=lambda v: v[0] if isinstance(v, list) else ""
)
def test_bad_input_raises_a_precise_swets_error(call, exc, fragments) -> None:
    with pytest.raises(exc) as info:
        call()
    assert isinstance(info.value, SwetsError)
    msg = str(info.value)
    for frag in fragments:
        assert frag in msg, f"{frag!r} missing from {msg!r}"


def test_errors_are_the_same_when_recording() -> None:
    from swets_core import GradientTape, Parameter

    p = Parameter(np.zeros((2, 3)))
    with GradientTape():
        with pytest.raises(ShapeError, match=r"add: .*\(2, 3\).*\(4,\)"):
            p + B
        with pytest.raises(ShapeError, match="sum: axis 2"):
            ops.sum(p, axis=2)
        with pytest.raises(ShapeError, match="matmul"):
            p @ B
