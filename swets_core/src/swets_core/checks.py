"""Small predicates shared by the argument checks of every distribution."""

from __future__ import annotations

import numbers
from typing import Any

__all__ = ["is_int"]


def is_int(value: Any) -> bool:
    """True for a Python or numpy integer; False for bools (``True`` is not a count) and for
    everything else, integral floats included."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
