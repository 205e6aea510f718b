"""Data-parallel training on 2 worker processes equals single-process training (float64: 1e-10)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from swets_core.errors import ConfigError
from swets_dask import (
    ReplicaError,
    state_digest,
    train_data_parallel,
    train_single_process,
)
from swets_dask.cluster import worker_addresses
from swets_dask.dataparallel import _average, _check_same
from tests.dask.conftest import job, wait_replaced


def f64(csv: str, out: str, **training) -> dict:
    spec = job(csv, **training)
    spec["model"]["dtype"] = "float64"
    spec["output"] = {"checkpoint": out}
    return spec


def assert_params_close(a: dict, b: dict, rtol: float = 1e-10) -> None:
    """Every parameter within ``rtol`` relative to the parameter tensor's largest magnitude."""
    assert a.keys() == b.keys()
    for name in a:
        scale = float(np.max(np.abs(b[name]))) or 1.0
        err = float(np.max(np.abs(a[name] - b[name])))
        assert err <= rtol * scale, f"{name}: max |diff| {err:.3e} > {rtol:g} * {scale:.3e}"


def test_single_process_is_run_job_bitwise(series_csv, tmp_path):
    from swets_train.jobs import run_job

    spec = f64(series_csv, str(tmp_path / "ref.swets"))
    ref = run_job(spec)
    spec["output"]["checkpoint"] = str(tmp_path / "single.swets")
    single = train_single_process(spec)
    a, b = ref.model.state_dict(), single.model.state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert single.history == ref.history
    assert single.metrics == ref.metrics and single.baselines == ref.baselines
    assert single.stop_reason == ref.stop_reason


@pytest.mark.parametrize(
    "training",
    [
        {},
        # an odd global batch (uneven shards, a short last batch), clipping, a per-step scheduler,
        # SGD with momentum, no early stopping and a step budget that ends mid-epoch
        {
            "batch_size": 33,
            "clip_grad_norm": 0.5,
            "optimizer": "sgd",
            "optimizer_options": {"momentum": 0.9},
            "lr": 0.05,
            "scheduler": "step_lr",
            "scheduler_options": {"step_size": 7, "gamma": 0.5},
            "scheduler_interval": "step",
            "patience": None,
            "epochs": None,
            "max_steps": 30,
        },
    ],
    ids=["adam-early-stopping", "sgd-clip-step-scheduler"],
)
def test_data_parallel_equals_single_process(series_csv, tmp_path, client, training):
    single = train_single_process(f64(series_csv, str(tmp_path / "single.swets"), **training))
    dp = train_data_parallel(f64(series_csv, str(tmp_path / "dp.swets"), **training), client=client)

    assert dp.replicas == 2 and len(set(dp.workers)) == 2
    assert dp.steps == single.steps > 0 and dp.epochs == single.epochs
    assert dp.global_batch == single.global_batch == training.get("batch_size", 32)
    assert_params_close(dp.model.state_dict(), single.model.state_dict())
    assert len(dp.history) == len(single.history)
    for rd, rs in zip(dp.history, single.history):
        assert rd.keys() == rs.keys()
        for key in rd:
            assert rd[key] == pytest.approx(rs[key], rel=1e-10, abs=1e-12), key
    for split in single.metrics:
        for m, v in single.metrics[split].items():
            assert dp.metrics[split][m] == pytest.approx(v, rel=1e-9)


def test_data_parallel_checkpoint_is_a_job_checkpoint(series_csv, tmp_path, client):
    from swets_train.jobs import load_job

    path = str(tmp_path / "dp.swets")
    spec = f64(series_csv, path, epochs=1, patience=None)
    spec["output"]["forecast_csv"] = str(tmp_path / "forecast.csv")
    dp = train_data_parallel(spec, client=client)
    assert dp.checkpoint == path and os.path.exists(path)
    with open(tmp_path / "forecast.csv") as fh:
        assert len(fh.read().splitlines()) == 1 + 2 * 6  # a header, 2 series x horizon 6
    jr = dp.job_result()
    assert jr.metrics == dp.metrics and jr.history == dp.history and jr.checkpoint == path
    assert dp.windows == jr.windows and set(dp.windows) == {"train", "validation", "test"}
    assert dp.digest == state_digest(dp.model)  # no early stopping: the replicas' final weights
    loaded = load_job(path)
    assert all(
        np.array_equal(v, dp.model.state_dict()[k]) for k, v in loaded.model.state_dict().items()
    )
    assert loaded.history == dp.history
    assert loaded.metadata["data_parallel"] == {"mode": "dask", "replicas": 2, "global_batch": 32}
    metrics, _ = loaded.evaluate()
    assert metrics["validation"]["mae"] == pytest.approx(dp.metrics["validation"]["mae"])
    assert "nbeats" in dp.table() and "seasonal_naive" in dp.table()


def test_more_replicas_than_workers(series_csv, tmp_path, client):
    spec = f64(series_csv, str(tmp_path / "x.swets"), epochs=None, max_steps=6, patience=None)
    single = train_single_process(spec, write=False)
    dp = train_data_parallel(spec, client=client, replicas=3, write=False)
    assert dp.replicas == 3 and dp.checkpoint is None
    assert_params_close(dp.model.state_dict(), single.model.state_dict())


def test_weighted_average_is_the_full_batch_mean():
    rng = np.random.default_rng(0)
    per_sample = rng.normal(size=(10, 3, 4))
    full = per_sample.mean(axis=0)
    shards = [(0.0, 4, {"w": per_sample[:4].mean(0)}), (0.0, 6, {"w": per_sample[4:].mean(0)})]
    _, avg = _average(shards, 10)
    np.testing.assert_allclose(avg["w"], full, rtol=1e-14)
    # a parameter a shard did not influence counts as a zero gradient for that shard
    _, avg = _average([(1.0, 4, {"w": np.ones(2)}), (3.0, 6, {})], 10)
    np.testing.assert_allclose(avg["w"], 0.4 * np.ones(2))


