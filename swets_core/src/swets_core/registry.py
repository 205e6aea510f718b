"""Plugin discovery and the component registry.

Plugins are found through the ``swets`` entry-point group and driven by pluggy. Loading is lazy (on
first use), per entry point and fault-tolerant: an entry point that fails to import (including one that
calls ``sys.exit``), fails pluggy's validation (a misspelled hook, unknown hook arguments) or raises
while registering is recorded with its distribution's name, a :class:`PluginWarning` is issued, and
everything else keeps working; only ``KeyboardInterrupt`` (the user's interrupt) goes through. Plugins
are keyed by distribution and entry-point name, so two distributions may use the same entry-point
name and both load. Each record keeps how long its plugin took to import and register
(:attr:`PluginRecord.seconds`, shown by ``swets plugins``).

Environment:
    ``SWETS_STRICT_PLUGINS=1``: a plugin failure raises :class:`PluginLoadError` instead.
    ``SWETS_DISABLE_PLUGINS=a,b``: skip the named entry points or distributions.

After loading, a lookup is a dict access. The module-level functions :func:`names`, :func:`get`,
:func:`create` and :func:`info` use the process-wide default registry.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any

import attrs
import pluggy

from swets_core import autograd, dispatch, hookspecs
from swets_core.errors import (
    DuplicateComponentError,
    PluginLoadError,
    RegistryError,
    UnknownComponentError,
)
from swets_core.hookspecs import ENTRY_POINT_GROUP, KIND_HOOKS, KINDS, PROJECT_NAME


class PluginWarning(UserWarning):
    """A plugin failed to load; the rest of swets keeps working."""


@attrs.frozen
class Component:
    """One registered component and where it came from."""

    kind: str
    name: str
    obj: Any = attrs.field(repr=False)
    plugin: str
    distribution: str
    version: str
    doc: str


@attrs.define
class PluginRecord:
    """What one plugin (entry point) is, what it registered, and how loading it went."""

    name: str
    distribution: str
    version: str
    module: str
    registered: dict[str, list[str]] = attrs.field(factory=dict)
    commands: list[str] = attrs.field(factory=list)
    error: str | None = None
    disabled: bool = False
    seconds: float = 0.0

    @property
    def key(self) -> str:
        """The plugin's unique key: ``distribution:name`` (two distributions may use one name)."""
        return f"{self.distribution}:{self.name}"

    @property
    def ok(self) -> bool:
        """True when the plugin loaded and registered without error."""
        return self.error is None and not self.disabled


def _first_line(obj: Any, doc: str | None) -> str:
    if doc:
        return doc.strip().splitlines()[0]
    if isinstance(obj, autograd.OpDef):
        text = obj.doc
    else:
        text = getattr(obj, "__doc__", None) or ""
    lines = text.strip().splitlines()
    return lines[0].strip() if lines else ""


def _describe(exc: BaseException) -> str:
    """What went wrong, on one line: ``ImportError: no module named x``; for ``sys.exit`` in a
    plugin, what it exited with."""
    if isinstance(exc, SystemExit):
        return f"SystemExit: the plugin called sys.exit({exc.code!r})"
    text = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return text if text else type(exc).__name__


def _swets_entry_points() -> list[tuple[Any, str, str]]:
    """``(entry point, distribution, version)`` of the ``swets`` group, by entry-point name then
    distribution. Each distribution's metadata file is parsed once (``dist.name`` and
    ``dist.version`` each parse it again: a third of plugin discovery's time)."""
    found = []
    for ep in md.entry_points(group=ENTRY_POINT_GROUP):
        if ep.dist is None:
            found.append((ep, "<unknown>", "0"))
            continue
        meta = ep.dist.metadata
        found.append((ep, meta["Name"], meta["Version"]))
    found.sort(key=lambda item: (item[0].name, "" if item[0].dist is None else item[1]))
    return found


