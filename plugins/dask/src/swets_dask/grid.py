"""Configurations of a sweep: dotted keys, grids, random draws and stable configuration ids.

A configuration is a mapping of *dotted keys* to values, each key naming one field of a job
specification (``"model.hidden_size"``, ``"training.lr"``, ``"data.series"``). Applied to a base
specification it gives one job.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from swets_core.errors import ConfigError

__all__ = [
    "apply_overrides",
    "config_id",
    "expand_grid",
    "get_dotted",
    "grid_size",
    "sample_grid",
    "set_dotted",
]


def _split_key(key: Any) -> list[str]:
    if not isinstance(key, str) or not key or any(not p for p in key.split(".")):
        raise ConfigError(
            f"a configuration key must be a dotted name such as 'model.hidden_size', got {key!r}"
        )
    return key.split(".")


def get_dotted(spec: Mapping[str, Any], key: str) -> Any:
    """The value at dotted ``key`` of a nested mapping.

    Raises:
        ConfigError: a part of the key is missing (the existing keys at that level are listed).
    """
    node: Any = spec
    parts = _split_key(key)
    for i, part in enumerate(parts):
        if not isinstance(node, Mapping) or part not in node:
            where = ".".join(parts[:i]) or "the specification"
            have = sorted(map(str, node)) if isinstance(node, Mapping) else []
            raise ConfigError(
                f"{key!r}: {where} has no {part!r}"
                + (f" (it has {', '.join(have)})" if have else "")
            )
        node = node[part]
    return node


def set_dotted(spec: dict[str, Any], key: str, value: Any) -> None:
    """Set dotted ``key`` of a nested dict in place, creating missing inner sections.

    The first part must name an existing top-level section of ``spec`` (a typo such as
    ``"modle.hidden_size"`` is an error, not a new section).

    Raises:
        ConfigError: the top-level section does not exist, or a part of the path is not a mapping.
    """
    parts = _split_key(key)
    if parts[0] not in spec:
        raise ConfigError(
            f"{key!r}: the specification has no section {parts[0]!r} "
            f"(sections: {', '.join(sorted(map(str, spec)))})"
        )
    node = spec
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(
                f"{key!r}: {'.'.join(parts[: i + 1])} is a {type(child).__name__}, not a section"
            )
        node = child
    node[parts[-1]] = copy.deepcopy(value)


def apply_overrides(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``base`` with every dotted key of ``overrides`` set."""
    if not isinstance(base, Mapping):
        raise ConfigError(f"a job specification must be a mapping, got {type(base).__name__}")
    out = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        set_dotted(out, key, value)
    return out


def _check_grid(grid: Mapping[str, Sequence[Any]]) -> list[tuple[str, list[Any]]]:
    if not isinstance(grid, Mapping):
        raise ConfigError(
            f"a grid must map dotted keys to lists of values, got {type(grid).__name__}"
        )
    items = []
    for key, values in grid.items():
        _split_key(key)
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise ConfigError(
                f"grid[{key!r}] must be a list of values, got {type(values).__name__}"
            )
        if len(values) == 0:
            raise ConfigError(f"grid[{key!r}] is empty; give at least one value")
        items.append((key, list(values)))
    if not items:
        raise ConfigError("the grid has no key")
    return items


def grid_size(grid: Mapping[str, Sequence[Any]]) -> int:
    """Number of configurations in the cartesian product of ``grid``."""
    return math.prod(len(v) for _, v in _check_grid(grid))


def _decode(items: list[tuple[str, list[Any]]], index: int) -> dict[str, Any]:
    """The ``index``-th configuration of the product (the last key varies fastest)."""
    out: dict[str, Any] = {}
    for key, values in reversed(items):
        index, r = divmod(index, len(values))
        out[key] = values[r]
    return {key: out[key] for key, _ in items}


def expand_grid(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every configuration of the cartesian product, in ``itertools.product`` order.

    ``{"a": [1, 2], "b": [3, 4]}`` gives ``[{a: 1, b: 3}, {a: 1, b: 4}, {a: 2, b: 3}, {a: 2, b: 4}]``.
    """
    items = _check_grid(grid)
    return [_decode(items, i) for i in range(math.prod(len(v) for _, v in items))]


def sample_grid(grid: Mapping[str, Sequence[Any]], n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` distinct configurations drawn uniformly from the grid's product (random search).

    The draw depends only on ``grid`` and ``seed``; the configurations come in product order.

    Raises:
        ConfigError: ``n`` is not a positive int or exceeds the number of configurations.
    """
    items = _check_grid(grid)
    total = math.prod(len(v) for _, v in items)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"n_random must be an int >= 1, got {n!r}")
    if n > total:
        raise ConfigError(
            f"n_random={n} exceeds the {total} distinct configurations of the grid; "
            "run the whole grid instead"
        )
    if total > 2**62:
        raise ConfigError(f"the grid has {total} configurations, too many to draw from")
    rng = np.random.default_rng(seed)
    picks = np.sort(rng.choice(total, size=n, replace=False))
    return [_decode(items, int(i)) for i in picks]


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ConfigError(
        f"configuration values must be plain data (numbers, strings, bools, None, lists, dicts), "
        f"got {type(value).__name__}"
    )


def config_id(overrides: Mapping[str, Any]) -> str:
    """A stable 10-hex-digit id of a configuration (the same on every machine and run)."""
    text = json.dumps(_canonical(dict(overrides)), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:10]
