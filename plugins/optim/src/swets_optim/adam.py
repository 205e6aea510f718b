"""Adam and AdamW: vectorized in-place numpy updates with preallocated scratch buffers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from swets_optim import _validate as v
from swets_optim._inplace import lerp_, square_average_, state_array
from swets_optim.optimizer import Check, Optimizer, ParamsArg, UpdateItems


class Adam(Optimizer):
    """Adam, with PyTorch's ``torch.optim.Adam`` update rule (and AMSGrad).

    For each parameter ``p`` with gradient ``g`` (``-g`` when ``maximize``), at its step ``t``::

        p = p * (1 - lr * weight_decay)            (decoupled_weight_decay: AdamW)
        g = g + weight_decay * p                   (otherwise: L2 penalty in the gradient)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)                      (amsgrad; v_max replaces v below)
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    The step counter ``t`` is per parameter: a parameter absent from a step's gradients keeps its
    moments and its counter. Every array operation runs in place on the parameter, the moments and
    two scratch buffers shared by all parameters, so a step allocates nothing.

    Args:
        params: parameters or parameter-group dicts (see :class:`~swets_optim.optimizer.Optimizer`).
        lr: learning rate, ``>= 0``.
        betas: ``(beta1, beta2)``, each in ``[0, 1)``.
        eps: added to the denominator, ``>= 0``.
        weight_decay: ``>= 0``; an L2 penalty, or decoupled decay with ``decoupled_weight_decay``.
        amsgrad: use the running maximum of the second moment.
        maximize: maximize the objective instead of minimizing it.
        decoupled_weight_decay: AdamW's decoupled weight decay.

    State per parameter: ``step`` (int), ``exp_avg``, ``exp_avg_sq`` and (amsgrad) ``max_exp_avg_sq``.
    """

    name = "adam"
    summary = "Adam (AMSGrad, L2 weight decay, maximize)."
    _hyper: ClassVar[Mapping[str, Check]] = v.hyper(
        "lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "decoupled_weight_decay"
    )
    _scalar_state = ("step",)
    _array_state = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _required_state = ("step", "exp_avg", "exp_avg_sq")
    _state_when: ClassVar[Mapping[str, str]] = {"max_exp_avg_sq": "amsgrad"}

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        super().__init__(params, self._defaults(locals()))

    def _update(self, group: dict[str, Any], items: UpdateItems) -> None:
        lr = group["lr"]
        beta1, beta2 = group["betas"]
        eps = group["eps"]
        wd = group["weight_decay"]
        amsgrad = group["amsgrad"]
        maximize = group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        w1 = 1.0 - beta1
        decay = 1.0 - lr * wd
        add, multiply, divide, sqrt = np.add, np.multiply, np.divide, np.sqrt
        buffer = self._buffer
        for p, g, st in items:
            step = st["step"] + 1
            st["step"] = step
            if decoupled and wd != 0.0:
                multiply(p, decay, out=p)
            g = self._descent_grad(p, g, 0.0 if decoupled else wd, maximize)
            m = st["exp_avg"]
            sq = st["exp_avg_sq"]
            t = buffer(p, 0)
            lerp_(m, g, w1, t)  # m.lerp(g, 1 - beta1)
            square_average_(sq, g, beta2, t)
            if amsgrad:
                vmax = state_array(st, "max_exp_avg_sq", p)
                np.maximum(vmax, sq, out=vmax)
                sq = vmax
            bias1 = 1.0 - beta1 ** float(step)
            bias2_sqrt = (1.0 - beta2 ** float(step)) ** 0.5
            # lr/b1 * m / (sqrt(v)/b2s + eps) == (lr*b2s/b1) * m / (sqrt(v) + eps*b2s)
            sqrt(sq, out=t)
            add(t, eps * bias2_sqrt, out=t)
            divide(m, t, out=t)
            multiply(t, -(lr / bias1) * bias2_sqrt, out=t)
            add(p, t, out=p)


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (PyTorch's ``torch.optim.AdamW``).

    Each step first shrinks the parameter, ``p = p * (1 - lr * weight_decay)``, then applies the Adam
    update with the raw gradient (see :class:`Adam`; ``weight_decay`` defaults to ``1e-2``).
    """

    name = "adamw"
    summary = "AdamW: Adam with decoupled weight decay."

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )

    def _check_hyper(self, hyper: dict[str, Any], where: str) -> dict[str, Any]:
        hyper = super()._check_hyper(hyper, where)
        if not hyper["decoupled_weight_decay"]:
            raise v.ConfigError(
                f"{self._where(where)}: AdamW always uses decoupled weight decay; "
                "use adam for the L2 penalty"
            )
        return hyper
