"""swets_dask: parallel sweeps and data-parallel training of swets jobs on Dask.

* :func:`connect`: a ``distributed.Client`` on a local cluster (the embedded default) or on an
  existing scheduler by address.
* :func:`sweep`: a grid or random search (or any list of configurations, e.g. one model per
  series) of ``swets_train.jobs`` specifications, one Dask task per configuration, gathered into a
  :class:`SweepResult` table with the best configuration; a worker lost mid-task has its task re-run.
* :func:`backtest_many`: rolling-origin backtests of many configurations in parallel.
* :func:`train_data_parallel`: one model trained by replicas on Dask actors that average their
  gradients every step; :func:`train_single_process` is the same algorithm in one process.

See docs/distributed.md.
"""

from __future__ import annotations

__version__ = "0.1.0"

from swets_dask.cluster import check_workers, connect
from swets_dask.dataparallel import (
    DataParallelResult,
    state_digest,
    train_data_parallel,
    train_single_process,
)
from swets_dask.errors import ReplicaError, SweepError
from swets_dask.grid import expand_grid, sample_grid
from swets_dask.sweep import SweepResult, backtest_many, sweep

__all__ = [
    "DataParallelResult",
    "ReplicaError",
    "SweepError",
    "SweepResult",
    "__version__",
    "backtest_many",
    "check_workers",
    "connect",
    "expand_grid",
    "sample_grid",
    "state_digest",
    "sweep",
    "train_data_parallel",
    "train_single_process",
]
