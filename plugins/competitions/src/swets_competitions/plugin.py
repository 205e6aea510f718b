"""Entry point of swets-competitions in the ``swets`` group: the ``swets benchmark`` command.

The loaders, metrics and statistical baselines are used directly (the competition metrics are
aggregates over a whole split, computed through the registered ``smape``, ``mape`` and ``mase``
metrics of swets-train); the benchmark reaches the models (``ensemble``, ``nbeats``...) and, with
``--dask``, swets-dask's ``dask_runner`` through the registry.
"""

from __future__ import annotations

from typing import Any

from swets_core import hookimpl


@hookimpl
def swets_register_commands(cli: Any) -> None:
    """Add ``swets benchmark``."""
    from swets_competitions.cli import register_commands

    register_commands(cli)
