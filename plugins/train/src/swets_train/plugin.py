"""Entry point of swets_train in the ``swets`` group: its pluggy hook implementations."""

from __future__ import annotations
