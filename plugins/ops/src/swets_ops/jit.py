"""Optional compiled kernels: the ``jit`` extra (``pip install "swets-ops[jit]"``, or ``swets[jit]``).

Some work is bound by the number of numpy calls rather than by arithmetic: a recurrent layer at
batch size 1 runs a few small numpy calls per time step, each a microsecond or more of dispatch for a
few hundred multiplications. With numba installed, those loops run as compiled kernels
(:mod:`swets_ops._jit_kernels`) instead; without it, or with ``SWETS_JIT=0`` in the environment, the
numpy implementations run. Both compute the same values (see the kernels' module for the rounding).

The kernels compile on first use (about two seconds per kernel and dtype) and are cached on disk by
numba (``__pycache__`` beside the module, or numba's user cache directory when that is read-only), so
later processes load them in milliseconds.

Where they are used:

- :func:`swets_ops.fused_rnn.lstm_stack_infer` (the ``lstm`` op when nothing records, and
  ``swets_nn.LSTM`` in inference) for batches of at most :data:`LSTM_MAX_BATCH` sequences; larger
  batches amortise numpy's per-call cost and keep the numpy path (one matrix product per step for the
  whole batch).
"""

from __future__ import annotations

import os
from types import ModuleType

__all__ = ["LSTM_MAX_BATCH", "enabled", "kernels", "status"]

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


def status() -> str:
    """One line saying whether the compiled kernels are used, and why not."""
    if not enabled():
        return "off (SWETS_JIT is set to disable it)"
    if kernels() is None:
        return f"off: {_state.get('reason', 'numba unavailable')}; install swets[jit] to enable"
    import numba

    return f"on (numba {numba.__version__})"
