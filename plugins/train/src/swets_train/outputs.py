"""The files swets writes: checked before any work, never written over a file swets did not write.

Every command and job that writes (``swets train`` / :func:`~swets_train.jobs.run_job`: the
checkpoint, the forecast CSV and the plot; ``swets forecast --output``; ``swets plot``; a sweep's
tables and its configurations' files) goes through here:

* :func:`check_outputs`, before the work starts: an output may never be a file the command reads
  (the data, the checkpoint being read), nor a directory or another file that is not a regular file,
  nor the same file as another output; its directory must be one files can be created in (checked
  with a probe file in the nearest directory that exists: a read-only place or a path through a
  regular file is found before training, not after); and a file already there is replaced only when
  it is what swets writes there (:func:`written_by_swets`: a swets checkpoint for a checkpoint, a
  forecast CSV for a forecast, a benchmark table for ``swets benchmark --output``...), unless
  ``force``. ``force`` never allows overwriting an input.
* :class:`StagedWrites`, for the writing: each output is written to a temporary sibling
  (``.<name>.<random>.swets-tmp``, the name :func:`swets_core.atomic.atomic_write` uses); only when
  every one was written do they replace their targets, in the order staged (the checkpoint last).
  A failure removes the temporaries and leaves every target as it was, so a run reported as an
  error never leaves a new checkpoint behind.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable, Sequence
from contextlib import suppress
from typing import Any

import attrs

from swets_core.atomic import TEMP_SUFFIX
from swets_core.errors import ConfigError

__all__ = ["KINDS", "Output", "StagedWrites", "check_outputs", "written_by_swets"]

KINDS = {
    "checkpoint": "a swets checkpoint",
    "forecast_csv": "a forecast CSV written by swets",
    "plot": "a plot written by swets",
    "table_csv": "a table written by swets",
    "benchmark_csv": "a benchmark table written by swets",
    "json": "a result written by swets",
}
"""The kinds of file swets writes, and how a message names each."""

FORECAST_HEADER = "series_id,timestamp,step,"
"""How every forecast CSV swets writes begins."""

PLOT_SOFTWARE = "swets"
"""The PNG ``Software`` text of every plot swets draws begins with this."""

_TABLE_HEADER = "index,config_id,status"
_BENCHMARK_HEADER = "dataset,subset,method,"
_SNIFF_BYTES = 1 << 16
_MAX_JSON_BYTES = 64 << 20


@attrs.frozen
class Output:
    """One file a command is about to write.

    Attributes:
        path: where.
        kind: what swets writes there (a key of :data:`KINDS`).
        option: how the user named it, for messages (``--output``, ``output.forecast_csv``).
    """

    path: str = attrs.field(converter=os.fspath)
    kind: str = attrs.field(validator=attrs.validators.in_(KINDS))
    option: str


def written_by_swets(path: str | os.PathLike[str], kind: str) -> bool:
    """Whether the existing file ``path`` is one swets writes as ``kind``: a checkpoint one of the
    installed serializers recognises, a CSV with the header of swets' forecasts or of its tables, a
    PNG whose ``Software`` text names swets, or a JSON object of a sweep's results."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError:
        return False
    if kind == "checkpoint":
        return _is_checkpoint(head)
    if kind == "forecast_csv":
        return head.lstrip(b"\xef\xbb\xbf").startswith(FORECAST_HEADER.encode())
    if kind == "table_csv":
        return head.startswith(_TABLE_HEADER.encode())
    if kind == "benchmark_csv":
        return head.startswith(_BENCHMARK_HEADER.encode())
    if kind == "plot":
        return head.startswith(b"\x89PNG\r\n\x1a\n") and (
            b"Software\x00" + PLOT_SOFTWARE.encode() in head
        )
    if kind == "json":
        return _is_result_json(path, head)
    return False


def _is_checkpoint(head: bytes) -> bool:
    from swets_core import registry

    try:
        names = registry.names("serializers")
    except Exception:  # pragma: no cover - a broken registry: treat the file as not ours
        return False
    for name in names:
        try:
            matches = getattr(registry.create("serializers", name), "matches", None)
            if callable(matches) and matches(head):
                return True
        except Exception:  # pragma: no cover - a serializer that fails to start
            continue
    return False


