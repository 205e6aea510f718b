"""swets_core.checks: the integer predicate every argument check uses."""

from __future__ import annotations

import numpy as np
import pytest

from swets_core.checks import is_int


@pytest.mark.parametrize("value", [0, -3, 7, np.int64(5), np.int32(-1), np.uint8(2)])
def test_integers_are_ints(value):
    assert is_int(value)


@pytest.mark.parametrize("value", [True, False, np.bool_(True), 2.0, np.float64(3), "4", None, [1]])
def test_bools_floats_and_others_are_not(value):
    assert not is_int(value)
