"""Parameter trajectories equal torch.optim's (float64, 200 steps, same init, same gradients)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from swets_optim import SGD, Adam, AdamW, RMSprop

from ._helpers import STEPS, gradient_sequence, grads_for, initial_arrays, swets_params

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.parity

RTOL = 1e-10
ATOL = 1e-13


def run_pair(ours_cls, torch_cls, kwargs, groups=None, steps=STEPS, dtype=np.float64):
    """Run both optimizers on the same gradient sequence; compare after every step."""
    init = initial_arrays(dtype=dtype)
    seq = gradient_sequence(steps, dtype=dtype)
    ours = swets_params(init)
    theirs = [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in init]
    if groups is None:
        opt = ours_cls(ours, **kwargs)
        topt = torch_cls(theirs, **kwargs)
    else:
        opt = ours_cls([{**g, "params": [ours[i] for i in g["params"]]} for g in groups], **kwargs)
        topt = torch_cls(
            [{**g, "params": [theirs[i] for i in g["params"]]} for g in groups], **kwargs
        )
    ours_traj, theirs_traj = [], []
    for row in seq:
        for tp, g in zip(theirs, row):
            tp.grad = None if g is None else torch.from_numpy(g.copy())
        topt.step()
        opt.step(None, grads_for(ours, row))
        ours_traj.append(np.concatenate([p.numpy().ravel() for p in ours]))
        theirs_traj.append(np.concatenate([tp.detach().numpy().ravel() for tp in theirs]))
    # the whole trajectory at once: rows are steps
    np.testing.assert_allclose(
        np.stack(ours_traj),
        np.stack(theirs_traj),
        rtol=RTOL if dtype == np.float64 else 1e-5,
        atol=ATOL if dtype == np.float64 else 1e-6,
    )
    return opt


SGD_CASES = [
    dict(lr=0.05, momentum=m, dampening=d, nesterov=n, weight_decay=wd, maximize=mx)
    for m, d, n, wd, mx in itertools.product(
        [0.0, 0.9], [0.0, 0.3], [False, True], [0.0, 0.01], [False, True]
    )
    if not (n and (m == 0.0 or d != 0.0))
]


@pytest.mark.parametrize("kwargs", SGD_CASES, ids=lambda k: "-".join(f"{v}" for v in k.values()))
def test_sgd_parity(kwargs):
    run_pair(SGD, torch.optim.SGD, kwargs)


ADAM_CASES = [
    dict(lr=0.01, amsgrad=a, weight_decay=wd, maximize=mx)
    for a, wd, mx in itertools.product([False, True], [0.0, 0.1], [False, True])
] + [
    dict(lr=0.02, betas=(0.3, 0.5), eps=1e-3),  # beta1 < 0.5: the other lerp form
    dict(lr=0.0),
]


@pytest.mark.parametrize("kwargs", ADAM_CASES, ids=str)
def test_adam_parity(kwargs):
    run_pair(Adam, torch.optim.Adam, kwargs)


@pytest.mark.parametrize("kwargs", ADAM_CASES, ids=str)
def test_adamw_parity(kwargs):
    kwargs = dict(kwargs)
    kwargs.setdefault("weight_decay", 1e-2)
    run_pair(AdamW, torch.optim.AdamW, kwargs)


def test_adam_decoupled_flag_parity():
    run_pair(Adam, torch.optim.Adam, dict(lr=0.01, weight_decay=0.05, decoupled_weight_decay=True))


RMS_CASES = [
    dict(lr=0.01, centered=c, momentum=m, weight_decay=wd, maximize=mx)
    for c, m, wd, mx in itertools.product([False, True], [0.0, 0.9], [0.0, 0.01], [False, True])
] + [dict(lr=0.01, alpha=0.3, centered=True, eps=1e-4)]


@pytest.mark.parametrize("kwargs", RMS_CASES, ids=str)
def test_rmsprop_parity(kwargs):
    run_pair(RMSprop, torch.optim.RMSprop, kwargs)


GROUPS = {
    "sgd": (
        SGD,
        "SGD",
        dict(lr=0.05, momentum=0.9),
        [
            {"params": [0, 2], "lr": 0.01, "nesterov": True},
            {"params": [1], "momentum": 0.5, "dampening": 0.1, "weight_decay": 0.1},
        ],
    ),
    "adam": (
        Adam,
        "Adam",
        dict(lr=0.01),
        [
            {"params": [0], "betas": (0.8, 0.99), "amsgrad": True},
            {"params": [1, 2], "lr": 0.003, "weight_decay": 0.02, "eps": 1e-6},
        ],
    ),
    "adamw": (
        AdamW,
        "AdamW",
        dict(lr=0.01),
        [{"params": [2, 0], "weight_decay": 0.3}, {"params": [1], "lr": 0.05, "maximize": True}],
    ),
    "rmsprop": (
        RMSprop,
        "RMSprop",
        dict(lr=0.01, momentum=0.5),
        [{"params": [0], "centered": True}, {"params": [1, 2], "alpha": 0.9, "momentum": 0.0}],
    ),
}


@pytest.mark.parametrize("name", sorted(GROUPS))
def test_param_groups_parity(name):
    ours_cls, torch_name, kwargs, groups = GROUPS[name]
    opt = run_pair(ours_cls, getattr(torch.optim, torch_name), kwargs, groups=groups)
    assert len(opt.param_groups) == 2
    assert opt.param_groups[0]["lr"] == groups[0].get("lr", kwargs["lr"])


@pytest.mark.parametrize("cls", [Adam, AdamW, SGD, RMSprop])
def test_float32_parity(cls):
    kwargs = {"lr": 0.01}
    if cls is SGD:
        kwargs["momentum"] = 0.9
    run_pair(cls, getattr(torch.optim, cls.__name__), kwargs, steps=30, dtype=np.float32)


def test_lr_changed_between_steps_parity():
    # schedulers write group["lr"]; the next step must use it
    init = initial_arrays()
    seq = gradient_sequence(20)
    ours = swets_params(init)
    theirs = [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in init]
    opt = Adam(ours, lr=0.01)
    topt = torch.optim.Adam(theirs, lr=0.01)
    for t, row in enumerate(seq):
        lr = 0.01 * (0.9**t)
        opt.param_groups[0]["lr"] = lr
        topt.param_groups[0]["lr"] = lr
        for tp, g in zip(theirs, row):
            tp.grad = None if g is None else torch.from_numpy(g.copy())
        topt.step()
        opt.step(None, grads_for(ours, row))
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=RTOL, atol=ATOL)
