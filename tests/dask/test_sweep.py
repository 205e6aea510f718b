"""Sweeps on 2 worker processes: the same results as running the configurations serially, and a
worker killed mid-sweep loses nothing and duplicates nothing."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import numpy as np
import pytest
from distributed.diagnostics.plugin import SchedulerPlugin

from swets_core.errors import ConfigError
from swets_dask import SweepError, backtest_many, sweep
from swets_dask.cluster import worker_addresses
from swets_dask.sweep import SweepResult
from tests.dask.conftest import job, wait_replaced

GRID = {"model.layer_width": [8, 16], "training.lr": [1e-3, 3e-3]}


def sweep_job(csv: str) -> dict:
    """Long enough (about a second per configuration) for a worker to be killed mid-task."""
    return job(csv, epochs=10, patience=None)


@pytest.fixture(scope="module")
def serial(series_csv, tmp_path_factory) -> SweepResult:
    out = tmp_path_factory.mktemp("serial")
    return sweep(sweep_job(series_csv), GRID, output_dir=out, serial=True)


def model_state(path: str) -> dict:
    from swets_core.checkpoint import load_checkpoint

    return load_checkpoint(path).model.state_dict()


def assert_same_results(result: SweepResult, reference: SweepResult) -> None:
    assert [r["index"] for r in result] == list(range(len(reference)))
    assert [r["config"] for r in result] == [r["config"] for r in reference]
    for got, want in zip(result, reference):
        assert got["status"] == want["status"] == "ok"
        assert got["metrics"] == want["metrics"]
        assert got["baselines"] == want["baselines"]
        assert got["steps"] == want["steps"] > 0
        a, b = model_state(got["checkpoint"]), model_state(want["checkpoint"])
        assert all(np.array_equal(a[k], b[k]) for k in b)
    assert result.best["index"] == reference.best["index"]


def assert_clean_directory(result: SweepResult) -> None:
    """One directory per configuration holding exactly its checkpoint and result, plus the table."""
    names = sorted(os.listdir(result.output_dir))
    dirs = sorted(r["directory"] for r in result)
    assert names == sorted([os.path.basename(d) for d in dirs] + ["sweep.csv", "sweep.json"])
    for r in result:
        assert sorted(os.listdir(r["directory"])) == ["model.swets", "result.json"]
        with open(os.path.join(r["directory"], "result.json")) as fh:
            stored = json.load(fh)
        assert stored["config"] == r["config"] and stored["metrics"] == r["metrics"]
    with open(os.path.join(result.output_dir, "sweep.json")) as fh:
        table = json.load(fh)
    assert [row["index"] for row in table["rows"]] == list(range(len(result)))
    assert table["best"] == result.best["index"]


def test_sweep_equals_serial(series_csv, serial, client, tmp_path):
    result = sweep(sweep_job(series_csv), GRID, output_dir=tmp_path / "dask", client=client)
    assert_same_results(result, serial)
    assert_clean_directory(result)
    assert {r["worker"] for r in result} <= set(worker_addresses(client))
    # the best row has the lowest validation MASE
    scores = [r["metrics"]["validation"]["mase"] for r in result]
    assert result.best["index"] == int(np.argmin(scores))
    assert "*" in result.table() and "validation mase" in result.table()


def _executing(dask_worker) -> list[str]:
    return [str(ts.key) for ts in dask_worker.state.executing]


class TaskTransitions(SchedulerPlugin):
    """Records the scheduler's state transitions of the sweep's tasks."""

    name = "swets-test-task-transitions"

    def __init__(self) -> None:
        self.log: list[tuple[str, str, str]] = []

    def transition(self, key, start, finish, *args, **kwargs) -> None:
        if str(key).startswith("swets-sweep-"):
            self.log.append((str(key), start, finish))


def _transitions(dask_scheduler) -> list[tuple[str, str, str]]:
    return list(dask_scheduler.plugins[TaskTransitions.name].log)


def test_killed_worker_loses_and_duplicates_nothing(series_csv, serial, client, tmp_path):
    client.register_plugin(TaskTransitions())
    box: dict = {}

    def run() -> None:
        try:
            box["result"] = sweep(
                sweep_job(series_csv), GRID, output_dir=tmp_path / "killed", client=client
            )
        except BaseException as exc:  # re-raised in the main thread
            box["error"] = exc

    victim, running = None, []
    thread = threading.Thread(target=run)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while victim is None and time.monotonic() < deadline and thread.is_alive():
            for addr, keys in client.run(_executing).items():
                keys = [k for k in keys if k.startswith("swets-sweep-")]
                if keys:
                    victim, running = addr, keys
                    break
            else:
                time.sleep(0.01)
        assert victim is not None, "no sweep task was seen running"
        pid = client.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)  # the worker dies mid-task; its nanny starts a new one
        thread.join(timeout=180)
        assert not thread.is_alive()
        log = client.run_on_scheduler(_transitions)
    finally:
        thread.join(timeout=180)
        client.unregister_scheduler_plugin(TaskTransitions.name)
        if victim is not None:
            wait_replaced(client, victim)
    if "error" in box:
        raise box["error"]
    result = box["result"]

    # the task running on the killed worker was interrupted (processing -> released, not memory)
    # and run again to completion in another process
    key = running[0]
    mine = [(start, finish) for k, start, finish in log if k == key]
    assert ("processing", "released") in mine
    assert sum(finish == "processing" for _, finish in mine) >= 2
    assert ("processing", "memory") in mine
    index = int(key.split("-")[2])
    assert result.rows[index]["pid"] != pid
    # nothing lost, nothing duplicated: every configuration once, results equal to the serial run
    assert_same_results(result, serial)
    assert_clean_directory(result)


def test_failed_configuration_is_reported_not_retried(series_csv, tmp_path):
    base = job(series_csv, epochs=1)
    configs = [{}, {"data.path": str(tmp_path / "missing.csv")}]
    result = sweep(base, configs=configs, output_dir=tmp_path / "s", serial=True)
    ok, bad = result.rows
    assert ok["status"] == "ok" and bad["status"] == "failed"
    assert "missing.csv" in bad["error"] and "ConfigError" in bad["error"]
    assert result.failed == [bad] and result.best["index"] == 0
    with pytest.raises(SweepError, match="1 of 2 configuration"):
        result.check()


def test_one_model_per_series(series_csv, tmp_path):
    result = sweep(
        job(series_csv, epochs=1), per_series=True, output_dir=tmp_path / "s", serial=True
    )
    assert [r["config"] for r in result] == [{"series": "a"}, {"series": "b"}]
    assert all(r["status"] == "ok" for r in result)
    # each model saw one series only: their validation errors differ
    assert result.rows[0]["metrics"] != result.rows[1]["metrics"]


def test_random_search_and_bad_configurations(series_csv, tmp_path):
    base = job(series_csv, epochs=1)
    grid = {"model.layer_width": [4, 8, 16], "training.lr": [1e-3, 2e-3, 3e-3]}
    with pytest.raises(ConfigError, match=r"configuration 0 .*layer_widht"):
        sweep(base, {"model.layer_widht": [4]}, output_dir=tmp_path / "a", serial=True)
    with pytest.raises(ConfigError, match="the sweep decides where"):
        sweep(base, {"output.checkpoint": ["x"]}, output_dir=tmp_path / "a", serial=True)
    with pytest.raises(ConfigError, match="metric must be one of"):
        sweep(base, grid, output_dir=tmp_path / "a", metric="accuracy", serial=True)
    with pytest.raises(ConfigError, match="n_random=10 exceeds the 9"):
        sweep(base, grid, n_random=10, output_dir=tmp_path / "a", serial=True)
    result = sweep(base, grid, n_random=2, seed=5, output_dir=tmp_path / "r", serial=True)
    assert len(result) == 2 and len({r["config_id"] for r in result}) == 2
    assert all(r["config"]["model.layer_width"] in (4, 8, 16) for r in result)


def test_backtest_many(series_csv, tmp_path):
    # a test part of 96 rows per series holds 3 folds of 6 rows... 24 rows apart
    base = job(series_csv, epochs=1)
    result = backtest_many(
        base, {"model.layer_width": [8, 16]}, folds=3, stride=24, output_dir=tmp_path, serial=True
    )
    assert [r["status"] for r in result] == ["ok", "ok"]
    for r in result:
        assert r["folds"] == 3 and r["in_sample_folds"] == 0
        assert set(r["metrics"]["backtest"]) == {"mae", "rmse", "smape", "mase"}
        assert set(r["baselines"]) == {"naive", "seasonal_naive"}
    assert os.path.exists(tmp_path / "backtest.csv")
