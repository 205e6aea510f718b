"""Hyper-parameter checks shared by optimizers and schedulers; every failure is a ConfigError."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from swets_core.checks import is_int
from swets_core.errors import ConfigError


def real(owner: str, name: str, value: Any) -> float:
    """``value`` as a finite Python float (bools and non-numbers are rejected)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{owner}: {name} must be a number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ConfigError(f"{owner}: {name} must be finite, got {value!r}")
    return out


def non_negative(owner: str, name: str, value: Any) -> float:
    """A finite float ``>= 0``."""
    out = real(owner, name, value)
    if out < 0.0:
        raise ConfigError(f"{owner}: {name} must be >= 0, got {value!r}")
    return out


def positive(owner: str, name: str, value: Any) -> float:
    """A finite float ``> 0``."""
    out = real(owner, name, value)
    if out <= 0.0:
        raise ConfigError(f"{owner}: {name} must be > 0, got {value!r}")
    return out


def in_range(
    owner: str,
    name: str,
    value: Any,
    low: float,
    high: float,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite float in the interval given by ``low``/``high`` (open or closed at each end)."""
    out = real(owner, name, value)
    bad_low = out <= low if low_open else out < low
    bad_high = out >= high if high_open else out > high
    if bad_low or bad_high:
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ConfigError(f"{owner}: {name} must be in {interval}, got {value!r}")
    return out


def unit_interval(owner: str, name: str, value: Any) -> float:
    """A finite float in ``[0, 1]``."""
    return in_range(owner, name, value, 0.0, 1.0)


def betas(owner: str, name: str, value: Any) -> tuple[float, float]:
    """A pair of floats, each in ``[0, 1)`` (Adam's ``(beta1, beta2)``)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ConfigError(f"{owner}: {name} must be a pair (beta1, beta2), got {value!r}")
    b1 = in_range(owner, f"{name}[0]", value[0], 0.0, 1.0, high_open=True)
    b2 = in_range(owner, f"{name}[1]", value[1], 0.0, 1.0, high_open=True)
    return (b1, b2)


def integer(owner: str, name: str, value: Any, minimum: int | None = None) -> int:
    """A Python int (bools rejected), optionally ``>= minimum``."""
    if not is_int(value):
        raise ConfigError(f"{owner}: {name} must be an integer, got {value!r}")
    out = int(value)
    if minimum is not None and out < minimum:
        raise ConfigError(f"{owner}: {name} must be >= {minimum}, got {value!r}")
    return out


def boolean(owner: str, name: str, value: Any) -> bool:
    """A real bool (``0``/``1`` and strings are rejected to catch swapped arguments)."""
    if not isinstance(value, bool):
        raise ConfigError(f"{owner}: {name} must be True or False, got {value!r}")
    return value


def choice(owner: str, name: str, value: Any, options: tuple[str, ...]) -> str:
    """One of ``options``."""
    if value not in options:
        raise ConfigError(
            f"{owner}: {name} must be one of {', '.join(repr(o) for o in options)}, got {value!r}"
        )
    return value


HYPER: Mapping[str, Callable[[str, str, Any], Any]] = MappingProxyType(
    {
        "lr": non_negative,
        "betas": betas,
        "alpha": unit_interval,
        "eps": non_negative,
        "weight_decay": non_negative,
        "momentum": non_negative,
        "dampening": unit_interval,
        "centered": boolean,
        "nesterov": boolean,
        "amsgrad": boolean,
        "maximize": boolean,
        "decoupled_weight_decay": boolean,
    }
)
"""The check of each hyper-parameter the optimizers share, by name: one definition each."""


def checks(**named: Callable[[str, str, Any], Any]) -> Mapping[str, Callable[[str, str, Any], Any]]:
    """A read-only table of checks by name, in the order given (a scheduler's ``_config_checks``)."""
    return MappingProxyType(named)


def hyper(*names: str) -> Mapping[str, Callable[[str, str, Any], Any]]:
    """The checks of ``names`` from :data:`HYPER`, in that order: an optimizer's ``_hyper``."""
    return MappingProxyType({name: HYPER[name] for name in names})
