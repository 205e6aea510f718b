"""The engine: :class:`Tensor`, :class:`Parameter`, :class:`GradientTape`, :class:`OpDef` and :func:`apply`.

Reads top to bottom:

* A :class:`Tensor` wraps a numpy array and a unique integer id. It holds no gradient state.
* An op is an :class:`OpDef`: a ``forward(*arrays, **attrs)`` that returns the output array(s) and a
  backward callable (the :class:`~swets_core.protocols.BackwardOp` contract), registered by a plugin
  through ``swets_register_ops``.
* :func:`apply` runs an op on tensors. When a :class:`GradientTape` is active and one of the inputs is
  tracked (a :class:`Parameter`, a watched tensor, or the output of a recorded op), it appends one node
  to the tape. Otherwise it records nothing.
* :meth:`GradientTape.backward` (in :mod:`swets_core.tape`, re-exported here with the other tape names)
  walks the nodes in reverse, calls each backward, reduces broadcast gradients back to the input's
  shape, accumulates gradients of tensors used more than once, and returns ``{TensorId: gradient
  Tensor}`` for the tracked leaves (parameters and watched tensors).

Op lookup for Tensor operators is one dict access into :data:`swets_core.dispatch.OPS`, which the
registry fills; this module does not import the registry.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from swets_core.budget import charge
from swets_core.checks import check_generator
from swets_core.dispatch import OPS, lookup, op_failed
from swets_core.dtype import _FROM_NP, DEFAULT_FLOAT, DType
from swets_core.errors import DTypeError, ShapeError, SwetsError
from swets_core.tape import (
    GradientTape,
    TensorId,
    _state,
    active_tape,
    grads_of,
    no_grad,
    set_tensor_class,
    unbroadcast,
    using_tape,
)

_next_id = itertools.count(1).__next__

ArrayLike = Any


def _to_array(data: ArrayLike, dtype: DType | str | None) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        np_dtype = DType.of(dtype).numpy
        arr = np.asarray(data, dtype=np_dtype)
    else:
        arr = np.asarray(data)
        kind = arr.dtype.kind
        if kind == "f":
            if arr.dtype not in _FROM_NP or not isinstance(data, np.ndarray):
                arr = arr.astype(DEFAULT_FLOAT.numpy)
        elif kind in "iu":
            if arr.dtype not in _FROM_NP:
                arr = arr.astype(np.int64)
        elif kind == "b":
            pass
        else:
            raise DTypeError(f"cannot make a tensor from data of numpy dtype {arr.dtype}")
    return arr


def _binary_operator(name: str) -> Callable[[Any, Any], Any]:
    """A Tensor operator method running the op ``name`` on ``(a, b)``: :func:`apply` specialised for
    two inputs and no attributes (the hot path of ``x * y``), resolved through :data:`OPS`."""

    def method(a: Any, b: Any) -> Any:
        try:
            op = OPS[name]
        except KeyError:
            op = _op(name)
        ta = isinstance(a, Tensor)
        tb = isinstance(b, Tensor)
        ad = a._data if ta else a
        bd = b._data if tb else b
        tape = _state.tape
        if tape is not None and tape._recording:
            tracked = tape._tracked
            na = ta and (a._trainable or a.id in tracked)
            nb = tb and (b._trainable or b.id in tracked)
            if na or nb:
                try:
                    out, backward = op.forward(ad, bd)
                except SwetsError:
                    raise
                except (ValueError, TypeError, IndexError, FloatingPointError) as exc:
                    raise op_failed(op.name, (ad, bd), exc) from exc
                if type(out) is not _ndarray:
                    return _finish(op, tape, (a, b), (ad, bd), (na, nb), out, backward)
                result = _new_object(Tensor)
                result._data = out
                result.id = oid = _next_id()
                if backward is not None:
                    tape._nodes.append(
                        (
                            name,
                            backward,
                            (a.id if na else None, b.id if nb else None),
                            oid,
                            (na, nb),
                            (
                                (ad.shape, ad.dtype) if na else None,
                                (bd.shape, bd.dtype) if nb else None,
                            ),
                        )
                    )
                    tracked.add(oid)
                return result
        try:
            infer = op.infer
            out = infer(ad, bd) if infer is not None else op.forward(ad, bd)[0]
        except SwetsError:
            raise
        except (ValueError, TypeError, IndexError, FloatingPointError) as exc:
            raise op_failed(op.name, (ad, bd), exc) from exc
        if type(out) is not _ndarray:
            return _wrap_any(out)
        result = _new_object(Tensor)
        result._data = out
        result.id = _next_id()
        return result

    method.__name__ = f"__{name}__"
    return method


def _operator_pair(name: str) -> tuple[Callable[[Any, Any], Any], Callable[[Any, Any], Any]]:
    """``(__op__, __rop__)`` for the op ``name``: the reflected one swaps the operands."""
    method = _binary_operator(name)

    def reflected(self: Any, other: Any) -> Any:
        return method(other, self)

    reflected.__name__ = f"__r{name}__"
    return method, reflected


class Tensor:
    """An n-dimensional array with an identity, the value type of swets.

    Args:
        data: a numpy array, a nested list, a scalar, or another Tensor. A numpy array keeps its dtype
            (when supported) and is not copied; Python floats become float32, Python ints int64.
        dtype: force a dtype (``DType``, numpy dtype or name); the data is converted if needed.

    A tensor holds no gradient state: gradients live in the mapping a :class:`GradientTape` returns,
    keyed by :attr:`id`. Views (``reshape``, slicing, ``detach``) share the underlying storage.
    """

    __slots__ = ("__weakref__", "_data", "id")
    _trainable = False
    # numpy defers to our reflected operators (ndarray * Tensor -> Tensor.__rmul__), so mixing an
    # array and a tensor is recorded on the tape instead of silently dropping to a plain array.
    __array_ufunc__ = None

    def __init__(self, data: ArrayLike, dtype: DType | str | None = None) -> None:
        self._data = _to_array(data, dtype)
        self.id: TensorId = _next_id()  # type: ignore[assignment]

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def _wrap(cls, array: np.ndarray) -> Tensor:
        """Wrap an array without conversion or checks (internal fast path)."""
        t = object.__new__(cls)
        t._data = array
        t.id = _next_id()
        return t

    @classmethod
    def zeros(cls, *shape: int, dtype: DType | str = DEFAULT_FLOAT) -> Tensor:
        """A tensor of zeros with the given shape."""
        return cls._wrap(np.zeros(_shape_arg(shape), dtype=DType.of(dtype).numpy))

    @classmethod
    def ones(cls, *shape: int, dtype: DType | str = DEFAULT_FLOAT) -> Tensor:
        """A tensor of ones with the given shape."""
        return cls._wrap(np.ones(_shape_arg(shape), dtype=DType.of(dtype).numpy))

    @classmethod
    def full(cls, shape: Sequence[int], value: float, dtype: DType | str = DEFAULT_FLOAT) -> Tensor:
        """A tensor filled with ``value``."""
        return cls._wrap(np.full(tuple(shape), value, dtype=DType.of(dtype).numpy))

    @classmethod
    def randn(
        cls, *shape: int, rng: np.random.Generator, dtype: DType | str = DEFAULT_FLOAT
    ) -> Tensor:
        """Standard normal samples drawn from the explicit generator ``rng``."""
        check_generator(rng, "Tensor.randn")
        return cls._wrap(rng.standard_normal(_shape_arg(shape)).astype(DType.of(dtype).numpy))

    @classmethod
    def uniform(
        cls,
        *shape: int,
        low: float = 0.0,
        high: float = 1.0,
        rng: np.random.Generator,
        dtype: DType | str = DEFAULT_FLOAT,
    ) -> Tensor:
        """Uniform samples in ``[low, high)`` drawn from the explicit generator ``rng``."""
        check_generator(rng, "Tensor.uniform")
        arr = rng.uniform(low, high, size=_shape_arg(shape)).astype(DType.of(dtype).numpy)
        return cls._wrap(arr)

    # -- properties ---------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The shape as a tuple of ints."""
        return self._data.shape

    @property
    def dtype(self) -> DType:
        """The :class:`DType`."""
        return _FROM_NP[self._data.dtype]

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self._data.ndim

    @property
    def size(self) -> int:
        """Number of elements."""
        return self._data.size

    def numpy(self) -> np.ndarray:
        """The underlying numpy array (no copy: it shares storage with the tensor)."""
        return self._data

    def item(self) -> float | int | bool:
        """The single value of a one-element tensor as a Python scalar."""
        if self._data.size != 1:
            raise ShapeError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self._data.item()

    def tolist(self) -> Any:
        """The values as nested Python lists."""
        return self._data.tolist()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if dtype is None or np.dtype(dtype) == self._data.dtype:
            return self._data.copy() if copy else self._data
        return self._data.astype(dtype)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise ShapeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", threshold=20, edgeitems=3, precision=4)
        body = body.replace("\n", "\n" + " " * 7)
        kind = type(self).__name__
        return f"{kind}({body}, shape={self.shape}, dtype={self.dtype.value})"

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ShapeError(
                f"the truth value of a tensor with {self._data.size} elements is ambiguous"
            )
        return bool(self._data)

    __hash__ = object.__hash__  # identity, like the id; == is elementwise

    def detach(self) -> Tensor:
        """A new tensor sharing storage with this one but with a fresh id, so no gradient flows."""
        return Tensor._wrap(self._data)

    def astype(self, dtype: DType | str) -> Tensor:
        """A copy converted to ``dtype`` (differentiable between float dtypes)."""
        return call_op("cast", self, dtype=DType.of(dtype).value)

    def copy(self) -> Tensor:
        """A detached copy with its own storage."""
        return Tensor._wrap(self._data.copy())

    # -- operators (dispatch through OPS: one dict lookup) ------------------------------------
    __add__, __radd__ = _operator_pair("add")
    __sub__, __rsub__ = _operator_pair("sub")
    __mul__, __rmul__ = _operator_pair("mul")
    __truediv__, __rtruediv__ = _operator_pair("div")
    __matmul__, __rmatmul__ = _operator_pair("matmul")
    __pow__, __rpow__ = _operator_pair("pow")

    def __neg__(self) -> Tensor:
        return apply(_op("neg"), self)

    def __abs__(self) -> Tensor:
        return apply(_op("abs"), self)

    def __getitem__(self, index: Any) -> Tensor:
        if isinstance(index, Tensor):
            index = index._data
        elif isinstance(index, tuple):
            index = tuple(i._data if isinstance(i, Tensor) else i for i in index)
        return apply(_op("getitem"), self, index=index)

    __lt__ = _binary_operator("less")
    __le__ = _binary_operator("less_equal")
    __gt__ = _binary_operator("greater")
    __ge__ = _binary_operator("greater_equal")
    __eq__ = _binary_operator("equal")  # type: ignore[assignment]  # elementwise, as numpy
    __ne__ = _binary_operator("not_equal")  # type: ignore[assignment]

    # -- common methods (thin wrappers over registered ops) -----------------------------------
    def reshape(self, *shape: int) -> Tensor:
        """A view with a new shape (``-1`` infers one dimension)."""
        return apply(_op("reshape"), self, shape=_shape_arg(shape))

    def transpose(self, *axes: int) -> Tensor:
        """Permute the axes (reverse them when none are given)."""
        return apply(_op("transpose"), self, axes=_shape_arg(axes) if axes else None)

    @property
    def T(self) -> Tensor:  # noqa: N802 - numpy's name
        """The tensor with its axes reversed."""
        return apply(_op("transpose"), self, axes=None)

    def sum(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all axes when None)."""
        return apply(_op("sum"), self, axis=axis, keepdims=keepdims)

    def mean(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis`` (all axes when None)."""
        return apply(_op("mean"), self, axis=axis, keepdims=keepdims)


