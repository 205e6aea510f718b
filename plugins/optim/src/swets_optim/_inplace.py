"""The in-place array updates the optimizers share, each written once.

* :func:`lerp_`: a running average, Adam's first moment and RMSprop's centred gradient average;
* :func:`square_average_`: a running average of squared gradients, Adam's second moment and
  RMSprop's square average;
* :func:`state_array`: a state entry created at its first use.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["lerp_", "square_average_", "state_array"]

_add, _subtract, _multiply = np.add, np.subtract, np.multiply  # one lookup each, per call


def lerp_(avg: np.ndarray, x: np.ndarray, weight: float, scratch: np.ndarray) -> None:
    """``avg += weight * (x - avg)`` in place, with ``torch.lerp``'s rule: for ``weight >= 0.5``
    the form ``avg = x - (1 - weight) * (x - avg)``, exact at ``weight = 1``. ``scratch`` is an
    array shaped like ``avg`` that the call overwrites."""
    _subtract(x, avg, out=scratch)
    if weight < 0.5:
        _multiply(scratch, weight, out=scratch)
        _add(avg, scratch, out=avg)
    else:
        _multiply(scratch, 1.0 - weight, out=scratch)
        _subtract(x, scratch, out=avg)


def square_average_(avg: np.ndarray, g: np.ndarray, decay: float, scratch: np.ndarray) -> None:
    """``avg = decay * avg + (1 - decay) * g * g`` in place; ``scratch`` is an array shaped like
    ``avg`` that the call overwrites."""
    _multiply(avg, decay, out=avg)
    _multiply(g, g, out=scratch)
    _multiply(scratch, 1.0 - decay, out=scratch)
    _add(avg, scratch, out=avg)


def state_array(state: dict[str, Any], key: str, like: np.ndarray) -> np.ndarray:
    """``state[key]``, first created as zeros shaped like ``like``: an entry the group's settings
    did not ask for at the parameter's first gradient (amsgrad, centered or momentum turned on
    later)."""
    arr = state.get(key)
    if arr is None:
        arr = state[key] = np.zeros_like(like)
    return arr
