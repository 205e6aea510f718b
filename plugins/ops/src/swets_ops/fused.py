"""fused ops of swets-ops."""

from __future__ import annotations

from typing import Any


def register_all(register: Any) -> None:
    """Register the ops of this module."""
