"""The benchmark's protocols: how the ensemble of each competition subset is built and trained.

:data:`PAPER` holds the published N-BEATS-G settings, :data:`PROTOCOLS` the default ones that fit a
CPU budget (chosen on M1 and Tourism only: **M3 is the held-out evaluation**, docs/competitions.md);
:func:`protocol` reads one subset's :class:`Protocol` from either, and :func:`ensemble_members`
turns it into the member specs of the registry's ``"ensemble"``. Everything here is importable from
:mod:`swets_competitions.benchmark` as well.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import attrs

from swets_core.checks import is_int
from swets_core.errors import ConfigError

__all__ = ["PAPER", "PRESETS", "PROTOCOLS", "Protocol", "ensemble_members", "protocol"]


@attrs.frozen
class Protocol:
    """How the ensemble of one subset is built and trained.

    Attributes:
        history_size: the paper's ``L_H``: training cuts among the last ``L_H * horizon`` points of
            each series.
        steps: optimizer steps per member (the learning rate halves after each third).
        lookbacks: member lookbacks as multiples of the horizon (the paper: 2 to 7).
        losses: member training losses (registered names).
        repeats: seeds per (lookback, loss): the ensemble has ``repeats * len(lookbacks) *
            len(losses)`` members.
        batch_size: windows per step.
        lr: Adam's learning rate.
        model: the members' registered model.
        config: the members' model configuration (besides lookback and horizon).
    """

    history_size: float
    steps: int
    lookbacks: tuple[int, ...]
    losses: tuple[str, ...]
    repeats: int = 1
    batch_size: int = 1024
    lr: float = 1e-3
    model: str = "nbeats"
    config: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def members(self) -> int:
        """The ensemble size."""
        return self.repeats * len(self.lookbacks) * len(self.losses)


_ALL_LOSSES = ("smape", "mase", "mape")
_LOOKBACKS = (2, 3, 4, 5, 6, 7)


def _generic(num_blocks: int, num_layers: int, layer_width: int) -> dict[str, Any]:
    """An N-BEATS-G configuration (one generic stack, the naive level)."""
    return {
        "stack_types": ["generic"],
        "num_blocks": num_blocks,
        "num_layers": num_layers,
        "layer_width": layer_width,
        "naive_level": True,
    }


def _subsets(
    config: Mapping[str, Any],
    losses: tuple[str, ...],
    repeats: int,
    schedule: Mapping[str, tuple[float, int]],
) -> dict[str, Protocol]:
    """subset -> its :class:`Protocol`, from ``schedule``: subset -> (``L_H``, steps); every member
    has lookbacks 2H-7H and its own copy of ``config``."""
    return {
        subset: Protocol(
            history_size=history,
            steps=steps,
            lookbacks=_LOOKBACKS,
            losses=losses,
            repeats=repeats,
            config=dict(config),
        )
        for subset, (history, steps) in schedule.items()
    }


def _m4(steps_long: int, steps_short: int) -> dict[str, tuple[float, int]]:
    """M4's (``L_H``, steps) per subset: ``L_H`` 1.5 and ``steps_long`` steps for the yearly,
    quarterly and monthly subsets, ``L_H`` 10 and ``steps_short`` steps for the others."""
    return {
        **dict.fromkeys(("yearly", "quarterly", "monthly"), (1.5, steps_long)),
        **dict.fromkeys(("weekly", "daily", "hourly"), (10, steps_short)),
    }


_PAPER_MODEL = _generic(30, 4, 512)
_TOURISM_MODEL = _generic(30, 2, 512)  # the paper's Tourism model
_TOURISM = {"yearly": (5, 30), "quarterly": (10, 100), "monthly": (20, 100)}
"""Tourism's (``L_H``, steps) per subset: the paper's, and the default preset's as well."""

