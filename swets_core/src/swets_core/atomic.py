"""Crash-safe file replacement: a file is either the old one or the new one, whole, never a mix.

:func:`atomic_write` is how checkpoint serializers (and anything else in swets that must not leave a
half-written file behind: sweep results, reports) write: a sibling temporary file, fsync, an atomic
rename over the target, and an fsync of the directory (``docs/checkpoint-format.md``, "Crash
safety").
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import BinaryIO

from swets_core.errors import CheckpointError

TEMP_SUFFIX = ".swets-tmp"
"""The suffix of the temporary files :func:`atomic_write` creates (``.<name>.<12 hex>.swets-tmp``)."""


@contextmanager
def atomic_write(path: str | os.PathLike[str], *, fsync: bool = True) -> Iterator[BinaryIO]:
    """Write ``path`` crash-safely: yields a binary file opened on a sibling temporary file.

    On normal exit the file is flushed and fsynced, renamed over ``path`` with :func:`os.replace`
    (atomic on POSIX and Windows), and the directory is fsynced so the rename itself is durable. On
    an exception the temporary file is removed and ``path`` is untouched. A process killed while
    writing leaves ``path`` as it was (plus, possibly, a stray ``.<name>.<random>.swets-tmp`` file).
    The new file gets the usual permissions (``0o666`` minus the umask).

    Args:
        fsync: with False the two fsyncs are skipped: a killed *process* still leaves the old or the
            new file whole (the rename is atomic), but a power loss or kernel crash may not.
    """
    target = os.path.abspath(os.fspath(path))
    directory, base = os.path.split(target)
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}{TEMP_SUFFIX}")
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 100 random collisions
        raise CheckpointError(f"cannot create a temporary file next to {target!r}")
    try:
        with os.fdopen(fd, "w+b") as f:
            yield f
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    if fsync:
        _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    if os.name != "posix":  # pragma: no cover - directories cannot be opened on Windows
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on directories
        pass
    finally:
        os.close(fd)


__all__ = ["TEMP_SUFFIX", "atomic_write"]
