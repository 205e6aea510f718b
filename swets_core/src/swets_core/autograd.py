"""The engine: :class:`Tensor`, :class:`Parameter`, :class:`GradientTape`, :class:`OpDef` and :func:`apply`.

Reads top to bottom:

* A :class:`Tensor` wraps a numpy array and a unique integer id. It holds no gradient state.
* An op is an :class:`OpDef`: a ``forward(*arrays, **attrs)`` that returns the output array(s) and a
  backward callable (the :class:`~swets_core.protocols.BackwardOp` contract), registered by a plugin
  through ``swets_register_ops``.
* :func:`apply` runs an op on tensors. When a :class:`GradientTape` is active and one of the inputs is
  tracked (a :class:`Parameter`, a watched tensor, or the output of a recorded op), it appends one node
  to the tape. Otherwise it records nothing.
* :meth:`GradientTape.backward` walks the nodes in reverse, calls each backward, reduces broadcast
  gradients back to the input's shape, accumulates gradients of tensors used more than once, and returns
  ``{TensorId: gradient Tensor}`` for the tracked leaves (parameters and watched tensors).

Op lookup for Tensor operators is one dict access into :data:`swets_core.dispatch.OPS`, which the
registry fills; this module does not import the registry.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NewType

import numpy as np

from swets_core.dispatch import OPS, lookup, op_failed
from swets_core.dtype import _FROM_NP, DEFAULT_FLOAT, DType
from swets_core.errors import (
    ArgumentTypeError,
    DTypeError,
    ShapeError,
    SwetsError,
    TapeError,
)

TensorId = NewType("TensorId", int)
"""A tensor's unique identity: the key of the gradient mapping the tape returns."""

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