def _env_list(var: str) -> set[str]:
    return {s.strip() for s in os.environ.get(var, "").split(",") if s.strip()}


def _strict() -> bool:
    return os.environ.get("SWETS_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes", "on"}


class Registry:
    """Components by kind and name, filled by plugins.

    Args:
        entry_points: discover plugins from the ``swets`` entry-point group on :meth:`load`. A registry
            made with ``entry_points=False`` sees only the plugins given to :meth:`add_plugin`, which
            is how tests build an isolated world.
    """

    def __init__(self, entry_points: bool = True) -> None:
        self.plugin_manager = pluggy.PluginManager(PROJECT_NAME)
        self.plugin_manager.add_hookspecs(hookspecs)
        self._use_entry_points = entry_points
        self._components: dict[str, dict[str, Component]] = {k: {} for k in KINDS}
        self._conflicts: dict[tuple[str, str], list[str]] = {}
        self._plugins: dict[str, PluginRecord] = {}
        self._pending: list[tuple[object, PluginRecord]] = []
        self._loaded = False
        self._lock = threading.RLock()

    # -- loading ------------------------------------------------------------------------------
    def add_plugin(
        self,
        plugin: object,
        name: str | None = None,
        distribution: str = "<local>",
        version: str = "0",
    ) -> PluginRecord:
        """Register a plugin object (a module or any object with hook implementations) directly."""
        name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        record = PluginRecord(
            name, distribution, version, getattr(plugin, "__name__", repr(plugin))
        )
        with self._lock:
            if self._loaded:
                self._install(plugin, record)
            else:
                self._pending.append((plugin, record))
        if record.error is not None and _strict():
            raise PluginLoadError(f"plugin {name!r} from {distribution}: {record.error}")
        return record

    def load(self) -> None:
        """Discover and register every plugin, once. Later calls return immediately."""
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            pending, self._pending = self._pending, []
            if self._use_entry_points:
                self._load_entry_points()
            for plugin, record in pending:
                self._install(plugin, record)
            self._loaded = True

    def _load_entry_points(self) -> None:
        disabled = _env_list("SWETS_DISABLE_PLUGINS")
        seen: set[tuple[str, str, str]] = set()
        for ep, dist, version in _swets_entry_points():
            if (dist, ep.name, ep.value) in seen:  # the same distribution visible twice on sys.path
                continue
            seen.add((dist, ep.name, ep.value))
            record = PluginRecord(ep.name, dist, version, ep.value)
            if ep.name in disabled or dist in disabled:
                record.disabled = True
                self._plugins[record.key] = record
                continue
            start = time.perf_counter()
            try:
                plugin = ep.load()
            except KeyboardInterrupt:
                raise
            except (Exception, SystemExit) as exc:  # a plugin's sys.exit must not end swets
                record.seconds = time.perf_counter() - start
                self._fail(record, f"import failed: {_describe(exc)}", exc)
                continue
            self._install(plugin, record, start)

    def _fail(self, record: PluginRecord, message: str, exc: BaseException | None) -> None:
        record.error = message
        self._plugins[record.key] = record
        who = (
            f"swets plugin {record.name!r} from distribution {record.distribution} {record.version}"
        )
        if _strict():
            raise PluginLoadError(
                f"{who} failed to load (SWETS_STRICT_PLUGINS is set): {message}"
            ) from exc
        warnings.warn(
            f"{who}: {message}; the rest of swets keeps working", PluginWarning, stacklevel=4
        )

    def _install(self, plugin: object, record: PluginRecord, start: float | None = None) -> None:
        start = time.perf_counter() if start is None else start
        try:
            self._register(plugin, record)
        finally:
            record.seconds = time.perf_counter() - start

    def _register(self, plugin: object, record: PluginRecord) -> None:
        pm = self.plugin_manager
        if record.key in self._plugins and self._plugins[record.key].ok:
            self._fail(record, f"a plugin named {record.name!r} is already loaded", None)
            return
        try:
            pm.register(plugin, name=record.key)
            pm.check_pending()
        except Exception as exc:
            if pm.is_registered(plugin):
                pm.unregister(plugin)
            self._fail(record, f"invalid hook implementation: {exc}", exc)
            return
        staged: list[Component] = []
        for kind, hook_name in KIND_HOOKS.items():
            for impl in getattr(pm.hook, hook_name).get_hookimpls():
                if impl.plugin is not plugin:
                    continue

                def register(
                    name: str, obj: Any, doc: str | None = None, _kind: str = kind
                ) -> None:
                    if not isinstance(name, str) or not name:
                        raise RegistryError(
                            f"{_kind} names must be non-empty strings, got {name!r}"
                        )
                    if _kind == "ops" and not isinstance(obj, autograd.OpDef):
                        obj = autograd.OpDef(name, obj, doc=doc)
                    staged.append(
                        Component(
                            _kind,
                            name,
                            obj,
                            record.name,
                            record.distribution,
                            record.version,
                            _first_line(obj, doc),
                        )
                    )

                try:
                    impl.function(register)
                except KeyboardInterrupt:
                    raise
                except (Exception, SystemExit) as exc:
                    pm.unregister(plugin)
                    self._fail(record, f"{hook_name} raised {_describe(exc)}", exc)
                    return
        self._plugins[record.key] = record
        for comp in staged:
            self._add(comp, record)

    def _add(self, comp: Component, record: PluginRecord) -> None:
        table = self._components[comp.kind]
        key = (comp.kind, comp.name)
        if key in self._conflicts:
            self._conflicts[key].append(f"{comp.distribution} ({comp.plugin})")
            return
        old = table.get(comp.name)
        if old is not None:
            first = f"{old.distribution} ({old.plugin})"
            second = f"{comp.distribution} ({comp.plugin})"
            self._conflicts[key] = [first, second]
            del table[comp.name]
            if comp.kind == "ops" and self is _default:
                dispatch.OPS.pop(comp.name, None)
            err = DuplicateComponentError(comp.kind, comp.name, first, second)
            if _strict():
                raise err
            warnings.warn(str(err), PluginWarning, stacklevel=4)
            return
        table[comp.name] = comp
        record.registered.setdefault(comp.kind, []).append(comp.name)
        if comp.kind == "ops" and self is _default:
            dispatch.OPS[comp.name] = comp.obj

    # -- lookup -------------------------------------------------------------------------------
    def _check_kind(self, kind: str) -> dict[str, Component]:
        try:
            table = self._components[kind]
        except KeyError:
            raise UnknownComponentError("kinds", kind, KINDS) from None
        self.load()
        return table

    def names(self, kind: str) -> list[str]:
        """Sorted names registered for ``kind`` (ops, layers, models, losses, optimizers,
        schedulers, serializers, metrics)."""
        return sorted(self._check_kind(kind))

    def component(self, kind: str, name: str) -> Component:
        """The :class:`Component` record of ``name``."""
        table = self._check_kind(kind)
        try:
            return table[name]
        except KeyError:
            conflict = self._conflicts.get((kind, name))
            if conflict:
                raise DuplicateComponentError(kind, name, conflict[0], conflict[1]) from None
            raise UnknownComponentError(kind, name, table) from None

    def get(self, kind: str, name: str) -> Any:
        """The registered object (a class, a factory, an OpDef...)."""
        return self.component(kind, name).obj

    def create(self, kind: str, name: str, /, *args: Any, **config: Any) -> Any:
        """Call the registered factory: ``create("models", "nbeats", input_size=96, horizon=24)``."""
        factory = self.get(kind, name)
        return factory(*args, **config)

    def info(self, kind: str, name: str) -> Component:
        """Which distribution (and version) provides ``name``, and its one-line doc."""
        return self.component(kind, name)

    def items(self, kind: str) -> list[Component]:
        """All components of ``kind``, sorted by name."""
        table = self._check_kind(kind)
        return [table[n] for n in sorted(table)]

    def plugins(self) -> list[PluginRecord]:
        """Every plugin seen, loaded or failed, sorted by name."""
        self.load()
        return sorted(self._plugins.values(), key=lambda r: (r.name, r.distribution))

    def failures(self) -> list[PluginRecord]:
        """Plugins that failed to load."""
        return [p for p in self.plugins() if p.error is not None]

    def call_command_hooks(self, cli: Any) -> None:
        """Let every plugin add its CLI sub-commands; a failing plugin is recorded, not fatal."""
        self.load()
        pm = self.plugin_manager
        for impl in pm.hook.swets_register_commands.get_hookimpls():
            record = self._plugins.get(impl.plugin_name)
            before = set(getattr(cli, "commands", {}))
            try:
                impl.function(cli)
            except KeyboardInterrupt:
                raise
            except (Exception, SystemExit) as exc:
                if record is not None:
                    self._fail(record, f"swets_register_commands raised {_describe(exc)}", exc)
                continue
            if record is not None:
                record.commands = sorted(set(getattr(cli, "commands", {})) - before)


