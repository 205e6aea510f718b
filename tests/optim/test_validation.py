"""Construction-time validation, step-time checks, in-place semantics and the registry."""

from __future__ import annotations

import math

import numpy as np
import pytest

import swets_optim as so
from swets_core import GradientTape, Parameter, Tensor, registry
from swets_core.errors import ConfigError, DTypeError, ShapeError, StateDictError
from swets_core.testing import check_registered

from ._helpers import gradient_sequence, grads_for, initial_arrays, swets_params


def params():
    return swets_params(initial_arrays())


BAD_OPTIMIZER_ARGS = [
    (so.SGD, {"lr": -0.1}, "lr"),
    (so.SGD, {"lr": float("nan")}, "lr"),
    (so.SGD, {"lr": "0.1"}, "lr"),
    (so.SGD, {"momentum": -0.5}, "momentum"),
    (so.SGD, {"dampening": 1.5}, "dampening"),
    (so.SGD, {"weight_decay": -1}, "weight_decay"),
    (so.SGD, {"nesterov": True}, "nesterov"),
    (so.SGD, {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "nesterov"),
    (so.SGD, {"nesterov": 1, "momentum": 0.9}, "nesterov"),
    (so.SGD, {"maximize": "yes"}, "maximize"),
    (so.Adam, {"lr": -1e-3}, "lr"),
    (so.Adam, {"betas": (1.0, 0.999)}, "betas[0]"),
    (so.Adam, {"betas": (0.9, -0.1)}, "betas[1]"),
    (so.Adam, {"betas": 0.9}, "betas"),
    (so.Adam, {"betas": (0.9, 0.99, 0.9)}, "betas"),
    (so.Adam, {"eps": -1e-8}, "eps"),
    (so.Adam, {"weight_decay": -0.1}, "weight_decay"),
    (so.Adam, {"amsgrad": None}, "amsgrad"),
    (so.Adam, {"decoupled_weight_decay": 0}, "decoupled_weight_decay"),
    (so.AdamW, {"weight_decay": float("inf")}, "weight_decay"),
    (so.RMSprop, {"alpha": 1.01}, "alpha"),
    (so.RMSprop, {"alpha": -0.1}, "alpha"),
    (so.RMSprop, {"eps": -1.0}, "eps"),
    (so.RMSprop, {"momentum": -0.1}, "momentum"),
    (so.RMSprop, {"centered": "no"}, "centered"),
    (so.RMSprop, {"weight_decay": -0.1}, "weight_decay"),
]


@pytest.mark.parametrize(("cls", "kwargs", "name"), BAD_OPTIMIZER_ARGS, ids=str)
def test_bad_hyper_parameter_raises_config_error_naming_it(cls, kwargs, name):
    with pytest.raises(ConfigError, match=name.replace("[", r"\[").replace("]", r"\]")):
        cls(params(), **kwargs)


def test_bad_group_override_names_the_group():
    ps = params()
    with pytest.raises(ConfigError, match=r"param group 1.*lr"):
        so.Adam([{"params": ps[:1]}, {"params": ps[1:], "lr": -1.0}])
    with pytest.raises(ConfigError, match="decoupled"):
        so.AdamW([{"params": ps, "decoupled_weight_decay": False}])


def test_bad_params_arguments():
    ps = params()
    with pytest.raises(ConfigError, match="empty"):
        so.SGD([])
    with pytest.raises(ConfigError, match="more than once"):
        so.SGD([ps[0], ps[0]])
    with pytest.raises(ConfigError, match="more than once"):
        so.SGD([{"params": [ps[0]]}, {"params": [ps[0], ps[1]]}])
    with pytest.raises(ConfigError, match="single Tensor"):
        so.SGD(ps[0])
    with pytest.raises(ConfigError, match="not a Tensor"):
        so.SGD([ps[0], np.zeros(3)])
    with pytest.raises(ConfigError, match="mixes"):
        so.SGD([ps[0], {"params": [ps[1]]}])
    with pytest.raises(ConfigError, match="'params'"):
        so.SGD([{"lr": 0.1}])
    with pytest.raises(DTypeError, match="float"):
        so.SGD([Tensor(np.arange(3))])


def test_add_param_group():
    ps = params()
    opt = so.Adam(ps[:2], lr=0.1)
    opt.add_param_group({"params": [ps[2]], "lr": 0.5})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(ConfigError, match="more than once"):
        opt.add_param_group({"params": [ps[0]]})


def test_step_checks_gradients_and_params():
    ps = params()
    opt = so.SGD(ps, lr=0.1)
    with pytest.raises(ShapeError, match=r"params\[1\].*\(3,\).*\(5,\)"):
        opt.step(None, {ps[1].id: Tensor(np.zeros(3))})
    with pytest.raises(DTypeError, match="int64"):
        opt.step(None, {ps[1].id: Tensor(np.zeros(5, dtype=np.int64))})
    with pytest.raises(ConfigError, match="not managed"):
        opt.step([Parameter(np.zeros(2))], {})
    with pytest.raises(ConfigError, match="mapping"):
        opt.step(None, [np.zeros(3)])


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: so.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1, maximize=True),
        lambda ps: so.SGD(ps, lr=0.1, momentum=0.9, dampening=0.5),
        lambda ps: so.Adam(ps, lr=0.1, weight_decay=0.1, maximize=True, amsgrad=True),
        lambda ps: so.Adam(ps, lr=0.1),
        lambda ps: so.AdamW(ps, lr=0.1, maximize=True),
        lambda ps: so.RMSprop(ps, lr=0.1, centered=True, momentum=0.9, weight_decay=0.1),
        lambda ps: so.RMSprop(ps, lr=0.1, maximize=True),
    ],
)
def test_updates_in_place_and_never_touch_gradients(make):
    a = Parameter(np.ones((3, 4)))
    b = Parameter(np.full((3, 4), 2.0))
    opt = make([a, b])
    arrays = (a.numpy(), b.numpy())
    ids = (a.id, b.id)
    shared = np.linspace(-1, 1, 12).reshape(3, 4)
    snapshot = shared.copy()
    for _ in range(3):
        # both gradients share one array, as the tape may return them
        opt.step(None, {a.id: Tensor(shared), b.id: Tensor(shared)})
    assert np.array_equal(shared, snapshot)
    assert a.numpy() is arrays[0] and b.numpy() is arrays[1]
    assert (a.id, b.id) == ids
    assert not np.array_equal(a.numpy(), np.ones((3, 4)))


