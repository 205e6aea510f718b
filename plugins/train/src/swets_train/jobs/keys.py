"""A job's plain data by key: dotted keys (:func:`get_dotted`, :func:`set_dotted`,
:func:`apply_overrides`), TOML job files (:func:`read_job_file`) and command-line values
(:func:`parse_value`)."""

from __future__ import annotations

import copy
import difflib
import os
from collections.abc import Mapping
from typing import Any

from swets_core.errors import ConfigError
from swets_core.lazy import exports_of
from swets_train.jobs.options import SECTIONS

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, as a package
    import tomli as tomllib

__all__ = exports_of(__name__)


def _split_key(key: Any) -> list[str]:
    if not isinstance(key, str) or not key or any(not p.strip() for p in key.split(".")):
        raise ConfigError(
            f"a configuration key must be a dotted name such as 'model.hidden_size', got {key!r}"
        )
    return [p.strip() for p in key.split(".")]


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
    """Set dotted ``key`` (``"model.layer_width"``) of a job's plain data in place, creating missing
    sections and tables.

    Raises:
        ConfigError: a key of one part, a first part that is not a section (with "did you mean"),
            or a part of the path that holds a value instead of a table.
    """
    parts = _split_key(key)
    if len(parts) < 2:
        raise ConfigError(f"{key!r}: the key must be SECTION.KEY (e.g. model.layer_width)")
    if parts[0] not in SECTIONS:
        close = difflib.get_close_matches(parts[0], SECTIONS, n=1, cutoff=0.6)
        raise ConfigError(
            f"{key!r}: the specification has no section {parts[0]!r} (sections: "
            f"{', '.join(SECTIONS)})" + (f"; did you mean {close[0]!r}?" if close else "")
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
    """A deep copy of the plain data ``base`` with every dotted key of ``overrides`` set."""
    if not isinstance(base, Mapping):
        raise ConfigError(f"a job specification must be a mapping, got {type(base).__name__}")
    out = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        set_dotted(out, key, value)
    return out


# -- job files --------------------------------------------------------------------------------------
def read_job_file(path: str | os.PathLike[str], where: str = "job file") -> dict[str, Any]:
    """The plain data of a TOML job file (not yet validated: see :meth:`JobSpec.from_dict`).

    Raises:
        ConfigError: naming ``where`` and the file: missing, a directory, unreadable, not UTF-8, or
            not valid TOML.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{where}: cannot read {path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{where}: {path} is a directory, not a TOML file") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: {path} is not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where}: {path} is not UTF-8 text: {exc}") from None


def parse_value(text: str) -> Any:
    """A command-line value as TOML reads it (``16`` an int, ``1e-3`` a float, ``true`` a bool,
    ``"a,b"`` a quoted string, ``[1, 2]`` a list); anything else is the text itself."""
    text = text.strip()
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
