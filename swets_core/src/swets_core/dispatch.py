"""Op dispatch: the table of registered ops, and the two ways of running one by name.

The registry fills :data:`OPS` (name -> :class:`~swets_core.autograd.OpDef`) when the default registry
loads, and swaps its contents under :func:`swets_core.registry.activate`; nothing else writes it. Every
reader does one dict access per call and keeps no ``OpDef`` of its own, so a swapped table takes effect
everywhere at once.

* :func:`lookup` resolves a name (loading the default registry on the first miss).
* :func:`run_op` runs an op on **arrays** exactly as :func:`swets_core.autograd.apply` computes it when
  nothing records (the op's inference function), without tensors around it: the tape-free paths of
  layers and models chain these calls.
* Tensors go through :func:`swets_core.autograd.call_op` (records on the active tape).

This module imports nothing of swets but the errors: the registry plugs its loader in with
:func:`set_loader`, so dispatch does not depend on the registry (the registry depends on it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from swets_core.errors import OpError, SwetsError, UnknownComponentError

if TYPE_CHECKING:
    from swets_core.autograd import OpDef

OPS: dict[str, OpDef] = {}
"""Name -> OpDef of the active registry. Filled and swapped by :mod:`swets_core.registry` only."""

_loader: Callable[[], None] | None = None


def set_loader(loader: Callable[[], None]) -> None:
    """Install the function that loads the default registry (and so fills :data:`OPS`)."""
    global _loader
    _loader = loader


def lookup(name: str) -> OpDef:
    """The registered op ``name``; raises :class:`UnknownComponentError` (with close matches)."""
    op = OPS.get(name)
    if op is None:
        if _loader is not None:
            _loader()
            op = OPS.get(name)
        if op is None:
            raise UnknownComponentError("ops", name, OPS)
    return op


def shapes_of(arrays: tuple[Any, ...]) -> str:
    """``"(2, 3), float"``: the shapes of array inputs and the type names of the others."""
    return ", ".join(
        str(tuple(a.shape)) if isinstance(a, np.ndarray) else type(a).__name__ for a in arrays
    )


def op_failed(name: str, arrays: tuple[Any, ...], exc: Exception) -> OpError:
    """The :class:`OpError` for a numpy error raised inside op ``name``, naming the input shapes."""
    return OpError(f"{name}: {exc} (inputs: {shapes_of(arrays)})")


def run_op(name: str, *inputs: Any, **attrs: Any) -> Any:
    """The registered op ``name`` applied to arrays (or Python scalars), nothing recorded.

    Returns what the op's inference function returns: an array, or a tuple of arrays for an op
    with several outputs. numpy's ``ValueError``/``TypeError``/``IndexError`` become :class:`OpError`
    naming the op and the input shapes, as under :func:`~swets_core.autograd.apply`.
    """
    op = OPS.get(name)
    if op is None:
        op = lookup(name)
    try:
        if op.infer is not None:
            return op.infer(*inputs, **attrs)
        return op.forward(*inputs, **attrs)[0]
    except SwetsError:
        raise
    except (ValueError, TypeError, IndexError, FloatingPointError) as exc:
        raise op_failed(name, inputs, exc) from exc


__all__ = ["OPS", "lookup", "op_failed", "run_op", "set_loader", "shapes_of"]
