"""Training an ensemble with the N-BEATS protocol: every member through ``Trainer.fit`` on its own
lookback, loss and seed; the same weights whether members train here or in worker processes; MASE
scales per series; errors named."""

from __future__ import annotations

import numpy as np
import pytest

from swets_core import registry
from swets_core.errors import ConfigError, UnknownComponentError
from swets_models import EnsembleModel
from swets_timeseries import PanelLoader, PanelSampler
from swets_train import Trainer
from swets_train.ensemble import fit_ensemble, process_runner, series_scales

SMALL = {"num_blocks": 2, "num_layers": 2, "layer_width": 8}


def panel(n_series=20, seed=0):
    rng = np.random.default_rng(seed)
    return {
        f"s{i}": 40.0 + np.abs(rng.normal(1.0, 0.5, size=n)).cumsum()
        for i, n in enumerate(rng.integers(8, 50, size=n_series))
    }


def ensemble(losses=("smape", "mase")):
    return EnsembleModel.grid(
        "nbeats", horizon=4, lookbacks=[8, 12], losses=losses, seeds=[0], dtype="float64", **SMALL
    )


SETTINGS = {
    "steps": 7,
    "batch_size": 16,
    "history_size": 3.0,
    "steps_per_epoch": 3,
    "progress": False,
}


def params(model):
    return [p._data.copy() for p in model.parameters()]


def test_each_member_is_fit_on_its_own_protocol():
    data = panel()
    model = ensemble()
    result = fit_ensemble(model, data, season_length=1, **SETTINGS)
    assert [m.lookback for m in result.members] == [8, 8, 12, 12]
    assert [m.loss for m in result.members] == ["smape", "mase"] * 2
    assert all(m.steps == 7 and m.where == "this process" for m in result.members)
    assert result.cpu_elsewhere == 0.0 and result.cpu_seconds > 0
    # member 1 equals the same member trained by hand through Trainer.fit
    spec = ensemble().member_specs()[1]
    member = registry.create("models", "nbeats", **spec["config"], seed=0)
    loss = registry.create("losses", "mase", m=1)
    sampler = PanelSampler(
        list(data.values()),
        lookback=8,
        horizon=4,
        rng=np.random.default_rng(0),
        history_size=3.0,
        batch_size=16,
        dtype="float64",
        scales=series_scales(loss, list(data.values())),
    )
    opt = registry.create("optimizers", "adam", member.parameters(), lr=1e-3)
    sched = registry.create("schedulers", "step_lr", opt, step_size=2, gamma=0.5)
    Trainer().fit(
        member,
        loss,
        opt,
        PanelLoader(sampler, 3),
        max_steps=7,
        scheduler=sched,
        scheduler_interval="step",
        clip_grad_norm=1.0,
        metrics=(),
        seed=0,
        progress=False,
    )
    for a, b in zip(params(member), params(model.members[1])):
        np.testing.assert_array_equal(a, b)


def test_worker_processes_give_the_weights_of_a_serial_run():
    data = panel()
    serial, parallel = ensemble(), ensemble()
    fit_ensemble(serial, data, **SETTINGS)
    result = fit_ensemble(parallel, data, runner=process_runner(2), **SETTINGS)
    for a, b in zip(params(serial), params(parallel)):
        np.testing.assert_array_equal(a, b)
    assert all(m.where.startswith("pid ") for m in result.members)
    assert result.cpu_elsewhere > 0


def test_series_scales_fall_back_so_every_series_has_one():
    loss = registry.create("losses", "mase", m=4)
    series = [
        np.arange(10.0),  # seasonal error 4
        np.array([1.0, 2.0, 4.0]),  # shorter than m: naive error 1.5
        np.array([3.0, 3.0, 3.0, 3.0, 3.0, 3.0]),  # constant: mean |x| = 3
        np.zeros(6),  # all zero: 1
    ]
    np.testing.assert_allclose(series_scales(loss, series), [4.0, 1.5, 3.0, 1.0])


def test_bad_arguments_are_named():
    with pytest.raises(ConfigError, match="expected an ensemble model"):
        fit_ensemble(registry.create("models", "nbeats", lookback=8, horizon=4), panel(), steps=1)
    with pytest.raises(ConfigError, match="steps must be an int >= 1"):
        fit_ensemble(ensemble(), panel(), steps=0)
    with pytest.raises(ConfigError, match="workers must be an int >= 1"):
        fit_ensemble(ensemble(), panel(), steps=1, workers=0)
    model = EnsembleModel.grid("nbeats", horizon=4, lookbacks=[8], losses=["nope"], **SMALL)
    with pytest.raises(UnknownComponentError, match="nope"):
        fit_ensemble(model, panel(), steps=1, progress=False)