def test_skipped_parameter_keeps_its_state():
    ps = params()
    opt = so.Adam(ps, lr=0.1)
    row = gradient_sequence(1)[0]
    row = [np.ones(p.shape) for p in ps]
    opt.step(None, grads_for(ps, row))
    before = ps[1].numpy().copy()
    m_before = opt.state[ps[1].id]["exp_avg"].copy()
    opt.step(None, {ps[0].id: Tensor(np.ones(ps[0].shape))})
    assert np.array_equal(ps[1].numpy(), before)
    assert np.array_equal(opt.state[ps[1].id]["exp_avg"], m_before)
    assert opt.state[ps[0].id]["step"] == 2 and opt.state[ps[1].id]["step"] == 1
    # restricting the step to a subset of the parameters
    opt.step([ps[2]], grads_for(ps, row))
    assert opt.state[ps[0].id]["step"] == 2 and opt.state[ps[2].id]["step"] == 2
    # the mapping alone is short for step(None, grads)
    opt.step(grads_for(ps, row))
    assert [opt.state[p.id]["step"] for p in ps] == [3, 2, 3]


def test_end_to_end_with_a_tape_minimizes_a_quadratic():
    w = Parameter(np.array([3.0, -2.0]))
    opt = registry.create("optimizers", "adam", [w], lr=0.1)
    for _ in range(300):
        with GradientTape() as tape:
            loss = (w * w).sum()
        opt.step(None, tape.backward(loss))
    assert np.all(np.abs(w.numpy()) < 1e-2)


