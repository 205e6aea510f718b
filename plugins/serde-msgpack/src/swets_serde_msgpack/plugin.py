"""Entry point of swets_serde_msgpack in the ``swets`` group: its pluggy hook implementations."""

from __future__ import annotations
