"""Data-parallel training (the ``dask`` executor of ``Trainer.fit``) equals single-process training:
bitwise with one replica, within 1e-10 in float64 with two worker processes."""

from __future__ import annotations

import os

import numpy as np
import pytest

from swets_core import registry
from swets_core.errors import ConfigError
from swets_dask import (
    DataParallel,
    ReplicaError,
    state_digest,
    train_data_parallel,
)
from swets_dask.cluster import worker_addresses
from swets_dask.dataparallel import Replica, _average, _check_same
from swets_train.jobs import JobResult, run_job
from tests.dask.conftest import job, wait_replaced

# gradient clipping, and a plateau scheduler that halves the learning rate after every epoch from
# the second on (mode "max" on a falling validation loss: no epoch after the first improves)
CLIP_PLATEAU = {
    "clip_grad_norm": 0.05,
    "scheduler": "reduce_lr_on_plateau",
    "scheduler_options": {"mode": "max", "patience": 0, "factor": 0.5},
    "epochs": 4,
    "patience": None,
}
PLATEAU_LRS = [3e-3, 3e-3, 1.5e-3, 7.5e-4]  # the learning rate of each epoch


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


def assert_bitwise(a: JobResult, b: JobResult) -> None:
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)
    assert a.history == b.history
    assert a.metrics == b.metrics and a.baselines == b.baselines
    assert a.stop_reason == b.stop_reason


@pytest.mark.parametrize(
    "training", [{}, CLIP_PLATEAU], ids=["adam-early-stopping", "clip-plateau"]
)
def test_one_replica_is_run_job_bitwise(series_csv, tmp_path, client, training):
    ref = run_job(f64(series_csv, str(tmp_path / "ref.swets"), **training))
    dp = train_data_parallel(
        f64(series_csv, str(tmp_path / "dp.swets"), **training), client=client, replicas=1
    )
    assert dp.execution["data_parallel"]["replicas"] == 1 and ref.execution == {}
    assert_bitwise(dp, ref)
    if training:
        assert [r["lr"] for r in ref.history] == pytest.approx(PLATEAU_LRS)
        # clipping acts: the same run without it ends elsewhere
        free = run_job(
            f64(series_csv, str(tmp_path / "free.swets"), **{**training, "clip_grad_norm": "none"})
        )
        sa, sb = free.model.state_dict(), ref.model.state_dict()
        assert not all(np.array_equal(sa[k], sb[k]) for k in sa)


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
        CLIP_PLATEAU,
    ],
    ids=["adam-early-stopping", "sgd-clip-step-scheduler", "clip-plateau"],
)
def test_data_parallel_equals_single_process(series_csv, tmp_path, client, training):
    single = run_job(f64(series_csv, str(tmp_path / "single.swets"), **training))
    dp = train_data_parallel(f64(series_csv, str(tmp_path / "dp.swets"), **training), client=client)

    info = dp.execution["data_parallel"]
    assert info["replicas"] == 2 and len(set(info["workers"])) == 2
    assert dp.steps == single.steps > 0 and dp.epochs == single.epochs
    assert info["global_batch"] == training.get("batch_size", 32)
    assert_params_close(dp.model.state_dict(), single.model.state_dict())
    assert len(dp.history) == len(single.history)
    for rd, rs in zip(dp.history, single.history):
        assert rd.keys() == rs.keys()
        for key in rd:
            assert rd[key] == pytest.approx(rs[key], rel=1e-10, abs=1e-12), key
    if training.get("scheduler") == "reduce_lr_on_plateau":
        assert [r["lr"] for r in dp.history] == pytest.approx(PLATEAU_LRS)
    for split in single.metrics:
        for m, v in single.metrics[split].items():
            assert dp.metrics[split][m] == pytest.approx(v, rel=1e-9)


