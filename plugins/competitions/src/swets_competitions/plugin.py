"""Entry point of swets-competitions in the ``swets`` group.

swets-competitions registers no components yet: its loaders, metrics and statistical baselines are
used directly (the competition metrics are aggregates over a whole split, computed through the
registered ``smape``, ``mape`` and ``mase`` metrics of swets-train). The module stays importable so
plugin discovery lists the distribution.
"""

from __future__ import annotations
