"""Stopping mid-run and resuming from state dicts gives the same trajectory, bit for bit (float64)."""

from __future__ import annotations

import numpy as np
import pytest

import swets_optim as so
from swets_core import registry

from ._helpers import (
    assert_plain,
    gradient_sequence,
    grads_for,
    initial_arrays,
    roundtrip,
    swets_params,
)

STEPS = 120
SPLIT = 47

OPTIMIZERS = {
    "sgd_nesterov": lambda ps: so.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "sgd_groups": lambda ps: so.SGD(
        [{"params": ps[:1], "lr": 0.01}, {"params": ps[1:], "dampening": 0.2}],
        lr=0.05,
        momentum=0.8,
    ),
    "adam_amsgrad": lambda ps: so.Adam(ps, lr=0.01, amsgrad=True, weight_decay=0.01),
    "adamw_groups": lambda ps: so.AdamW(
        [{"params": [ps[2], ps[0]]}, {"params": [ps[1]], "lr": 0.003, "betas": (0.8, 0.9)}],
        lr=0.01,
    ),
    "rmsprop_centered": lambda ps: so.RMSprop(ps, lr=0.01, centered=True, momentum=0.5),
}

SCHEDULERS = {
    "none": None,
    "cosine": lambda o: so.CosineAnnealingLR(o, T_max=30, eta_min=1e-4),
    "warm_restarts": lambda o: so.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2),
    "one_cycle": lambda o: so.OneCycleLR(o, max_lr=0.05, total_steps=STEPS, three_phase=True),
    "sequential": lambda o: so.SequentialLR(
        o,
        [
            {"name": "linear_lr", "start_factor": 0.1, "total_iters": 10},
            so.MultiStepLR(o, milestones=[20, 50], gamma=0.5),
        ],
        milestones=[10],
    ),
    "plateau": lambda o: so.ReduceLROnPlateau(o, patience=3, factor=0.5, cooldown=2),
    "step": lambda o: so.StepLR(o, step_size=13, gamma=0.7),
    "exponential": lambda o: so.ExponentialLR(o, gamma=0.99),
}


def metric(t: int) -> float:
    return 1.0 / (1 + t) if t < 30 else 0.03 + 0.001 * (t % 7)


def run(make_opt, make_sched, split: int | None):
    seq = gradient_sequence(STEPS)
    params = swets_params(initial_arrays())
    opt = make_opt(params)
    sched = make_sched(opt) if make_sched else None
    history = []
    for t, row in enumerate(seq):
        if t == split:
            saved_opt = opt.state_dict()
            assert_plain(saved_opt, "optimizer")
            saved_opt = roundtrip(saved_opt)
            if sched is not None:
                saved_sched = sched.state_dict()
                assert_plain(saved_sched, "scheduler")
                saved_sched = roundtrip(saved_sched)
            # a new process: fresh objects built the same way, then the state dicts loaded
            params = swets_params([p.numpy().copy() for p in params])
            opt = make_opt(params)
            if sched is not None:
                sched = make_sched(opt)
            opt.load_state_dict(saved_opt)
            if sched is not None:
                sched.load_state_dict(saved_sched)
        opt.step(None, grads_for(params, row))
        if sched is not None:
            sched.step(metric(t))
        history.append([g["lr"] for g in opt.param_groups])
    return [p.numpy() for p in params], history


# every optimizer alone and with one_cycle (momentum/betas cycling); every scheduler with two optimizers
PAIRS = sorted(
    {(o, "none") for o in OPTIMIZERS}
    | {(o, "one_cycle") for o in OPTIMIZERS}
    | {(o, s) for o in ("adam_amsgrad", "sgd_groups") for s in SCHEDULERS}
)


@pytest.mark.parametrize(("opt", "sched"), PAIRS)
def test_resume_is_bitwise_identical(opt, sched):
    make_opt, make_sched = OPTIMIZERS[opt], SCHEDULERS[sched]
    with registry.activate(registry.default_registry()):
        straight, h1 = run(make_opt, make_sched, None)
        resumed, h2 = run(make_opt, make_sched, SPLIT)
    assert h1 == h2
    for a, b in zip(straight, resumed):
        assert a.dtype == np.float64
        assert np.array_equal(a, b)
    assert not np.array_equal(straight[0], initial_arrays()[0])


def test_optimizer_state_dict_layout():
    params = swets_params(initial_arrays())
    opt = so.Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.1}], lr=0.01)
    seq = gradient_sequence(3)
    for row in seq:
        opt.step(None, grads_for(params, row))
    sd = opt.state_dict()
    assert_plain(sd)
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][0]["betas"] == [0.9, 0.999]
    # parameter 1 is skipped at step 0 and parameter 2 during the first five steps
    assert sorted(sd["state"]) == ["0", "1"]
    assert sd["state"]["0"]["step"] == 3 and sd["state"]["1"]["step"] == 2
    assert sd["state"]["0"]["exp_avg"].shape == params[0].shape
    # the saved arrays are copies, not the live state
    sd["state"]["0"]["exp_avg"][...] = 99.0
    assert not np.any(opt.state[params[0].id]["exp_avg"] == 99.0)


def test_load_state_dict_accepts_integer_keys_and_copies():
    params = swets_params(initial_arrays())
    opt = so.SGD(params, lr=0.1, momentum=0.9)
    for row in gradient_sequence(2):
        opt.step(None, grads_for(params, row))
    sd = opt.state_dict()
    sd["state"] = {int(k): v for k, v in sd["state"].items()}
    other = so.SGD(swets_params(initial_arrays()), lr=0.5, momentum=0.1)
    other.load_state_dict(sd)
    assert other.param_groups[0]["lr"] == 0.1 and other.param_groups[0]["momentum"] == 0.9
    buf = sd["state"][0]["momentum_buffer"]
    buf[...] = 7.0
    assert not np.any(next(iter(other.state.values()))["momentum_buffer"] == 7.0)
