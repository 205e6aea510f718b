"""Linear algebra: ``matmul`` (numpy/PyTorch semantics, batch broadcasting) and the fused ``linear``.

``matmul(a, b)``: 1-D operands are promoted as in numpy (a vector ``a`` becomes a row, a vector
``b`` a column, and the added dimension is removed from the result); the leading (batch) dimensions
broadcast. ``linear(x, weight[, bias])`` computes ``x @ weight.T + bias`` over any number of leading
dimensions of ``x`` with one matrix product per pass (the leading dimensions are folded into rows),
so its forward and backward are the bare BLAS calls plus one bias reduction.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from swets_core.errors import DTypeError, OpError, ShapeError
from swets_ops._common import F64, as_array, demote, opdef


def _matmul_out(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = as_array(a)
    b = as_array(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(
            f"matmul: both operands must be at least 1-d, got shapes {a.shape} and {b.shape}"
        )
    ka = a.shape[-1]
    kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if ka != kb:
        where = "second-to-last" if b.ndim > 1 else "only"
        raise ShapeError(
            f"matmul: cannot multiply shapes {a.shape} and {b.shape}: the last dimension of a "
            f"({ka}) must equal the {where} dimension of b ({kb})"
        )
    try:
        out = np.matmul(a, b)
    except ValueError:
        raise ShapeError(
            f"matmul: the batch dimensions of {a.shape} and {b.shape} do not broadcast together"
        ) from None
    if out.dtype is F64:
        out = demote(out, a, b)
    return out, a, b


def matmul(a: Any, b: Any) -> tuple[np.ndarray, Any]:
    """matmul(a, b): matrix product with batch broadcasting; 1-D operands as in numpy.

    Shapes: ``(..., m, k) @ (..., k, n) -> (..., m, n)``; ``(k,) @ (..., k, n) -> (..., n)``;
    ``(..., m, k) @ (k,) -> (..., m)``; ``(k,) @ (k,) -> ()``.
    """
    out, a, b = _matmul_out(a, b)

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any, Any]:
        ga = gb = None
        if a.ndim == 1 and b.ndim == 1:
            if needs[0]:
                ga = g * b
            if needs[1]:
                gb = g * a
        elif b.ndim == 1:  # a (..., m, k), g (..., m)
            if needs[0]:
                ga = g[..., None] * b
            if needs[1]:
                gb = np.tensordot(g, a, axes=g.ndim)
        elif a.ndim == 1:  # b (..., k, n), g (..., n)
            if needs[0]:
                ga = np.matmul(b, g[..., None])[..., 0]  # (..., k): the tape sums the batch
            if needs[1]:
                gb = a[:, None] * g[..., None, :]
        else:
            if needs[0]:
                if b.ndim == 2 and a.ndim > 2 and g.flags.c_contiguous:
                    ga = (g.reshape(-1, g.shape[-1]) @ b.T).reshape((*g.shape[:-1], b.shape[0]))
                else:
                    ga = np.matmul(g, np.swapaxes(b, -1, -2))
            if needs[1]:
                if b.ndim == 2 and a.ndim > 2:
                    gb = a.reshape(-1, a.shape[-1]).T @ g.reshape(-1, g.shape[-1])
                else:
                    gb = np.matmul(np.swapaxes(a, -1, -2), g)
        return ga, gb

    return out, backward


def _float_operand(name: str, x: Any) -> np.ndarray:
    x = as_array(x)
    if x.dtype.kind != "f":
        raise DTypeError(
            f"linear: {name} must be float32 or float64, got {x.dtype} of shape {x.shape}"
        )
    return x


def _linear(x: Any, weight: Any, bias: tuple[Any, ...]) -> tuple[Any, ...]:
    """``(x @ weight.T + bias, x as rows, x, weight, bias)`` after checking the operands."""
    b = bias[0] if bias else None
    if not (  # float arrays of matching shapes, as layers pass them: nothing to convert or report
        type(x) is np.ndarray
        and type(weight) is np.ndarray
        and len(bias) < 2
        and x.dtype.kind == "f"
        and weight.dtype.kind == "f"
        and weight.ndim == 2
        and x.ndim
        and x.shape[-1] == weight.shape[1]
        and (
            b is None
            or (type(b) is np.ndarray and b.dtype.kind == "f" and b.shape == (weight.shape[0],))
        )
    ):
        x, weight, b = _linear_check(x, weight, bias)
    x2 = x.reshape(-1, x.shape[-1]) if x.ndim > 2 else x
    y = x2 @ weight.T
    if b is not None:
        if y.dtype == b.dtype:
            y += b
        else:
            y = y + b
    out = y.reshape((*x.shape[:-1], weight.shape[0])) if x.ndim > 2 else y
    return out, x2, x, weight, b


def _linear_check(x: Any, weight: Any, bias: tuple[Any, ...]) -> tuple[np.ndarray, ...]:
    if len(bias) > 1:
        raise OpError(f"linear: takes x, weight and an optional bias, got {2 + len(bias)} inputs")
    x = _float_operand("x", x)
    w = _float_operand("weight", weight)
    if w.ndim != 2:
        raise ShapeError(
            f"linear: weight must be 2-d (out_features, in_features), got shape {w.shape}"
        )
    if x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise ShapeError(
            f"linear: x must have shape (..., {w.shape[1]}) to match weight of shape {w.shape}, "
            f"got {x.shape}"
        )
    b = None
    if bias and bias[0] is not None:
        b = _float_operand("bias", bias[0])
        if b.shape != (w.shape[0],):
            raise ShapeError(
                f"linear: bias must have shape ({w.shape[0]},) to match weight of shape {w.shape}, "
                f"got {b.shape}"
            )
    return x, w, b


def linear(x: Any, weight: Any, *bias: Any) -> tuple[np.ndarray, Any]:
    """linear(x, weight[, bias]): ``x @ weight.T + bias``; x ``(..., in)``, weight ``(out, in)``,
    bias ``(out,)`` -> ``(..., out)``."""
    out, x2, x, w, _ = _linear(x, weight, bias)
    n_in = 2 + len(bias)
    n_out = w.shape[0]

    def backward(g: np.ndarray, needs: tuple[bool, ...]) -> tuple[Any, ...]:
        g2 = g.reshape(-1, n_out) if g.ndim > 2 else g
        gx = gw = gb = None
        if needs[0]:
            gx = g2 @ w
            if x.ndim > 2:
                gx = gx.reshape(x.shape)
        if needs[1]:
            gw = np.multiply.outer(g2, x2) if x.ndim == 1 else g2.T @ x2
        if n_in == 3 and needs[2]:
            gb = g2 if g2.ndim == 1 else np.add.reduce(g2, axis=0)
        return (gx, gw, gb)[:n_in]

    return out, backward


def _linear_infer(x: Any, weight: Any, *bias: Any) -> np.ndarray:
    return _linear(x, weight, bias)[0]


def register_all(register: Any) -> None:
    """Register ``matmul`` and ``linear``."""
    register("matmul", opdef("matmul", matmul, lambda a, b: _matmul_out(a, b)[0]))
    register("linear", opdef("linear", linear, _linear_infer))


__all__ = ["register_all"]
