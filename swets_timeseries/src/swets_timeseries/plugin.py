"""Entry point of swets_timeseries in the ``swets`` group.

swets_timeseries registers no components: its classes (bars, series, scalers, datasets, the loader)
are used directly, and none of them is one of the registry's kinds (ops, layers, models, losses,
optimizers, schedulers, serializers, metrics). The module stays importable so plugin discovery
lists the distribution.
"""

from __future__ import annotations
