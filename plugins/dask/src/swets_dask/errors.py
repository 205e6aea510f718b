"""Errors of swets-dask (all :class:`~swets_core.errors.SwetsError` subclasses)."""

from __future__ import annotations

from swets_core.errors import SwetsError
from swets_train.sweep import SweepError

__all__ = ["ReplicaError", "SweepError"]


class ReplicaError(SwetsError):
    """A data-parallel replica failed, was lost with its worker, or its parameters diverged."""
