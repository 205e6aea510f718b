"""Many jobs at once: sweeps and backtests of configurations as Dask tasks.

The configurations, their tasks and the table of their results are swets-train's
(``swets_train.sweep``); this module runs the tasks, each configuration (a mapping of dotted keys
applied to a base job specification, plus optionally a ``"series"`` to train on one series only) one
Dask task running ``swets_train.jobs.run_job``, or all of them in this process (``serial=True``).
Every configuration has its own directory ``<output_dir>/<index>-<config id>/`` holding its
checkpoint (``model.swets``) and its result (``result.json``), both written atomically: a task that
is re-run, because its worker died or because it raised and Dask retried it, overwrites the same
files with the same content, so the directory never holds a duplicate or a half-written result.

The results come back through the tasks' futures, one per configuration, so the table has exactly
one row per configuration whatever happened to the workers.

Failure handling:

* a worker that dies mid-task: the scheduler re-runs the task elsewhere (up to
  ``distributed.scheduler.allowed-failures`` times, 3 by default);
* an exception that is not a swets error (an I/O error on shared storage, memory): Dask retries
  the task ``retries`` times;
* a swets error (a configuration that diverges to NaN, a bad option): deterministic, so not
  retried; the row is marked ``failed`` with the message and the sweep goes on.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from swets_core.checks import check_count
from swets_train.sweep import (
    SweepResult,
    check_metric,
    config_id,
    configurations,
    failed_row,
    plan,
    run_backtest_configuration,
    run_configuration,
    save_result,
)

__all__ = [
    "SweepResult",
    "backtest_many",
    "configurations",
    "run_backtest_configuration",
    "run_configuration",
    "sweep",
]


def _on_worker(task: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``task`` in a Dask worker, naming the worker in its row."""
    from distributed import get_worker

    return task(*args, where=get_worker().address)


def _execute(
    task: Callable[..., dict[str, Any]],
    jobs: Sequence[tuple[dict[str, Any], dict[str, Any], str, int]],
    extra: tuple[Any, ...],
    where: dict[str, Any],
    *,
    retries: int,
    serial: bool,
    progress: bool,
    label: str,
) -> list[dict[str, Any]]:
    """Run ``task(spec, overrides, directory, index, *extra)`` for every job, on the cluster
    ``where`` (``client_scope``'s arguments) or in this process; the rows in job order."""

    def on_cluster() -> Iterator[tuple[int, dict[str, Any]]]:
        from swets_dask.cluster import run_tasks

        calls = [(_on_worker, task, *job, *extra) for job in jobs]
        keys = [f"swets-{label}-{index:04d}-{config_id(ov)}" for _, ov, _, index in jobs]
        for i, fut in run_tasks(calls, keys, **where, retries=retries):
            if fut.status == "finished":
                yield i, fut.result()
            else:
                _, overrides, directory, index = jobs[i]
                yield i, failed_row(index, overrides, directory, fut.exception())

    rows: list[dict[str, Any] | None] = [None] * len(jobs)
    finished = ((i, task(*job, *extra)) for i, job in enumerate(jobs)) if serial else on_cluster()
    for done, (i, row) in enumerate(finished, 1):
        rows[i] = row
        if progress:
            state = row["status"] if row["status"] != "ok" else "done"
            print(
                f"[{done}/{len(jobs)}] configuration {row['index']} {row['config']}: {state} "
                f"on {row['worker']} in {row.get('seconds', 0.0):.1f} s",
                file=sys.stderr,
                flush=True,
            )
    return rows  # type: ignore[return-value]


