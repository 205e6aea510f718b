"""Packages whose public names are imported on first use (PEP 562 module ``__getattr__``).

Discovering plugins imports every installed distribution's plugin module, and Python imports a
package before any module in it. A package whose ``__init__`` imports all of its modules makes
every process that touches the registry (loading a checkpoint, say) pay for all of them, tens of
milliseconds across the tree, for names it never uses. Such a package lists its public names by
module instead and takes its ``__getattr__`` and ``__dir__`` from :func:`lazy_exports`::

    __getattr__, __dir__ = lazy_exports(
        __name__,
        {"mypackage.series": ("TimeSeries", "SeriesCollection"), "mypackage.io": ("read_csv",)},
        submodules=("features",),
    )

``from mypackage import TimeSeries`` and ``mypackage.TimeSeries`` then import ``mypackage.series``
the first time, and the name is kept in the package's namespace (later reads are plain attribute
reads). ``__all__`` stays as it was, so ``from mypackage import *`` and the documentation see
every name.

A name exported from the module of the same name (``predict`` from ``mypackage.predict``) stays
the exported object, as with eager imports: Python binds a submodule to its package's attribute
whenever the submodule is first imported, from anywhere, so the package's module object keeps
such names bound to the export instead (see :class:`LazyPackage`).

The package's table is the one list of each module's public names. A module of the package takes
its ``__all__`` from it instead of listing the names again, and the package its own ``__all__``::

    # mypackage/series.py
    from swets_core.lazy import exports_of

    __all__ = exports_of(__name__)  # ["TimeSeries", "SeriesCollection"]
    __all__ = [*exports_of(__name__), "helper"]  # with names only the module exports
    __all__ = [*exports_of(__name__), *exports_of("mypackage.io")]  # with a module's it re-exports

    # mypackage/__init__.py, after lazy_exports
    __all__ = all_exports(__name__)

Python imports a package before any of its modules, so the table is there when a module asks.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from swets_core.errors import MissingKeyError

__all__ = ["LazyPackage", "all_exports", "exports_of", "lazy_exports"]

_TABLE = "__lazy_exports__"
"""The attribute of a package that holds its :func:`lazy_exports` arguments: ``(exports,
submodules)``."""


class LazyPackage(types.ModuleType):
    """The module type of a package whose exports include names of its own modules: binding
    submodule ``name`` to the package's attribute ``name`` (what the import system does on its
    first import) binds the object the package exports under that name instead."""

    _shadowed: frozenset[str] = frozenset()

    def __setattr__(self, name: str, value: Any) -> None:
        if (
            name in self._shadowed
            and isinstance(value, types.ModuleType)
            and value.__name__ == f"{self.__name__}.{name}"
        ):
            value = getattr(value, name)
        super().__setattr__(name, value)


def lazy_exports(
    package: str, exports: Mapping[str, Iterable[str]], submodules: Iterable[str] = ()
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for the package ``package`` (call it from the package's
    ``__init__``, with ``__name__``).

    Args:
        package: the package's name.
        exports: module -> the public names it defines, imported from it on first use.
        submodules: names of modules of the package that are public names themselves.

    Returns:
        The package's ``__getattr__`` (an unknown name raises ``AttributeError``, as for any
        module) and ``__dir__`` (the names already there and every lazy one).
    """
    table = {module: tuple(names) for module, names in exports.items()}
    where = {name: module for module, names in table.items() for name in names}
    modules = frozenset(submodules)
    shadowed = frozenset(n for n, module in where.items() if module == f"{package}.{n}")
    if shadowed:
        sys.modules[package].__class__ = type(
            "LazyPackage", (LazyPackage,), {"_shadowed": shadowed}
        )
    namespace = sys.modules[package].__dict__
    namespace[_TABLE] = (table, tuple(sorted(modules)))

    def module_getattr(name: str) -> Any:
        module = where.get(name)
        if module is not None:
            value = getattr(importlib.import_module(module), name)
        elif name in modules:
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value  # later reads find it without this function
        return value

    def module_dir() -> list[str]:
        return sorted({*namespace, *where, *modules})

    return module_getattr, module_dir


def _table(package: str, asking: str) -> tuple[dict[str, tuple[str, ...]], tuple[str, ...]]:
    """``(exports, submodules)`` as the package ``package`` gave them to :func:`lazy_exports`."""
    table = getattr(sys.modules.get(package), _TABLE, None)
    if table is None:
        raise MissingKeyError(
            f"{asking}: the package {package!r} has no lazy_exports table (it is not imported, "
            "or its __init__ does not call swets_core.lazy.lazy_exports)"
        )
    return table


def exports_of(module: str) -> list[str]:
    """The names the package of ``module`` exports from it, in the order its :func:`lazy_exports`
    table lists them: the module's ``__all__`` (call it from the module, with ``__name__``).

    Raises:
        MissingKeyError: the package has no table, or its table does not list ``module``.
    """
    package = module.rpartition(".")[0]
    exports, _ = _table(package, f"exports_of({module!r})")
    names = exports.get(module)
    if names is None:
        raise MissingKeyError(
            f"exports_of({module!r}): the package {package!r} exports nothing from it (its "
            f"lazy_exports table lists {', '.join(exports)})"
        )
    return list(names)


def all_exports(package: str) -> list[str]:
    """Every name the package ``package`` exports through :func:`lazy_exports` (its modules'
    names and its public submodules), sorted: the package's ``__all__`` (call it from its
    ``__init__``, with ``__name__``, after ``lazy_exports``).

    Raises:
        MissingKeyError: the package has no table.
    """
    exports, submodules = _table(package, f"all_exports({package!r})")
    return sorted({*(name for names in exports.values() for name in names), *submodules})
