"""Independent tasks on Dask: where the members of an ensemble train when asked.

``swets_train.ensemble.fit_ensemble(..., runner=...)`` takes any *runner*: a function ``run(task,
tasks, shared)`` that yields ``task(t, shared)`` for every ``t`` of ``tasks`` as each finishes.
:func:`dask_runner` makes one that runs the tasks on a Dask cluster: the shared data (the series)
goes to every worker once (``Client.scatter(..., broadcast=True)``), each task is one Dask task,
and a worker that dies mid-task has its task re-run elsewhere by the scheduler. It is registered as
the function ``"dask_runner"``, so swets-train and swets-competitions reach it through the
registry (``registry.get("functions", "dask_runner")``) without importing this distribution, as
``swets train --dask`` reaches the ``dask`` executor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from swets_core.checks import check_count

__all__ = ["dask_runner"]

Task = Callable[[dict[str, Any], Any], dict[str, Any]]


def _on_worker(task: Task, t: dict[str, Any], shared: Any) -> dict[str, Any]:
    """Run ``task`` in a Dask worker, naming the worker in its result."""
    from distributed import get_worker

    return task({**t, "where": get_worker().address}, shared)


def dask_runner(
    address: str | None = None,
    *,
    n_workers: int = 2,
    client: Any = None,
    retries: int = 1,
) -> Callable[[Task, Sequence[dict[str, Any]], Any], Iterator[dict[str, Any]]]:
    """A runner of independent tasks on Dask (see the module docstring).

    Args:
        address: the scheduler of a running cluster; None starts a local cluster of ``n_workers``
            single-threaded worker processes for each run (closed after it).
        n_workers: workers of the local cluster.
        client: a ``distributed.Client`` to use (left open) instead of ``address``.
        retries: how often Dask re-runs a task that raised (a lost worker is re-run by the
            scheduler regardless).

    Returns:
        ``run(task, tasks, shared)``, yielding each task's result as it finishes.

    Raises:
        ConfigError: bad arguments; when run, a cluster without workers or with other swets
            versions.
    """
    check_count(n_workers, "n_workers", where="dask_runner")
    check_count(retries, "retries", 0, where="dask_runner")

    def run(task: Task, tasks: Sequence[dict[str, Any]], shared: Any) -> Iterator[dict[str, Any]]:
        from swets_dask.cluster import run_tasks

        calls = [(_on_worker, task, t) for t in tasks]
        keys = [f"swets-task-{i:04d}" for i in range(len(calls))]
        where = {"client": client, "address": address, "n_workers": n_workers}
        for _, fut in run_tasks(calls, keys, **where, retries=retries, broadcast=(shared,)):
            yield fut.result()

    return run