def _is_result_json(path: str | os.PathLike[str], head: bytes) -> bool:
    if not head.lstrip().startswith(b"{"):
        return False
    try:
        if os.path.getsize(path) > _MAX_JSON_BYTES:
            return False
        with open(path, encoding="utf-8") as fh:
            value = json.load(fh)
    except (OSError, ValueError):
        return False
    if not isinstance(value, dict):
        return False
    return {"config_id", "status"} <= set(value) or {"rows", "metric"} <= set(value)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _probe_directory(path: str, option: str) -> None:
    """The directory of ``path`` (or its nearest existing ancestor) must take new files."""
    directory = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(directory):
        parent = os.path.dirname(directory)
        if parent == directory:  # pragma: no cover - the root always exists
            break
        directory = parent
    if not os.path.isdir(directory):
        raise ConfigError(f"{option}: cannot write {path}: {directory} is a file, not a directory")
    probe = os.path.join(directory, f".swets-probe.{secrets.token_hex(6)}{TEMP_SUFFIX}")
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise ConfigError(
            f"{option}: cannot write {path}: {directory} does not take new files "
            f"({exc.strerror or exc})"
        ) from None
    os.close(fd)
    with suppress(OSError):
        os.unlink(probe)


def check_outputs(
    outputs: Iterable[Output],
    *,
    force: bool = False,
    inputs: Sequence[tuple[str, str]] = (),
) -> None:
    """Check the files a command will write before it starts (see the module docstring).

    Args:
        outputs: the files, each with its kind and the option that named it.
        force: replace existing files that swets did not write (never an input).
        inputs: ``(path, what)`` of the files the command reads (``(data.csv, "the data")``).

    Raises:
        ConfigError: naming the option and the file: an input, a directory or other non-regular
            file, two outputs on one file, a directory that takes no new files, or an existing file
            swets did not write (without ``force``).
    """
    seen: list[Output] = []
    for out in outputs:
        path = out.path
        for other in seen:
            if _same_file(path, other.path):
                raise ConfigError(
                    f"{out.option}: {path} is also {other.option}; give each output its own file"
                )
        seen.append(out)
        for source, what in inputs:
            if source and os.path.exists(source) and _same_file(path, source):
                raise ConfigError(
                    f"{out.option}: {path} is {what}, which this command reads; swets never "
                    "overwrites its input (--force does not change that)"
                )
        suffix = os.path.splitext(path)[1].lower()
        if out.kind == "plot" and suffix not in ("", ".png"):
            raise ConfigError(
                f"{out.option}: {path}: swets writes plots as PNG files; give it a .png name"
            )
        if os.path.isdir(path):
            raise ConfigError(
                f"{out.option}: {path} is a directory; give a file name "
                f"(e.g. {os.path.join(path, _example_name(out.kind))})"
            )
        if os.path.lexists(path):
            if not os.path.isfile(path):
                raise ConfigError(f"{out.option}: {path} exists and is not a regular file")
            if not force and not written_by_swets(path, out.kind):
                raise ConfigError(
                    f"{out.option}: {path} exists and is not {KINDS[out.kind]}; swets does not "
                    "overwrite a file it did not write (--force overwrites it)"
                )
        _probe_directory(path, out.option)


def _example_name(kind: str) -> str:
    return {
        "checkpoint": "model.swets",
        "forecast_csv": "forecast.csv",
        "plot": "plot.png",
        "table_csv": "table.csv",
        "json": "result.json",
    }[kind]


class StagedWrites:
    """Outputs written to temporary siblings first, then moved over their targets together.

    Use as a context manager: :meth:`path` gives the temporary file to write for a target;
    leaving the block normally moves every temporary over its target in the order staged (stage
    the checkpoint last), leaving it by an exception removes the temporaries.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[str, str, str]] = []  # (temporary, target, option)

    def path(self, target: str | os.PathLike[str], option: str) -> str:
        """A fresh temporary path next to ``target`` (its directory is created)."""
        target = os.path.abspath(os.fspath(target))
        directory, base = os.path.split(target)
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"{option}: cannot create {directory}: {exc.strerror or exc}"
            ) from exc
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}{TEMP_SUFFIX}")
        self._staged.append((tmp, target, option))
        return tmp

    def commit(self) -> None:
        """Move every temporary over its target, in order (then make the renames durable)."""
        moved: set[str] = set()
        try:
            while self._staged:
                tmp, target, option = self._staged[0]
                try:
                    os.replace(tmp, target)
                except OSError as exc:
                    raise ConfigError(
                        f"{option}: cannot write {target}: {exc.strerror or exc}"
                    ) from exc
                self._staged.pop(0)
                moved.add(os.path.dirname(target))
        finally:
            self.discard()
        for directory in sorted(moved):
            _fsync_directory(directory)

    def discard(self) -> None:
        """Remove the temporaries not moved yet."""
        for tmp, _, _ in self._staged:
            with suppress(OSError):
                os.unlink(tmp)
        self._staged = []

    def __enter__(self) -> StagedWrites:
        return self

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def _fsync_directory(directory: str) -> None:
    if os.name != "posix":  # pragma: no cover - directories cannot be opened on Windows
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        with suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