_default: Registry | None = None
_default_lock = threading.Lock()


def default_registry() -> Registry:
    """The process-wide registry, discovering plugins from entry points (created on first use)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Registry()
    return _default


def _load_default() -> None:
    default_registry().load()


dispatch.set_loader(_load_default)


class Activation:
    """What :func:`activate` returns: the switch already made, and how to undo it.

    As a context manager it undoes the switch at the end of the block (``__enter__`` returns the
    activated registry); :meth:`restore` undoes it explicitly. Dropping it undoes nothing.
    """

    __slots__ = ("_prev", "_prev_ops", "_restored", "registry")

    def __init__(self, registry: Registry) -> None:
        global _default
        registry.load()
        self.registry = registry
        self._prev, self._prev_ops = _default, dict(dispatch.OPS)
        self._restored = False
        _default = registry
        dispatch.OPS.clear()
        dispatch.OPS.update({c.name: c.obj for c in registry.items("ops")})

    def restore(self) -> None:
        """Make the registry that was the default before this activation the default again (once)."""
        global _default
        if self._restored:
            return
        self._restored = True
        _default = self._prev
        dispatch.OPS.clear()
        dispatch.OPS.update(self._prev_ops)

    def __enter__(self) -> Registry:
        return self.registry

    def __exit__(self, *exc: object) -> None:
        self.restore()


def activate(registry: Registry) -> Activation:
    """Make ``registry`` the default registry (and its ops the Tensor operators' table), at once.

    ``with activate(reg): ...`` switches for the block and switches back at its end (activations
    nest); a plain ``activate(reg)`` switches until :meth:`Activation.restore` is called on what it
    returns, or for the rest of the process.
    """
    return Activation(registry)


def names(kind: str) -> list[str]:
    """Names registered for ``kind`` in the default registry."""
    return default_registry().names(kind)


def get(kind: str, name: str) -> Any:
    """The object registered as ``name`` for ``kind``; raises with close matches when unknown."""
    return default_registry().get(kind, name)


def create(kind: str, name: str, /, *args: Any, **config: Any) -> Any:
    """Create a component by name: ``create("models", "nbeats", input_size=96, horizon=24)``."""
    return default_registry().create(kind, name, *args, **config)


def info(kind: str, name: str) -> Component:
    """Where ``name`` comes from: distribution, version, plugin and one-line doc."""
    return default_registry().info(kind, name)


def plugins() -> list[PluginRecord]:
    """Every plugin of the default registry with what it registered and any load failure."""
    return default_registry().plugins()


Factory = Callable[..., Any]

__all__ = [
    "KINDS",
    "Activation",
    "Component",
    "PluginRecord",
    "PluginWarning",
    "Registry",
    "activate",
    "create",
    "default_registry",
    "get",
    "info",
    "names",
    "plugins",
]
