"""swets_core.checks: the integer predicate every argument check uses, and the count check."""

from __future__ import annotations

import numpy as np
import pytest

from swets_core.checks import check_count, is_int
from swets_core.errors import ConfigError


@pytest.mark.parametrize("value", [0, -3, 7, np.int64(5), np.int32(-1), np.uint8(2)])
def test_integers_are_ints(value):
    assert is_int(value)


@pytest.mark.parametrize("value", [True, False, np.bool_(True), 2.0, np.float64(3), "4", None, [1]])
def test_bools_floats_and_others_are_not(value):
    assert not is_int(value)


def test_check_count_returns_a_python_int_or_none():
    assert check_count(np.int64(3), "n") == 3 and type(check_count(np.int64(3), "n")) is int
    assert check_count(0, "n", 0) == 0
    assert check_count(None, "n", optional=True) is None


@pytest.mark.parametrize("value", [0, -1, 2.0, True, "3", None])
def test_check_count_names_the_place_the_argument_and_the_value(value):
    with pytest.raises(ConfigError, match=r"^f: n must be an int >= 1, got ") as err:
        check_count(value, "n", where="f")
    assert err.value.args[0].endswith(repr(value))
    assert isinstance(err.value, ValueError)


def test_check_count_says_when_none_is_allowed():
    with pytest.raises(ConfigError, match=r"^k must be an int >= 2 or None, got 1$"):
        check_count(1, "k", 2, optional=True)


def test_array_pair_converts_both_and_names_a_mismatch():
    from swets_core.checks import array_pair
    from swets_core.errors import ShapeError

    a, b = array_pair([1, 2], np.array([3.0, 4.0]), np.int64, 1, ("x", "y"), "1-D", "f")
    assert a.dtype == b.dtype == np.int64 and a.tolist() == [1, 2] and b.tolist() == [3, 4]
    with pytest.raises(ShapeError, match=r"^f: x and y must both be 1-D, got \(2,\) and \(3,\)$"):
        array_pair([1, 2], [1, 2, 3], np.int64, 1, ("x", "y"), "1-D", "f")
    with pytest.raises(ShapeError, match=r"got \(1, 2\) and \(1, 2\)$"):
        array_pair([[1, 2]], [[1, 2]], np.float64, 1, ("x", "y"), "1-D", "f")
