"""Shared fixtures for the optimizer tests: small parameter sets and a fixed gradient sequence."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from swets_core import Parameter, Tensor

SHAPES = [(4, 3), (5,), (2, 2, 2)]
STEPS = 200


def initial_arrays(seed: int = 0, dtype: Any = np.float64) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def gradient_sequence(steps: int = STEPS, seed: int = 1, dtype: Any = np.float64) -> list[list]:
    """Per step, one gradient per parameter, or None when that parameter is skipped.

    Parameter 1 gets no gradient every third step; parameter 2 none during the first five steps
    (its state is created late), which exercises the per-parameter step counters.
    """
    rng = np.random.default_rng(seed)
    seq = []
    for t in range(steps):
        row = []
        for i, s in enumerate(SHAPES):
            g = rng.standard_normal(s).astype(dtype)
            if (i == 1 and t % 3 == 0) or (i == 2 and t < 5):
                g = None
            row.append(g)
        seq.append(row)
    return seq


def swets_params(arrays: list[np.ndarray]) -> list[Parameter]:
    return [Parameter(a.copy()) for a in arrays]


def grads_for(params: list[Parameter], row: list) -> dict:
    return {p.id: Tensor(g.copy()) for p, g in zip(params, row) if g is not None}


def assert_plain(obj: Any, where: str = "state") -> None:
    """Fail unless ``obj`` is plain data: str-keyed dicts, lists, numbers, strings, arrays."""
    if obj is None or isinstance(obj, (bool, int, float, str, np.ndarray)):
        return
    if isinstance(obj, list):
        for i, x in enumerate(obj):
            assert_plain(x, f"{where}[{i}]")
        return
    if isinstance(obj, dict):
        for k, x in obj.items():
            assert isinstance(k, str), f"{where}: non-string key {k!r}"
            assert_plain(x, f"{where}.{k}")
        return
    raise AssertionError(f"{where}: {type(obj).__name__} is not plain data")


def roundtrip(obj: Any) -> Any:
    """A deep copy through plain containers (what a checkpoint serializer does)."""
    if isinstance(obj, np.ndarray):
        return np.array(obj, copy=True)
    if isinstance(obj, list):
        return [roundtrip(x) for x in obj]
    if isinstance(obj, Mapping):
        return {k: roundtrip(x) for k, x in obj.items()}
    return obj


Factory = Callable[[list[Parameter]], Any]
