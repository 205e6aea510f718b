"""Reductions (``sum mean max min var std logsumexp``) and ``softmax``/``log_softmax``.

``axis`` is None (every axis), an int or a sequence of ints; negative axes count from the end and an
axis out of range raises :class:`~swets_core.errors.ShapeError`. ``keepdims=True`` keeps reduced axes
with size 1.

Gradient conventions:

* ``max``/``min`` send the gradient to the extreme element; when several elements tie for the
  extreme, the gradient is split evenly between them (as PyTorch's ``amax``/``amin``). In a slice
  holding NaN the result is NaN and the gradient goes to the NaN entries.
* ``var``/``std`` divide by ``N - correction`` (``correction=1`` is Bessel's correction, 0 the
  population statistic); when ``N - correction <= 0`` the result is NaN or infinity, as PyTorch.
* ``logsumexp``, ``softmax`` and ``log_softmax`` subtract the maximum first, so they are exact for
  large inputs; integer inputs are computed in float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from swets_core.errors import OpError, ShapeError
from swets_ops._common import (
    as_array,
    as_float,
    axes_tuple,
    axis_index,
    kept_shape,
    opdef,
    reduced_count,
)


def _drop(arr: np.ndarray, axes: tuple[int, ...] | None, keepdims: bool) -> np.ndarray:
    """Turn a ``keepdims=True`` result into the requested shape."""
    if keepdims:
        return arr
    if axes is None:
        return arr.reshape(())
    return np.squeeze(arr, axis=axes)


def _max_of(name: str, fn: Any, x: np.ndarray, axes: Any, keepdims: bool) -> np.ndarray:
    try:
        return fn(x, axis=axes, keepdims=keepdims)
    except ValueError:
        raise ShapeError(
            f"{name}: cannot reduce over an empty axis (input shape {x.shape}, axis {axes})"
        ) from None


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> tuple[np.ndarray, Any]:
    """sum(x, axis=None, keepdims=False): sum over ``axis`` (every axis when None)."""
    x = as_array(x)
    shape = x.shape
    axes = axes_tuple("sum", axis, x.ndim, shape)
    out = np.sum(x, axis=axes, keepdims=keepdims)
    kshape = kept_shape(shape, axes)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (np.broadcast_to(np.reshape(g, kshape), shape),)

    return out, backward


def _sum_infer(x: Any, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    x = as_array(x)
    return np.sum(x, axis=axes_tuple("sum", axis, x.ndim, x.shape), keepdims=keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> tuple[np.ndarray, Any]:
    """mean(x, axis=None, keepdims=False): arithmetic mean over ``axis`` (ints give float32)."""
    x = as_float(x)
    shape = x.shape
    axes = axes_tuple("mean", axis, x.ndim, shape)
    n = reduced_count(shape, axes)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.add.reduce(x, axis=axes, keepdims=keepdims) / n
    kshape = kept_shape(shape, axes)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (np.broadcast_to(np.reshape(g, kshape) / n, shape),)

    return out, backward


def _mean_infer(x: Any, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    x = as_float(x)
    axes = axes_tuple("mean", axis, x.ndim, x.shape)
    n = reduced_count(x.shape, axes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.add.reduce(x, axis=axes, keepdims=keepdims) / n


def _extreme(name: str, fn: Any) -> tuple[Any, Any]:
    def forward(x: Any, axis: Any = None, keepdims: bool = False) -> tuple[np.ndarray, Any]:
        x = as_array(x)
        shape = x.shape
        axes = axes_tuple(name, axis, x.ndim, shape)
        out_k = _max_of(name, fn, x, axes, True)
        out = _drop(out_k, axes, keepdims)
        if x.dtype.kind != "f":
            return out, None

        def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
            mask = x == out_k
            nan = np.isnan(out_k)
            if nan.any():
                mask |= np.isnan(x) & nan
            count = np.sum(mask, axis=axes, keepdims=True)
            return (mask * (np.reshape(g, out_k.shape) / count),)

        return out, backward

    def infer(x: Any, axis: Any = None, keepdims: bool = False) -> np.ndarray:
        x = as_array(x)
        return _max_of(name, fn, x, axes_tuple(name, axis, x.ndim, x.shape), keepdims)

    word = "maximum" if name == "max" else "minimum"
    forward.__name__ = name
    forward.__doc__ = f"{name}(x, axis=None, keepdims=False): {word} over ``axis``; ties split the gradient evenly."
    return forward, infer


def _correction(name: str, correction: Any) -> float:
    if isinstance(correction, bool) or not isinstance(correction, int | float | np.number):
        raise OpError(f"{name}: correction must be a number, got {correction!r}")
    return float(correction)


def _moments(
    name: str, x: Any, axis: Any, correction: Any
) -> tuple[np.ndarray, np.ndarray, tuple[int, ...] | None, float]:
    corr = _correction(name, correction)
    x = as_float(x)
    axes = axes_tuple(name, axis, x.ndim, x.shape)
    n = reduced_count(x.shape, axes)
    denom = max(n - corr, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = x - np.add.reduce(x, axis=axes, keepdims=True) / n
        var_k = np.add.reduce(d * d, axis=axes, keepdims=True) / denom
    return d, var_k, axes, denom


def var(
    x: Any, axis: Any = None, correction: float = 1, keepdims: bool = False
) -> tuple[np.ndarray, Any]:
    """var(x, axis=None, correction=1, keepdims=False): variance ``sum((x - mean)^2) / (N - correction)``."""
    d, var_k, axes, denom = _moments("var", x, axis, correction)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        with np.errstate(invalid="ignore", divide="ignore"):
            return (d * (np.reshape(g, var_k.shape) * (2.0 / denom if denom else np.inf)),)

    return _drop(var_k, axes, keepdims), backward


def std(
    x: Any, axis: Any = None, correction: float = 1, keepdims: bool = False
) -> tuple[np.ndarray, Any]:
    """std(x, axis=None, correction=1, keepdims=False): ``sqrt(var(x, axis, correction))``."""
    d, var_k, axes, denom = _moments("std", x, axis, correction)
    std_k = np.sqrt(var_k)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        with np.errstate(invalid="ignore", divide="ignore"):
            return (d * (np.reshape(g, std_k.shape) / (denom * std_k)),)

    return _drop(std_k, axes, keepdims), backward


def _var_infer(x: Any, axis: Any = None, correction: float = 1, keepdims: bool = False) -> Any:
    _, var_k, axes, _ = _moments("var", x, axis, correction)
    return _drop(var_k, axes, keepdims)


def _std_infer(x: Any, axis: Any = None, correction: float = 1, keepdims: bool = False) -> Any:
    _, var_k, axes, _ = _moments("std", x, axis, correction)
    return _drop(np.sqrt(var_k), axes, keepdims)


def _lse(name: str, x: np.ndarray, axes: Any) -> np.ndarray:
    """``log(sum(exp(x)))`` over ``axes`` with keepdims, shifted by the (finite) maximum."""
    m = _max_of(name, np.max, x, axes, True)
    if not np.isfinite(m).all():
        m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        return np.log(np.add.reduce(np.exp(x - m), axis=axes, keepdims=True)) + m


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> tuple[np.ndarray, Any]:
    """logsumexp(x, axis=None, keepdims=False): ``log(sum(exp(x)))`` over ``axis``, computed stably."""
    x = as_float(x)
    axes = axes_tuple("logsumexp", axis, x.ndim, x.shape)
    out_k = _lse("logsumexp", x, axes)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (np.reshape(g, out_k.shape) * np.exp(x - out_k),)

    return _drop(out_k, axes, keepdims), backward


def _logsumexp_infer(x: Any, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    x = as_float(x)
    axes = axes_tuple("logsumexp", axis, x.ndim, x.shape)
    return _drop(_lse("logsumexp", x, axes), axes, keepdims)


def _softmax_out(x: Any, axis: Any) -> tuple[np.ndarray, int]:
    x = as_float(x)
    if x.ndim == 0:
        raise ShapeError("softmax: needs at least a 1-d input, got a 0-d tensor")
    ax = axis_index("softmax", axis, x.ndim, x.shape)
    e = np.exp(x - _max_of("softmax", np.max, x, ax, True))
    e /= np.add.reduce(e, axis=ax, keepdims=True)
    return e, ax


def softmax(x: Any, axis: int = -1) -> tuple[np.ndarray, Any]:
    """softmax(x, axis=-1): ``exp(x) / sum(exp(x))`` along ``axis``, computed stably."""
    out, ax = _softmax_out(x, axis)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        gs = g * out
        gs -= out * np.add.reduce(gs, axis=ax, keepdims=True)
        return (gs,)

    return out, backward


def _log_softmax_out(x: Any, axis: Any) -> tuple[np.ndarray, int]:
    x = as_float(x)
    if x.ndim == 0:
        raise ShapeError("log_softmax: needs at least a 1-d input, got a 0-d tensor")
    ax = axis_index("log_softmax", axis, x.ndim, x.shape)
    shifted = x - _max_of("log_softmax", np.max, x, ax, True)
    shifted -= np.log(np.add.reduce(np.exp(shifted), axis=ax, keepdims=True))
    return shifted, ax


def log_softmax(x: Any, axis: int = -1) -> tuple[np.ndarray, Any]:
    """log_softmax(x, axis=-1): ``x - logsumexp(x)`` along ``axis``, computed stably."""
    out, ax = _log_softmax_out(x, axis)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any]:
        return (g - np.exp(out) * np.add.reduce(g, axis=ax, keepdims=True),)

    return out, backward


def register_all(register: Any) -> None:
    """Register the reductions and softmax ops."""
    max_f, max_i = _extreme("max", np.max)
    min_f, min_i = _extreme("min", np.min)
    here = globals()  # each of these ops is ``name`` with its inference ``_name_infer``
    defs = [
        opdef(n, here[n], here[f"_{n}_infer"]) for n in ("sum", "mean", "var", "std", "logsumexp")
    ]
    defs += [
        opdef("max", max_f, max_i),
        opdef("min", min_f, min_i),
        opdef("softmax", softmax, lambda x, axis=-1: _softmax_out(x, axis)[0]),
        opdef("log_softmax", log_softmax, lambda x, axis=-1: _log_softmax_out(x, axis)[0]),
    ]
    for d in defs:
        register(d.name, d)


__all__ = ["register_all"]
