"""Opening users' data files with bounds: regular files only, and reading stops at a size bound.

A data path may name anything: a link to ``/dev/zero`` (endless bytes), a named pipe (``open`` waits
for a writer that never comes), a directory, a binary file. Every reader of this package opens its
file through :func:`open_regular`, which refuses what is not a regular file *before* reading a byte
(``os.stat`` follows links, so a link is judged by what it points to) and refuses a file larger than
``max_bytes``. Text is then read through :func:`bounded_lines`, which stops at the first line that
cannot be a row of a table (longer than ``max_line_bytes``, holding a NUL byte, or not UTF-8) and at
``max_bytes`` bytes read in all (a file may grow while it is read), with a
:class:`~swets_core.errors.DataValidationError` naming the file and the line.

The bounds are keyword arguments of every reader (``max_bytes=``, ``max_line_bytes=``) and each error
says which one to raise.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from swets_core.checks import file_kind, is_int
from swets_core.errors import ConfigError, DataValidationError

DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB: far beyond the bundled data, well below what exhausts memory
DEFAULT_MAX_LINE_BYTES = 1 << 20  # 1 MiB: a row of tens of thousands of numeric columns
_CHUNK = 1 << 22  # read 4 MiB at a time; lines never straddle a decoded block


def size_text(n: int) -> str:
    """``1073741824`` -> ``"1 GiB"``; ``1500`` -> ``"1.5 KiB"`` (for messages)."""
    value = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            text = f"{value:.1f}".rstrip("0").rstrip(".") if unit != "bytes" else str(n)
            return f"{text} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def check_bound(value: object, name: str) -> int:
    """A bound must be a positive integer (a ConfigError naming the option otherwise)."""
    if not is_int(value) or value < 1:  # type: ignore[operator]
        raise ConfigError(f"{name} must be a positive integer (bytes), got {value!r}")
    return int(value)  # type: ignore[call-overload]


def _not_regular(name: str, mode: int) -> DataValidationError:
    via = f" (a link to {os.path.realpath(name)})" if os.path.islink(name) else ""
    return DataValidationError(
        f"{name}{via} is {file_kind(mode)}, not a regular file; swets reads data only from regular "
        f"files (a pipe or a device could block or never end)"
    )


def _too_large(name: str, size: int, max_bytes: int) -> DataValidationError:
    return DataValidationError(
        f"{name}: the file has {size} bytes ({size_text(size)}), more than max_bytes={max_bytes} "
        f"({size_text(max_bytes)}); pass a larger max_bytes= to read it"
    )


def open_regular(path: str | os.PathLike, what: str, max_bytes: int) -> BinaryIO:
    """Open ``path`` for binary reading if it is a regular file of at most ``max_bytes`` bytes.

    Raises:
        ConfigError: the path is not a path, does not exist or cannot be opened (``cannot open
            <what> ...``).
        DataValidationError: it is a directory, a FIFO, a device or a socket (named, and the link's
            target when the path is a link), or larger than ``max_bytes``.
    """
    try:
        name = os.fspath(path)
    except TypeError:
        raise ConfigError(
            f"a {what} path must be a str or os.PathLike, got {type(path).__name__}"
        ) from None
    max_bytes = check_bound(max_bytes, "max_bytes")
    try:
        st = os.stat(name)  # follows links: a link is judged by what it points to
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot open {what} {name!r}: {exc}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(name, st.st_mode)
    if st.st_size > max_bytes:
        raise _too_large(name, st.st_size, max_bytes)
    # non-blocking, so that a path swapped for a FIFO after the check cannot hang the open
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(name, flags)
    except OSError as exc:
        raise ConfigError(f"cannot open {what} {name!r}: {exc}") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(name, st.st_mode)
        if st.st_size > max_bytes:
            raise _too_large(name, st.st_size, max_bytes)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _line_ends(block: bytes) -> int:
    """Number of line ends (``\\n``, ``\\r\\n`` or a lone ``\\r``) in ``block``."""
    return block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n")


def _longest_line(block: bytes, limit: int) -> int | None:
    """The 0-based index of the first line of ``block`` longer than ``limit`` bytes, or None."""
    if len(block) <= limit:
        return None
    b = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero((b == 10) | (b == 13))
    lengths = np.diff(ends, prepend=-1, append=len(block)) - 1  # bytes between line-end bytes
    over = np.flatnonzero(lengths > limit)
    if not over.size:
        return None
    start = 0 if over[0] == 0 else int(ends[over[0] - 1]) + 1
    return _line_ends(block[:start])


def bounded_lines(fh: BinaryIO, name: str, *, max_bytes: int, max_line_bytes: int) -> Iterator[str]:
    """The lines of a UTF-8 text file (optional BOM), ends kept, as :func:`open` with
    ``newline=""`` gives them (``\\n``, ``\\r\\n`` and a lone ``\\r`` end a line).

    Stops with a DataValidationError naming ``name`` and the 1-based line at the first line longer
    than ``max_line_bytes``, holding a NUL byte or not valid UTF-8, and when more than
    ``max_bytes`` bytes have been read.
    """
    max_bytes = check_bound(max_bytes, "max_bytes")
    max_line_bytes = check_bound(max_line_bytes, "max_line_bytes")
    done = 0  # complete lines already yielded
    total = 0
    rest = b""
    first = True
    while True:
        chunk = fh.read(_CHUNK)
        total += len(chunk)
        if total > max_bytes:
            raise DataValidationError(
                f"{name}: more than max_bytes={max_bytes} ({size_text(max_bytes)}) read, at line "
                f"{done + _line_ends(rest) + 1}; pass a larger max_bytes= to read it"
            )
        if first:
            first = False
            if chunk.startswith(b"\xef\xbb\xbf"):
                chunk = chunk[3:]
        data = rest + chunk if rest else chunk
        if not chunk:
            cut = len(data)
        else:
            cut = data.rfind(b"\n") + 1
            if cut == 0:  # no \n: a lone \r ends a line unless it is the last byte (\r\n split)
                cut = data.rfind(b"\r", 0, len(data) - 1) + 1
        block, rest = data[:cut], data[cut:]
        if block:
            text = _check_block(block, name, done, max_line_bytes)
            done += _line_ends(block)
            yield from io.StringIO(text, newline="")
        if len(rest) > max_line_bytes:
            raise _long_line(name, done + 1, max_line_bytes)
        if not chunk:
            return


def _long_line(name: str, line: int, limit: int) -> DataValidationError:
    return DataValidationError(
        f"{name}: line {line} is longer than max_line_bytes={limit} ({size_text(limit)}), far "
        f"longer than a row of a table; if it really is one, pass a larger max_line_bytes="
    )


def _check_block(block: bytes, name: str, done: int, max_line_bytes: int) -> str:
    """Decode a block of whole lines, refusing NUL bytes, over-long lines and invalid UTF-8."""
    nul = block.find(b"\0")
    long = _longest_line(block, max_line_bytes)
    bad = None
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = exc
    # report whichever problem comes first in the file
    at = {}
    if nul >= 0:
        at["nul"] = _line_ends(block[:nul])
    if long is not None:
        at["long"] = long
    if bad is not None:
        at["utf8"] = _line_ends(block[: bad.start])
    if not at:
        return text
    kind = min(at, key=lambda k: at[k])
    line = done + at[kind] + 1
    if kind == "long":
        raise _long_line(name, line, max_line_bytes)
    if kind == "nul":
        raise DataValidationError(
            f"{name}: line {line} holds a NUL byte: this is not a text (CSV) file"
        )
    assert bad is not None
    byte = block[bad.start : bad.start + 1].hex()
    raise DataValidationError(
        f"{name}: line {line} is not UTF-8 text (byte 0x{byte}: {bad.reason}); save the file as "
        f"UTF-8"
    ) from None


__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_LINE_BYTES",
    "bounded_lines",
    "check_bound",
    "open_regular",
    "size_text",
]
