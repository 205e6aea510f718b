"""The payload schema of a checkpoint, field by field, and what loads but cannot forecast.

Loading trusts nothing in a file. :func:`check_payload` checks every field of a (migrated) checkpoint
payload by type before anything is built from it, and each problem is a
:class:`~swets_core.errors.CheckpointError` naming the field the way every loader of a checkpoint's
parts words it (:func:`field_error`: ``m.swets: field 'model.config.layer_width' is an array of shape
(3,) and dtype int64, ...``). Values that load but cannot give finite forecasts (NaN or infinite
weights, a scaler dividing by zero) warn with :class:`CheckpointWarning`, or fail when loading is
strict (:func:`strict_loading`: ``strict=True`` or ``SWETS_STRICT_CHECKPOINTS=1``).

Nothing here reads files or builds models; :mod:`swets_core.checkpoint` does both and re-exports
every public name of this module.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from swets_core.errors import CheckpointError, list_problems

PAYLOAD_FORMAT = "swets.checkpoint"
"""The value of the payload's ``format`` field."""

STRICT_ENV = "SWETS_STRICT_CHECKPOINTS"
"""The environment variable that makes loading strict (see :func:`strict_loading`)."""

_FLOAT_DTYPES = ("float32", "float64", "float16")


class CheckpointWarning(UserWarning):
    """A checkpoint loaded, but holds values that cannot give finite forecasts (NaN or infinite
    weights, a scaler dividing by zero). Strict loading raises :class:`CheckpointError` instead."""


