"""The per-epoch records of a training run: :class:`History` (what :meth:`Trainer.fit` returns)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from swets_core.errors import ConfigError, MissingKeyError, StateDictError

__all__ = ["History"]


class History:
    """Per-epoch records of a training run.

    Each record is a dict: ``epoch`` (0-based), ``step`` (optimizer steps done at its end), ``loss``
    (the sample-weighted mean training loss of the epoch), ``lr`` (the first group's learning rate
    during the epoch) and, with validation data, ``val_loss`` and ``val_<metric>`` for each metric.
    ``history["val_mae"]`` gives one value per epoch (NaN where a record lacks the key).

    Attributes:
        records: the list of per-epoch dicts.
        stop_reason: why training stopped before its budget (early stopping, the non-finite guard, a
            callback), or None.
        partial: True when the last record closes an epoch the budget (``max_steps``, ``max_time``)
            cut short: a run resumed with a larger budget continues that epoch and replaces the
            record with the epoch's full one.
    """

    __slots__ = ("partial", "records", "stop_reason")

    def __init__(
        self,
        records: Iterable[Mapping[str, Any]] = (),
        stop_reason: str | None = None,
        partial: bool = False,
    ):
        self.records: list[dict[str, Any]] = [dict(r) for r in records]
        self.stop_reason = stop_reason
        self.partial = bool(partial)

    def append(self, record: Mapping[str, Any], partial: bool = False) -> None:
        """Add one epoch's record (``partial``: of an epoch the budget cut short)."""
        self.records.append(dict(record))
        self.partial = bool(partial)

    def keys(self) -> list[str]:
        """Every key that appears in a record, in first-seen order."""
        seen: dict[str, None] = {}
        for r in self.records:
            for k in r:
                seen.setdefault(k, None)
        return list(seen)

    def __getitem__(self, key: str) -> list[Any]:
        if key not in self.keys():
            raise MissingKeyError(f"no {key!r} in the history; keys: {', '.join(self.keys())}")
        return [r.get(key, math.nan) for r in self.records]

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self):
        return iter(self.records)

    @property
    def epochs(self) -> int:
        """Number of completed epochs recorded."""
        return len(self.records)

    def best(self, monitor: str = "val_loss", mode: str = "min") -> dict[str, Any]:
        """The record with the best ``monitor`` value (NaN values are never best)."""
        if mode not in ("min", "max"):
            raise ConfigError(f"History.best: mode must be 'min' or 'max', got {mode!r}")
        values = [(r.get(monitor, math.nan), i) for i, r in enumerate(self.records)]
        values = [(v, i) for v, i in values if not math.isnan(v)]
        if not values:
            raise ConfigError(f"History.best: no finite {monitor!r} value is recorded")
        pick = min(values) if mode == "min" else max(values, key=lambda t: (t[0], -t[1]))
        return dict(self.records[pick[1]])

    def state_dict(self) -> dict[str, Any]:
        """Plain data: ``{"records": [...], "stop_reason": ..., "partial": ...}``."""
        return {
            "records": [dict(r) for r in self.records],
            "stop_reason": self.stop_reason,
            "partial": self.partial,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` (``partial`` defaults to False, as older states lack it).

        Raises:
            StateDictError: ``records`` is not a list of mappings, ``stop_reason`` neither a str
                nor None, or ``partial`` not a bool (every problem listed).
        """
        problems = []
        if not isinstance(state, Mapping):
            raise StateDictError("History", [f"expected a mapping, got {type(state).__name__}"])
        records = state.get("records")
        if not isinstance(records, list):
            problems.append(f"'records' must be a list of mappings, got {type(records).__name__}")
        else:
            problems += [
                f"records[{i}] is a {type(r).__name__}, not a mapping"
                for i, r in enumerate(records)
                if not isinstance(r, Mapping)
            ]
        reason = state.get("stop_reason")
        if reason is not None and not isinstance(reason, str):
            problems.append(f"'stop_reason' must be a str or None, got {type(reason).__name__}")
        partial = state.get("partial", False)
        if not isinstance(partial, bool):
            problems.append(f"'partial' must be a bool, got {type(partial).__name__}")
        if problems:
            raise StateDictError("History", problems)
        self.records = [dict(r) for r in records]
        self.stop_reason = reason
        self.partial = partial and bool(self.records)

    to_dict = state_dict

    def __repr__(self) -> str:
        last = self.records[-1] if self.records else {}
        shown = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in last.items()
        )
        return f"History({len(self.records)} epoch(s); last: {shown or '-'})"
