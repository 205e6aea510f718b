"""Every scheduler's learning-rate sequence equals torch.optim.lr_scheduler's, value for value."""

from __future__ import annotations

import types

import numpy as np
import pytest

import swets_optim
from swets_core import Parameter

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.parity

STEPS = 60
OURS = swets_optim
THEIRS = torch.optim.lr_scheduler


def _cases() -> dict[str, types.FunctionType]:
    return {
        "step_lr": lambda L, o: L.StepLR(o, step_size=7, gamma=0.5),
        "step_lr_1": lambda L, o: L.StepLR(o, step_size=1, gamma=0.9),
        "multi_step_lr": lambda L, o: L.MultiStepLR(o, milestones=[12, 5, 30, 12], gamma=0.3),
        "exponential_lr": lambda L, o: L.ExponentialLR(o, gamma=0.95),
        "cosine_10": lambda L, o: L.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
        "cosine_25": lambda L, o: L.CosineAnnealingLR(o, T_max=25),
        "warm_restarts": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5),
        "warm_restarts_mult": lambda L, o: L.CosineAnnealingWarmRestarts(
            o, T_0=3, T_mult=2, eta_min=0.01
        ),
        "linear_default": lambda L, o: L.LinearLR(o),
        "linear_warmup": lambda L, o: L.LinearLR(o, start_factor=0.1, total_iters=10),
        "linear_decay": lambda L, o: L.LinearLR(
            o, start_factor=1.0, end_factor=0.1, total_iters=20
        ),
        "sequential_warmup_cosine": lambda L, o: L.SequentialLR(
            o,
            [L.LinearLR(o, start_factor=0.1, total_iters=5), L.CosineAnnealingLR(o, T_max=30)],
            milestones=[5],
        ),
        "sequential_three": lambda L, o: L.SequentialLR(
            o,
            [
                L.ExponentialLR(o, gamma=0.9),
                L.StepLR(o, step_size=3, gamma=0.5),
                L.MultiStepLR(o, milestones=[4, 9], gamma=0.1),
            ],
            milestones=[10, 25],
        ),
        "sequential_restarts": lambda L, o: L.SequentialLR(
            o,
            [L.LinearLR(o, start_factor=0.2, total_iters=8), L.CosineAnnealingWarmRestarts(o, 7)],
            milestones=[8],
        ),
        "one_cycle": lambda L, o: L.OneCycleLR(o, max_lr=[0.5, 0.2], total_steps=STEPS),
        "one_cycle_linear": lambda L, o: L.OneCycleLR(
            o, max_lr=0.3, total_steps=STEPS, anneal_strategy="linear", pct_start=0.25
        ),
        "one_cycle_three_phase": lambda L, o: L.OneCycleLR(
            o, max_lr=0.3, epochs=6, steps_per_epoch=10, three_phase=True, div_factor=10.0
        ),
        "one_cycle_no_momentum": lambda L, o: L.OneCycleLR(
            o, max_lr=0.3, total_steps=STEPS, cycle_momentum=False, final_div_factor=100.0
        ),
    }


CASES = _cases()


def make_pair(optimizer: str = "sgd"):
    arrays = [np.zeros((2, 2)), np.zeros(3)]
    ours_p = [Parameter(a.copy()) for a in arrays]
    theirs_p = [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in arrays]
    if optimizer == "sgd":
        ours = swets_optim.SGD(
            [{"params": [ours_p[0]]}, {"params": [ours_p[1]], "lr": 0.05}], lr=0.1, momentum=0.9
        )
        theirs = torch.optim.SGD(
            [{"params": [theirs_p[0]]}, {"params": [theirs_p[1]], "lr": 0.05}],
            lr=0.1,
            momentum=0.9,
        )
    else:
        ours = swets_optim.Adam(
            [{"params": [ours_p[0]]}, {"params": [ours_p[1]], "lr": 0.05}], lr=0.1
        )
        theirs = torch.optim.Adam(
            [{"params": [theirs_p[0]]}, {"params": [theirs_p[1]], "lr": 0.05}], lr=0.1
        )
    return ours, theirs


def lrs(opt) -> list[float]:
    return [g["lr"] for g in opt.param_groups]


def momenta(opt) -> list[float]:
    out = []
    for g in opt.param_groups:
        out.append(g["betas"][0] if "betas" in g else g["momentum"])
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_lr_sequence_matches_torch(name):
    ours, theirs = make_pair()
    s = CASES[name](OURS, ours)
    ts = CASES[name](THEIRS, theirs)
    seq, tseq = [lrs(ours)], [lrs(theirs)]
    assert s.get_last_lr() == ts.get_last_lr()
    for _ in range(STEPS):
        theirs.step()
        ts.step()
        s.step()
        seq.append(lrs(ours))
        tseq.append(lrs(theirs))
        assert s.get_last_lr() == ts.get_last_lr()
        assert momenta(ours) == momenta(theirs)
    assert seq == tseq
    assert len({tuple(x) for x in seq}) > 1  # the schedule actually changed something


def test_one_cycle_cycles_adam_beta1():
    ours, theirs = make_pair("adam")
    s = OURS.OneCycleLR(ours, max_lr=0.1, total_steps=STEPS, base_momentum=0.8)
    ts = THEIRS.OneCycleLR(theirs, max_lr=0.1, total_steps=STEPS, base_momentum=0.8)
    betas = []
    for _ in range(STEPS):
        theirs.step()
        ts.step()
        s.step()
        assert lrs(ours) == lrs(theirs)
        assert [g["betas"] for g in ours.param_groups] == [
            tuple(g["betas"]) for g in theirs.param_groups
        ]
        betas.append(ours.param_groups[0]["betas"][0])
    assert min(betas) == pytest.approx(0.8, abs=1e-3) and max(betas) == pytest.approx(0.95)


PLATEAU = [
    dict(),
    dict(mode="min", threshold_mode="abs", threshold=0.05, patience=2, cooldown=1),
    dict(mode="max", factor=0.5, patience=1, min_lr=[0.01, 0.02]),
    dict(mode="max", threshold_mode="abs", threshold=0.2, patience=0, cooldown=2, eps=1e-3),
    dict(patience=3, factor=0.2, min_lr=0.004, threshold=0.1),
]


@pytest.mark.parametrize("kwargs", PLATEAU, ids=str)
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    ours, theirs = make_pair()
    s = OURS.ReduceLROnPlateau(ours, **kwargs)
    ts = THEIRS.ReduceLROnPlateau(theirs, **kwargs)
    rng = np.random.default_rng(3)
    # improving, then plateaus, then noise, then a NaN
    metrics = list(np.linspace(1.0, 0.5, 10)) + [0.5] * 15 + list(rng.uniform(0.4, 0.6, 30))
    metrics += [float("nan"), 0.3, 0.3, 0.3]
    changed = False
    for m in metrics:
        theirs.step()
        ts.step(m)
        s.step(m)
        assert lrs(ours) == lrs(theirs)
        assert s.get_last_lr() == ts.get_last_lr()
        assert s.num_bad_epochs == ts.num_bad_epochs
        changed |= lrs(ours) != [0.1, 0.05]
    assert changed


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_warm_restarts_fractional_epochs_match_torch():
    ours, theirs = make_pair()
    s = OURS.CosineAnnealingWarmRestarts(ours, T_0=4, T_mult=2)
    ts = THEIRS.CosineAnnealingWarmRestarts(theirs, T_0=4, T_mult=2)
    for epoch in range(20):
        for i in range(4):
            x = epoch + i / 4
            theirs.step()
            ts.step(x)
            s.step(epoch=x)
            assert lrs(ours) == lrs(theirs)
