"""Entry point of swets-nn in the ``swets`` group: registers every layer."""

from __future__ import annotations

from typing import Any

from swets_core import hookimpl


@hookimpl
def swets_register_layers(register: Any) -> None:
    """Register the layers under their snake_case names (see ``swets_nn.LAYERS``)."""
    from swets_nn import LAYERS

    for name, cls in LAYERS.items():
        register(name, cls)
