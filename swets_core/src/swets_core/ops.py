"""The functional namespace: every registered op as a function, ``swets_core.ops.<name>(...)``.

``ops.matmul(a, b)``, ``ops.sum(x, axis=1, keepdims=True)``, ``ops.concat(a, b, axis=0)`` (or
``ops.concat([a, b], axis=0)``). Positional arguments are the op's inputs (Tensors, arrays or Python
scalars), keyword arguments its attributes. The names come from the registry (``swets list ops``), so
an op registered by any plugin is reachable here. Each call looks its op up in
:data:`swets_core.dispatch.OPS` (one dict access), so the functions follow
:func:`swets_core.registry.activate`; only the small wrapper function is cached, never the op.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from swets_core.autograd import Tensor, apply
from swets_core.dispatch import OPS, lookup
from swets_core.errors import UnknownAttributeError, UnknownComponentError


def _make(name: str) -> Callable[..., Any]:
    op = lookup(name)  # an unknown name fails here, at attribute access, with close matches

    def fn(*inputs: Any, **attrs: Any) -> Any:
        first = inputs[0] if len(inputs) == 1 else None
        if type(first) in (list, tuple) and first and isinstance(first[0], Tensor):
            inputs = tuple(first)
        return apply(OPS.get(name) or lookup(name), *inputs, **attrs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = op.doc
    return fn


def __getattr__(name: str) -> Callable[..., Any]:
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        fn = _make(name)
    except UnknownComponentError as exc:  # an AttributeError too: hasattr, getattr(..., default)
        raise UnknownAttributeError("ops", name, exc.known) from None
    globals()[name] = fn
    return fn


def __dir__() -> list[str]:
    from swets_core.registry import names

    return sorted(set(globals()) | set(names("ops")))
