"""From a series to training loaders in one call: :func:`prepare`, and scalers from checkpoints.

Both live in :mod:`swets_train.jobs.prepare` (one ``prepare``, from a job or from data); they are
importable from here and from ``swets_train`` as well.
"""

from __future__ import annotations

from swets_train.jobs.prepare import Prepared, prepare, scaler_from_state

__all__ = ["Prepared", "prepare", "scaler_from_state"]