def _reflected(method: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def reflected(self: Any, other: Any) -> Any:
        return method(other, self)

    return reflected


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
        _check_rng(rng)
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
        _check_rng(rng)
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
    __add__ = _binary_operator("add")
    __radd__ = _reflected(__add__)

    __sub__ = _binary_operator("sub")
    __rsub__ = _reflected(__sub__)

    __mul__ = _binary_operator("mul")
    __rmul__ = _reflected(__mul__)

    __truediv__ = _binary_operator("div")
    __rtruediv__ = _reflected(__truediv__)

    __matmul__ = _binary_operator("matmul")
    __rmatmul__ = _reflected(__matmul__)

    __pow__ = _binary_operator("pow")
    __rpow__ = _reflected(__pow__)

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


def _shape_arg(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(int(s) for s in shape[0])
    return tuple(int(s) for s in shape)


def _check_rng(rng: object) -> None:
    if not isinstance(rng, np.random.Generator):
        raise ArgumentTypeError(
            f"rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(seed)), got "
            f"{type(rng).__name__}"
        )


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


# A recorded node is a plain tuple (the cheapest object to build per op):
# (name, backward, input ids (TensorId | None per input), output id(s), needs, metas), where metas holds
# (shape, dtype) per input that needs a gradient (None otherwise).
_NAME, _BACKWARD, _INPUTS, _OUTPUTS, _NEEDS, _METAS = range(6)


class _Local(threading.local):
    tape: GradientTape | None = None
    stack: list | None = None


_state = _Local()
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
    if len(inputs) == 1:  # unary ops, reductions, shape ops: skip the comprehensions
        x = inputs[0]
        if isinstance(x, Tensor):
            arrays: tuple[Any, ...] = (x._data,)
            if tape is not None and tape._recording and (x._trainable or x.id in tape._tracked):
                return _record(op, tape, inputs, arrays, (True,), attrs)
        else:
            arrays = inputs
    else:
        arrays = tuple([x._data if isinstance(x, Tensor) else x for x in inputs])
        if tape is not None and tape._recording:
            tracked = tape._tracked
            needs = tuple(
                [isinstance(x, Tensor) and (x._trainable or x.id in tracked) for x in inputs]
            )
            if True in needs:
                return _record(op, tape, inputs, arrays, needs, attrs)
    try:
        if op.infer is not None:
            out = op.infer(*arrays, **attrs)
        else:
            out = op.forward(*arrays, **attrs)[0]
    except SwetsError:
        raise
    except (ValueError, TypeError, IndexError, FloatingPointError) as exc:
        raise op_failed(op.name, arrays, exc) from exc
    if type(out) is _ndarray:
        return _wrap(out)
    return _wrap_any(out)


def _record(
    op: OpDef,
    tape: GradientTape,
    inputs: tuple[Any, ...],
    arrays: tuple[Any, ...],
    needs: tuple[bool, ...],
    attrs: dict[str, Any],
) -> Any:
    try:
        out, backward = op.forward(*arrays, **attrs)
    except SwetsError:
        raise
    except (ValueError, TypeError, IndexError, FloatingPointError) as exc:
        raise op_failed(op.name, arrays, exc) from exc
    return _finish(op, tape, inputs, arrays, needs, out, backward)


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


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``, undoing numpy broadcasting (shared by every op's backward)."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0:
        return np.broadcast_to(grad, shape)  # a scalar-like gradient for a larger input
    axes = tuple(range(extra)) + tuple(
        i + extra for i, s in enumerate(shape) if s == 1 and grad.shape[i + extra] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if extra:
        grad = grad.reshape(shape)
    return grad


# ------------------------------------------------------------------------------------------------
# The tape
# ------------------------------------------------------------------------------------------------


class GradientTape:
    """Records ops during a forward pass and computes gradients in reverse.

    Args:
        persistent: allow :meth:`backward` to be called more than once (keeps the recorded nodes).
        watch: tensors to track from the start, in addition to every :class:`Parameter`.

    Use it as a context manager, which makes it the active tape of the current thread, or pass it to
    a layer's ``forward(x, tape=tape)``. Only ops with at least one tracked input are recorded, so a
    tape costs nothing for data preparation, and no active tape means no recording at all.

    Example::

        with GradientTape() as tape:
            loss = ((model(x) - y) ** 2).mean()
        grads = tape.backward(loss)  # {param.id: gradient Tensor}
    """

    __slots__ = ("_nodes", "_prev", "_recording", "_tracked", "_used", "persistent")

    def __init__(self, persistent: bool = False, watch: Iterable[Tensor] = ()) -> None:
        self.persistent = persistent
        self._nodes: list[tuple[Any, ...]] = []
        self._tracked: set[int] = set()
        self._recording = True
        self._used = False
        self._prev: list[GradientTape | None] = []
        for t in watch:
            self.watch(t)

    # -- activation ---------------------------------------------------------------------------
    def __enter__(self) -> GradientTape:
        self._prev.append(_state.tape)
        _state.tape = self
        return self

    def __exit__(self, *exc: object) -> None:
        _state.tape = self._prev.pop()

    @contextmanager
    def stop_recording(self) -> Iterator[None]:
        """Within this block, ops run without being recorded on this tape."""
        before = self._recording
        self._recording = False
        try:
            yield
        finally:
            self._recording = before

    def watch(self, *tensors: Tensor | Iterable[Tensor]) -> None:
        """Track tensors that are not parameters (inputs whose gradient you want)."""
        for t in tensors:
            if isinstance(t, Tensor):
                if t._data.dtype.kind != "f":
                    raise DTypeError(
                        f"cannot watch a {t._data.dtype} tensor: gradients need floats"
                    )
                self._tracked.add(t.id)
            else:
                self.watch(*t)

    def __len__(self) -> int:
        """Number of recorded nodes."""
        return len(self._nodes)

    @property
    def op_names(self) -> list[str]:
        """The names of the recorded ops, in recording order (for debugging and tests)."""
        return [n[_NAME] for n in self._nodes]

    # -- backward -----------------------------------------------------------------------------
    def backward(
        self,
        output: Tensor,
        grad: Tensor | np.ndarray | None = None,
        sources: Iterable[Tensor] | None = None,
    ) -> dict[TensorId, Tensor]:
        """Gradients of ``output`` with respect to every tracked leaf it depends on.

        Args:
            output: the tensor to differentiate, usually a scalar loss.
            grad: the gradient of some downstream value w.r.t. ``output``; ones when omitted.
            sources: if given, return gradients for exactly these tensors (intermediates allowed);
                otherwise for every tracked leaf (parameters and watched tensors).

        Returns:
            ``{TensorId: Tensor}``. A tracked tensor that does not influence ``output`` is absent.
            Gradients of a tensor used several times are summed.

        Raises:
            TapeError: on a second call to a non-persistent tape, or when ``output`` was not produced
                by a recorded op nor tracked.
        """
        if self._used and not self.persistent:
            raise TapeError(
                "backward() was already called on this non-persistent GradientTape; "
                "use GradientTape(persistent=True) to call it more than once"
            )
        if not isinstance(output, Tensor):
            raise TapeError(f"backward() needs a Tensor output, got {type(output).__name__}")
        if output.id not in self._tracked and not output._trainable:
            raise TapeError(
                "the output was not computed from any tracked tensor on this tape "
                "(no Parameter or watched tensor among its inputs, or it was computed outside the tape)"
            )
        out_data = output._data
        if grad is None:
            seed = np.ones_like(out_data)
        else:
            seed = (
                grad._data if isinstance(grad, Tensor) else np.asarray(grad, dtype=out_data.dtype)
            )
            if seed.shape != out_data.shape:
                raise ShapeError(
                    f"backward(): grad has shape {seed.shape} but the output has shape {out_data.shape}"
                )
        keep = None if sources is None else {t.id for t in sources}
        kept: dict[int, np.ndarray] = {}
        grads: dict[int, np.ndarray] = {output.id: seed}
        for name, backward, inputs, outs, needs, metas in reversed(self._nodes):
            if type(outs) is tuple:
                present = [grads.pop(o, None) for o in outs]
                if all(g is None for g in present):
                    continue
                if keep is not None:
                    for o, g in zip(outs, present):
                        if o in keep and g is not None:
                            kept[o] = g
                g_out: Any = tuple(present)
            else:
                g_out = grads.pop(outs, None)
                if g_out is None:
                    continue
                if keep is not None and outs in keep:
                    kept[outs] = g_out
            in_grads = backward(g_out, needs)
            if len(in_grads) != len(inputs):
                raise TapeError(
                    f"{name}: backward returned {len(in_grads)} gradients for {len(inputs)} inputs"
                )
            for tid, g, meta in zip(inputs, in_grads, metas):
                if tid is None or g is None:
                    continue
                shape, dtype = meta
                if g.shape != shape:
                    try:
                        g = unbroadcast(g, shape)
                    except ValueError as exc:
                        raise TapeError(
                            f"{name}: backward returned a gradient of shape {g.shape} for an "
                            f"input of shape {shape}"
                        ) from exc
                if g.dtype != dtype:
                    g = g.astype(dtype)
                prev = grads.get(tid)
                grads[tid] = g if prev is None else prev + g
        if not self.persistent:
            self._used = True
            self._nodes = []
        if keep is not None:
            kept.update((k, v) for k, v in grads.items() if k in keep)
            return {TensorId(k): _wrap(_own(v)) for k, v in kept.items()}
        # every node popped its outputs' gradients above: what is left belongs to leaves
        return {TensorId(k): _wrap(_own(v)) for k, v in grads.items()}

    def gradient(self, output: Tensor, sources: Sequence[Tensor]) -> list[Tensor | None]:
        """Gradients of ``output`` for each of ``sources``, in order (None where it has no influence)."""
        got = self.backward(output, sources=sources)
        return [got.get(t.id) for t in sources]


def _own(g: np.ndarray) -> np.ndarray:
    # a broadcast view or a read-only array must not leak out as a gradient
    if not g.flags.writeable or (g.strides and 0 in g.strides):
        return np.array(g)
    return g


def active_tape() -> GradientTape | None:
    """The tape recording on this thread, or None."""
    return _state.tape


@contextmanager
def no_grad() -> Iterator[None]:
    """Within this block no tape records (inference, metrics, parameter updates)."""
    prev = _state.tape
    _state.tape = None
    try:
        yield
    finally:
        _state.tape = prev


@contextmanager
def using_tape(tape: GradientTape | None) -> Iterator[GradientTape | None]:
    """Make ``tape`` the active tape within the block; ``None`` leaves the current one in place."""
    if tape is None or tape is _state.tape:
        yield _state.tape
        return
    prev = _state.tape
    _state.tape = tape
    try:
        yield tape
    finally:
        _state.tape = prev


def as_tensor(x: ArrayLike, dtype: DType | str | None = None) -> Tensor:
    """Return ``x`` if it is a Tensor (of ``dtype`` when given), else wrap it."""
    if isinstance(x, Tensor) and (dtype is None or x.dtype is DType.of(dtype)):
        return x
    return Tensor(x, dtype)


def grads_of(grads: Mapping[TensorId, Tensor], tensors: Iterable[Tensor]) -> list[Tensor | None]:
    """Pick the gradients of ``tensors`` out of a gradient mapping, in order."""
    return [grads.get(t.id) for t in tensors]


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
