"""RMSprop, plain or centered, with optional momentum and weight decay."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from swets_optim import _validate as v
from swets_optim._inplace import lerp_, square_average_, state_array
from swets_optim.optimizer import Check, Optimizer, ParamsArg, UpdateItems


class RMSprop(Optimizer):
    """RMSprop, with PyTorch's ``torch.optim.RMSprop`` update rule.

    For each parameter ``p`` with gradient ``g`` (``-g`` when ``maximize``)::

        g = g + weight_decay * p                         (if weight_decay != 0)
        s = alpha * s + (1 - alpha) * g * g
        a = alpha * a + (1 - alpha) * g; d = sqrt(s - a*a) + eps      (centered)
        d = sqrt(s) + eps                                              (otherwise)
        b = momentum * b + g / d; p = p - lr * b         (momentum > 0)
        p = p - lr * g / d                               (otherwise)

    Note that ``eps`` is added after the square root, as in PyTorch.

    Args:
        params: parameters or parameter-group dicts (see :class:`~swets_optim.optimizer.Optimizer`).
        lr: learning rate, ``>= 0``.
        alpha: smoothing constant of the squared-gradient average, in ``[0, 1]``.
        eps: added to the denominator, ``>= 0``.
        weight_decay: L2 penalty, ``>= 0``.
        momentum: momentum factor, ``>= 0``.
        centered: normalize by the estimated variance of the gradient instead of its second moment.
        maximize: maximize the objective instead of minimizing it.

    State per parameter: ``step``, ``square_avg``, ``momentum_buffer`` (momentum > 0) and
    ``grad_avg`` (centered).
    """

    name = "rmsprop"
    summary = "RMSprop (centered, momentum, L2 weight decay)."
    _hyper: ClassVar[Mapping[str, Check]] = v.hyper(
        "lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize"
    )
    _scalar_state = ("step",)
    _array_state = ("square_avg", "momentum_buffer", "grad_avg")
    _required_state = ("step", "square_avg")
    _state_when: ClassVar[Mapping[str, str]] = {
        "momentum_buffer": "momentum",
        "grad_avg": "centered",
    }

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, self._defaults(locals()))

    def _update(self, group: dict[str, Any], items: UpdateItems) -> None:
        lr = group["lr"]
        alpha = group["alpha"]
        w = 1.0 - alpha
        eps = group["eps"]
        wd = group["weight_decay"]
        momentum = group["momentum"]
        centered = group["centered"]
        maximize = group["maximize"]
        add, subtract, multiply, divide = np.add, np.subtract, np.multiply, np.divide
        for p, g, st in items:
            st["step"] += 1
            g = self._descent_grad(p, g, wd, maximize)
            sq = st["square_avg"]
            t = self._buffer(p, 0)
            square_average_(sq, g, alpha, t)
            if centered:
                ga = state_array(st, "grad_avg", p)
                lerp_(ga, g, w, t)
                multiply(ga, ga, out=t)
                subtract(sq, t, out=t)
                np.sqrt(t, out=t)
            else:
                np.sqrt(sq, out=t)
            add(t, eps, out=t)
            if momentum > 0.0:
                buf = state_array(st, "momentum_buffer", p)
                multiply(buf, momentum, out=buf)
                divide(g, t, out=t)
                add(buf, t, out=buf)
                multiply(buf, -lr, out=t)
            else:
                divide(g, t, out=t)
                multiply(t, -lr, out=t)
            add(p, t, out=p)
