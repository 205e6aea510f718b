"""DataLoader: batches as Tensors, seeded shuffling, drop_last, prefetch, exact mid-epoch resume."""

from __future__ import annotations

import json
import threading
import warnings

import numpy as np
import pytest

from swets_core import Tensor
from swets_core.dtype import DType
from swets_core.errors import ConfigError, DataValidationError, StateDictError
from swets_timeseries import DataLoader, TimeSeries, WindowDataset


@pytest.fixture(scope="module")
def dataset():
    n = 300
    ts = np.datetime64("2024-01-01", "ns") + np.arange(n) * np.timedelta64(1, "h")
    r = np.arange(n, dtype=np.float64)
    s = TimeSeries(ts, {"y": r, "c": -r, "k": r + 0.5}, "y", ["c"], ["k"], id="s")
    return WindowDataset(s, lookback=8, horizon=4)  # 289 windows


def epoch_indices(loader):
    return [b.index.copy() for b in loader]


def test_batches_are_tensors_with_documented_shapes(dataset):
    loader = DataLoader(dataset, batch_size=32)
    batches = list(loader)
    assert len(batches) == len(loader) == 10
    b = batches[0]
    assert (
        isinstance(b.x_past, Tensor) and isinstance(b.y, Tensor) and isinstance(b.x_future, Tensor)
    )
    assert b.x_past.shape == (32, 8, 3) and b.y.shape == (32, 4) and b.x_future.shape == (32, 4, 1)
    assert b.x_past.dtype == DType.float32
    _x, y, xf = b  # unpacks
    np.testing.assert_array_equal(y.numpy()[5], np.arange(13, 17))
    np.testing.assert_array_equal(xf.numpy()[5, :, 0], np.arange(13, 17) + 0.5)
    assert batches[-1].x_past.shape[0] == 289 - 9 * 32
    np.testing.assert_array_equal(np.concatenate([b.index for b in batches]), np.arange(289))


def test_dtype_and_drop_last(dataset):
    loader = DataLoader(dataset, batch_size=32, drop_last=True, dtype="float64")
    batches = list(loader)
    assert len(batches) == len(loader) == 9
    assert all(len(b) == 32 for b in batches)
    assert batches[0].y.dtype == DType.float64


def test_shuffle_is_seeded_and_covers_every_window(dataset):
    a = DataLoader(dataset, 50, shuffle=True, seed=7)
    b = DataLoader(dataset, 50, shuffle=True, generator=np.random.default_rng(7))
    c = DataLoader(dataset, 50, shuffle=True, seed=8)
    ea, eb, ec = epoch_indices(a), epoch_indices(b), epoch_indices(c)
    for x, y in zip(ea, eb):
        np.testing.assert_array_equal(x, y)
    assert not all(np.array_equal(x, y) for x, y in zip(ea, ec))
    assert sorted(np.concatenate(ea).tolist()) == list(range(289))
    # the next epoch uses a new order, identical for identical seeds
    ea2, eb2 = epoch_indices(a), epoch_indices(b)
    assert not np.array_equal(ea[0], ea2[0])
    np.testing.assert_array_equal(ea2[0], eb2[0])
    assert a.epoch == 2


def test_prefetch_gives_the_same_batches(dataset):
    plain = DataLoader(dataset, 40, shuffle=True, seed=3)
    ahead = DataLoader(dataset, 40, shuffle=True, seed=3, prefetch=3)
    for p, q in zip(plain, ahead):
        np.testing.assert_array_equal(p.x_past.numpy(), q.x_past.numpy())
        np.testing.assert_array_equal(p.y.numpy(), q.y.numpy())
    # breaking out early stops the worker thread
    before = threading.active_count()
    for i, _ in enumerate(ahead):
        if i == 1:
            break
    assert threading.active_count() == before