def test_diverging_replicas_are_reported():
    _check_same(["d1", "d1", None], ["w0", "w1", "w2"], "after step 3")
    with pytest.raises(ReplicaError, match="replica 1 on w1 differ from replica 0 on w0"):
        _check_same(["d1", "d2"], ["w0", "w1"], "after step 3")


def test_bad_arguments(series_csv, client):
    spec = job(series_csv)
    with pytest.raises(ConfigError, match="global_batch must be an int >= 1"):
        train_data_parallel(spec, client=client, global_batch=0)
    with pytest.raises(ConfigError, match="replicas must be an int >= 1"):
        train_data_parallel(spec, client=client, replicas=0)
    with pytest.raises(ConfigError, match="give client= or address=, not both"):
        train_data_parallel(spec, client=client, address="tcp://127.0.0.1:1")
    with pytest.raises(ConfigError, match=r"has no option .layer_widht."):
        train_single_process({**spec, "model": {"name": "nbeats", "layer_widht": 3}})
    with pytest.raises(ConfigError, match="check_every"):
        train_data_parallel(spec, client=client, check_every=-1)


def test_unreachable_scheduler_is_a_config_error(series_csv):
    from swets_dask import connect

    with pytest.raises(ConfigError, match="cannot connect to the Dask scheduler at"):
        connect("tcp://127.0.0.1:9", timeout=0.5)
    with pytest.raises(ConfigError, match="scheduler address"):
        connect("")


def test_checkpoint_resumes_in_one_process_with_fit(series_csv, tmp_path):
    """The training state is swets_train's: fit(resume_from=...) continues where it stopped."""
    from swets_train import fit
    from swets_train.jobs import prepare

    first = f64(series_csv, str(tmp_path / "one.swets"), epochs=1, patience=None)
    train_single_process(first)
    whole = train_single_process(
        f64(series_csv, str(tmp_path / "two.swets"), epochs=2, patience=None)
    )

    p = prepare(f64(series_csv, str(tmp_path / "x.swets"), epochs=2, patience=None))
    history = fit(
        p.model,
        p.loss,
        p.optimizer,
        p.train,
        p.val,
        epochs=2,
        seed=0,
        metrics=("mae",),
        progress=False,
        resume_from=str(tmp_path / "one.swets"),
        scaler=p.scaler,
    )
    a, b = p.model.state_dict(), whole.model.state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert [dict(r) for r in history] == whole.history


class _TwoInProcess:
    """Two in-process replicas of one job, as the driver's loop talks to Dask actors."""

    def __init__(self, spec: dict) -> None:
        from swets_dask._jobs import build_setup
        from swets_dask.dataparallel import Replica

        self.setup = build_setup(spec)
        self.replicas = [Replica(self.setup, 0, 2), Replica(spec, 1, 2)]
        self.workers = ["w0", "w1"]
        self.size = 2

    def __len__(self) -> int:
        return 2

    def call(self, method, args, what):
        return [getattr(r, method)(*a) for r, a in zip(self.replicas, args)]

    def call_one(self, rank, method, args, what):
        return getattr(self.replicas[rank], method)(*args)


def test_replicas_that_differ_are_caught(series_csv, tmp_path):
    from swets_dask.dataparallel import _run

    spec = f64(series_csv, str(tmp_path / "x.swets"), epochs=1, patience=None)
    group = _TwoInProcess(spec)
    p = next(iter(group.replicas[1].params.values()))
    p._data[...] += 1.0
    with pytest.raises(ReplicaError, match="replica 1 on w1 built different initial parameters"):
        _run(group.setup, group, check_every=1, progress=False, where="test")

    group = _TwoInProcess(spec)  # same start, but replica 1 would step with another learning rate
    group.replicas[1].setup.optimizer.param_groups[0]["lr"] *= 2
    with pytest.raises(ReplicaError, match="differ after step 1: replica 1 on w1"):
        _run(group.setup, group, check_every=1, progress=False, where="test")


def test_existing_cluster_by_scheduler_address(series_csv, tmp_path, client):
    """The signature ``swets train --dask ADDRESS`` calls: spec dict and address only."""
    spec = f64(series_csv, str(tmp_path / "a.swets"), epochs=None, max_steps=5, patience=None)
    dp = train_data_parallel(spec, address=client.scheduler.address)
    assert dp.workers == worker_addresses(client) and dp.steps == 5
    single = train_single_process(spec, write=False)
    assert_params_close(dp.model.state_dict(), single.model.state_dict())


def test_a_worker_lost_mid_training_stops_it_with_a_named_error(
    series_csv, tmp_path, client, monkeypatch
):
    import signal

    from swets_dask import dataparallel

    pids = client.run(os.getpid)
    victim = sorted(pids)[1]
    average, calls = dataparallel._average, []

    def average_then_kill(results, total):
        calls.append(total)
        if len(calls) == 3:  # the driver has averaged two steps: kill replica 1's worker
            os.kill(pids[victim], signal.SIGKILL)
        return average(results, total)

    monkeypatch.setattr(dataparallel, "_average", average_then_kill)
    spec = f64(series_csv, str(tmp_path / "x.swets"), epochs=20, patience=None)
    try:
        with pytest.raises(ReplicaError, match=rf"replica 1 on worker {victim} .*step [34]"):
            train_data_parallel(spec, client=client)
        assert len(calls) == 3
    finally:
        wait_replaced(client, victim)
