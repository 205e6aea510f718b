"""Random-generator state as plain data, so a checkpoint resumes a run's randomness exactly.

:func:`generator_state` captures a numpy ``Generator``; :func:`restore_generator` rebuilds one in that
exact state, choosing the bit generator **from an allow-list by name**, never from an import path
read from a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from swets_core.checks import check_generator
from swets_core.errors import CheckpointError

_BIT_GENERATORS = {
    "PCG64": np.random.PCG64,
    "PCG64DXSM": np.random.PCG64DXSM,
    "Philox": np.random.Philox,
    "SFC64": np.random.SFC64,
    "MT19937": np.random.MT19937,
}


def generator_state(rng: np.random.Generator) -> dict[str, Any]:
    """The state of a numpy ``Generator`` as plain data (``rng.bit_generator.state``, copied)."""
    return _copy_plain(check_generator(rng, "generator_state").bit_generator.state)


def _copy_plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy_plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


def restore_generator(state: Mapping[str, Any]) -> np.random.Generator:
    """A numpy ``Generator`` in exactly the state :func:`generator_state` captured.

    The bit generator class is chosen from an allow-list by its name (PCG64, PCG64DXSM, Philox,
    SFC64, MT19937), never imported from a name in the file.

    Raises:
        CheckpointError: unknown bit generator or a state numpy rejects.
    """
    name = state.get("bit_generator") if isinstance(state, Mapping) else None
    cls = _BIT_GENERATORS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise CheckpointError(
            f"unknown bit generator {name!r:.40} in RNG state; known: {', '.join(_BIT_GENERATORS)}"
        )
    bit_gen = cls()
    try:
        bit_gen.state = _copy_plain(dict(state))
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise CheckpointError(f"invalid {name} RNG state: {exc}") from exc
    return np.random.Generator(bit_gen)


__all__ = ["generator_state", "restore_generator"]
