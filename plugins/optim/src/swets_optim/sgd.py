"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from swets_optim import _validate as v
from swets_optim.optimizer import Check, Optimizer, ParamsArg, UpdateItems


class SGD(Optimizer):
    """Stochastic gradient descent, with PyTorch's ``torch.optim.SGD`` update rule.

    For each parameter ``p`` with gradient ``g`` (``-g`` when ``maximize``)::

        g = g + weight_decay * p                       (if weight_decay != 0)
        if momentum != 0:
            b = g                                      (first step: the buffer is a copy of g)
            b = momentum * b + (1 - dampening) * g     (later steps)
            g = g + momentum * b  if nesterov  else  b
        p = p - lr * g

    Args:
        params: parameters or parameter-group dicts (see :class:`~swets_optim.optimizer.Optimizer`).
        lr: learning rate, ``>= 0``.
        momentum: momentum factor, ``>= 0``.
        dampening: dampening of the momentum, in ``[0, 1]``.
        weight_decay: L2 penalty added to the gradient, ``>= 0``.
        nesterov: Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
        maximize: maximize the objective instead of minimizing it.

    State per parameter: ``momentum_buffer`` (when momentum is used), created at its first gradient.
    """

    name = "sgd"
    summary = "Stochastic gradient descent (momentum, dampening, Nesterov, L2)."
    _hyper: ClassVar[Mapping[str, Check]] = v.hyper(
        "lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"
    )
    _array_state = ("momentum_buffer",)

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, self._defaults(locals()))

    def _check_hyper(self, hyper: dict[str, Any], where: str) -> dict[str, Any]:
        hyper = super()._check_hyper(hyper, where)
        if hyper["nesterov"] and (hyper["momentum"] <= 0.0 or hyper["dampening"] != 0.0):
            raise v.ConfigError(
                f"{self._where(where)}: nesterov=True needs momentum > 0 and dampening == 0, got "
                f"momentum={hyper['momentum']!r}, dampening={hyper['dampening']!r}"
            )
        return hyper

    def _update(self, group: dict[str, Any], items: UpdateItems) -> None:
        lr = group["lr"]
        momentum = group["momentum"]
        keep = 1.0 - group["dampening"]
        wd = group["weight_decay"]
        nesterov = group["nesterov"]
        maximize = group["maximize"]
        multiply = np.multiply
        for p, g, st in items:
            d = self._descent_grad(p, g, wd, maximize)
            t = self._buffer(p, 0)
            if momentum != 0.0:
                buf = st.get("momentum_buffer")
                if buf is None:
                    buf = st["momentum_buffer"] = d.copy()
                else:
                    multiply(buf, momentum, out=buf)
                    if keep == 1.0:
                        buf += d
                    else:
                        multiply(d, keep, out=t)
                        buf += t
                if nesterov:
                    multiply(buf, momentum, out=t)
                    np.add(d, t, out=t)
                    d = t
                else:
                    d = buf
            multiply(d, -lr, out=t)
            p += t