def sweep(
    base_spec: Any,
    grid: Mapping[str, Sequence[Any]] | None = None,
    *,
    configs: Sequence[Mapping[str, Any]] | None = None,
    n_random: int | None = None,
    seed: int = 0,
    per_series: bool = False,
    client: Any = None,
    address: str | None = None,
    n_workers: int = 2,
    output_dir: str | os.PathLike[str],
    metric: str = "mase",
    split: str = "validation",
    retries: int = 3,
    serial: bool = False,
    progress: bool = False,
    backtest: Mapping[str, Any] | None = None,
    force: bool = False,
) -> SweepResult:
    """Train and evaluate many configurations of a job in parallel on Dask.

    Args:
        base_spec: the job every configuration starts from (a ``JobSpec`` or its plain data).
        grid: ``{dotted key: [values]}``, e.g. ``{"model.hidden_size": [16, 32],
            "training.lr": [1e-3, 3e-3]}``: every combination (or ``n_random`` of them).
        configs: an explicit list of ``{dotted key: value}`` configurations (combined with each
            grid point when a grid is given too).
        n_random: random search: this many distinct combinations of the grid, drawn with ``seed``.
        seed: the seed of the random draw (the jobs keep their own ``training.seed``).
        per_series: one model per series of the data: every configuration once per series id
            (the configuration key ``"series"``), each trained on that series alone.
        client: a ``distributed.Client`` (left open); else ``address`` of a scheduler, else a
            local cluster of ``n_workers`` processes started for the call.
        output_dir: the sweep's directory: ``<index>-<config id>/model.swets`` and ``result.json``
            for each configuration, and ``sweep.json`` / ``sweep.csv`` for the table.
        metric, split: what ranks the configurations (``mae``, ``rmse``, ``smape``, ``mase`` on
            ``"validation"`` or ``"test"``; ``"backtest"`` with ``backtest``); the best is
            :attr:`SweepResult.best`.
        retries: how often Dask re-runs a task that raised something other than a swets error.
            A worker lost mid-task is handled by the scheduler (``allowed-failures``).
        serial: run the configurations one after the other in this process (no Dask), e.g. as a
            reference or for a handful of tiny jobs.
        progress: print a line per finished configuration to stderr.
        backtest: ``{"folds": n, "stride": s}``: backtest each trained model as well (see
            :func:`backtest_many`, which sets it).
        force: replace files in ``output_dir`` that swets did not write. Every file the sweep
            writes is checked before anything runs (``swets_train.sweep.plan``).

    Returns:
        A :class:`SweepResult` (also written to ``output_dir/sweep.json`` and ``sweep.csv``, or
        ``backtest.json`` and ``backtest.csv``).

    Raises:
        ConfigError: a bad argument, grid or configuration (checked before anything runs).
    """
    task: Callable[..., dict[str, Any]] = run_configuration
    extra: tuple[Any, ...] = ()
    label, splits = "sweep", ("validation", "test")
    if backtest is not None:
        folds, stride = backtest.get("folds", 5), backtest.get("stride")
        check_count(folds, "folds")
        if stride is not None:
            check_count(stride, "stride")
        task, extra, label, splits = (
            run_backtest_configuration,
            (folds, stride),
            "backtest",
            ("backtest",),
        )
    greater = check_metric(metric, split, splits)
    check_count(retries, "retries", 0)
    from swets_train.jobs import as_spec

    choose = {"configs": configs, "n_random": n_random, "seed": seed, "per_series": per_series}
    overrides = configurations(as_spec(base_spec).to_dict(), grid, **choose)
    out, jobs = plan(base_spec, overrides, output_dir, tables=(label,), force=force)
    where = {"client": client, "address": address, "n_workers": n_workers}
    rows = _execute(
        task, jobs, extra, where, retries=retries, serial=serial, progress=progress, label=label
    )
    result = SweepResult(
        rows, metric=metric, split=split, greater_is_better=greater, output_dir=out
    )
    save_result(result, label)
    return result


def backtest_many(
    base_spec: Any,
    grid: Mapping[str, Sequence[Any]] | None = None,
    *,
    folds: int = 5,
    stride: int | None = None,
    metric: str = "mase",
    **options: Any,
) -> SweepResult:
    """Like :func:`sweep` (``options``: its other keyword arguments), then a rolling-origin backtest
    of each trained model.

    Each task trains its configuration and backtests the model on the last ``folds`` origins of its
    data, ``stride`` rows apart (default: the horizon), next to the naive and seasonal-naive
    baselines (``swets_train.jobs.backtest_job``). Rows hold ``metrics["backtest"]``,
    ``baselines[name]["backtest"]``, ``folds`` and ``in_sample_folds`` (folds starting inside the
    training rows; keep it 0 by giving the job a test part at least ``folds * stride`` rows long).
    The table is also written to ``output_dir/backtest.json`` and ``backtest.csv``.
    """
    backtest = {"folds": folds, "stride": stride}
    return sweep(base_spec, grid, metric=metric, split="backtest", backtest=backtest, **options)