def test_data_parallel_checkpoint_is_a_job_checkpoint(series_csv, tmp_path, client):
    from swets_train.jobs import load_job

    path = str(tmp_path / "dp.swets")
    spec = f64(series_csv, path, epochs=1, patience=None)
    spec["output"]["forecast_csv"] = str(tmp_path / "forecast.csv")
    dp = train_data_parallel(spec, client=client)
    assert isinstance(dp, JobResult)
    assert dp.checkpoint == path and os.path.exists(path)
    with open(tmp_path / "forecast.csv") as fh:
        assert len(fh.read().splitlines()) == 1 + 2 * 6  # a header, 2 series x horizon 6
    assert JobResult.from_dict(dp.to_dict()) == dp
    assert set(dp.windows) == {"train", "validation", "test"}
    info = dp.execution["data_parallel"]
    assert info["digest"] == state_digest(
        dp.model
    )  # no early stopping: the replicas' final weights
    loaded = load_job(path)
    assert all(
        np.array_equal(v, dp.model.state_dict()[k]) for k, v in loaded.model.state_dict().items()
    )
    assert loaded.history == dp.history
    assert loaded.metadata["data_parallel"] == info
    assert (info["replicas"], info["global_batch"]) == (2, 32)
    metrics, _ = loaded.evaluate()
    assert metrics["validation"]["mae"] == pytest.approx(dp.metrics["validation"]["mae"])
    assert "nbeats" in dp.table() and "seasonal_naive" in dp.table()


def test_more_replicas_than_workers(series_csv, tmp_path, client):
    spec = f64(series_csv, str(tmp_path / "x.swets"), epochs=None, max_steps=6, patience=None)
    single = run_job(spec, write=False)
    dp = train_data_parallel(spec, client=client, replicas=3, write=False)
    assert dp.execution["data_parallel"]["replicas"] == 3 and dp.checkpoint is None
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
    _check_same("d1", ["d1", "d1", None], ["w0", "w1", "w2"], "after step 3")
    with pytest.raises(
        ReplicaError, match="differ from the driver's after step 3: replica 1 on w1"
    ):
        _check_same("d1", ["d1", "d2"], ["w0", "w1"], "after step 3")


def test_bad_arguments(series_csv, client):
    spec = job(series_csv)
    with pytest.raises(ConfigError, match="global_batch must be an int >= 1"):
        train_data_parallel(spec, client=client, global_batch=0)
    with pytest.raises(ConfigError, match="replicas must be an int >= 1"):
        train_data_parallel(spec, client=client, replicas=0)
    with pytest.raises(ConfigError, match="give client= or address=, not both"):
        train_data_parallel(spec, client=client, address="tcp://127.0.0.1:1")
    with pytest.raises(ConfigError, match=r"has no option .layer_widht."):
        train_data_parallel({**spec, "model": {"name": "nbeats", "layer_widht": 3}}, client=client)
    with pytest.raises(ConfigError, match="check_every"):
        train_data_parallel(spec, client=client, check_every=-1)
    with pytest.raises(ConfigError, match="builds its replicas from a job"):
        from swets_train import fit
        from swets_train.jobs import prepare

        p = prepare(spec)
        fit(p.model, p.loss, p.optimizer, p.train, epochs=1, executor=DataParallel(client))


def test_unreachable_scheduler_is_a_config_error(series_csv):
    from swets_dask import connect

    with pytest.raises(ConfigError, match="cannot connect to the Dask scheduler at"):
        connect("tcp://127.0.0.1:9", timeout=0.5)
    with pytest.raises(ConfigError, match="scheduler address"):
        connect("")


def test_the_executor_is_registered_for_swets_train_dask():
    assert registry.get("executors", "dask") is DataParallel
    assert registry.info("executors", "dask").distribution == "swets-dask"


def test_checkpoint_resumes_in_one_process_with_fit(series_csv, tmp_path, client):
    """The training state is swets_train's: fit(resume_from=...) continues where it stopped."""
    from swets_train import fit
    from swets_train.jobs import prepare

    first = f64(series_csv, str(tmp_path / "one.swets"), epochs=1, patience=None)
    train_data_parallel(first, client=client, replicas=1)
    whole = run_job(f64(series_csv, str(tmp_path / "two.swets"), epochs=2, patience=None))

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