def test_registry_names():
    check_registered(
        "swets-optim",
        {
            "optimizers": ["sgd", "adam", "adamw", "rmsprop"],
            "schedulers": [
                "step_lr",
                "multi_step_lr",
                "exponential_lr",
                "cosine_annealing_lr",
                "cosine_annealing_warm_restarts",
                "linear_lr",
                "sequential_lr",
                "one_cycle_lr",
                "reduce_lr_on_plateau",
            ],
        },
    )
    opt = registry.create("optimizers", "sgd", params(), lr=0.1, momentum=0.9)
    for name, cfg in [
        ("step_lr", {"step_size": 2}),
        ("multi_step_lr", {"milestones": [2]}),
        ("exponential_lr", {"gamma": 0.9}),
        ("cosine_annealing_lr", {"T_max": 5}),
        ("cosine_annealing_warm_restarts", {"T_0": 5}),
        ("linear_lr", {}),
        ("sequential_lr", {"schedulers": [{"name": "linear_lr"}], "milestones": []}),
        ("one_cycle_lr", {"max_lr": 0.5, "total_steps": 10}),
        ("reduce_lr_on_plateau", {}),
    ]:
        s = registry.create("schedulers", name, opt, **cfg)
        s.step(1.0)
        assert len(s.get_last_lr()) == 1


BAD_SCHEDULERS = [
    (so.StepLR, {"step_size": 0}, "step_size"),
    (so.StepLR, {"step_size": 2.5}, "step_size"),
    (so.StepLR, {"step_size": 2, "gamma": -0.1}, "gamma"),
    (so.MultiStepLR, {"milestones": 3}, "milestones"),
    (so.MultiStepLR, {"milestones": [2, 0]}, r"milestones\[1\]"),
    (so.ExponentialLR, {"gamma": 0.0}, "gamma"),
    (so.CosineAnnealingLR, {"T_max": 0}, "T_max"),
    (so.CosineAnnealingLR, {"T_max": 5, "eta_min": -1.0}, "eta_min"),
    (so.CosineAnnealingWarmRestarts, {"T_0": 0}, "T_0"),
    (so.CosineAnnealingWarmRestarts, {"T_0": 2, "T_mult": 0}, "T_mult"),
    (so.LinearLR, {"start_factor": 0.0}, "start_factor"),
    (so.LinearLR, {"end_factor": 1.5}, "end_factor"),
    (so.LinearLR, {"total_iters": 0}, "total_iters"),
    (so.OneCycleLR, {"max_lr": 0.1}, "total_steps"),
    (so.OneCycleLR, {"max_lr": 0.1, "total_steps": 0}, "total_steps"),
    (so.OneCycleLR, {"max_lr": -0.1, "total_steps": 5}, "max_lr"),
    (so.OneCycleLR, {"max_lr": [0.1, 0.2], "total_steps": 5}, "max_lr"),
    (so.OneCycleLR, {"max_lr": 0.1, "total_steps": 5, "pct_start": 1.2}, "pct_start"),
    (so.OneCycleLR, {"max_lr": 0.1, "total_steps": 5, "anneal_strategy": "cosine"}, "anneal"),
    (so.OneCycleLR, {"max_lr": 0.1, "total_steps": 5, "div_factor": 0}, "div_factor"),
    (so.OneCycleLR, {"max_lr": 0.1, "total_steps": 5, "max_momentum": 1.0}, "max_momentum"),
    (so.ReduceLROnPlateau, {"mode": "minimum"}, "mode"),
    (so.ReduceLROnPlateau, {"factor": 1.0}, "factor"),
    (so.ReduceLROnPlateau, {"patience": -1}, "patience"),
    (so.ReduceLROnPlateau, {"threshold_mode": "relative"}, "threshold_mode"),
    (so.ReduceLROnPlateau, {"cooldown": 1.5}, "cooldown"),
    (so.ReduceLROnPlateau, {"min_lr": [0.1, 0.2]}, "min_lr"),
    (so.ReduceLROnPlateau, {"eps": -1.0}, "eps"),
]


@pytest.mark.parametrize(("cls", "kwargs", "name"), BAD_SCHEDULERS, ids=str)
def test_bad_scheduler_config_raises(cls, kwargs, name):
    opt = so.SGD(params(), lr=0.1, momentum=0.9)
    with pytest.raises(ConfigError, match=name):
        cls(opt, **kwargs)


