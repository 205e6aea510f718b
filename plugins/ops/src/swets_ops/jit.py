"""Optional compiled kernels: the ``jit`` extra (``pip install "swets-ops[jit]"``, or ``swets[jit]``).

Some work is bound by the number of numpy calls rather than by arithmetic: a recurrent layer at
batch size 1 runs a few small numpy calls per time step, each a microsecond or more of dispatch for a
few hundred multiplications. With numba installed, those loops run as compiled kernels
(:mod:`swets_ops._jit_kernels`) instead; without it, or with ``SWETS_JIT=0`` in the environment, the
numpy implementations run. Both compute the same values (see the kernels' module for the rounding).

The kernels compile on first use (about two seconds per kernel and dtype) and are cached on disk by
numba (``__pycache__`` beside the module, or numba's user cache directory when that is read-only), so
later processes only load them. Importing numba and loading the kernels costs a process about half
a second and 100 MiB of resident memory, once; a service calls :func:`warm_up` at start-up so that no
request pays for it. ``SWETS_JIT=0`` keeps numba out of the process altogether.

Where they are used:

- :func:`swets_ops.fused_lstm.lstm_stack_infer` (the ``lstm`` and ``lstm_stack`` ops when nothing
  records, so ``swets_nn.LSTM`` in inference) for batches of at most :data:`LSTM_MAX_BATCH`
  sequences; larger batches amortise numpy's per-call cost and keep the numpy path (one matrix
  product per step for the whole batch).
- the recorded float32 ``lstm`` op (training): the elementwise part of every time step, forward and
  backward, around numpy's matrix products.
- when nothing records (inference): float32 exact ``gelu`` (:func:`swets_ops.special.gelu_f32`),
  ``layer_norm`` (both dtypes) and the softmax of float32 ``scaled_dot_product_attention`` without
  dropout, each one compiled pass over the data instead of a dozen numpy calls, with a float32
  ``exp`` the compiler vectorises (within an ulp of the exact value): what the Transformer's
  batch-1 forecast spends its time on besides the matrix products.
"""

from __future__ import annotations

import os
from types import ModuleType

__all__ = ["LSTM_MAX_BATCH", "enabled", "kernels", "status", "warm_up"]

#: The largest batch for which the compiled LSTM kernel replaces the numpy time loop.
LSTM_MAX_BATCH = 2

_state: dict[str, object] = {}


def enabled() -> bool:
    """False when the environment variable ``SWETS_JIT`` is ``0``, ``false``, ``no`` or ``off``."""
    return os.environ.get("SWETS_JIT", "1").strip().lower() not in ("0", "false", "no", "off")


def kernels() -> ModuleType | None:
    """The compiled kernels' module, or None (numba missing, failed to import, or ``SWETS_JIT=0``).

    numba is imported on the first call only; the outcome is remembered (see :func:`status`)."""
    if not enabled():
        return None
    if "module" not in _state:
        try:
            from swets_ops import _jit_kernels
        except ImportError as exc:  # numba not installed, or a broken installation
            _state["module"] = None
            _state["reason"] = f"numba unavailable ({exc})"
        else:
            _state["module"] = _jit_kernels
            _state["reason"] = ""
    module = _state["module"]
    return module if isinstance(module, ModuleType) else None


def warm_up() -> bool:
    """Load numba and every compiled kernel now (compiling them on the first run of an
    installation, loading them from numba's cache afterwards), so that the first forecast or
    training step of a process does not pay for it: for a service, call it at start-up. Returns
    False (and does nothing) when the kernels are unavailable or disabled."""
    k = kernels()
    if k is None:
        return False
    import numpy as np

    for dtype in (np.float32, np.float64):
        pre = np.zeros((1, 1, 4), dtype)
        w = np.zeros((4, 1), dtype)
        state = np.zeros((1, 1), dtype)
        k.lstm_layer(
            pre,
            np.zeros(4, dtype),
            w,
            np.zeros((1, 4), dtype),
            state,
            state.copy(),
            np.zeros((1, 1, 1), dtype),
        )
    A = np.zeros((4, 1, 1, 1), np.float32)
    seq = np.zeros((2, 1, 1), np.float32)
    k.lstm_step_f32(A, 0, np.zeros((4, 1, 1), np.float32), seq, seq[:1].copy(), seq.copy())
    cells = np.zeros((1, 1, 1), np.float32)
    k.lstm_backward_factors_f32(
        A, cells, seq, cells.copy(), cells.copy(), np.zeros((3, 1, 1, 1), np.float32)
    )
    k.lstm_backward_step_f32(
        0,
        cells,
        True,
        np.zeros((1, 1), np.float32),
        np.zeros((1, 1), np.float32),
        cells,
        cells,
        np.zeros((3, 1, 1, 1), np.float32),
        A,
        np.zeros((1, 1, 4, 1), np.float32),
    )
    row = np.zeros(1, np.float32)
    k.gelu32(row, np.float32(1.0), (np.float32(0.0),) * 5, row.copy())
    for dtype in (np.float32, np.float64):
        rows = np.zeros((1, 1), dtype)
        k.layer_norm_rows(rows, np.zeros(0, dtype), np.zeros(0, dtype), 1e-5, rows.copy())
        k.layer_norm_rows(rows, np.ones(1, dtype), np.zeros(1, dtype), 1e-5, rows.copy())
    k.softmax_rows32(np.zeros((1, 1), np.float32), row.copy())
    return True


def status() -> str:
    """One line saying whether the compiled kernels are used, and why not."""
    if not enabled():
        return "off (SWETS_JIT is set to disable it)"
    if kernels() is None:
        return f"off: {_state.get('reason', 'numba unavailable')}; install swets[jit] to enable"
    import numba

    return f"on (numba {numba.__version__})"
