"""Which serializer writes or reads a checkpoint file, chosen from the registry.

Core knows no serializer by name: every serializer is a plugin registered in the ``serializers``
kind (:class:`~swets_core.protocols.Serializer`).

* Saving with ``serializer=None`` uses the one installed serializer; when several are installed the
  caller names one, and when none is, the error says so (with the plugins that failed to load or
  were disabled, which is the usual reason).
* Loading with ``serializer=None`` asks each installed serializer whether it recognises the file's
  first bytes (``matches(head)``), then its suffix; a single installed serializer is used as is.
"""

from __future__ import annotations

import os
import stat
from typing import Any, BinaryIO

from swets_core import registry as _registry
from swets_core.checks import file_kind
from swets_core.errors import CheckpointError, SwetsError

KIND = "serializers"


def resolve_serializer(serializer: Any) -> tuple[Any, str | None]:
    """``(serializer object, registry name or None)`` for a name, an object, or None (the default).

    Raises:
        CheckpointError: an unknown name, an object without ``save``/``load``, or (for None) not
            exactly one serializer installed.
    """
    if serializer is None:
        return _only_installed()
    if isinstance(serializer, str):
        try:
            return _registry.create(KIND, serializer), serializer
        except SwetsError as exc:
            raise CheckpointError(f"cannot use serializer {serializer!r}: {exc}") from exc
    if callable(getattr(serializer, "save", None)) and callable(getattr(serializer, "load", None)):
        return serializer, getattr(serializer, "name", None)
    raise CheckpointError(
        f"serializer must be a registered name or an object with save() and load(), "
        f"got {type(serializer).__name__}"
    )


def _only_installed() -> tuple[Any, str]:
    names = _registry.names(KIND)
    if not names:
        raise CheckpointError(not_installed())
    if len(names) > 1:
        raise CheckpointError(
            f"several checkpoint serializers are installed ({_describe(names)}); choose one "
            f"with serializer=<name>"
        )
    return _start(names[0]), names[0]


def _start(name: str) -> Any:
    try:
        return _registry.create(KIND, name)
    except Exception as exc:
        raise CheckpointError(f"serializer {name!r} failed to start: {exc}") from exc


def _describe(names: list[str]) -> str:
    parts = []
    for name in names:
        info = _registry.info(KIND, name)
        parts.append(f"{name!r} from {info.distribution} {info.version}")
    return ", ".join(parts)


def not_installed() -> str:
    """The message for "no serializer is installed", naming the plugins that failed or were disabled."""
    why = []
    for record in _registry.plugins():
        if record.disabled:
            why.append(
                f"{record.name} ({record.distribution}) is disabled by SWETS_DISABLE_PLUGINS"
            )
        elif record.error is not None:
            why.append(f"{record.name} ({record.distribution}) failed to load: {record.error}")
    text = (
        "no checkpoint serializer is installed: install a plugin distribution that registers one "
        f"in the {KIND!r} kind (docs/checkpoint-format.md describes swets' own)"
    )
    return text + ("; " + "; ".join(why) if why else "")


def open_checkpoint(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a checkpoint file for binary reading (unbuffered), refusing what is not a regular file.

    The open is non-blocking, so a named pipe cannot make it wait for a writer, and the opened
    file is then checked with ``fstat`` (so a path swapped after a check cannot slip through); a
    link is judged by what it points to. Every serializer reads through this function (or applies
    the same rule), and :func:`~swets_core.checkpoint.load_payload` applies it before any
    serializer sees the path.

    Raises:
        CheckpointError: the file does not exist or cannot be opened, or it is a directory, a named
            pipe, a device or a socket (a pipe or a device could block or never end).
    """
    name = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(name, flags)
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"cannot open checkpoint {name!r}: {exc}") from exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = file_kind(mode)
            via = f" (a link to {os.path.realpath(name)})" if os.path.islink(name) else ""
            raise CheckpointError(
                f"{name}{via} is {kind}, not a regular file; a checkpoint is read only from a "
                "regular file (a pipe or a device could block or never end)"
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise


def detect_serializer(path: str) -> Any:
    """The installed serializer that recognises the file's first bytes (or its suffix).

    Raises:
        CheckpointError: the file cannot be read, no serializer is installed, or none recognises it.
    """
    try:
        with open_checkpoint(path) as f:
            head = f.read(64)
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {path!r}: {exc}") from exc
    names = _registry.names(KIND)
    if not names:
        raise CheckpointError(
            f"cannot load {path!r} (first bytes {head[:16]!r}): {not_installed()}"
        )
    candidates = [_start(name) for name in names]
    for ser in candidates:
        matches = getattr(ser, "matches", None)
        if callable(matches) and matches(head):
            return ser
    for ser in candidates:
        suffix = getattr(ser, "suffix", None)
        if suffix and path.endswith(suffix):
            return ser
    if len(candidates) == 1:
        return candidates[0]
    raise CheckpointError(
        f"{path!r} is not a checkpoint any installed serializer recognises "
        f"(first bytes {head[:16]!r}; installed: {_describe(names)})"
    )


__all__ = ["detect_serializer", "not_installed", "open_checkpoint", "resolve_serializer"]