def test_scheduler_misuse():
    opt = so.SGD(params(), lr=0.1)
    with pytest.raises(ConfigError, match="optimizer"):
        so.StepLR(object(), step_size=1)

    class Plain(so.Optimizer):
        name = "plain"

    with pytest.raises(ConfigError, match="momentum or betas"):
        so.OneCycleLR(Plain(params(), {"lr": 0.1}), max_lr=0.1, total_steps=3)
    plateau = so.ReduceLROnPlateau(opt)
    with pytest.raises(ConfigError, match="metric"):
        plateau.step()
    with pytest.raises(ConfigError, match="metric"):
        plateau.step("low")
    plateau.step(Tensor(np.array(0.5)))
    with pytest.raises(ConfigError, match="plateau"):
        so.SequentialLR(opt, [plateau], milestones=[])
    other = so.SGD(params(), lr=0.1)
    with pytest.raises(ConfigError, match="another optimizer"):
        so.SequentialLR(opt, [so.StepLR(other, step_size=2)], milestones=[])
    with pytest.raises(ConfigError, match="milestone"):
        so.SequentialLR(opt, [so.StepLR(opt, 2), so.StepLR(opt, 3)], milestones=[])
    with pytest.raises(ConfigError, match="increasing"):
        so.SequentialLR(
            opt, [so.StepLR(opt, 2), so.StepLR(opt, 3), so.StepLR(opt, 4)], milestones=[5, 5]
        )
    cycle = so.OneCycleLR(so.SGD(params(), momentum=0.9), max_lr=0.1, total_steps=3)
    for _ in range(3):
        cycle.step()
    with pytest.raises(ConfigError, match="total_steps"):
        cycle.step()


def test_bad_state_dicts_are_reported_together():
    ps = params()
    opt = so.Adam(ps, lr=0.1)
    opt.step(None, grads_for(ps, [np.ones(p.shape) for p in ps]))
    sd = opt.state_dict()
    sd["state"]["0"]["exp_avg"] = np.zeros((9, 9))
    sd["state"]["1"]["bogus"] = 1
    del sd["state"]["2"]["step"]
    with pytest.raises(StateDictError) as err:
        so.Adam(params(), lr=0.1).load_state_dict(sd)
    msg = str(err.value)
    assert "exp_avg" in msg and "bogus" in msg and "step" in msg and "3 problem" in msg
    with pytest.raises(StateDictError, match="param group"):
        so.Adam([{"params": ps[:1]}, {"params": ps[1:]}]).load_state_dict(sd)
    with pytest.raises(StateDictError, match=r"missing hyper-parameters.*momentum"):
        so.SGD(params(), lr=0.1, momentum=0.9).load_state_dict(opt.state_dict())
    bad = opt.state_dict()
    bad["param_groups"][0]["lr"] = -1.0
    with pytest.raises(StateDictError, match="lr"):
        so.Adam(params()).load_state_dict(bad)
    # nothing was changed by the failed loads
    target = so.Adam(params(), lr=0.1)
    with pytest.raises(StateDictError):
        target.load_state_dict(sd)
    assert target.state == {}
    sched = so.StepLR(opt, step_size=2)
    with pytest.raises(StateDictError, match="missing"):
        sched.load_state_dict({"last_epoch": 3})


CLIP_TYPES = [2.0, 1.0, math.inf, 3.0, "inf"]


@pytest.mark.parity
@pytest.mark.parametrize("norm_type", CLIP_TYPES)
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in [(4, 3), (7,), (2, 2, 2)]]
    grads = {i + 1: Tensor(a) for i, a in enumerate(arrays)}
    snapshot = [a.copy() for a in arrays]
    new, total = so.clip_grad_norm(grads, max_norm, norm_type=norm_type)
    tps = [torch.nn.Parameter(torch.zeros(a.shape, dtype=torch.float64)) for a in arrays]
    for tp, a in zip(tps, arrays):
        tp.grad = torch.from_numpy(a.copy())
    t_norm = float("inf") if norm_type == "inf" else norm_type
    ttotal = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type=t_norm)
    assert total == pytest.approx(float(ttotal), rel=1e-12)
    assert so.grad_norm(grads, norm_type) == pytest.approx(float(ttotal), rel=1e-12)
    for i, tp in enumerate(tps):
        np.testing.assert_allclose(new[i + 1].numpy(), tp.grad.numpy(), rtol=1e-12)
    for a, s in zip(arrays, snapshot):
        assert np.array_equal(a, s)
    assert set(new) == set(grads)