PAPER: dict[str, dict[str, Protocol]] = {
    "m3": _subsets(
        _PAPER_MODEL,
        _ALL_LOSSES,
        10,
        {"yearly": (20, 20), "quarterly": (20, 250), "monthly": (20, 10000), "other": (10, 250)},
    ),
    "tourism": _subsets(_TOURISM_MODEL, ("mape",), 10, _TOURISM),
    "m4": _subsets(_PAPER_MODEL, _ALL_LOSSES, 10, _m4(15000, 5000)),
}
"""The published N-BEATS-G settings (the paper's appendix and its published experiment files):
30 generic blocks of 4 layers of width 512 (2 layers for Tourism), batch 1024, lookbacks 2H-7H,
losses sMAPE, MASE and MAPE (MAPE alone for Tourism), 10 repeats: 180 members (60 for Tourism).
Far beyond a laptop's CPU budget; ``swets benchmark --preset paper`` runs them as published."""

_CPU_MODEL = _generic(10, 4, 256)
_M1_CPU = {"yearly": (20, 30), "quarterly": (20, 250), "monthly": (20, 300)}
"""M1's (``L_H``, steps) per subset, which M3's subsets of the same names share."""

PROTOCOLS: dict[str, dict[str, Protocol]] = {
    "m1": _subsets(_CPU_MODEL, _ALL_LOSSES, 1, _M1_CPU),
    "m3": _subsets(_CPU_MODEL, _ALL_LOSSES, 1, {**_M1_CPU, "other": (10, 250)}),
    "tourism": _subsets(_TOURISM_MODEL, ("mape",), 1, _TOURISM),
    "m4": _subsets(_CPU_MODEL, _ALL_LOSSES, 1, _m4(1000, 500)),
}
"""The default settings: what fits a CPU budget of 30 minutes on 2 cores per subset (chosen on M1
and Tourism; see docs/competitions.md for the measurements)."""

PRESETS = {"cpu": PROTOCOLS, "paper": PAPER}


def protocol(dataset: str, subset: str, preset: str = "cpu") -> Protocol:
    """The :class:`Protocol` of a subset in a preset (``"cpu"``: :data:`PROTOCOLS`, ``"paper"``:
    :data:`PAPER`).

    Raises:
        ConfigError: an unknown preset, competition or subset (listing the known ones).
    """
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    table = PRESETS[preset]
    key = str(dataset).lower()
    if key not in table:
        raise ConfigError(
            f"the {preset!r} preset has no settings for {dataset!r}; it has {', '.join(table)}"
        )
    sub = str(subset).lower()
    if sub not in table[key]:
        raise ConfigError(
            f"{dataset} has no subset {subset!r}; its subsets are {', '.join(table[key])}"
        )
    return table[key][sub]


def ensemble_members(
    proto: Protocol,
    horizon: int,
    *,
    model: str | None = None,
    config: Mapping[str, Any] | None = None,
    members: int | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """The member specs of a subset's ensemble: for each repeat ``r`` (seed ``seed + r``), each
    lookback ``k * horizon`` and each loss, the model ``model`` (default the protocol's) with its
    configuration (the protocol's when the model is the protocol's, updated with ``config``).
    ``members`` keeps the first that many (repeats vary slowest, losses fastest)."""
    name = proto.model if model is None else model
    base = dict(proto.config) if name == proto.model else {}
    base.update(config or {})
    base.setdefault("n_features", 1)
    specs = [
        {
            "model": name,
            "config": {**base, "lookback": int(k * horizon), "horizon": int(horizon)},
            "loss": loss,
            "seed": int(seed + r),
        }
        for r, k, loss in itertools.product(range(proto.repeats), proto.lookbacks, proto.losses)
    ]
    if members is not None:
        if not is_int(members) or not 1 <= members <= len(specs):
            raise ConfigError(
                f"members must be an int from 1 to {len(specs)} (repeats x lookbacks x losses), "
                f"got {members!r}"
            )
        specs = specs[: int(members)]
    return specs
