"""The ensemble model: members built through the registry, each reading its own last lookback, the
median or mean of their forecasts, gradients to every member, configuration and checkpoint round
trips (bit for bit), and named errors."""

from __future__ import annotations

import numpy as np
import pytest

from swets_core import GradientTape, Tensor, no_grad, ops, registry
from swets_core.checkpoint import load_checkpoint, save_checkpoint
from swets_core.conformance import check_model
from swets_core.errors import ConfigError, ShapeError, UnknownComponentError
from swets_models import EnsembleModel, member_spec

SMALL = {"num_blocks": 2, "num_layers": 2, "layer_width": 8}


def ensemble(combine="median", losses=("smape", "mase"), lookbacks=(6, 9, 12), dtype="float64"):
    return EnsembleModel.grid(
        "nbeats",
        horizon=3,
        lookbacks=lookbacks,
        losses=losses,
        seeds=[0],
        combine=combine,
        dtype=dtype,
        **SMALL,
    )


def window(batch=5, length=12, seed=0, dtype="float64"):
    return np.random.default_rng(seed).standard_normal((batch, length, 1)).astype(dtype)


def member_forecasts(model, x):
    """Each member's forecast of its own last ``lookback_i`` steps, stacked on a last axis."""
    with no_grad():
        return np.stack(
            [m(x[:, -n:])._data for m, n in zip(model.members, model.lookbacks)], axis=-1
        )


def test_members_come_from_the_registry_and_the_longest_lookback_is_the_input():
    model = ensemble()
    assert model.registry_name == "ensemble"
    assert model.lookbacks == [6, 6, 9, 9, 12, 12] and model.lookback == 12
    assert model.horizon == 3 and model.n_features == 1 and model.dtype == "float64"
    assert all(m.registry_name == "nbeats" for m in model.members)
    specs = model.member_specs()
    assert [s["loss"] for s in specs] == ["smape", "mase"] * 3
    assert [s["config"]["lookback"] for s in specs] == [6, 6, 9, 9, 12, 12]
    names = [n for n, _ in model.named_parameters()]
    assert names[0] == "members.0.blocks.0.layers.0.weight"
    assert any(n.startswith("members.5.") for n in names)