class Parameter(Tensor):
    """A trainable tensor: every active tape tracks it without an explicit ``watch``.

    Optimizers update a parameter's storage in place, so its :attr:`id` stays the same for its life.
    """

    __slots__ = ()
    _trainable = True

    def __init__(self, data: ArrayLike, dtype: DType | str | None = None) -> None:
        super().__init__(data, dtype)
        if self._data.dtype.kind != "f":
            raise DTypeError(f"a Parameter must be float32 or float64, got {self._data.dtype}")
        charge(self._data.size)  # the parameter budget of a model built from a file

    @classmethod
    def _wrap(cls, array: np.ndarray) -> Tensor:
        charge(array.size)
        return super()._wrap(array)


set_tensor_class(Tensor)  # the tape wraps gradients in it


def _shape_arg(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(int(s) for s in shape[0])
    return tuple(int(s) for s in shape)


def tensor(data: ArrayLike, dtype: DType | str | None = None) -> Tensor:
    """Make a :class:`Tensor` (see its constructor)."""
    return Tensor(data, dtype)


# ------------------------------------------------------------------------------------------------
# Ops
# ------------------------------------------------------------------------------------------------

BackwardFn = Callable[[Any, tuple[bool, ...]], Sequence[Any]]


class OpDef:
    """One differentiable operation, as registered by an op plugin.

    Args:
        name: the registry name (``"matmul"``).
        forward: ``forward(*inputs, **attrs) -> (output, backward)``. ``inputs`` are numpy arrays or
            Python scalars (tensors are unwrapped), ``attrs`` are the keyword arguments of the call.
            ``output`` is an array or a tuple of arrays. ``backward`` is a
            :class:`~swets_core.protocols.BackwardOp` or None when the output has no gradient
            (comparisons, integer results).
        infer: optional ``infer(*inputs, **attrs) -> output`` used when nothing is recorded; saves
            the work of preparing the backward pass. Must compute the same output as ``forward``.
        doc: one-line description (defaults to the first line of ``forward``'s docstring).
    """

    __slots__ = ("doc", "forward", "infer", "name")

    def __init__(
        self,
        name: str,
        forward: Callable[..., tuple[Any, BackwardFn | None]],
        infer: Callable[..., Any] | None = None,
        doc: str | None = None,
    ) -> None:
        self.name = name
        self.forward = forward
        self.infer = infer
        if doc is None:
            doc = ((forward.__doc__ or "").strip().splitlines() or [""])[0]
        self.doc = doc

    def __call__(self, *inputs: Any, **attrs: Any) -> Any:
        return apply(self, *inputs, **attrs)

    def __repr__(self) -> str:
        return f"OpDef({self.name!r})"


_op = lookup


def call_op(name: str, *inputs: Any, **attrs: Any) -> Any:
    """Run the registered op ``name`` on ``inputs`` (see :func:`apply`)."""
    return apply(_op(name), *inputs, **attrs)


_new_object = object.__new__
_ndarray = np.ndarray


def _as_output(out: Any) -> np.ndarray:
    # numpy returns scalars (np.float32...) for 0-d results; a Tensor always holds an ndarray
    if type(out) is _ndarray:
        return out
    if isinstance(out, np.generic):
        return np.asarray(out)
    return _to_array(out, None)


def _wrap(array: np.ndarray) -> Tensor:
    t = _new_object(Tensor)
    t._data = array
    t.id = _next_id()
    return t


def _wrap_any(out: Any) -> Any:
    if type(out) is _ndarray:
        return _wrap(out)
    if type(out) is tuple:
        return tuple([_wrap(_as_output(o)) for o in out])
    return _wrap(_as_output(out))


def apply(op: OpDef, *inputs: Any, **attrs: Any) -> Any:
    """Run ``op`` on ``inputs`` and record it on the active tape when an input is tracked.

    Positional arguments are the op's inputs (Tensors, numpy arrays or Python scalars); keyword
    arguments are attributes (an axis, a flag). Returns a Tensor, or a tuple of Tensors for an op with
    several outputs. Errors from numpy inside the op are re-raised as :class:`OpError` naming the op
    and the input shapes.
    """
    tape = _state.tape
    needs: tuple[bool, ...] | None = None  # set when the call is recorded
    if len(inputs) == 1:  # unary ops, reductions, shape ops: skip the comprehensions
        x = inputs[0]
        if isinstance(x, Tensor):
            arrays: tuple[Any, ...] = (x._data,)
            if tape is not None and tape._recording and (x._trainable or x.id in tape._tracked):
                needs = (True,)
        else:
            arrays = inputs
    else:
        arrays = tuple([x._data if isinstance(x, Tensor) else x for x in inputs])
        if tape is not None and tape._recording:
            tracked = tape._tracked
            flags = tuple(
                [isinstance(x, Tensor) and (x._trainable or x.id in tracked) for x in inputs]
            )
            if True in flags:
                needs = flags
    try:
        if needs is not None:
            out, backward = op.forward(*arrays, **attrs)
        elif op.infer is not None:
            out = op.infer(*arrays, **attrs)
        else:
            out = op.forward(*arrays, **attrs)[0]
    except SwetsError:
        raise
    except (ValueError, TypeError, IndexError, FloatingPointError) as exc:
        raise op_failed(op.name, arrays, exc) from exc
    if needs is not None:
        return _finish(op, tape, inputs, arrays, needs, out, backward)
    if type(out) is _ndarray:
        return _wrap(out)
    return _wrap_any(out)


def _finish(
    op: OpDef,
    tape: GradientTape,
    inputs: tuple[Any, ...],
    arrays: tuple[Any, ...],
    needs: tuple[bool, ...],
    out: Any,
    backward: Any,
) -> Any:
    """Wrap a forward's output and append its node to ``tape``."""
    if type(out) is _ndarray:
        result: Any = _wrap(out)
        out_ids: Any = result.id
    elif type(out) is tuple:
        result = tuple([_wrap(_as_output(o)) for o in out])
        out_ids = tuple([t.id for t in result])
    else:
        result = _wrap(_as_output(out))
        out_ids = result.id
    if backward is None:
        return result
    if len(inputs) == 1:
        ids: tuple[Any, ...] = (inputs[0].id,)
        metas: tuple[Any, ...] = ((arrays[0].shape, arrays[0].dtype),)
    else:
        ids = tuple([x.id if n else None for x, n in zip(inputs, needs)])
        metas = tuple([(a.shape, a.dtype) if n else None for a, n in zip(arrays, needs)])
    tape._nodes.append((op.name, backward, ids, out_ids, needs, metas))
    if type(out_ids) is tuple:
        tape._tracked.update(out_ids)
    else:
        tape._tracked.add(out_ids)
    return result


def as_tensor(x: ArrayLike, dtype: DType | str | None = None) -> Tensor:
    """Return ``x`` if it is a Tensor (of ``dtype`` when given), else wrap it."""
    if isinstance(x, Tensor) and (dtype is None or x.dtype is DType.of(dtype)):
        return x
    return Tensor(x, dtype)


__all__ = [
    "GradientTape",
    "OpDef",
    "Parameter",
    "Tensor",
    "TensorId",
    "active_tape",
    "apply",
    "as_tensor",
    "call_op",
    "grads_of",
    "no_grad",
    "tensor",
    "unbroadcast",
    "using_tape",
]
