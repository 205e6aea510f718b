"""The swets error hierarchy.

Every error swets raises on purpose derives from :class:`SwetsError`, so callers can catch all of them
with one ``except``. Messages name what was wrong and where (the op, the layer, the file, the row).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

MAX_LISTED = 100
"""How many problems an error that lists problems holds in its message before "... and N more"
(the ``swets`` command shows fewer lines again, unless ``--debug``)."""


def list_problems(problems: Sequence[str], limit: int = MAX_LISTED) -> str:
    """The first ``limit`` problems, one per indented line, then ``... and N more`` when there are
    more: how every error that lists problems shows them (a list of 600,000 problems must not make
    a 600,000-line message)."""
    shown = [f"\n  {p}" for p in problems[:limit]]
    if len(problems) > limit:
        shown.append(f"\n  ... and {len(problems) - limit:,} more")
    return "".join(shown)


class SwetsError(Exception):
    """Root of every error raised by swets and its plugins."""


class ShapeError(SwetsError, ValueError):
    """A tensor has the wrong shape for an op or a layer."""


class DTypeError(SwetsError, TypeError):
    """A tensor has a dtype an op or a layer does not accept."""


class ArgumentTypeError(SwetsError, TypeError):
    """An argument has the wrong Python type (a seed where a Generator is needed...)."""


class IndexOutOfRangeError(SwetsError, IndexError):
    """A position (a row, a window, a layer) is outside the container; ends iteration protocols."""


class MissingKeyError(SwetsError, KeyError):
    """A name (a layer of a LayerDict, a metric of a history...) is not in the mapping it was looked
    up in; the message lists the names that are."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else ""


class ConfigError(SwetsError, ValueError):
    """A configuration value (a layer size, a hyper-parameter, an option) is invalid."""


class TapeError(SwetsError, RuntimeError):
    """A gradient tape was misused (backward twice on a non-persistent tape, a missing gradient...)."""


class OpError(SwetsError, ValueError):
    """An op received arguments it cannot compute with."""


class RegistryError(SwetsError, LookupError):
    """Base of the registry errors."""


class UnknownComponentError(RegistryError, KeyError):
    """A name was looked up in the registry and not found."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        known = sorted(known)
        self.kind, self.name, self.known = kind, name, known
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        singular = kind[:-2] if kind.endswith("sses") else kind[:-1] if kind.endswith("s") else kind
        msg = f"unknown {singular} {name!r}"
        if close:
            msg += f"; did you mean {', '.join(repr(c) for c in close)}?"
        elif known:
            shown = ", ".join(known[:20]) + (" ..." if len(known) > 20 else "")
            msg += f"; known {kind}: {shown}"
        else:
            msg += f"; no {kind} are registered (is the plugin that provides them installed?)"
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class UnknownAttributeError(UnknownComponentError, AttributeError):
    """An attribute of a ``swets`` namespace (``swets.losses.nope``, ``swets.ops.nope``) names no
    registered component.

    Also an :class:`AttributeError`, so Python's attribute protocol keeps working on the namespaces:
    ``hasattr`` returns False, ``getattr(ns, name, default)`` returns the default, and ``dir``-based
    tools (tab completion, mocks, ``copy``) see a missing attribute, not a crash.
    """


class DuplicateComponentError(RegistryError):
    """Two plugins registered the same name for the same kind."""

    def __init__(self, kind: str, name: str, first: str, second: str) -> None:
        self.kind, self.name, self.first, self.second = kind, name, first, second
        super().__init__(
            f"{kind} {name!r} is registered twice: by {first} and by {second}; "
            f"uninstall one of them or block one with SWETS_DISABLE_PLUGINS"
        )


class PluginLoadError(SwetsError, ImportError):
    """A plugin failed to import or to register (raised in strict mode, recorded otherwise)."""


class DataValidationError(SwetsError, ValueError):
    """Input data broke a validation rule; the message names the rows, timestamps and columns."""


class CheckpointError(SwetsError, ValueError):
    """A checkpoint file is corrupt, hostile, of an unknown version, or does not match the model."""


class StateDictError(SwetsError, KeyError):
    """A state dict does not match the object it is loaded into.

    ``problems`` holds every problem; the message shows the first :data:`MAX_LISTED` of them and
    how many more there are.
    """

    def __init__(self, owner: str, problems: list[str]) -> None:
        self.owner, self.problems = owner, problems
        super().__init__(
            f"cannot load state into {owner}: {len(problems):,} problem(s):{list_problems(problems)}"
        )

    def __str__(self) -> str:
        return str(self.args[0])


class NonFiniteError(SwetsError, FloatingPointError):
    """A NaN or an infinity appeared where finite numbers are required."""


__all__ = [
    "MAX_LISTED",
    "ArgumentTypeError",
    "IndexOutOfRangeError",
    "MissingKeyError",
    "CheckpointError",
    "ConfigError",
    "DTypeError",
    "DataValidationError",
    "DuplicateComponentError",
    "NonFiniteError",
    "OpError",
    "PluginLoadError",
    "RegistryError",
    "ShapeError",
    "StateDictError",
    "SwetsError",
    "TapeError",
    "UnknownAttributeError",
    "UnknownComponentError",
    "list_problems",
]
