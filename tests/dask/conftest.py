"""Shared fixtures of the swets-dask tests: one local cluster of 2 worker processes, small data
and small job specifications."""

from __future__ import annotations

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")


def write_two_series(path) -> str:
    """A long-format CSV of two hourly seasonal series (``timestamp, id, y``), 480 rows each."""
    rng = np.random.default_rng(3)
    t = np.arange(480)
    stamps = np.datetime64("2024-01-01T00:00") + t.astype("timedelta64[h]")
    lines = ["timestamp,id,y"]
    for sid, level in (("a", 50.0), ("b", 80.0)):
        y = level + 8 * np.sin(2 * np.pi * t / 24) + 0.02 * t + rng.normal(0, 1.0, t.shape[0])
        lines += [
            f"{np.datetime_as_string(s, unit='s')}Z,{sid},{v!r}" for s, v in zip(stamps, y.tolist())
        ]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture(scope="package")
def series_csv(tmp_path_factory) -> str:
    return write_two_series(tmp_path_factory.mktemp("data") / "two_series.csv")


def job(csv: str, **training) -> dict:
    """A small job on ``csv``: N-BEATS with one narrow block, two epochs of 32-window batches."""
    return {
        "data": {
            "path": csv,
            "id_column": "id",
            "target": "y",
            "lookback": 24,
            "horizon": 6,
            "val": 0.2,
            "test": 0.2,
        },
        "model": {"name": "nbeats", "num_blocks": 1, "num_layers": 2, "layer_width": 16},
        "training": {"epochs": 2, "batch_size": 32, "lr": 3e-3, "patience": 1, **training},
    }


@pytest.fixture(scope="package")
def client():
    """A local cluster of 2 worker processes (1 thread each) behind nannies, shared by the tests
    of this folder and closed after its last test."""
    from swets_dask import connect

    c = connect(n_workers=2, threads_per_worker=1, processes=True)
    try:
        c.wait_for_workers(2, timeout=60)
        yield c
    finally:
        c.close()


def wait_replaced(client, address: str, timeout: float = 60.0) -> None:
    """Wait until the scheduler has dropped the killed worker ``address`` and its nanny's new
    worker has joined, so that the next test finds 2 live workers."""
    import time

    from swets_dask.cluster import worker_addresses

    deadline = time.monotonic() + timeout
    while address in worker_addresses(client):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the scheduler still lists the killed worker {address}")
        time.sleep(0.05)
    client.wait_for_workers(2, timeout=timeout)
