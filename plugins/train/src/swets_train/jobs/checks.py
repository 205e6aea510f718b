"""The checks of a job specification's values: one function per kind of value, each raising a
:class:`~swets_core.errors.ConfigError` naming the key (``where``), and the attrs plumbing of the
sections (:func:`_field`, :func:`_parse_section`, :func:`_section_dict`)."""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from swets_core.checks import is_int
from swets_core.errors import ConfigError
from swets_train.jobs.options import option

_SCALERS = ("standard", "minmax", "robust")


def _suggest(name: str, known: Sequence[str], noun: str = "keys") -> str:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    if close:
        return "; did you mean " + " or ".join(repr(c) for c in close) + "?"
    return f"; known {noun}: {', '.join(known)}"


def _is_plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False


def _plain(value: Any) -> Any:
    """A copy with tuples as lists and mappings as dicts (TOML/msgpack-friendly)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _int(minimum: int, optional: bool = False) -> Callable[[Any, str], Any]:
    def check(value: Any, where: str) -> Any:
        if optional and (value is None or value == "none"):
            return None
        if not is_int(value) or value < minimum:
            extra = ' or "none"' if optional else ""
            raise ConfigError(f"{where} must be an int >= {minimum}{extra}, got {value!r}")
        return int(value)

    return check


def _number(
    low: float, high: float = math.inf, *, open_low: bool = False, optional: bool = False
) -> Callable[[Any, str], Any]:
    def check(value: Any, where: str) -> Any:
        if optional and (value is None or value == "none"):
            return None
        ok = (
            not isinstance(value, bool)
            and isinstance(value, (int, float, np.integer, np.floating))
            and math.isfinite(float(value))
        )
        if ok:
            v = float(value)
            ok = (v > low if open_low else v >= low) and v < high
        if not ok:
            bound = f"> {low:g}" if open_low else f">= {low:g}"
            if high != math.inf:
                bound += f" and < {high:g}"
            raise ConfigError(f"{where} must be a number {bound}, got {value!r}")
        return float(value)

    return check


def _text(
    optional: bool = False, choices: Sequence[str] | None = None
) -> Callable[[Any, str], Any]:
    def check(value: Any, where: str) -> Any:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where} must be a non-empty string, got {value!r}")
        if choices is not None and value not in choices:
            close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"{where} must be one of {', '.join(choices)}, got {value!r}{hint}")
        return value

    return check


def _int_or_auto(minimum: int, optional: bool = False) -> Callable[[Any, str], Any]:
    """An int ``>= minimum``, or ``"auto"`` (resolved from the data when the job is prepared)."""
    check = _int(minimum, optional)

    def checked(value: Any, where: str) -> Any:
        if value == "auto":
            return "auto"
        try:
            return check(value, where)
        except ConfigError:
            extra = ' or "none"' if optional else ""
            raise ConfigError(
                f'{where} must be an int >= {minimum}{extra} or "auto", got {value!r}'
            ) from None

    return checked


def _calendar(value: Any, where: str) -> Any:
    """``"auto"``, or calendar feature names (``"none"`` or an empty list: none)."""
    from swets_timeseries.features import CALENDAR

    if value == "auto":
        return "auto"
    if value is None or value == "none":
        return ()
    names = _names(value, where)
    for name in names:
        if name not in CALENDAR or name == "holiday":
            known = [c for c in CALENDAR if c != "holiday"]
            raise ConfigError(
                f"{where}: unknown calendar feature {name!r}"
                + _suggest(name, known, "features")
                + f" (the holiday flag comes with {option('data.holidays')})"
            )
    return names


def _holidays(value: Any, where: str) -> Any:
    """A file of dates (a string naming a file), or dates: a list, or comma-separated text."""
    if value is None or value == "none":
        return ()
    if isinstance(value, str):
        parts = [v.strip() for v in value.split(",") if v.strip()]
        if len(parts) == 1 and not _is_date(parts[0]):
            return parts[0]  # a file, read when the job is prepared
        value = parts
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{where} must be a list of dates or a file, got {value!r:.80}")
    out = []
    for i, d in enumerate(value):
        text = d.isoformat() if hasattr(d, "isoformat") else d
        if not isinstance(text, str) or not _is_date(text):
            raise ConfigError(f"{where}[{i}]: {d!r} is not a date (YYYY-MM-DD)")
        out.append(text[:10])
    return tuple(sorted(set(out)))


def _is_date(text: str) -> bool:
    try:
        np.datetime64(text.strip()[:10], "D")
    except ValueError:
        return False
    return len(text.strip()) >= 10 and text.strip()[4] == "-"


def _names(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where} must be a list of column names, got {value!r}")
    if len(set(value)) != len(value):
        raise ConfigError(f"{where} names a column twice: {list(value)}")
    return tuple(value)


def _options(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not _is_plain(value):
        raise ConfigError(
            f"{where} must be a table of plain values (numbers, strings, booleans, lists), "
            f"got {value!r:.80}"
        )
    return _plain(value)


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, got {value!r}")
    return value


def _scaler(value: Any, where: str) -> str | None:
    if value is None or value == "none":
        return None
    return _text(choices=(*_SCALERS, "none"))(value, where)


def _field(default: Any, check: Callable[[Any, str], Any], doc: str, **kw: Any) -> Any:
    """An attrs field (immutable default) with its validator and a one-line doc as metadata."""
    return attrs.field(default=default, metadata={"check": check, "doc": doc}, **kw)


def _parse_section(cls: type, section: str, values: Any) -> dict[str, Any]:
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        raise ConfigError(f"[{section}] must be a table of keys, got {type(values).__name__}")
    fields = {f.name: f for f in attrs.fields(cls)}
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in fields:
            raise ConfigError(f"[{section}] unknown key {key!r}" + _suggest(str(key), list(fields)))
        out[key] = fields[key].metadata["check"](value, f"{section}.{key}")
    return out


def _section_dict(obj: Any) -> dict[str, Any]:
    """The fields of a section as plain data. None is left out where it is the default and written
    ``"none"`` where it is not (TOML has no null); empty option tables are left out."""
    out = {}
    for f in attrs.fields(type(obj)):
        value = getattr(obj, f.name)
        if value is None:
            if f.default is not None and not isinstance(f.default, attrs.Factory):
                out[f.name] = "none"
            continue
        if isinstance(value, dict) and not value:
            continue
        out[f.name] = _plain(value)
    return out
