"""What the recurrent ops share: argument checks and the bias gradients.

The ops themselves live by cell: :mod:`swets_ops.fused_lstm` (``lstm_cell``, ``lstm``,
``lstm_stack``) and :mod:`swets_ops.fused_gru` (``gru_cell``, ``gru``). Weights are PyTorch's:
``w_ih (G * H, I)``, ``w_hh (G * H, H)``, optional ``b_ih``, ``b_hh (G * H,)``, with the gates stacked
in the order i, f, g, o (LSTM, ``G = 4``) or r, z, n (GRU, ``G = 3``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from swets_core.errors import OpError, ShapeError
from swets_ops.fused_common import float_array, same_dtype

_GATE_NAMES = {4: "i, f, g, o", 3: "r, z, n"}


def check_weights(
    op: str, gates: int, n_in: int, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None, int]:
    """One layer's weights checked against ``n_in`` input features: ``(w_ih, w_hh, b_ih, b_hh, H)``
    as arrays (biases may stay None), ``H`` the hidden size read off ``w_ih``."""
    w_ih = float_array(op, "w_ih", w_ih)
    w_hh = float_array(op, "w_hh", w_hh)
    if w_ih.ndim != 2 or w_ih.shape[0] % gates or w_ih.shape[0] == 0:
        raise ShapeError(
            f"{op}: w_ih must be ({gates} * hidden_size, input_size) (gates {_GATE_NAMES[gates]}), "
            f"got {w_ih.shape}"
        )
    H = w_ih.shape[0] // gates
    if w_ih.shape[1] != n_in:
        raise ShapeError(
            f"{op}: w_ih {w_ih.shape} expects input_size {w_ih.shape[1]} but x has {n_in} features"
        )
    if w_hh.shape != (gates * H, H):
        raise ShapeError(
            f"{op}: w_hh must have shape {(gates * H, H)} for hidden_size {H} (from w_ih "
            f"{w_ih.shape}), got {w_hh.shape}"
        )
    biases = []
    for name, b in (("b_ih", b_ih), ("b_hh", b_hh)):
        if b is not None:
            b = float_array(op, name, b)
            if b.shape != (gates * H,):
                raise ShapeError(f"{op}: {name} must have shape ({gates * H},), got {b.shape}")
        biases.append(b)
    return w_ih, w_hh, biases[0], biases[1], H


def _state(
    op: str, name: str, s: Any, N: int, H: int, dtype: np.dtype, batched: bool
) -> np.ndarray:
    if s is None:
        return np.zeros((N, H) if batched else (H,), dtype=dtype)
    s = float_array(op, name, s)
    want = (N, H) if batched else (H,)
    if s.shape != want:
        raise ShapeError(f"{op}: {name} must have shape {want} (batch, hidden_size), got {s.shape}")
    return s


def sequence_input(op: str, x: Any) -> np.ndarray:
    """A sequence op's input as an array: ``(N, L, I)`` with at least one step."""
    x = float_array(op, "x", x)
    if x.ndim != 3:
        raise ShapeError(f"{op}: x must be 3-d (batch, length, input_size), got shape {x.shape}")
    if x.shape[1] == 0:
        raise ShapeError(f"{op}: x must have at least one time step, got shape {x.shape}")
    return x


def recurrent_args(
    op: str,
    gates: int,
    x: Any,
    states: dict[str, Any],
    w_ih: Any,
    w_hh: Any,
    biases: tuple[Any, ...],
    sequence: bool,
) -> tuple[np.ndarray, list[np.ndarray], np.ndarray, np.ndarray, Any, Any]:
    """A recurrent op's inputs checked (shapes, one float dtype) and as arrays.

    ``x`` is ``(N, L, I)`` for a sequence op (at least one step), else ``(N, I)`` or unbatched
    ``(I,)``; every state of ``states`` (name -> value) is ``(N, H)`` (``(H,)`` unbatched), None
    giving zeros; ``biases`` are ``b_ih``, ``b_hh`` (each may be None or left out). Returns
    ``(x, [states...], w_ih, w_hh, b_ih, b_hh)``.
    """
    if len(biases) > 2:
        raise OpError(
            f"{op}: takes x, the states, w_ih, w_hh and the optional b_ih and b_hh, got "
            f"{len(biases) - 2} input(s) more"
        )
    b_ih, b_hh = (*biases, None, None)[:2]
    if sequence:
        x = sequence_input(op, x)
    else:
        x = float_array(op, "x", x)
        if x.ndim not in (1, 2):
            raise ShapeError(f"{op}: x must be (batch, input_size) or (input_size,), got {x.shape}")
    batched = x.ndim != 1
    w_ih, w_hh, b_ih, b_hh, H = check_weights(op, gates, x.shape[-1], w_ih, w_hh, b_ih, b_hh)
    N = x.shape[0] if batched else 1
    dtype = x.dtype
    if not (
        w_ih.dtype is dtype
        and w_hh.dtype is dtype
        and (b_ih is None or b_ih.dtype is dtype)
        and (b_hh is None or b_hh.dtype is dtype)
    ):
        same_dtype(op, x=x, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh)  # an error if they differ
    checked = [_state(op, name, s, N, H, dtype, batched) for name, s in states.items()]
    for s in checked:
        if s.dtype is not dtype:
            same_dtype(op, x=x, **dict(zip(states, checked)))  # the error naming the state
    return x, checked, w_ih, w_hh, b_ih, b_hh


def cell_weight_grads(
    needs: tuple[bool, ...], first: int, dz_x: Any, dz_h: Any, x2: Any, h2: Any
) -> list[np.ndarray | None]:
    """A cell op's gradients of ``w_ih``, ``w_hh`` (input positions ``first``, ``first + 1``) and of
    the biases given after them, from the pre-activation gradients of the input side ``dz_x`` and
    of the state side ``dz_h`` ``(N, G * H)`` and the inputs ``x2 (N, I)``, ``h2 (N, H)``."""
    res = [
        np.matmul(dz_x.T, x2) if needs[first] else None,
        np.matmul(dz_h.T, h2) if needs[first + 1] else None,
    ]
    return res + bias_grads(needs, first + 2, lambda: dz_x.sum(axis=0), lambda: dz_h.sum(axis=0))


def bias_grads(
    needs: tuple[bool, ...],
    first: int,
    g_ih: Callable[[], np.ndarray],
    g_hh: Callable[[], np.ndarray],
) -> list[np.ndarray | None]:
    """The gradients of the optional biases at input positions ``first`` and ``first + 1`` (only
    those given), computed by ``g_ih`` / ``g_hh`` when needed."""
    out: list[np.ndarray | None] = []
    if len(needs) > first:
        out.append(g_ih() if needs[first] else None)
    if len(needs) > first + 1:
        out.append(g_hh() if needs[first + 1] else None)
    return out


__all__ = ["bias_grads", "cell_weight_grads", "check_weights", "recurrent_args", "sequence_input"]
