"""A test-only op plugin, registered through an isolated registry: core's tests need no swets-ops."""

from __future__ import annotations

import numpy as np
import pytest

import swets_core
from swets_core.registry import Registry, activate


class TinyOps:
    """Just enough ops to exercise the tape: add, mul, sum, split2 (two outputs), relu."""

    @swets_core.hookimpl
    def swets_register_ops(self, register):
        def add(a, b):
            """Elementwise sum."""
            return np.add(a, b), lambda g, needs: (g, g)

        def mul(a, b):
            """Elementwise product."""

            def backward(g, needs):
                return (g * b if needs[0] else None, g * a if needs[1] else None)

            return np.multiply(a, b), backward

        def sum_(x, axis=None, keepdims=False):
            """Sum of all elements."""
            out = np.sum(x, axis=axis, keepdims=keepdims)
            return out, lambda g, needs: (np.broadcast_to(g, x.shape),)

        def split2(x):
            """The two halves of the last axis."""
            h = x.shape[-1] // 2

            def backward(gs, needs):
                ga, gb = gs
                ga = np.zeros_like(x[..., :h]) if ga is None else ga
                gb = np.zeros_like(x[..., h:]) if gb is None else gb
                return (np.concatenate([ga, gb], axis=-1),)

            return (x[..., :h], x[..., h:]), backward

        def relu(x):
            """max(x, 0)."""
            return np.maximum(x, 0), lambda g, needs: (g * (x > 0),)

        def less(a, b):
            """a < b (no gradient)."""
            return np.less(a, b), None

        register("add", add)
        register("mul", mul)
        register("sum", sum_)
        register("split2", split2)
        register("relu", relu)
        register("less", less)


@pytest.fixture
def tiny_registry():
    reg = Registry(entry_points=False)
    reg.add_plugin(TinyOps(), name="tiny_ops", distribution="tiny-ops-dist", version="1.0")
    with activate(reg):
        yield reg
