"""Small predicates shared by the argument checks of every distribution."""

from __future__ import annotations

import numbers
import stat
from typing import Any

__all__ = ["file_kind", "is_int"]


def is_int(value: Any) -> bool:
    """True for a Python or numpy integer; False for bools (``True`` is not a count) and for
    everything else, integral floats included."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


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
