"""Small predicates shared by the argument checks of every distribution."""

from __future__ import annotations

import numbers
import stat
from typing import Any

import numpy as np

from swets_core.errors import ConfigError, ShapeError

__all__ = ["array_pair", "check_count", "file_kind", "is_int"]


def is_int(value: Any) -> bool:
    """True for a Python or numpy integer; False for bools (``True`` is not a count) and for
    everything else, integral floats included."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_count(
    value: Any, name: str, minimum: int = 1, *, optional: bool = False, where: str = ""
) -> Any:
    """``value`` as an ``int`` when it is an integer (:func:`is_int`) of at least ``minimum``, or
    None when it is None and ``optional``.

    Raises:
        ConfigError: ``"<where>: <name> must be an int >= <minimum>[ or None], got <value>"``.
    """
    if value is None and optional:
        return None
    if not is_int(value) or value < minimum:
        none = " or None" if optional else ""
        at = f"{where}: " if where else ""
        raise ConfigError(f"{at}{name} must be an int >= {minimum}{none}, got {value!r}")
    return int(value)


def array_pair(
    a: Any, b: Any, dtype: Any, ndim: int, names: tuple[str, str], expect: str, where: str
) -> tuple[np.ndarray, np.ndarray]:
    """``a`` and ``b`` as arrays of ``dtype``, which must both have ``ndim`` dimensions and one
    shape (the two inputs of a metric, a pair of index arrays).

    Raises:
        ShapeError: ``"<where>: <names[0]> and <names[1]> must both be <expect>, got <shape> and
            <shape>"``.
    """
    x = np.asarray(a, dtype=dtype)
    y = np.asarray(b, dtype=dtype)
    if x.ndim != ndim or x.shape != y.shape:
        raise ShapeError(
            f"{where}: {names[0]} and {names[1]} must both be {expect}, got {x.shape} and {y.shape}"
        )
    return x, y


_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
)


def file_kind(mode: int) -> str:
    """What a file of ``st_mode`` ``mode`` is, for the messages of readers that take regular files
    only: ``"a named pipe (FIFO)"``, ``"a character device"``, ``"a directory"``..."""
    if stat.S_ISREG(mode):
        return "a regular file"
    for test, name in _FILE_KINDS:
        if test(mode):
            return name
    return "not a regular file"