def test_median_and_mean_of_the_members_own_windows():
    x = window()
    stacked = member_forecasts(ensemble(), x)
    with no_grad():
        median = ensemble()(x)._data
        mean = ensemble("mean")(x)._data
    np.testing.assert_allclose(median, np.median(stacked, axis=-1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mean, stacked.mean(axis=-1), rtol=1e-12, atol=1e-12)
    # an odd number of members: the median is one of the members' values
    odd = ensemble(losses=("smape",))
    with no_grad():
        got = odd(x)._data
    stacked = member_forecasts(odd, x)
    assert np.all(np.any(got[..., None] == stacked, axis=-1))
    # a member reads only its last lookback: changing older steps changes only longer members
    y = x.copy()
    y[:, :3] += 100.0
    changed = member_forecasts(odd, y) != stacked
    assert not changed[..., 0].any() and changed[..., 1:].any()


def test_a_two_dimensional_window_is_read_like_a_feature_axis_of_one():
    model = ensemble()
    x = window()
    with no_grad():
        np.testing.assert_array_equal(model(x[:, :, 0])._data, model(x)._data)


def test_gradients_reach_every_member_and_match_the_median_by_hand():
    model = ensemble()
    x = window(batch=16)
    with GradientTape() as tape:
        out = model(x)
        loss = ops.sum(ops.square(out))
    grads = tape.backward(loss)
    for i, member in enumerate(model.members):
        got = [grads.get(p.id) for p in member.parameters()]
        assert all(g is not None for g in got), f"member {i} got no gradient"
    # even K: d median / d member = 1/2 for the two middle members of each value, 0 elsewhere
    stacked = member_forecasts(model, x)
    order = np.argsort(stacked, axis=-1, kind="stable")
    k = stacked.shape[-1]
    weight = np.zeros_like(stacked)
    np.put_along_axis(weight, order[..., k // 2 - 1 : k // 2 + 1], 0.5, axis=-1)
    median = np.median(stacked, axis=-1)
    for i, member in enumerate(model.members):
        with GradientTape() as t:
            f = member(Tensor(x[:, -model.lookbacks[i] :]))
            part = ops.sum(f * Tensor(2.0 * median * weight[..., i]))
        expected = t.backward(part)
        for p in member.parameters():
            np.testing.assert_allclose(
                grads[p.id]._data, expected[p.id]._data, rtol=1e-9, atol=1e-12
            )


def test_conformance_kit_and_config_round_trip():
    model = ensemble(dtype="float32")
    check_model("ensemble", model.config(), window(dtype="float32"))
    twin = registry.create("models", "ensemble", **model.config())
    assert twin.config() == model.config()


def test_an_ensemble_round_trips_through_a_checkpoint_bit_for_bit(tmp_path):
    model = ensemble(dtype="float32")
    rng = np.random.default_rng(1)
    for p in model.parameters():  # weights no initialiser draws
        p._data[...] = rng.standard_normal(p._data.shape).astype(np.float32)
    path = tmp_path / "ensemble.swets"
    save_checkpoint(path, model, metadata={"note": "trained"})
    loaded = load_checkpoint(path).model
    assert type(loaded) is EnsembleModel and loaded.config() == model.config()
    state, back = model.state_dict(), loaded.state_dict()
    assert list(state) == list(back)
    for name in state:
        assert state[name].dtype == back[name].dtype
        assert state[name].tobytes() == back[name].tobytes(), name
    x = window(dtype="float32")
    with no_grad():
        assert model(x)._data.tobytes() == loaded(x)._data.tobytes()


def test_each_member_reads_its_own_part_of_the_input_mask():
    # zero-padded short histories: the mask's last lookback_i steps go to member i, whose N-BEATS
    # zeroes the padding of its residuals; members may differ in level and normalization
    members = [
        member_spec("nbeats", {"lookback": 6, **SMALL}, seed=0),
        member_spec("nbeats", {"lookback": 9, "naive_level": True, **SMALL}, seed=1),
        member_spec("nbeats", {"lookback": 12, "instance_norm": True, **SMALL}, seed=2),
    ]
    model = EnsembleModel(members=members, horizon=3, dtype="float64")
    x = window()
    mask = np.ones((5, 12))
    mask[:2, :7] = 0.0  # two windows of 5 observed values
    x[mask == 0] = 0.0
    with no_grad():
        got = model(x, mask=mask)._data
        own = [
            m(x[:, -n:], mask=mask[:, -n:])._data for m, n in zip(model.members, model.lookbacks)
        ]
        # padding is no value: what it holds does not matter
        noisy = x.copy()
        noisy[mask == 0] = 7.0
        again = model(noisy, mask=mask)._data
    np.testing.assert_allclose(got, np.median(np.stack(own, -1), -1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(again, got, rtol=1e-12, atol=1e-12)
    with no_grad():  # without a mask the padded windows read the zeros as values
        assert not np.allclose(model(x)._data[:2], got[:2])
        np.testing.assert_allclose(model(x)._data[2:], got[2:], rtol=1e-12, atol=1e-12)
    twin = registry.create("models", "ensemble", **model.config())
    assert [m.config() for m in twin.members] == [m.config() for m in model.members]


def test_members_may_be_any_registered_models_and_seeds_fix_their_weights():
    specs = [
        member_spec("nbeats", {"lookback": 8, "horizon": 2, **SMALL}, loss="mape", seed=3),
        member_spec(
            "lstm", {"n_features": 1, "lookback": 4, "horizon": 2, "hidden_size": 4}, seed=4
        ),
    ]
    a = registry.create("models", "ensemble", members=specs, combine="mean")
    b = registry.create("models", "ensemble", members=specs, combine="mean")
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p._data, q._data)
    assert a.lookback == 8 and [s["model"] for s in a.member_specs()] == ["nbeats", "lstm"]
    with no_grad():
        assert a(window(length=8, dtype="float32"))._data.shape == (5, 2)


def test_bad_configurations_raise_named_errors():
    ok = member_spec("nbeats", {"lookback": 6, "horizon": 3, **SMALL})
    with pytest.raises(ConfigError, match="at least one model"):
        EnsembleModel(members=[])
    with pytest.raises(ConfigError, match="combine must be 'median' or 'mean'"):
        EnsembleModel(members=[ok], combine="max")
    with pytest.raises(ConfigError, match=r"members\[1\] has unknown key\(s\) \['lr'\]"):
        EnsembleModel(members=[ok, {**ok, "lr": 1}])
    with pytest.raises(ConfigError, match=r"members\[0\]\.config must not hold 'seed'"):
        EnsembleModel(members=[{**ok, "config": {**ok["config"], "seed": 1}}])
    with pytest.raises(
        ConfigError, match=r"must share one horizon; got members\[0\]: 3, members\[1\]: 4"
    ):
        EnsembleModel(members=[ok, member_spec("nbeats", {"lookback": 6, "horizon": 4, **SMALL})])
    with pytest.raises(ConfigError, match=r"members\[0\]\.loss must be None"):
        EnsembleModel(members=[{**ok, "loss": 3}])
    with pytest.raises(ConfigError, match=r"members\[0\] \(nbeats\): NBEATSModel: num_blocks"):
        EnsembleModel(
            members=[member_spec("nbeats", {"lookback": 6, "horizon": 3, "num_blocks": 0})]
        )
    with pytest.raises(UnknownComponentError):
        EnsembleModel(members=[member_spec("nbeatz", {"lookback": 6, "horizon": 3})])
    with pytest.raises(ConfigError, match="lookback=9 contradicts the members"):
        EnsembleModel(members=[ok], lookback=9)
    with pytest.raises(ShapeError, match=r"expected input of shape \(batch, 6\)"):
        EnsembleModel(members=[ok])(np.zeros((2, 5, 1), dtype=np.float32))


def test_an_ensemble_forecasts_and_backtests_like_any_model():
    from swets_timeseries import SeriesCollection, TimeSeries
    from swets_train import backtest, forecast

    t = np.arange(60)
    stamps = np.datetime64("2024-01-01") + t.astype("timedelta64[D]")
    series = SeriesCollection(
        [
            TimeSeries(stamps, {"y": 10.0 + np.sin(t / 3.0) + 0.1 * t + k}, target="y", id=f"s{k}")
            for k in range(2)
        ]
    )
    model = ensemble(dtype="float64")
    future = forecast(model, series)
    assert future.values.shape == (2, 3)
    report = backtest({"ensemble": model}, series, folds=3, season_length=1)
    assert report.models[0] == "ensemble" and "naive" in report.models
    assert np.isfinite(report.overall["ensemble"]["mae"])
    # refitting before each fold trains the members with the protocol through fit_ensemble
    from swets_train.ensemble import fit_ensemble

    def refit(train_data, fold):
        fresh = ensemble(dtype="float64")
        fit_ensemble(fresh, train_data, steps=2, batch_size=8, progress=False)
        return fresh

    refitted = backtest({"ensemble": model}, series, folds=2, refit=True, fit=refit)
    assert np.isfinite(refitted.overall["ensemble"]["mae"])
