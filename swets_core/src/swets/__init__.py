"""One import for the public API of swets: ``import swets``.

The core names (``swets.Tensor``, ``swets.GradientTape``, ``swets.Module``, ``swets.DType``,
``swets.no_grad``, ``swets.save_checkpoint``, ``swets.load_checkpoint``...), the functions plugins
register for training code (``swets.clip_grad_norm``, ``swets.clip_grad_value``, ``swets.grad_norm``:
the ``functions`` kind) and, for every registry kind, a namespace that reaches what plugins
registered::

    swets.ops.matmul(a, b)
    swets.layers.Linear(8, 4)          # the class name, or the registry name: swets.layers.linear
    swets.losses.SMAPELoss()           # the documented class name of the "smape" loss
    swets.models.create("nbeats", input_size=96, horizon=24)
    grads, norm = swets.clip_grad_norm(tape.backward(loss), max_norm=1.0)
    swets.registry.names("models")

Everything is looked up in the registry, so a plugin's components are reachable exactly like the
built-in ones. A namespace resolves, in order: the registry name (``smape``), the class name of a
registered class (``SMAPELoss``; for the metrics, registered as instances, their class), then the
CamelCase spelling of a registry name (``LeakyReLU`` -> ``leaky_relu``). ``dir()`` lists registry
names and class names. An unknown name raises :class:`~swets_core.errors.UnknownAttributeError`
(an ``AttributeError`` with "did you mean"), so ``hasattr``, ``getattr(ns, name, default)``, tab
completion, ``copy`` and mocks work as on any Python object.
"""

from __future__ import annotations

import difflib
import importlib
import re
from typing import Any

from swets_core import *  # noqa: F403
from swets_core import __all__ as _core_all
from swets_core import __version__ as __version__
from swets_core import ops, registry
from swets_core.errors import UnknownAttributeError
from swets_core.hookspecs import KINDS

_METHODS = ("create", "get", "names")
# core functions a training loop calls, imported on first use: name -> module
_CORE_LAZY = {
    "load_checkpoint": "swets_core.checkpoint",
    "save_checkpoint": "swets_core.checkpoint",
}


def _snake(name: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return s.lower()


def _class_names(kind: str) -> dict[str, Any]:
    """Class name -> the object it reaches, for the registered classes (and functions) of ``kind``.

    A registered class is reached by its ``__name__``; a registered instance (a metric) by its
    class's name, which gives the class, so ``swets.metrics.MASE(m=48)`` builds a new one. A name
    shared by two components reaches neither (their registry names still do).
    """
    found: dict[str, list[Any]] = {}
    for comp in registry.default_registry().items(kind):
        obj = comp.obj
        if isinstance(obj, type) or hasattr(obj, "__name__"):
            name, target = obj.__name__, obj
        else:
            name, target = type(obj).__name__, type(obj)
        if name[:1].isupper() and name.isidentifier():  # lowercase names are registry names
            found.setdefault(name, []).append(target)
    return {n: objs[0] for n, objs in found.items() if len(objs) == 1}


def _resolve(kind: str, name: str) -> Any:
    """The object ``swets.<kind>.<name>`` reaches; raises UnknownAttributeError."""
    known = registry.names(kind)
    if name in known:
        return registry.get(kind, name)
    classes = _class_names(kind)
    if name in classes:
        return classes[name]
    for candidate in (_snake(name), name.lower()):
        if candidate in known:
            return registry.get(kind, candidate)
    squashed = {k.replace("_", ""): k for k in known}
    if name.lower() in squashed:  # LeakyReLU -> leaky_relu
        return registry.get(kind, squashed[name.lower()])
    err = UnknownAttributeError(kind, name, [*known, *classes])
    elsewhere = [k for k in KINDS if k != kind and name in registry.names(k)]
    if elsewhere:  # swets.optimizers.clip_grad_norm: say where it is
        where = "swets." + name if elsewhere[0] == "functions" else f"swets.{elsewhere[0]}.{name}"
        err.args = (f"{err}; {name!r} is registered as {elsewhere[0]}: {where}",)
    raise err


class KindNamespace:
    """Registry-backed access to one kind: ``swets.layers.Linear`` is the registered ``linear`` layer.

    ``names()``, ``get(name)`` and ``create(name, ...)`` are the registry's calls for this kind; any
    other attribute is a component (see the module docstring for how names resolve).
    """

    def __init__(self, kind: str) -> None:
        self._kind = kind

    def names(self) -> list[str]:
        """Registered names of this kind."""
        return registry.names(self._kind)

    def get(self, name: str) -> Any:
        """The registered object."""
        return registry.get(self._kind, name)

    def create(self, name: str, /, *args: Any, **config: Any) -> Any:
        """Create a component by registry name."""
        return registry.create(self._kind, name, *args, **config)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # Python's protocols (copy, pickle, mocks) probe dunder names
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return _resolve(self._kind, name)

    def __dir__(self) -> list[str]:
        return sorted({*_METHODS, *registry.names(self._kind), *_class_names(self._kind)})

    def __repr__(self) -> str:
        return f"<swets.{self._kind}: {len(registry.names(self._kind))} registered>"


layers = KindNamespace("layers")
models = KindNamespace("models")
losses = KindNamespace("losses")
optimizers = KindNamespace("optimizers")
schedulers = KindNamespace("schedulers")
serializers = KindNamespace("serializers")
metrics = KindNamespace("metrics")
functions = KindNamespace("functions")
executors = KindNamespace("executors")


def __getattr__(name: str) -> Any:
    """``swets.clip_grad_norm`` and the other registered functions; the lazy core functions."""
    if name in _CORE_LAZY:
        value = getattr(importlib.import_module(_CORE_LAZY[name]), name)
        globals()[name] = value
        return value
    if not name.startswith("_") and name in registry.names("functions"):
        return registry.get("functions", name)
    close = difflib.get_close_matches(name, __dir__(), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise AttributeError(f"module 'swets' has no attribute {name!r}{hint}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_CORE_LAZY, *registry.names("functions")})


__all__ = [*_core_all, "KINDS", "executors", "functions", "layers", "losses", "metrics", "models"]
__all__ += ["ops"]
__all__ += ["optimizers", "schedulers", "serializers"]
__all__ += ["load_checkpoint", "save_checkpoint"]  # noqa: F405 - imported on first use (__getattr__)
