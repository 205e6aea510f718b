"""Entry point of swets_models in the ``swets`` group: registers the forecasting models."""

from __future__ import annotations

from typing import Any

import swets_core
from swets_models import MODELS


@swets_core.hookimpl
def swets_register_models(register: Any) -> None:
    """Register every model of :data:`swets_models.MODELS`."""
    for name, cls in MODELS.items():
        register(name, cls)
