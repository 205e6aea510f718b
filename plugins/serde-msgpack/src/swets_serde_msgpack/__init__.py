"""swets_serde_msgpack: the safe, versioned, crash-proof msgpack checkpoint format of swets.

Registered as the ``msgpack`` serializer; :mod:`swets_core.checkpoint` uses it by default when it is
the only serializer installed. The writer and reader apply core's plain-data checks
(:mod:`swets_core.plaindata`). The byte layout is documented in ``docs/checkpoint-format.md`` and in
:mod:`swets_serde_msgpack.format`.
"""

from __future__ import annotations

__version__ = "0.1.0"

from swets_serde_msgpack.format import CONTAINER_VERSION, MAGIC, dumps, loads
from swets_serde_msgpack.serializer import MsgpackSerializer, factory

__all__ = [
    "CONTAINER_VERSION",
    "MAGIC",
    "MsgpackSerializer",
    "__version__",
    "dumps",
    "factory",
    "loads",
]
