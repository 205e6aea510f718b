"""Crash-safe file replacement: a file is either the old one or the new one, whole, never a mix.

:func:`atomic_write` is how checkpoint serializers (and anything else in swets that must not leave a
half-written file behind: sweep results, reports) write: a sibling temporary file, fsync, an atomic
rename over the target, and an fsync of the directory (``docs/checkpoint-format.md``, "Crash
safety").

A process killed while writing leaves its temporary file behind. The temporary file's name records
who wrote it (``.<name>.<12 hex>.<pid>-<start>-<host>.swets-tmp``: the process id, the process's
start time and a key of the machine and process namespace), so the next save to the same target
removes the temporary files of writers that are provably gone: written on this machine, in this
process namespace, by a process id that no longer runs, or now runs a process started at another
time. A file of a live writer, of another machine or of an unknown form is never touched.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import lru_cache
from typing import BinaryIO

from swets_core.errors import CheckpointError

TEMP_SUFFIX = ".swets-tmp"
"""The suffix of the temporary files :func:`atomic_write` creates
(``.<name>.<12 hex>.<pid>-<start>-<host>.swets-tmp``)."""

_TAG = r"[0-9a-f]{12}\.([0-9]{1,10})-([0-9]{1,20})-([0-9a-f]{8})"
_NAME_MAX = 255


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read(4096)
    except OSError:
        return None


def _process_start(pid: int) -> int | None:
    """The start time of process ``pid`` in clock ticks after boot (Linux ``/proc``), 0 where there
    is no ``/proc``, None when no such process runs (or it is a zombie: it can write no more)."""
    if not os.path.isdir("/proc/self"):
        return 0
    stat = _read(f"/proc/{pid}/stat")
    if stat is None:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # after "pid (comm) "
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


@lru_cache(maxsize=1)
def _host_key() -> str:
    """8 hex digits naming this machine, boot and process namespace: process ids are compared only
    within the same one."""
    parts = [socket.gethostname(), _read("/proc/sys/kernel/random/boot_id") or ""]
    with suppress(OSError):
        parts.append(os.readlink("/proc/self/ns/pid"))
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:8]


def _writer_tag() -> str:
    return f"{os.getpid()}-{_process_start(os.getpid()) or 0}-{_host_key()}"


def _alive(pid: int, start: int) -> bool:
    """Whether the writer ``pid`` started at ``start`` may still run (True when unsure)."""
    now = _process_start(pid)
    if now is None:
        return False
    if now and start:
        return now == start
    try:  # no /proc: the process id alone
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temporaries(path: str | os.PathLike[str]) -> list[str]:
    """Remove the temporary files that killed saves to ``path`` left behind; returns their names.

    Only files whose name shows they were written on this machine and process namespace by a
    process that is gone are removed (see the module docstring); on systems without POSIX process
    ids (Windows) nothing is removed.
    """
    if os.name != "posix":  # pragma: no cover - os.kill(pid, 0) would terminate the process
        return []
    target = os.path.abspath(os.fspath(path))
    directory, base = os.path.split(target)
    prefix = f".{base}."
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    host = _host_key()
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(TEMP_SUFFIX)):
            continue
        m = re.fullmatch(_TAG, name[len(prefix) : -len(TEMP_SUFFIX)])
        if m is None or m.group(3) != host:
            continue
        pid, start = int(m.group(1)), int(m.group(2))
        with suppress(OSError):
            if entry.is_file(follow_symlinks=False) and not _alive(pid, start):
                os.unlink(entry.path)
                removed.append(name)
    return removed


@contextmanager
def atomic_write(path: str | os.PathLike[str], *, fsync: bool = True) -> Iterator[BinaryIO]:
    """Write ``path`` crash-safely: yields a binary file opened on a sibling temporary file.

    On normal exit the file is flushed and fsynced, renamed over ``path`` with :func:`os.replace`
    (atomic on POSIX and Windows), and the directory is fsynced so the rename itself is durable. On
    an exception the temporary file is removed and ``path`` is untouched. A process killed while
    writing leaves ``path`` as it was, plus possibly its temporary file, which the next
    ``atomic_write`` to ``path`` removes (:func:`remove_stale_temporaries`). The new file gets the usual permissions (``0o666`` minus the umask).

    Args:
        fsync: with False the two fsyncs are skipped: a killed *process* still leaves the old or the
            new file whole (the rename is atomic), but a power loss or kernel crash may not.
    """
    target = os.path.abspath(os.fspath(path))
    directory, base = os.path.split(target)
    remove_stale_temporaries(target)
    tag = _writer_tag()
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        name = f".{base}.{secrets.token_hex(6)}.{tag}{TEMP_SUFFIX}"
        if len(name.encode()) > _NAME_MAX:  # a long target name: no room for the writer's tag
            name = f".{base}.{secrets.token_hex(6)}{TEMP_SUFFIX}"
        tmp = os.path.join(directory, name)
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


__all__ = ["TEMP_SUFFIX", "atomic_write", "remove_stale_temporaries"]
