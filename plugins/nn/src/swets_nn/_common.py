"""Helpers shared by the layers: random generators, dtypes, input checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from swets_core import Tensor
from swets_core.checks import RngLike as RngLike  # re-exported: what a layer accepts as rng
from swets_core.checks import as_generator as as_generator  # re-exported: the one reading of it
from swets_core.dtype import DType
from swets_core.errors import ConfigError, DTypeError, ShapeError


def child_generator(rng: np.random.Generator) -> np.random.Generator:
    """An independent generator derived from ``rng`` (for the dropout stream of a layer)."""
    try:
        return rng.spawn(1)[0]
    except (TypeError, ValueError, AttributeError):  # a bit generator without a SeedSequence
        return np.random.default_rng(int(rng.integers(0, 2**63 - 1)))


def float_dtype(dtype: Any, owner: str) -> np.dtype:
    """The numpy dtype of a layer's parameters: float32 or float64."""
    try:
        return DType.floating(dtype).numpy
    except DTypeError as exc:
        raise DTypeError(f"{owner}: {exc}") from None


def positive_int(value: Any, name: str, owner: str, allow_zero: bool = False) -> int:
    """Validate a size argument."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"{owner}: {name} must be an int, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{owner}: {name} must be {bound}, got {value}")
    return int(value)


def probability(value: Any, name: str, owner: str) -> float:
    """Validate a dropout probability in [0, 1]."""
    try:
        p = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{owner}: {name} must be a number in [0, 1], got {value!r}") from None
    if not 0.0 <= p <= 1.0:
        raise ConfigError(f"{owner}: {name} must be in [0, 1], got {value}")
    return p


def _fmt(shape: Sequence[Any]) -> str:
    items = [str(s) for s in shape]
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def describe(layer: Any) -> str:
    """``Linear(in_features=8, out_features=4, bias=True)``: how errors name a layer."""
    return f"{type(layer).__name__}({layer.extra_repr()})"


def check_shape(
    x: Tensor | np.ndarray,
    owner: Any,
    expected: Sequence[Any],
    ndims: Sequence[int] | None = None,
    features: dict[int, int] | None = None,
    what: str = "input",
    min_ndim: int = 1,
) -> None:
    """Raise ShapeError unless ``x.ndim`` is in ``ndims`` (or at least ``min_ndim`` when ``ndims`` is
    None) and ``x.shape[axis] == size`` for every ``axis: size`` of ``features``.

    ``expected`` is the shape shown in the message, e.g. ``("N", "C_in", "L")``. ``owner`` names the
    layer in the message: a string, or the layer itself (described only when an error is raised, so
    the check costs nothing on the hot path).
    """
    shape = x.shape if type(x) is np.ndarray else x._data.shape
    if not isinstance(owner, str):
        rank_ok = len(shape) in ndims if ndims is not None else len(shape) >= min_ndim
        if rank_ok and not (features and any(shape[a] != n for a, n in features.items())):
            return
        owner = describe(owner)
    if ndims is not None:
        if len(shape) not in ndims:
            ranks = " or ".join(f"{n}-D" for n in sorted(ndims))
            raise ShapeError(
                f"{owner}: expected {what} of shape {_fmt(expected)} ({ranks}), got shape {shape}"
            )
    elif len(shape) < min_ndim:
        raise ShapeError(
            f"{owner}: expected {what} of shape {_fmt(expected)} (at least {min_ndim}-D), "
            f"got shape {shape}"
        )
    if features:
        for axis, size in features.items():
            if shape[axis] != size:
                dim = axis if axis >= 0 else len(shape) + axis
                raise ShapeError(
                    f"{owner}: expected {what} of shape {_fmt(expected)} with size {size} at "
                    f"dimension {dim}, got shape {shape}"
                )


def fmt_shape(shape: Sequence[Any]) -> str:
    """``(a, b)`` with a trailing comma for one element, as Python prints tuples."""
    return _fmt(shape)