def strict_loading(strict: bool | None = None) -> bool:
    """Whether loading is strict: ``strict`` when given, else the environment variable
    ``SWETS_STRICT_CHECKPOINTS`` (``1``, ``true``, ``yes`` or ``on``; anything else is lenient).

    Strict loading turns what lenient loading warns about (:class:`CheckpointWarning`: NaN or
    infinite weights, a scaler that divides by zero) into a :class:`CheckpointError`.
    """
    if strict is not None:
        return bool(strict)
    return os.environ.get(STRICT_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def report_suspect(problems: list[str], source: str, strict: bool | None = None) -> None:
    """Warn about (or, when loading is strict, refuse) values that load but cannot forecast.

    ``problems`` name each value (``model state 'head.weight' holds 3 NaN ...``); nothing happens
    when it is empty.

    Raises:
        CheckpointError: when :func:`strict_loading` says so.
    """
    if not problems:
        return
    text = f"{source}: {len(problems):,} value(s) that cannot give finite forecasts:" + (
        list_problems(problems)
    )
    if strict_loading(strict):
        raise CheckpointError(f"{text}\n(strict loading: {STRICT_ENV} or strict=True)")
    warnings.warn(
        f"{text}\n(set {STRICT_ENV}=1 or pass strict=True to refuse such files)",
        CheckpointWarning,
        stacklevel=3,
    )


def nonfinite_problems(arrays: Mapping[str, Any], what: str) -> list[str]:
    """One line per floating array of ``arrays`` holding NaN or infinite values, naming it with
    ``what`` (``model state``) and its counts."""
    out = []
    for name, arr in arrays.items():
        if not isinstance(arr, np.ndarray) or arr.dtype.kind != "f" or not arr.size:
            continue
        with np.errstate(all="ignore"):
            if np.isfinite(np.add.reduce(arr, axis=None)):  # cheap; exact check only if needed
                continue
            finite = np.isfinite(arr)
            if finite.all():
                continue
            n_nan = int(np.isnan(arr).sum())
        n_inf = int(arr.size - finite.sum()) - n_nan
        out.append(
            f"{what} {name!r} holds {n_nan:,} NaN and {n_inf:,} infinite value(s) of {arr.size:,}"
        )
    return out


def describe_value(value: Any) -> str:
    """What a value is, for messages: ``a list``, ``an int (3)``, ``a str ('x')``."""
    name = type(value).__name__
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if value is None:
        return "None"
    article = "an" if name[:1] in "aeiou" else "a"
    if isinstance(value, (bool, int, float)):
        return f"{article} {name} ({str(value)[:40]})"
    if isinstance(value, str):
        return f"{article} {name} ({value!r:.40})"
    return f"{article} {name}"


def _field(source: str, field: str, problem: str) -> CheckpointError:
    return CheckpointError(f"{source}: field {field!r} {problem}")


def field_error(source: str, field: str, value: Any, expected: str) -> CheckpointError:
    """The error for a payload field of the wrong type or range, the way every loader of a
    checkpoint's parts words it: ``<file>: field 'training.epoch' is a str ('x'), expected an int
    >= 0``."""
    return _field(source, field, f"is {describe_value(value)}, expected {expected}")


def _get(
    mapping: dict[str, Any], key: str, field: str, types: Any, expect: str, source: str
) -> Any:
    """``mapping[key]``, which must be of ``types`` (a CheckpointError naming ``field`` otherwise)."""
    if key not in mapping:
        raise CheckpointError(f"{source}: missing field {field!r}")
    value = mapping[key]
    if not isinstance(value, types):
        raise _field(source, field, f"is {describe_value(value)}, expected {expect}")
    return value


_CONFIG_SCALARS = (type(None), bool, int, float, str, np.bool_, np.integer, np.floating)


def _check_config(value: Any, field: str, source: str) -> None:
    """A model configuration is plain data: numbers, strings, bools, None, lists, tuples and
    dicts with str keys (no arrays, no bytes), as ``config()`` returns it."""
    if isinstance(value, _CONFIG_SCALARS):
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_config(v, f"{field}[{i}]", source)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise _field(source, field, f"has a key {k!r:.40} that is not a str")
            _check_config(v, f"{field}.{k}", source)
        return
    raise _field(
        source,
        field,
        f"is {describe_value(value)}; a model configuration holds numbers, strings, bools, None, lists "
        "and tables",
    )


_COMPONENT_KEYS = ("kind", "name", "distribution", "version", "plugin")


def _check_metadata(metadata: dict[str, Any], source: str) -> None:
    """The fields save_checkpoint writes, each of its type when present."""
    for key in ("swets_version", "created"):
        if key in metadata and not isinstance(metadata[key], str):
            raise _field(
                source, f"metadata.{key}", f"is {describe_value(metadata[key])}, expected a str"
            )
    if "user" in metadata and not isinstance(metadata["user"], dict):
        raise _field(
            source, "metadata.user", f"is {describe_value(metadata['user'])}, expected a mapping"
        )
    components = metadata.get("components", [])
    if not isinstance(components, list):
        raise _field(
            source, "metadata.components", f"is {describe_value(components)}, expected a list"
        )
    for i, comp in enumerate(components):
        where = f"metadata.components[{i}]"
        if not isinstance(comp, dict):
            raise _field(source, where, f"is {describe_value(comp)}, expected a mapping")
        for key in _COMPONENT_KEYS:
            if key in comp and not isinstance(comp[key], str):
                raise _field(
                    source, f"{where}.{key}", f"is {describe_value(comp[key])}, expected a str"
                )


def check_payload(payload: dict[str, Any], source: str) -> tuple[Any, ...]:
    """Every field of a (migrated) checkpoint payload, by type; a CheckpointError names the first
    one that is wrong. Returns ``(name, config, dtype, state, training, metadata)``."""
    fmt = payload.get("format")
    if not isinstance(fmt, str) or fmt != PAYLOAD_FORMAT:
        shown = f"{fmt!r:.40}" if isinstance(fmt, str) else describe_value(fmt)
        raise CheckpointError(
            f"{source}: not a swets checkpoint (field 'format' is {shown}, expected "
            f"{PAYLOAD_FORMAT!r})"
        )
    model = _get(payload, "model", "model", dict, "a mapping", source)
    name = _get(model, "name", "model.name", str, "a str (a registry name)", source)
    if not name:
        raise _field(source, "model.name", "is empty")
    config = _get(model, "config", "model.config", dict, "a mapping", source)
    _check_config(config, "model.config", source)
    state = _get(model, "state", "model.state", dict, "a mapping of names to arrays", source)
    for key, value in state.items():
        if not isinstance(key, str) or not isinstance(value, np.ndarray):
            raise CheckpointError(
                f"{source}: model state entry {key!r:.60} is not a named array (field "
                f"'model.state' holds {describe_value(value)} there)"
            )
    dtype = model.get("dtype")
    if dtype is not None and not (isinstance(dtype, str) and dtype in _FLOAT_DTYPES):
        shown = f"{dtype!r:.40}" if isinstance(dtype, str) else describe_value(dtype)
        raise _field(source, "model.dtype", f"is {shown}, expected None or one of {_FLOAT_DTYPES}")
    training = payload.get("training")
    if training is not None and not isinstance(training, dict):
        raise _field(
            source, "training", f"is {describe_value(training)}, expected None or a mapping"
        )
    metadata = _get(payload, "metadata", "metadata", dict, "a mapping", source)
    _check_metadata(metadata, source)
    return name, config, dtype, state, training, metadata


__all__ = [
    "PAYLOAD_FORMAT",
    "STRICT_ENV",
    "CheckpointWarning",
    "check_payload",
    "describe_value",
    "field_error",
    "nonfinite_problems",
    "report_suspect",
    "strict_loading",
]