class _InProcess:
    """Replicas in this process, called as the executor calls Dask actors."""

    def __init__(self, replicas: list) -> None:
        self.replicas = replicas
        self.workers = [f"w{r}" for r in range(len(replicas))]

    def __len__(self) -> int:
        return len(self.replicas)

    def call(self, method, args, what):
        return [getattr(r, method)(*a) for r, a in zip(self.replicas, args)]

    def close(self) -> None:
        self.replicas = []


class _TwoInProcess(DataParallel):
    """The executor with two in-process replicas; ``make(spec, data, rank, world)`` builds each."""

    def __init__(self, make=Replica) -> None:
        super().__init__()
        self.make = make

    def _open(self, spec, data):
        return _InProcess([self.make(spec, data, r, 2) for r in range(2)])


def test_two_in_process_replicas_equal_one_process(series_csv, tmp_path):
    spec = f64(series_csv, str(tmp_path / "x.swets"), **CLIP_PLATEAU)
    single = run_job(spec, write=False)
    dp = run_job(spec, write=False, executor=_TwoInProcess())
    assert dp.execution["data_parallel"]["workers"] == ["w0", "w1"]
    assert_params_close(dp.model.state_dict(), single.model.state_dict())
    assert [r["lr"] for r in dp.history] == [r["lr"] for r in single.history]


def test_replicas_take_the_batches_covariates_as_one_process_does(series_csv, tmp_path):
    """Known covariates (the hourly calendar) and static covariates (a category and a number from
    a table by id) reach the replicas' models through the executor seam as they reach the local
    one."""
    table = tmp_path / "static.csv"
    table.write_text("id,kind,size\na,small,1.5\nb,large,4.0\n")
    spec = f64(series_csv, str(tmp_path / "x.swets"), epochs=2, patience=None)
    spec["data"]["static_path"] = str(table)
    single = run_job(spec, write=False)
    config = single.model.config()
    assert config["n_future_features"] == 4 and config["static_cardinalities"] == [2, 0]
    dp = run_job(spec, write=False, executor=_TwoInProcess())
    assert_params_close(dp.model.state_dict(), single.model.state_dict())


def test_replicas_that_differ_are_caught(series_csv, tmp_path):
    spec = f64(series_csv, str(tmp_path / "x.swets"), epochs=1, patience=None)

    def perturbed_at_start(spec, data, rank, world):
        replica = Replica(spec, data, rank, world)
        if rank == 1:
            next(iter(replica.params.values()))._data[...] += 1.0
        return replica

    with pytest.raises(ReplicaError, match="replica 1 on w1 built different initial parameters"):
        run_job(spec, write=False, executor=_TwoInProcess(perturbed_at_start))

    class Careless(Replica):
        """Loads the driver's parameters, then changes one."""

        def step(self, params, shard, check):
            if params is not None and self.rank == 1:
                params = {k: v + 1e-12 for k, v in params.items()}
            return super().step(params, shard, check)

    with pytest.raises(
        ReplicaError, match="differ from the driver's after step 1: replica 1 on w1"
    ):
        run_job(spec, write=False, executor=_TwoInProcess(Careless))


def test_existing_cluster_by_scheduler_address(series_csv, tmp_path, client):
    """An existing cluster by its scheduler's address, as ``swets train --dask ADDRESS`` gives it."""
    spec = f64(series_csv, str(tmp_path / "a.swets"), epochs=None, max_steps=5, patience=None)
    dp = run_job(
        spec, executor=registry.create("executors", "dask", address=client.scheduler.address)
    )
    assert dp.execution["data_parallel"]["workers"] == worker_addresses(client) and dp.steps == 5
    single = run_job(spec, write=False)
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
