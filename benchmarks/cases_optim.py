"""Optimizer steps, swets vs torch.optim, float32.

One optimizer step over 1,161,848 float32 parameters in 12 tensors shaped like an N-BEATS stack
(input 96, width 512, four fully connected layers, a 120-wide basis projection):
(512, 96), (512,), 3 x [(512, 512), (512,)], (512, 512), (512,), (120, 512), (120,).
The gradients are fixed random arrays; the timed call is the step alone (no forward/backward).

- adam: ``torch.optim.Adam`` with its CPU default (the per-tensor loop);
- adam_foreach: ``torch.optim.Adam(foreach=True)`` (multi-tensor kernels);
- adamw: decoupled weight decay 1e-2, torch default implementation.
"""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.harness import Case

SHAPES = [
    (512, 96),
    (512,),
    (512, 512),
    (512,),
    (512, 512),
    (512,),
    (512, 512),
    (512,),
    (512, 512),
    (512,),
    (120, 512),
    (120,),
]


def _arrays():
    import numpy as np

    rng = np.random.default_rng(0)
    params = [(rng.standard_normal(s) * 0.05).astype(np.float32) for s in SHAPES]
    grads = [(rng.standard_normal(s) * 1e-3).astype(np.float32) for s in SHAPES]
    return params, grads


def _swets(name: str, **hyper) -> Callable[[], Callable[[], object]]:
    def setup() -> Callable[[], object]:
        from swets_core import Parameter, Tensor, registry

        arrays, garrays = _arrays()
        params = [Parameter(a) for a in arrays]
        grads = {p.id: Tensor(g) for p, g in zip(params, garrays)}
        opt = registry.create("optimizers", name, params, lr=1e-3, **hyper)
        opt.step(None, grads)  # state created outside the timing, as torch's after its first step

        def step():
            opt.step(None, grads)

        return step

    return setup


def _torch(cls: str, **hyper) -> Callable[[], Callable[[], object]]:
    def setup() -> Callable[[], object]:
        import torch

        arrays, garrays = _arrays()
        params = [torch.nn.Parameter(torch.from_numpy(a)) for a in arrays]
        for p, g in zip(params, garrays):
            p.grad = torch.from_numpy(g)
        opt = getattr(torch.optim, cls)(params, lr=1e-3, **hyper)
        opt.step()

        def step():
            opt.step()

        return step

    return setup


NOTE = "1,161,848 float32 parameters in 12 tensors (N-BEATS-like shapes); one step per call"

CASES = [
    Case(
        name="optim.adam_step_1.16M",
        group="optim",
        setups={"swets": _swets("adam"), "torch": _torch("Adam")},
        number=5,
        note=NOTE + "; torch default (per-tensor loop on CPU)",
    ),
    Case(
        name="optim.adam_step_1.16M_foreach",
        group="optim",
        setups={"swets": _swets("adam"), "torch": _torch("Adam", foreach=True)},
        number=5,
        note=NOTE + "; torch foreach=True",
    ),
    Case(
        name="optim.adamw_step_1.16M",
        group="optim",
        setups={
            "swets": _swets("adamw", weight_decay=1e-2),
            "torch": _torch("AdamW", weight_decay=1e-2),
        },
        number=5,
        note=NOTE + "; decoupled weight decay 1e-2",
    ),
]
