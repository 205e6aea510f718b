"""swets_dask: parallel sweeps and data-parallel training of swets jobs on Dask.

* :func:`connect`: a ``distributed.Client`` on a local cluster (the embedded default) or on an
  existing scheduler by address.
* :func:`sweep`: a grid or random search (or any list of configurations, e.g. one model per
  series) of ``swets_train.jobs`` specifications, one Dask task per configuration, gathered into a
  :class:`SweepResult` table with the best configuration; a worker lost mid-task has its task re-run.
* :func:`backtest_many`: rolling-origin backtests of many configurations in parallel.
* :class:`DataParallel`: the executor ``"dask"`` of ``swets_train.Trainer.fit``: one model trained by
  replicas on Dask actors whose gradients are averaged every step; :func:`train_data_parallel` is
  ``run_job`` with it.
* :func:`dask_runner`: independent tasks on Dask, such as the members of an ensemble
  (``swets_train.ensemble.fit_ensemble(..., runner=dask_runner())``); registered as the function
  ``"dask_runner"``.

The configurations, their tasks and their table are ``swets_train.sweep``'s, the training loop
``swets_train.Trainer``'s: this distribution supplies where they run. See docs/distributed.md.
"""

from __future__ import annotations

__version__ = "0.1.0"

from swets_core.lazy import all_exports, lazy_exports

# imported on first use: discovering plugins imports this package (see swets_core.lazy)
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "swets_dask.cluster": ("check_workers", "connect"),
        "swets_dask.dataparallel": ("DataParallel", "state_digest", "train_data_parallel"),
        "swets_dask.errors": ("ReplicaError", "SweepError"),
        "swets_dask.sweep": ("SweepResult", "backtest_many", "sweep"),
        "swets_dask.tasks": ("dask_runner",),
        "swets_train.sweep": ("expand_grid", "sample_grid"),
    },
)

__all__ = ["__version__", *all_exports(__name__)]
