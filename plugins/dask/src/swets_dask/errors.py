"""Errors of swets-dask (all :class:`~swets_core.errors.SwetsError` subclasses)."""

from __future__ import annotations

from swets_core.errors import SwetsError

__all__ = ["ReplicaError", "SweepError"]


class ReplicaError(SwetsError):
    """A data-parallel replica failed, was lost with its worker, or its parameters diverged."""


class SweepError(SwetsError):
    """A sweep configuration failed on every attempt Dask allowed it."""
