"""Entry point of swets-ops in the ``swets`` group: registers every standard op.

Each module of the package exposes ``register_all(register)``; this hook calls them in turn.
"""

from __future__ import annotations

from typing import Any

from swets_core import hookimpl


@hookimpl
def swets_register_ops(register: Any) -> None:
    """Register the standard op library."""
    from swets_ops import elementwise, fused, linalg, reduce, shape

    for module in (elementwise, reduce, linalg, shape, fused):
        module.register_all(register)
