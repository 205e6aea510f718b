"""Containers: :class:`Sequential`, :class:`LayerList` (PyTorch's ModuleList), :class:`LayerDict` (ModuleDict).

Children are named by position (``0``, ``1``...) or key, so a container stored as ``self.layers`` gives
parameter names like ``layers.0.weight``, as in PyTorch. Items may be layers or plain-data specs
``{"layer": "<registered name>", **kwargs}`` which are created through the layer registry, so a whole
stack can be described by configuration.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, overload

from swets_core import Module
from swets_core.errors import ConfigError, IndexOutOfRangeError, MissingKeyError
from swets_nn.paths import ARRAYS, ForwardPath, forward_on_path

__all__ = ["LayerDict", "LayerList", "Sequential", "build_layer"]


def build_layer(item: Any, owner: str) -> Module:
    """A layer from a :class:`Module` (returned as is) or a spec ``{"layer": name, **kwargs}``."""
    if isinstance(item, Module):
        return item
    if isinstance(item, Mapping):
        spec = dict(item)
        name = spec.pop("layer", None)
        if not isinstance(name, str):
            raise ConfigError(
                f"{owner}: a layer spec needs a 'layer' key naming a registered layer, got {item!r}"
            )
        from swets_core import registry

        layer = registry.create("layers", name, **spec)
        if not isinstance(layer, Module):
            raise ConfigError(f"{owner}: layer {name!r} did not create a Module")
        return layer
    raise ConfigError(
        f"{owner}: expected a layer (swets_core.Module) or a spec dict, got {type(item).__name__}"
    )


def _check_key(key: Any, owner: str) -> str:
    if not isinstance(key, str) or not key or "." in key:
        raise ConfigError(f"{owner}: keys must be non-empty strings without '.', got {key!r}")
    return key


class LayerList(Module):
    """A list of layers whose parameters are registered with names ``0.weight``, ``1.weight``...

    Args:
        layers: an iterable of layers (or layer specs ``{"layer": name, **kwargs}``).

    Supports ``len``, iteration, indexing (a slice gives a new LayerList of the same layers),
    ``append``, ``extend``, ``insert``, item assignment and ``del``. It has no ``forward``: index it.
    """

    def __init__(self, layers: Iterable[Any] | None = None) -> None:
        super().__init__()
        self._layers: list[Module] = []
        if layers is not None:
            self.extend(layers)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """``(str(index), layer)`` for every item."""
        for i, layer in enumerate(self._layers):
            yield str(i), layer

    def __len__(self) -> int:
        return len(self._layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._layers))

    @overload
    def __getitem__(self, index: int) -> Module: ...
    @overload
    def __getitem__(self, index: slice) -> LayerList: ...
    def __getitem__(self, index: int | slice) -> Module | LayerList:
        if isinstance(index, slice):
            return type(self)(self._layers[index])
        return self._layers[self._index(index)]

    def __setitem__(self, index: int, layer: Any) -> None:
        self._layers[self._index(index)] = build_layer(layer, type(self).__name__)

    def __delitem__(self, index: int | slice) -> None:
        if isinstance(index, slice):
            del self._layers[index]
        else:
            del self._layers[self._index(index)]

    def _index(self, index: Any) -> int:
        if not isinstance(index, int) or isinstance(index, bool):
            raise ConfigError(f"{type(self).__name__}: index must be an int, got {index!r}")
        n = len(self._layers)
        if not -n <= index < n:
            raise IndexOutOfRangeError(
                f"{type(self).__name__}: index {index} out of range for {n} layers"
            )
        return index % n

    def append(self, layer: Any) -> LayerList:
        """Add a layer at the end."""
        self._layers.append(build_layer(layer, type(self).__name__))
        return self

    def extend(self, layers: Iterable[Any]) -> LayerList:
        """Add layers at the end."""
        if isinstance(layers, (Module, Mapping, str)):
            raise ConfigError(
                f"{type(self).__name__}: expected an iterable of layers, got {type(layers).__name__}"
            )
        for layer in layers:
            self.append(layer)
        return self

    def insert(self, index: int, layer: Any) -> None:
        """Insert a layer before ``index``."""
        self._layers.insert(index, build_layer(layer, type(self).__name__))

    def extra_repr(self) -> str:
        return "" if self._layers else "empty"


class Sequential(LayerList):
    """Layers applied in order: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Args:
        *layers: layers (or specs ``{"layer": name, **kwargs}``), or one dict / mapping of
            ``name -> layer``, in which case the children are named by its keys as PyTorch's
            ``Sequential(OrderedDict(...))``.

    Parameter names are ``0.weight``, ``1.bias``... (or ``<key>.weight``). Shapes: those of the layers.
    """

    def __init__(self, *layers: Any) -> None:
        Module.__init__(self)
        self._layers = []
        self._names: list[str] | None = None
        if len(layers) == 1 and isinstance(layers[0], Mapping) and "layer" not in layers[0]:
            self._names = []
            for key, layer in layers[0].items():
                self._names.append(_check_key(key, "Sequential"))
                self._layers.append(build_layer(layer, "Sequential"))
        elif len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            self.extend(layers[0])
        else:
            self.extend(layers)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """``(name, layer)``: the index as a string, or the key when built from a mapping."""
        names = self._names if self._names is not None else map(str, range(len(self._layers)))
        yield from zip(names, self._layers)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, str) and self._names is not None and index in self._names:
            return self._layers[self._names.index(index)]
        if isinstance(index, slice):
            out = Sequential(*self._layers[index])
            if self._names is not None:
                out._names = self._names[index]
            return out
        return super().__getitem__(index)

    def _keyed_only(self, what: str) -> None:
        if self._names is not None:
            raise ConfigError(f"Sequential built from a mapping does not support {what}")

    def __delitem__(self, index: int | slice) -> None:
        if self._names is not None:
            if isinstance(index, slice):
                del self._names[index]
            else:
                del self._names[self._index(index)]
        super().__delitem__(index)

    def append(self, layer: Any) -> Sequential:
        """Add a layer at the end (named by its index)."""
        self._keyed_only("append()")
        super().append(layer)
        return self

    def insert(self, index: int, layer: Any) -> None:
        """Insert a layer before ``index``."""
        self._keyed_only("insert()")
        super().insert(index, layer)

    def forward(self, x: Any) -> Any:
        """Apply every layer in order; returns what the last one returns."""
        return forward_on_path(self._compute, x)

    def forward_arrays(self, x: Any) -> Any:
        """:meth:`forward` on arrays, nothing recorded."""
        return self._compute(ARRAYS, x)

    def _compute(self, p: ForwardPath, x: Any) -> Any:
        for layer in self._layers:
            x = p.forward(layer)(x)
        return x


class LayerDict(Module):
    """Layers by name, PyTorch's ModuleDict: parameter names are ``<key>.weight``.

    Args:
        layers: a mapping (or iterable of pairs) of name -> layer (or layer spec). Keys are strings
            without dots. Insertion order is kept.

    Supports ``len``, ``in``, iteration over keys, ``[key]`` get/set/del, ``keys``, ``values``,
    ``items``, ``update`` and ``pop``. It has no ``forward``.
    """

    def __init__(self, layers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None) -> None:
        super().__init__()
        self._layers: dict[str, Module] = {}
        if layers is not None:
            self.update(layers)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """``(key, layer)`` in insertion order."""
        yield from list(self._layers.items())

    def __len__(self) -> int:
        return len(self._layers)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._layers))

    def __contains__(self, key: object) -> bool:
        return key in self._layers

    def __getitem__(self, key: str) -> Module:
        try:
            return self._layers[key]
        except KeyError:
            known = ", ".join(repr(k) for k in self._layers) or "none"
            raise MissingKeyError(f"LayerDict has no layer {key!r}; keys: {known}") from None

    def __setitem__(self, key: str, layer: Any) -> None:
        self._layers[_check_key(key, "LayerDict")] = build_layer(layer, "LayerDict")

    def __delitem__(self, key: str) -> None:
        self[key]
        del self._layers[key]

    def keys(self) -> list[str]:
        """The keys in insertion order."""
        return list(self._layers)

    def values(self) -> list[Module]:
        """The layers in insertion order."""
        return list(self._layers.values())

    def items(self) -> list[tuple[str, Module]]:
        """``(key, layer)`` pairs in insertion order."""
        return list(self._layers.items())

    def update(self, layers: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Add or replace layers from a mapping or an iterable of pairs."""
        pairs = layers.items() if isinstance(layers, Mapping) else layers
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ConfigError(f"LayerDict.update: expected (key, layer) pairs, got {pair!r}")
            self[pair[0]] = pair[1]

    def pop(self, key: str) -> Module:
        """Remove and return the layer at ``key``."""
        layer = self[key]
        del self._layers[key]
        return layer

    def extra_repr(self) -> str:
        return "" if self._layers else "empty"
