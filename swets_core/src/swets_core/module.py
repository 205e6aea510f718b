""":class:`Module`, the base class implementing the :class:`~swets_core.protocols.Layer` protocol.

A subclass creates its parameters (:class:`~swets_core.autograd.Parameter`) and sub-layers as plain
attributes in ``__init__`` and implements ``forward(self, x, ...)``. The base class discovers
parameters by attribute (lists, tuples and dicts of layers or parameters included) and gives dotted
names (``encoder.layers.0.attn.q_proj.weight``), train/eval mode, ``state_dict``/``load_state_dict``
(strict by default, every problem reported at once), dtype conversion and a readable ``repr``.

``layer(x, tape=tape)`` and ``layer.forward(x, tape=tape)`` record on ``tape``; with ``tape=None`` they
record on the active tape, if any.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from swets_core.autograd import Parameter, Tensor
from swets_core.budget import charge
from swets_core.dtype import DType
from swets_core.errors import StateDictError
from swets_core.tape import _state, no_grad, using_tape


def _arrays_of(out: Any) -> Any:
    """``out`` with every Tensor (inside tuples and lists too) as its array."""
    if isinstance(out, Tensor):
        return out._data
    if isinstance(out, (tuple, list)):
        return type(out)(_arrays_of(o) for o in out)
    return out


def _wrap_forward(f: Any) -> Any:
    @functools.wraps(f)
    def forward(self: Module, *args: Any, tape: Any = None, **kwargs: Any) -> Any:
        if tape is None or tape is _state.tape:
            return f(self, *args, **kwargs)
        with using_tape(tape):
            return f(self, *args, **kwargs)

    forward._swets_tape_wrapped = True  # type: ignore[attr-defined]
    return forward


class Module:
    """Base class of layers and models (see the module docstring)."""

    training: bool = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        f = cls.__dict__.get("forward")
        if (
            f is not None
            and not getattr(f, "_swets_tape_wrapped", False)
            and "tape" not in inspect.signature(f).parameters
        ):
            cls.forward = _wrap_forward(f)  # type: ignore[method-assign]

    def __init__(self) -> None:
        self.training = True
        self._buffer_names: list[str] = []

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the layer's output. Subclasses implement this."""
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def forward_arrays(self, *args: Any, **kwargs: Any) -> Any:
        """:meth:`forward` on numpy arrays, nothing recorded: takes what ``forward`` takes with
        arrays in place of Tensors and returns what it returns with arrays in place of Tensors.

        Layers that compose ops override it with the ops' inference functions on arrays (no Tensor
        per op); this default runs ``forward`` on Tensors of the arrays under :func:`no_grad`, so
        every layer can sit inside one that calls its sub-layers on arrays.
        """
        args = tuple(Tensor(a) if isinstance(a, np.ndarray) else a for a in args)
        with no_grad():
            out = self.forward(*args, **kwargs)
        return _arrays_of(out)

    # -- structure ----------------------------------------------------------------------------
    def register_buffer(self, name: str, value: np.ndarray) -> None:
        """Store a non-trainable array (running statistics...) that ``state_dict`` includes."""
        charge(int(np.size(value)))  # the parameter budget of a model built from a file
        if "_buffer_names" not in self.__dict__:
            self._buffer_names = []
        if name not in self._buffer_names:
            self._buffer_names.append(name)
        setattr(self, name, value)

    def _attributes(self, cls: type[Any]) -> Iterator[tuple[str, Any]]:
        """``(name, value)`` for the attributes that are ``cls`` instances, including the items of
        lists and tuples (``blocks.0``) and the values of dicts (``heads.mean``)."""
        for key, value in vars(self).items():
            if isinstance(value, cls):
                yield key, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, cls):
                        yield f"{key}.{i}", item
            elif isinstance(value, dict):
                for k, item in value.items():
                    if isinstance(item, cls):
                        yield f"{key}.{k}", item

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-layers with their attribute names (``blocks.0`` for list items, ``heads.mean``
        for dict values)."""
        return self._attributes(Module)

    def _own_parameters(self) -> Iterator[tuple[str, Parameter]]:
        return self._attributes(Parameter)

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This layer and every sub-layer, depth first, with dotted names ("" for self)."""
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def named_parameters(
        self, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """``(dotted_name, Parameter)`` for every parameter; a shared parameter appears once."""
        seen: set[int] = set()
        for mod_name, mod in self.named_modules(prefix):
            for name, p in mod._own_parameters():
                if remove_duplicate:
                    if p.id in seen:
                        continue
                    seen.add(p.id)
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self) -> list[Parameter]:
        """Every parameter once, in a stable order."""
        return [p for _, p in self.named_parameters()]

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        """``(dotted_name, array)`` for every buffer."""
        for mod_name, mod in self.named_modules():
            for name in mod.__dict__.get("_buffer_names", ()):
                yield (f"{mod_name}.{name}" if mod_name else name), getattr(mod, name)

    def num_parameters(self) -> int:
        """Total number of trainable scalars."""
        return sum(p.size for p in self.parameters())

    # -- modes and dtypes ---------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch statistics) on this layer and all sub-layers."""
        for _, m in self.named_modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        """Set inference mode; same as ``train(False)``."""
        return self.train(False)

    def astype(self, dtype: DType | str) -> Module:
        """Convert every parameter and float buffer to ``dtype`` in place (ids are kept)."""
        np_dtype = DType.of(dtype).numpy
        for _, p in self.named_parameters():
            if p._data.dtype != np_dtype:
                p._data = p._data.astype(np_dtype)
        for _, m in self.named_modules():
            for name in m.__dict__.get("_buffer_names", ()):
                buf = getattr(m, name)
                if isinstance(buf, np.ndarray) and buf.dtype.kind == "f":
                    setattr(m, name, buf.astype(np_dtype))
        return self

    # -- state --------------------------------------------------------------------------------
    def state_dict(self, copy: bool = True) -> dict[str, np.ndarray]:
        """Parameters and buffers by dotted name (copies unless ``copy=False``)."""
        out: dict[str, np.ndarray] = {}
        for name, p in self.named_parameters(remove_duplicate=False):
            out[name] = p._data.copy() if copy else p._data
        for name, b in self.named_buffers():
            arr = np.asarray(b)
            out[name] = arr.copy() if copy else arr
        return out

    def load_state_dict(
        self, state: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> None:
        """Copy values from ``state`` into the parameters and buffers (in place, ids are kept).

        With ``assign=True`` a parameter takes the given (writable) array as its storage instead
        of copying it, which saves a copy when the state was just read from a file; ids are still
        kept.

        Raises:
            StateDictError: listing every missing key, unexpected key, and shape or dtype mismatch
                (missing and unexpected keys are tolerated when ``strict=False``; mismatches never).
        """
        params = dict(self.named_parameters(remove_duplicate=False))
        buffers = dict(self.named_buffers())
        problems: list[str] = []
        expected = {**{k: p._data for k, p in params.items()}, **buffers}
        for key in expected:
            if key not in state and strict:
                problems.append(f"missing key {key!r}")
        for key in state:
            if key not in expected and strict:
                problems.append(f"unexpected key {key!r}")
        for key, target in expected.items():
            if key not in state:
                continue
            value = state[key]
            value = value._data if isinstance(value, Tensor) else np.asarray(value)
            target = np.asarray(target)
            if value.shape != target.shape:
                problems.append(
                    f"{key!r}: shape {value.shape} in the state, {target.shape} in the model"
                )
            elif value.dtype != target.dtype:
                problems.append(
                    f"{key!r}: dtype {value.dtype} in the state, {target.dtype} in the model"
                )
        if problems:
            raise StateDictError(type(self).__name__, problems)
        for key, p in params.items():
            if key in state:
                v = state[key]
                arr = v._data if isinstance(v, Tensor) else np.asarray(v)
                if assign and arr.flags.writeable:
                    p._data = arr
                else:
                    np.copyto(p._data, arr)
        for mod_name, mod in self.named_modules():
            for name in mod.__dict__.get("_buffer_names", ()):
                key = f"{mod_name}.{name}" if mod_name else name
                if key in state:
                    v = state[key]
                    setattr(mod, name, np.array(v._data if isinstance(v, Tensor) else v))

    # -- display ------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """One line of configuration shown by ``repr`` (override in subclasses)."""
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not children:
            return head + ")"
        lines = [head]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"


__all__ = ["Module"]
