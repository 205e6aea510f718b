"""The ``moving_average`` op: forward and hand-written backward."""

from __future__ import annotations

import numpy as np

from swets_core.errors import OpError, ShapeError


def _window_sums(a: np.ndarray, k: int) -> np.ndarray:
    """Sums of every length-``k`` window along axis 1 of ``a`` (B, T, C) -> (B, T - k + 1, C)."""
    c = np.cumsum(a, axis=1, dtype=a.dtype)
    out = c[:, k - 1 :].copy()
    out[:, 1:] -= c[:, :-k]
    return out


def moving_average(x: np.ndarray, kernel_size: int = 25):
    """Centred moving average over the time axis of (batch, time, channels), edges replicated."""
    if not isinstance(x, np.ndarray) or x.ndim != 3:
        shape = getattr(x, "shape", None)
        raise ShapeError(f"moving_average: expected (batch, time, channels), got shape {shape}")
    if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
        raise OpError(
            f"moving_average: kernel_size must be a positive odd int, got {kernel_size!r}"
        )
    k = kernel_size
    pad = (k - 1) // 2
    padded = np.concatenate(
        [np.repeat(x[:, :1], pad, axis=1), x, np.repeat(x[:, -1:], pad, axis=1)], axis=1
    )
    out = _window_sums(padded, k) / k

    def backward(g: np.ndarray, needs: tuple[bool, ...]):
        # each padded position p receives g[t] / k from every window t covering it
        gp = np.zeros((g.shape[0], g.shape[1] + 2 * (k - 1), g.shape[2]), dtype=g.dtype)
        gp[:, k - 1 : k - 1 + g.shape[1]] = g / k
        gpad = _window_sums(gp, k)  # length T + 2 * pad
        gx = gpad[:, pad : pad + x.shape[1]].copy()
        if pad:
            gx[:, :1] += gpad[:, :pad].sum(axis=1, keepdims=True)
            gx[:, -1:] += gpad[:, pad + x.shape[1] :].sum(axis=1, keepdims=True)
        return (gx,)

    return out, backward
