"""Test helpers for swets and its plugins: the gradient check, op test cases and the conformance kit.

Gradient checking
-----------------
:func:`gradcheck` compares the gradients the tape computes for ``fn(*inputs)`` with central finite
differences in float64, over every element of every floating-point input::

    from swets_core import ops
    from swets_core.testing import gradcheck

    x = rng.standard_normal((3, 4))
    gradcheck(lambda a, b: ops.mul(a, b), x, rng.standard_normal((1, 4)))  # broadcasting
    gradcheck(lambda a: ops.mul(a, a), x)  # the same input used twice inside fn
    gradcheck(lambda a, b: ops.mul(a, b), x, x)  # the same array passed twice: one input
    gradcheck(lambda a: ops.exp(a), x.T)  # a transposed (non-contiguous) input stays transposed

:class:`GradCase` names one such check for a registered op, so that a suite can require at least one
case per op (:func:`ops_without_cases`) and run them all (:meth:`GradCase.check`).

Conformance kit
---------------
The checks of :mod:`swets_core.conformance` (``check_op``, ``check_layer``, ``check_loss``,
``check_model``, ``check_registered``) are re-exported here.

This module only gathers the public names: the gradient check lives in :mod:`swets_core.gradcheck`,
the kit in :mod:`swets_core.conformance` (which builds on the gradient check), so neither imports
this module.
"""

from __future__ import annotations

from swets_core.conformance import (
    check_layer,
    check_loss,
    check_model,
    check_op,
    check_registered,
)
from swets_core.gradcheck import (
    GradCase,
    assert_no_grad,
    collect_cases,
    gradcheck,
    ops_without_cases,
)

__all__ = [
    "GradCase",
    "assert_no_grad",
    "check_layer",
    "check_loss",
    "check_model",
    "check_op",
    "check_registered",
    "collect_cases",
    "gradcheck",
    "ops_without_cases",
]
