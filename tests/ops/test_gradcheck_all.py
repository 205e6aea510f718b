"""Every registered op has gradient-check cases, and every case passes.

Cases live in ``tests/ops/cases_*.py`` modules, each exporting ``CASES: list[GradCase]``. The walker
compares the ops registered in the default registry with the ops the cases cover, so an op added
without a case fails this suite.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

import swets_core
from swets_core.registry import Registry, activate
from swets_core.testing import GradCase, collect_cases, ops_without_cases

HERE = Path(__file__).resolve().parent


def case_modules() -> list:
    names = sorted(p.stem for p in HERE.glob("cases_*.py"))
    return [importlib.import_module(f"tests.ops.{n}") for n in names]


ALL_CASES: list[GradCase] = collect_cases(case_modules())


def test_case_modules_found() -> None:
    assert "cases_basic" in [m.__name__.rsplit(".", 1)[-1] for m in case_modules()]
    assert len(ALL_CASES) > 100


def test_every_registered_op_has_a_case() -> None:
    missing = ops_without_cases(ALL_CASES)
    assert not missing, f"ops registered without a gradient-check case: {', '.join(missing)}"


def test_cases_name_registered_ops() -> None:
    known = set(swets_core.registry.names("ops"))
    unknown = sorted({c.op for c in ALL_CASES} - known)
    assert not unknown, f"cases for ops that are not registered: {unknown}"


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.id)
def test_gradcheck(case: GradCase) -> None:
    case.check()


class _ExtraOp:
    """A test-only plugin registering one op, ``test_only_square``, with no gradient-check case."""

    @swets_core.hookimpl
    def swets_register_ops(self, register):
        def square(x):
            """x * x."""
            return x * x, lambda g, needs: (2 * g * x,)

        register("test_only_square", square)


def test_walker_reports_an_op_without_a_case() -> None:
    reg = Registry(entry_points=False)
    reg.add_plugin(_ExtraOp(), name="extra_ops", distribution="extra-dist")
    with activate(reg):
        assert ops_without_cases(ALL_CASES, registry=reg) == ["test_only_square"]
        # once a case covers it, the walker is satisfied and the case itself passes
        extra = GradCase(
            "test_only_square",
            lambda a: swets_core.call_op("test_only_square", a),
            (np.arange(3.0),),
        )
        assert ops_without_cases([*ALL_CASES, extra], registry=reg) == []
        extra.check()


def test_walker_uses_the_default_registry_when_none_given() -> None:
    reg = Registry(entry_points=False)
    reg.add_plugin(_ExtraOp(), name="extra_ops", distribution="extra-dist")
    with activate(reg):
        assert ops_without_cases([]) == ["test_only_square"]