@pytest.mark.parity
def test_clip_grad_value_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s) for s in [(4, 3), (7,)]]
    grads = {10: Tensor(arrays[0]), 11: Tensor(arrays[1])}
    new = so.clip_grad_value(grads, 0.3)
    tps = [torch.nn.Parameter(torch.zeros(a.shape, dtype=torch.float64)) for a in arrays]
    for tp, a in zip(tps, arrays):
        tp.grad = torch.from_numpy(a.copy())
    torch.nn.utils.clip_grad_value_(tps, 0.3)
    np.testing.assert_array_equal(new[10].numpy(), tps[0].grad.numpy())
    np.testing.assert_array_equal(new[11].numpy(), tps[1].grad.numpy())
    assert np.abs(arrays[0]).max() > 0.3  # the originals are untouched


def test_clip_errors_and_non_finite():
    from swets_core.errors import NonFiniteError

    grads = {1: Tensor(np.array([3.0, 4.0])), 2: Tensor(np.array([np.nan]))}
    with pytest.raises(NonFiniteError, match="nan"):
        so.clip_grad_norm(grads, 1.0, error_if_nonfinite=True)
    new, total = so.clip_grad_norm(grads, 1.0)
    assert math.isnan(total) and np.all(np.isnan(new[1].numpy()))
    with pytest.raises(ConfigError, match="max_norm"):
        so.clip_grad_norm(grads, -1.0)
    with pytest.raises(ConfigError, match="norm_type"):
        so.clip_grad_norm(grads, 1.0, norm_type=0)
    with pytest.raises(ConfigError, match="clip_value"):
        so.clip_grad_value(grads, -0.1)
    small = {1: Tensor(np.array([0.3, 0.4]))}
    same, total = so.clip_grad_norm(small, 1.0)
    assert total == pytest.approx(0.5) and same[1] is small[1]
    assert so.clip_grad_norm({}, 1.0) == ({}, 0.0)
    f32 = {1: Tensor(np.array([30.0, 40.0], dtype=np.float32))}
    clipped, _ = so.clip_grad_norm(f32, 5.0)
    assert clipped[1].numpy().dtype == np.float32
    np.testing.assert_allclose(clipped[1].numpy(), [3.0, 4.0], rtol=1e-5)


def test_protocols_and_facade_names():
    import swets
    from swets_core import protocols

    opt = swets.optimizers.AdamW(params())
    assert isinstance(opt, protocols.Optimizer)
    assert swets.optimizers.RMSprop is so.RMSprop and swets.optimizers.SGD is so.SGD
    for name, cls in [
        ("StepLR", so.StepLR),
        ("OneCycleLR", so.OneCycleLR),
        ("ReduceLROnPlateau", so.ReduceLROnPlateau),
        ("CosineAnnealingWarmRestarts", so.CosineAnnealingWarmRestarts),
    ]:
        assert getattr(swets.schedulers, name) is cls
    assert isinstance(so.ExponentialLR(opt, gamma=0.5), protocols.Scheduler)
    assert isinstance(so.ReduceLROnPlateau(opt), protocols.Scheduler)


def test_a_module_s_dict_of_parameters_is_optimized():
    from swets_core import Module

    class Mixture(Module):
        def __init__(self):
            super().__init__()
            self.l = [Parameter(np.ones(2))]
            self.d = {"a": Parameter(np.full(3, 2.0))}

    net = Mixture()
    opt = so.SGD(net.parameters(), lr=0.5)
    with GradientTape() as tape:
        loss = (net.l[0] * net.l[0]).sum() + (net.d["a"] * net.d["a"]).sum()
    opt.step(tape.backward(loss))
    np.testing.assert_allclose(net.l[0]._data, np.zeros(2))  # 1 - 0.5 * 2
    np.testing.assert_allclose(net.d["a"]._data, np.zeros(3))  # 2 - 0.5 * 4
