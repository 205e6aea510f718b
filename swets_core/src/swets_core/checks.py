"""Small predicates shared by the argument checks of every distribution.

Among them the two readings of a random generator argument: :func:`as_generator` (a Generator, a
non-negative int seed or None, what layers and models take as ``rng``) and :func:`check_generator`
(a Generator itself: ops, samplers, ``Tensor.randn``)."""

from __future__ import annotations

import numbers
import stat
from typing import Any

import numpy as np

from swets_core.errors import ArgumentTypeError, ConfigError, ShapeError

__all__ = [
    "RngLike",
    "array_pair",
    "as_generator",
    "check_count",
    "check_generator",
    "file_kind",
    "is_int",
]


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


RngLike = np.random.Generator | int | None
"""What a ``rng`` argument accepts: a numpy Generator (used as is), a non-negative int seed, or None
(fresh entropy)."""


def as_generator(rng: RngLike, where: str, *, name: str = "rng") -> np.random.Generator:
    """``rng`` as a numpy Generator: a Generator as it is, an int the seed of a new one, None a new
    one from fresh entropy.

    Args:
        rng: the argument.
        where: who takes it (a layer, a model, a function), for the message.
        name: the argument's name, for the message.

    Raises:
        ConfigError: anything else (a negative int, a bool, text), naming ``where`` and ``name``.
    """
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.Generator):
        return rng
    if is_int(rng) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise ConfigError(
        f"{where}: {name} must be a numpy.random.Generator, a non-negative int seed or None, "
        f"got {rng!r:.60}"
    )


def check_generator(
    rng: Any, where: str = "", *, error: type[Exception] = ArgumentTypeError
) -> np.random.Generator:
    """``rng`` itself if it is a numpy Generator (what takes an explicit generator, not a seed),
    else ``error`` naming ``where``."""
    if not isinstance(rng, np.random.Generator):
        prefix = f"{where}: " if where else ""
        raise error(
            f"{prefix}rng must be a numpy.random.Generator (numpy.random.default_rng(seed)), got "
            f"{type(rng).__name__}"
        )
    return rng
