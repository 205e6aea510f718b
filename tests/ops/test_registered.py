"""swets-ops registers every standard op through its entry point, reachable three ways."""

from __future__ import annotations

import numpy as np

import swets_core
from swets_core import Tensor, ops
from swets_core.testing import check_registered

NON_FUSED = [
    "add",
    "sub",
    "mul",
    "div",
    "pow",
    "maximum",
    "minimum",
    "where",
    "clip",
    "neg",
    "abs",
    "exp",
    "log",
    "log1p",
    "sqrt",
    "square",
    "sign",
    "lgamma",
    "cast",
    "less",
    "less_equal",
    "greater",
    "greater_equal",
    "equal",
    "not_equal",
    "relu",
    "leaky_relu",
    "elu",
    "gelu",
    "silu",
    "sigmoid",
    "tanh",
    "softplus",
    "sum",
    "mean",
    "max",
    "min",
    "var",
    "std",
    "logsumexp",
    "softmax",
    "log_softmax",
    "matmul",
    "linear",
    "reshape",
    "transpose",
    "broadcast_to",
    "expand",
    "squeeze",
    "unsqueeze",
    "concat",
    "stack",
    "split",
    "getitem",
    "pad",
    "flip",
    "gather",
]


def test_non_fused_ops_come_from_swets_ops() -> None:
    check_registered("swets-ops", {"ops": NON_FUSED})


def test_every_op_has_a_one_line_doc() -> None:
    for name in NON_FUSED:
        doc = swets_core.registry.info("ops", name).doc
        assert doc.startswith(name + "("), f"{name}: doc {doc!r} should start with its signature"


def test_reachable_from_functional_namespace_and_call_op() -> None:
    x = Tensor(np.array([[1.0, -2.0]]))
    for name in ("relu", "exp", "tanh", "sigmoid"):
        via_ns = getattr(ops, name)(x).numpy()
        via_call = swets_core.call_op(name, x).numpy()
        np.testing.assert_array_equal(via_ns, via_call)
    assert set(NON_FUSED) <= set(dir(ops))
