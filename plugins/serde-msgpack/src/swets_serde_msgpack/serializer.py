"""The ``msgpack`` serializer object registered with swets."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from swets_serde_msgpack import format as _format


class MsgpackSerializer:
    """The swets msgpack checkpoint format (implements :class:`swets_core.protocols.Serializer`).

    Args:
        mmap: load by mapping the file copy-on-write instead of reading it: tensors are views of the
            mapping (writable; writes stay private), pages are read on first use. Only for files
            nobody rewrites in place while they are loaded (``os.replace``, as swets saves, is
            safe; ``cp`` over the file is not).
        threads: worker threads hashing large tensors (default: up to 4, by available cores).
        fsync: fsync the file and its directory when saving (default). With False a killed process
            still leaves the old or the new file whole, but a power loss may not.
    """

    __slots__ = ("fsync", "mmap", "threads")

    name = "msgpack"
    suffix = ".swets"
    magic = _format.MAGIC
    version = _format.CONTAINER_VERSION

    def __init__(
        self, *, mmap: bool = False, threads: int | None = None, fsync: bool = True
    ) -> None:
        self.mmap = bool(mmap)
        self.threads = threads
        self.fsync = bool(fsync)

    def matches(self, head: bytes) -> bool:
        """True when ``head`` (the first bytes of a file) starts with this format's magic."""
        return bytes(head[: len(_format.MAGIC)]) == _format.MAGIC

    def save(self, payload: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
        """Write ``payload`` (plain data) to ``path`` crash-safely."""
        _format.save(os.fspath(path), payload, self.threads, self.fsync)

    def load(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        """Read and validate ``path``; never executes anything from the file.

        Raises:
            swets_core.errors.CheckpointError: the file is corrupt, hostile or of an unknown version.
        """
        return _format.load(os.fspath(path), mmap=self.mmap, threads=self.threads)

    def dumps(self, payload: Mapping[str, Any]) -> bytes:
        """The bytes :meth:`save` writes, in memory."""
        return _format.dumps(payload)

    def loads(self, data: bytes | bytearray | memoryview) -> dict[str, Any]:
        """Read and validate checkpoint bytes held in memory."""
        return _format.loads(data)

    def __repr__(self) -> str:
        return f"MsgpackSerializer(mmap={self.mmap}, threads={self.threads}, fsync={self.fsync})"


def factory(**options: Any) -> MsgpackSerializer:
    """The registered factory: ``registry.create("serializers", "msgpack")``."""
    return MsgpackSerializer(**options)
