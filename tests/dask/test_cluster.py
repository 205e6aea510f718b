"""The local cluster's workers and the check that every worker runs swets at the driver's versions."""

from __future__ import annotations

import os

import numpy as np
import pytest

from swets_core.errors import ConfigError
from swets_dask import check_workers
from swets_dask.cluster import worker_versions


def _environment() -> dict:
    return {k: os.environ.get(k) for k in ("MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS")}


def test_local_workers(client):
    workers = check_workers(client)
    assert len(workers) == 2
    pids = client.run(os.getpid)
    assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
    # one BLAS thread per worker and glibc's own memory trimming (see WORKER_CONFIG)
    for env in client.run(_environment).values():
        assert env == {"MALLOC_TRIM_THRESHOLD_": None, "OMP_NUM_THREADS": "1"}


class FakeClient:
    """Answers like a Client whose workers report ``reports``."""

    def __init__(self, reports: dict) -> None:
        self.reports = reports

    def scheduler_info(self, n_workers: int = 5) -> dict:
        return {"workers": {addr: {} for addr in self.reports}}

    def run(self, fn) -> dict:
        return self.reports


def test_workers_without_swets_or_at_other_versions_are_named():
    mine = worker_versions()
    assert mine["swets-dask"] == "0.1.0"
    ok = FakeClient({"tcp://a:1": mine, "tcp://b:2": dict(mine)})
    assert check_workers(ok) == ["tcp://a:1", "tcp://b:2"]
    bad = FakeClient(
        {"tcp://a:1": mine, "tcp://b:2": {**mine, "swets-train": None, "swets-dask": "0.0.9"}}
    )
    with pytest.raises(ConfigError) as info:
        check_workers(bad)
    msg = str(info.value)
    assert "tcp://b:2 is missing swets-train (this process: 0.1.0)" in msg
    assert "tcp://b:2 has 0.0.9 swets-dask (this process: 0.1.0)" in msg
    assert "tcp://a:1" not in msg
    with pytest.raises(ConfigError, match="has no worker; start some with `dask worker"):
        check_workers(FakeClient({}))


def test_dask_runner_trains_ensemble_members_with_the_weights_of_a_serial_run(client):
    """The members of an ensemble as Dask tasks (the function ``dask_runner``, reached through the
    registry): the weights of a serial run, each member naming its worker."""
    from swets_core import registry
    from swets_models import EnsembleModel
    from swets_train.ensemble import fit_ensemble

    rng = np.random.default_rng(0)
    data = [40.0 + np.abs(rng.normal(1.0, 0.5, size=n)).cumsum() for n in rng.integers(8, 40, 12)]
    settings = {"steps": 4, "batch_size": 16, "history_size": 3.0, "progress": False}

    def build():
        return EnsembleModel.grid(
            "nbeats",
            horizon=4,
            lookbacks=[8, 12],
            losses=["smape", "mase"],
            num_blocks=1,
            num_layers=2,
            layer_width=8,
        )

    serial, remote = build(), build()
    fit_ensemble(serial, data, **settings)
    runner = registry.get("functions", "dask_runner")(client=client)
    result = fit_ensemble(remote, data, runner=runner, **settings)
    for a, b in zip(serial.parameters(), remote.parameters()):
        np.testing.assert_array_equal(a._data, b._data)
    workers = set(client.scheduler_info()["workers"])
    assert all(m.where in workers for m in result.members)
