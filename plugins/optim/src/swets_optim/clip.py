"""Gradient clipping on the ``{TensorId: Tensor}`` mapping a tape returns (never in place)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import numpy as np

from swets_core.autograd import Tensor, TensorId
from swets_core.errors import ConfigError, NonFiniteError
from swets_optim import _validate as v


def _arrays(grads: Mapping[TensorId, Tensor], where: str) -> dict[TensorId, np.ndarray]:
    if not isinstance(grads, Mapping):
        raise ConfigError(
            f"{where}: grads must be the {{TensorId: Tensor}} mapping a tape returns, "
            f"got {type(grads).__name__}"
        )
    out = {}
    for key, g in grads.items():
        arr = g._data if isinstance(g, Tensor) else g
        if not isinstance(arr, np.ndarray) or arr.dtype.kind != "f":
            raise ConfigError(
                f"{where}: the gradient for tensor id {key} is not a float Tensor "
                f"(got {type(g).__name__})"
            )
        out[key] = arr
    return out


def grad_norm(grads: Mapping[TensorId, Tensor], norm_type: float = 2.0) -> float:
    """The norm of all gradients together, as if concatenated into one vector (a Python float).

    ``norm_type`` is ``p > 0`` or ``math.inf`` (largest absolute value). An empty mapping has norm 0.
    """
    where = "grad_norm"
    arrays = _arrays(grads, where)
    p = _norm_type(norm_type, where)
    return _total_norm(list(arrays.values()), p)


def _norm_type(norm_type: float, where: str) -> float:
    if isinstance(norm_type, str) and norm_type.lower() == "inf":
        return math.inf
    if isinstance(norm_type, bool) or not isinstance(norm_type, numbers.Real):
        raise ConfigError(f"{where}: norm_type must be a number > 0 or inf, got {norm_type!r}")
    p = float(norm_type)
    if not p > 0.0:
        raise ConfigError(f"{where}: norm_type must be > 0 or inf, got {norm_type!r}")
    return p


def _total_norm(arrays: list[np.ndarray], p: float) -> float:
    if not arrays:
        return 0.0
    if p == math.inf:
        return max(float(np.max(np.abs(a))) if a.size else 0.0 for a in arrays)
    if p == 2.0:
        per = np.array([np.linalg.norm(a.reshape(-1)) for a in arrays], dtype=np.float64)
        return float(np.linalg.norm(per))
    if p == 1.0:
        return float(sum(float(np.abs(a).sum(dtype=np.float64)) for a in arrays))
    per = np.array(
        [np.sum(np.abs(a.astype(np.float64)) ** p) ** (1.0 / p) for a in arrays], dtype=np.float64
    )
    return float(np.sum(per**p) ** (1.0 / p))


def clip_grad_norm(
    grads: Mapping[TensorId, Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> tuple[dict[TensorId, Tensor], float]:
    """Scale all gradients together so that their global norm is at most ``max_norm``.

    As PyTorch's ``clip_grad_norm_``: ``total`` is the ``norm_type``-norm of all gradients
    concatenated; every gradient is multiplied by ``min(1, max_norm / (total + 1e-6))``. A non-finite
    total norm raises :class:`~swets_core.errors.NonFiniteError` when ``error_if_nonfinite``, and
    otherwise propagates (the scaled gradients are NaN, as in PyTorch).

    Args:
        grads: ``{TensorId: gradient Tensor}`` from :meth:`GradientTape.backward` (not modified).
        max_norm: the largest allowed norm, ``>= 0``.
        norm_type: ``p > 0`` or ``math.inf``.
        error_if_nonfinite: raise when the total norm is NaN or infinite.

    Returns:
        ``(new_grads, total_norm)``: a new mapping with the same keys (the original tensors when no
        scaling was needed, new tensors otherwise) and the total norm before clipping (a float).
    """
    where = "clip_grad_norm"
    arrays = _arrays(grads, where)
    max_norm = v.non_negative(where, "max_norm", max_norm)
    p = _norm_type(norm_type, where)
    v.boolean(where, "error_if_nonfinite", error_if_nonfinite)
    total = _total_norm(list(arrays.values()), p)
    if not math.isfinite(total) and error_if_nonfinite:
        raise NonFiniteError(
            f"{where}: the total {norm_type}-norm of the gradients is {total}; "
            "set error_if_nonfinite=False to clip anyway"
        )
    coef = max_norm / (total + 1e-6)
    if coef >= 1.0:
        return {k: _as_tensor(g) for k, g in grads.items()}, total
    out = {}
    for key, arr in arrays.items():
        out[key] = Tensor._wrap(np.multiply(arr, arr.dtype.type(coef)))
    return out, total


def clip_grad_value(grads: Mapping[TensorId, Tensor], clip_value: float) -> dict[TensorId, Tensor]:
    """Clamp every gradient element into ``[-clip_value, clip_value]`` (PyTorch's ``clip_grad_value_``).

    Args:
        grads: ``{TensorId: gradient Tensor}`` (not modified).
        clip_value: ``>= 0``.

    Returns:
        a new mapping with new gradient tensors.
    """
    where = "clip_grad_value"
    arrays = _arrays(grads, where)
    c = v.non_negative(where, "clip_value", clip_value)
    return {key: Tensor._wrap(np.clip(arr, -c, c)) for key, arr in arrays.items()}


def _as_tensor(g: Tensor | np.ndarray) -> Tensor:
    return g if isinstance(g, Tensor) else Tensor._wrap(g)