def test_prefetch_error_reaches_the_consumer(dataset, monkeypatch):
    loader = DataLoader(dataset, 40, prefetch=2)
    calls = {"n": 0}
    real = WindowDataset.gather

    def failing(self, idx):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk on fire")
        return real(self, idx)

    monkeypatch.setattr(WindowDataset, "gather", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        list(loader)


@pytest.mark.parametrize("prefetch", [0, 2])
def test_resume_mid_epoch_exactly(dataset, prefetch):
    ref = DataLoader(dataset, 30, shuffle=True, seed=11)
    epoch0 = epoch_indices(ref)
    epoch1 = epoch_indices(ref)
    epoch2 = epoch_indices(ref)

    run = DataLoader(dataset, 30, shuffle=True, seed=11, prefetch=prefetch)
    assert [b.index.tolist() for b in run] == [x.tolist() for x in epoch0]
    it = iter(run)
    got = [next(it).index for _ in range(4)]
    state = json.loads(json.dumps(run.state_dict()))  # plain data
    assert state["epoch"] == 1 and state["position"] == 4
    del it

    resumed = DataLoader(dataset, 30, shuffle=True, seed=999, prefetch=prefetch)
    resumed.load_state_dict(state)
    rest = epoch_indices(resumed)
    np.testing.assert_array_equal(np.concatenate(got + rest), np.concatenate(epoch1))
    np.testing.assert_array_equal(np.concatenate(epoch_indices(resumed)), np.concatenate(epoch2))
    assert resumed.epoch == 3


def test_state_between_epochs_and_abandoned_epochs(dataset):
    a = DataLoader(dataset, 100, shuffle=True, seed=5)
    list(a)
    state = a.state_dict()
    assert state["epoch"] == 1 and state["position"] == 0
    b = DataLoader(dataset, 100, shuffle=True, seed=0)
    b.load_state_dict(state)
    np.testing.assert_array_equal(next(iter(a)).index, next(iter(b)).index)
    # a broken-off epoch counts as done: the next iteration starts epoch 2
    assert a.epoch == 1 and a.position == 1
    first = next(iter(a)).index
    assert a.epoch == 2 and a.position == 1
    c = DataLoader(dataset, 100, shuffle=True, seed=5)
    epochs = [epoch_indices(c)[0] for _ in range(3)]
    np.testing.assert_array_equal(first, epochs[2])


def test_state_mismatch_is_reported(dataset):
    state = DataLoader(dataset, 30, shuffle=True, seed=1).state_dict()
    with pytest.raises(StateDictError) as info:
        DataLoader(dataset, 40, shuffle=False).load_state_dict(state)
    msg = str(info.value)
    assert "batch_size: saved 30, this loader has 40" in msg
    assert "shuffle: saved True, this loader has False" in msg
    with pytest.raises(StateDictError, match="missing key 'rng_state'"):
        DataLoader(dataset, 30).load_state_dict(
            {k: v for k, v in state.items() if k != "rng_state"}
        )
    with pytest.raises(StateDictError, match=r"position 99 outside \[0, 10\]"):
        DataLoader(dataset, 30, shuffle=True, seed=1).load_state_dict(dict(state, position=99))
    with pytest.raises(StateDictError, match="epoch -1 is not an integer >= 0"):
        DataLoader(dataset, 30, shuffle=True, seed=1).load_state_dict(dict(state, epoch=-1))
    with pytest.raises(StateDictError, match=r"(?s)DataLoader.*expected a mapping, got list"):
        DataLoader(dataset, 30).load_state_dict([state])  # type: ignore[arg-type]


def test_config_errors(dataset):
    with pytest.raises(ConfigError, match="shuffle=True needs an explicit seed"):
        DataLoader(dataset, 8, shuffle=True)
    with pytest.raises(ConfigError, match="batch_size must be an int >= 1"):
        DataLoader(dataset, 0)
    with pytest.raises(ConfigError, match="seed= or generator=, not both"):
        DataLoader(dataset, 8, seed=1, generator=np.random.default_rng(1))
    with pytest.raises(ConfigError, match="no batch"):
        DataLoader(dataset, 1000, drop_last=True)
    with pytest.raises(ConfigError, match="float32 or float64"):
        DataLoader(dataset, 8, dtype="int64")


def test_states_survive_a_msgpack_checkpoint(dataset):
    fmt = pytest.importorskip("swets_serde_msgpack.format")
    from swets_timeseries import StandardScaler

    loader = DataLoader(dataset, 30, shuffle=True, seed=4)
    it = iter(loader)
    next(it)
    scaler = StandardScaler().fit(np.arange(12.0).reshape(4, 3))
    state = {"loader": loader.state_dict(), "scaler": scaler.state_dict()}
    back = fmt.loads(fmt.dumps(state))
    assert back == state
    resumed = DataLoader(dataset, 30, shuffle=True, seed=0)
    resumed.load_state_dict(back["loader"])
    np.testing.assert_array_equal(next(iter(resumed)).index, next(it).index)


def test_state_saved_after_the_last_batch_of_an_epoch(dataset):
    ref = DataLoader(dataset, 30, shuffle=True, seed=21)
    epoch_indices(ref)
    next_epoch = epoch_indices(ref)

    run = DataLoader(dataset, 30, shuffle=True, seed=21)
    it = iter(run)
    for _ in range(len(run)):
        next(it)
    state = run.state_dict()
    assert state["position"] == len(run) and state["epoch"] == 0
    resumed = DataLoader(dataset, 30, shuffle=True, seed=0)
    resumed.load_state_dict(state)
    assert list(resumed) == []  # the rest of epoch 0: nothing
    assert resumed.epoch == 1 and resumed.position == 0
    for a, b in zip(epoch_indices(resumed), next_epoch):
        np.testing.assert_array_equal(a, b)


def test_float32_batches_of_values_beyond_float32_are_refused_up_front():
    n = 60
    ts = np.datetime64("2024-01-01", "ns") + np.arange(n) * np.timedelta64(1, "h")
    y = np.arange(n, dtype=np.float64)
    c = np.ones(n)
    c[5] = 1e39
    s = TimeSeries(ts, {"y": y, "c": c}, "y", ["c"], id="s")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy overflow warning leaks
        with pytest.raises(
            DataValidationError,
            match=r"series 's': row 5 \(2024-01-01T05:00:00Z\), column 'c' is 1e\+39, beyond the "
            r"range of float32 .*use DataLoader\(dtype='float64'\), which reads them",
        ):
            DataLoader(WindowDataset(s, 4, 2, dtype="float64"), 8)
        # rows no window of the dataset uses are not looked at; float64 batches read everything
        c[5] = 1.0
        c[55] = 1e39
        parts = WindowDataset(s.with_columns(c=c), 4, 2, dtype="float64").split(val=0, test=10)
        assert len(DataLoader(parts.train, 8)) > 0
        with pytest.raises(DataValidationError, match="row 55"):
            DataLoader(parts.test, 8)
        batch = next(iter(DataLoader(parts.test, 8, dtype="float64")))
        assert batch.x_past.numpy().max() == 1e39
