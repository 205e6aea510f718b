"""Entry point of swets_serde_msgpack in the ``swets`` group: its pluggy hook implementations."""

from __future__ import annotations

from typing import Any

from swets_core import hookimpl


@hookimpl
def swets_register_serializers(register: Any) -> None:
    """Register the ``msgpack`` checkpoint serializer."""
    from swets_serde_msgpack.serializer import factory

    register("msgpack", factory, doc="Safe, versioned msgpack checkpoints (swets container v1).")
