"""Random generators: what a ``rng`` argument accepts, and their state as plain data.

:func:`as_generator` is the one reading of a ``rng`` argument (a Generator, an int seed or None)
that layers and models take; :func:`check_generator` the one check of an argument that must be a
Generator itself (ops, samplers, ``Tensor.randn``). :func:`generator_state` captures a numpy ``Generator``; :func:`restore_generator` rebuilds one in that
exact state, choosing the bit generator **from an allow-list by name**, never from an import path
read from a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from swets_core.errors import ArgumentTypeError, CheckpointError, ConfigError

RngLike = np.random.Generator | int | None
"""What a ``rng`` argument accepts: a numpy Generator (used as is), a non-negative int seed, or None
(fresh entropy)."""


def as_generator(rng: RngLike, where: str, *, name: str = "rng") -> np.random.Generator:
    """``rng`` as a numpy Generator: a Generator as it is, an int the seed of a new one, None a new
    one from fresh entropy.

    Args:
        rng: the argument.
        where: who takes it (a layer, a model, a function), for the message.
        name: the argument's name, for the message.

    Raises:
        ConfigError: anything else (a negative int, a bool, text), naming ``where`` and ``name``.
    """
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise ConfigError(
        f"{where}: {name} must be a numpy.random.Generator, a non-negative int seed or None, "
        f"got {rng!r:.60}"
    )


def check_generator(
    rng: Any, where: str = "", *, error: type[Exception] = ArgumentTypeError
) -> np.random.Generator:
    """``rng`` itself if it is a numpy Generator (what takes an explicit generator, not a seed),
    else ``error`` naming ``where``."""
    if not isinstance(rng, np.random.Generator):
        prefix = f"{where}: " if where else ""
        raise error(
            f"{prefix}rng must be a numpy.random.Generator (numpy.random.default_rng(seed)), got "
            f"{type(rng).__name__}"
        )
    return rng


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


__all__ = [
    "RngLike",
    "as_generator",
    "check_generator",
    "generator_state",
    "restore_generator",
]
