"""Many jobs at once: sweeps and backtests of configurations as Dask tasks.

Each configuration (a mapping of dotted keys applied to a base job specification, plus optionally a
``"series"`` to train on one series only) is one Dask task running ``swets_train.jobs.run_job``.
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

import contextlib
import json
import math
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from swets_core.checks import is_int
from swets_core.errors import ConfigError, SwetsError
from swets_dask._jobs import normalize_spec
from swets_dask.errors import SweepError
from swets_dask.grid import apply_overrides, config_id, expand_grid, sample_grid

__all__ = [
    "SweepResult",
    "backtest_many",
    "configurations",
    "run_backtest_configuration",
    "run_configuration",
    "sweep",
]

SERIES_KEY = "series"
"""The configuration key selecting one series of the data (one model per series)."""

CHECKPOINT_NAME = "model.swets"
RESULT_NAME = "result.json"
_TEMP_SUFFIX = ".swets-tmp"


# -- building the configurations ------------------------------------------------------------------
def configurations(
    base_spec: Mapping[str, Any],
    grid: Mapping[str, Sequence[Any]] | None = None,
    *,
    configs: Sequence[Mapping[str, Any]] | None = None,
    n_random: int | None = None,
    seed: int = 0,
    per_series: bool = False,
) -> list[dict[str, Any]]:
    """The configurations of a sweep, in order.

    ``configs`` (an explicit list) or ``grid`` (every combination, or ``n_random`` of them drawn
    with ``seed``), or both (each explicit configuration combined with each grid point); with
    ``per_series`` each of those once per series of the base spec's data. With nothing at all, the
    base spec itself is the one configuration.

    Raises:
        ConfigError: a malformed grid or configuration, ``n_random`` without a grid, or the same
            configuration twice.
    """
    if n_random is not None and grid is None:
        raise ConfigError("n_random draws from a grid; give grid= as well")
    if grid is not None:
        points = sample_grid(grid, n_random, seed) if n_random is not None else expand_grid(grid)
    else:
        points = [{}]
    if configs is not None:
        if isinstance(configs, Mapping) or not isinstance(configs, Sequence):
            raise ConfigError(
                f"configs must be a list of {{dotted key: value}} mappings, got "
                f"{type(configs).__name__}"
            )
        for i, c in enumerate(configs):
            if not isinstance(c, Mapping):
                raise ConfigError(f"configs[{i}] must be a mapping, got {type(c).__name__}")
        out = [{**dict(c), **p} for c in configs for p in points]
    else:
        out = [dict(p) for p in points]
    if per_series:
        from swets_train.jobs import JobSpec, load_series

        coll, _ = load_series(JobSpec.from_dict(base_spec))
        out = [{**c, SERIES_KEY: sid} for c in out for sid in coll.ids]
    seen: dict[str, int] = {}
    for i, c in enumerate(out):
        cid = config_id(c)
        if cid in seen:
            raise ConfigError(f"configurations {seen[cid]} and {i} are the same: {c}")
        seen[cid] = i
    if not out:
        raise ConfigError("the sweep has no configuration (configs=[] is empty)")
    return out


def _job_spec(
    base: Mapping[str, Any], overrides: Mapping[str, Any], directory: str, index: int
) -> dict[str, Any]:
    """The plain spec of one configuration, its outputs redirected into ``directory``."""
    dotted = {k: v for k, v in overrides.items() if k != SERIES_KEY}
    for key in dotted:
        if key == "output" or key.startswith("output."):
            raise ConfigError(
                f"configuration {index}: {key!r}: the sweep decides where each configuration's "
                "outputs go (its own directory under output_dir)"
            )
    spec = apply_overrides(base, dotted)
    output = dict(spec.get("output") or {})
    spec["output"] = {"checkpoint": os.path.join(directory, CHECKPOINT_NAME)}
    if output.get("forecast_csv"):
        spec["output"]["forecast_csv"] = os.path.join(directory, "forecast.csv")
    if output.get("plot"):
        spec["output"]["plot"] = os.path.join(directory, "plot.png")
    try:
        return normalize_spec(spec)
    except ConfigError as exc:
        raise ConfigError(f"configuration {index} {dict(overrides)}: {exc}") from None


# -- the tasks --------------------------------------------------------------------------------------
def _where() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return "<this process>"


def _clean_temporaries(directory: str) -> None:
    """Remove the temporary files a killed earlier attempt may have left in ``directory``."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if name.startswith(".") and name.endswith(_TEMP_SUFFIX):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(directory, name))


def _write_json(path: str, value: Any) -> None:
    from swets_core.checkpoint import atomic_write

    data = json.dumps(value, indent=2, sort_keys=True, default=str).encode()
    with atomic_write(path) as fh:
        fh.write(data)


def _load_data(spec: Mapping[str, Any], series: str | None) -> Any:
    if series is None:
        return None
    from swets_train.jobs import JobSpec, load_series

    coll, _ = load_series(JobSpec.from_dict(spec))
    if series not in coll.ids:
        raise ConfigError(
            f"series {series!r} is not in the data (series: {', '.join(coll.ids[:10])}"
            + (" ..." if len(coll.ids) > 10 else "")
            + ")"
        )
    return coll[series]


def _row(index: int, overrides: Mapping[str, Any], directory: str) -> dict[str, Any]:
    return {
        "index": index,
        "config_id": config_id(overrides),
        "config": dict(overrides),
        "directory": directory,
        "status": "ok",
        "error": None,
        "worker": _where(),
        "pid": os.getpid(),
    }


def _attempt(
    index: int,
    overrides: Mapping[str, Any],
    directory: str,
    body: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    os.makedirs(directory, exist_ok=True)
    _clean_temporaries(directory)
    row = _row(index, overrides, directory)
    start, cpu = time.perf_counter(), time.thread_time()
    try:
        body(row)
    except SwetsError as exc:  # deterministic: report it, do not retry
        row["status"] = "failed"
        row["error"] = f"{type(exc).__name__}: {exc}"
    row["seconds"] = time.perf_counter() - start
    row["cpu_seconds"] = time.thread_time() - cpu
    _write_json(os.path.join(directory, RESULT_NAME), row)
    return row


def run_configuration(
    spec: Mapping[str, Any], overrides: Mapping[str, Any], directory: str, index: int
) -> dict[str, Any]:
    """Train, evaluate and save one configuration (the task of :func:`sweep`).

    Returns the row (plain data), also written atomically to ``<directory>/result.json``.
    """

    def body(row: dict[str, Any]) -> None:
        from swets_train.jobs import run_job

        result = run_job(spec, write=True, data=_load_data(spec, overrides.get(SERIES_KEY)))
        row.update(
            metrics=result.metrics,
            baselines=result.baselines,
            checkpoint=result.checkpoint,
            epochs=len(result.history),
            steps=result.history[-1]["step"] if result.history else 0,
            stop_reason=result.stop_reason,
        )

    return _attempt(index, overrides, directory, body)


def run_backtest_configuration(
    spec: Mapping[str, Any],
    overrides: Mapping[str, Any],
    directory: str,
    index: int,
    folds: int,
    stride: int | None,
) -> dict[str, Any]:
    """Train one configuration (as :func:`run_configuration`) and backtest the trained model on the
    last ``folds`` origins of its data (the task of :func:`backtest_many`).

    The row's ``metrics`` are ``{"backtest": {metric: value}}`` pooled over the folds; its
    ``baselines`` the same for the naive and seasonal-naive forecasts; ``in_sample_folds`` counts
    the folds whose origin falls inside the training rows (0 for an honest backtest: grow
    ``data.test`` or lower ``folds`` / ``stride`` otherwise).
    """

    def body(row: dict[str, Any]) -> None:
        import numpy as np

        from swets_timeseries import WindowDataset
        from swets_train import backtest
        from swets_train.jobs import JobSpec, load_series, run_job

        data = _load_data(spec, overrides.get(SERIES_KEY))
        result = run_job(spec, write=True, data=data)
        job = JobSpec.from_dict(result.spec)
        coll, ds = load_series(job, data)
        season = job.training.season_length or 1
        report = backtest(
            result.model,
            coll,
            folds=folds,
            stride=stride,
            scaler=result.scaler,
            season_length=season,
            metrics=("mae", "rmse", "smape", "mase"),
            target=ds.target,
            covariates=list(ds.covariates),
        )
        windows = WindowDataset(
            coll, ds.lookback, ds.horizon, target=ds.target, covariates=ds.covariates
        )
        train_rows = windows.split(val=ds.val, test=ds.test, gap=ds.gap).train.rows
        last_train = {
            s.id: s.timestamps[train_rows[s.id][1] - 1] for s in coll if s.id in train_rows
        }
        in_sample = sum(
            any(
                sid in last_train and np.datetime64(t) <= last_train[sid]
                for sid, t in origins.items()
            )
            for origins in report.origins
        )
        name = report.models[0]
        row.update(
            metrics={"backtest": dict(report.overall[name])},
            baselines={b: {"backtest": dict(report.overall[b])} for b in report.models[1:]},
            checkpoint=result.checkpoint,
            epochs=len(result.history),
            steps=result.history[-1]["step"] if result.history else 0,
            stop_reason=result.stop_reason,
            folds=report.folds,
            in_sample_folds=int(in_sample),
        )

    return _attempt(index, overrides, directory, body)


# -- the result -------------------------------------------------------------------------------------
def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
            return f"{value:.3e}"
        return f"{value:.4g}"
    return str(value)


class SweepResult:
    """The gathered results of a sweep: one row per configuration, in configuration order.

    Each row is a dict: ``index``, ``config_id``, ``config`` (the dotted keys set, plus
    ``series``), ``status`` (``"ok"`` or ``"failed"``), ``error``, ``metrics``
    (``{split: {metric: value}}``), ``baselines``, ``checkpoint``, ``directory``, ``epochs``,
    ``steps``, ``stop_reason``, ``seconds`` (wall time), ``cpu_seconds`` (CPU time of the task's
    thread; far below ``seconds`` when the worker shared its core), ``worker`` and ``pid`` (where
    the task ran).

    Attributes:
        rows: the rows; metric, split: what :attr:`best` ranks by; greater_is_better: its direction.
        output_dir: where the configurations' directories and ``sweep.json`` / ``sweep.csv`` are.
    """

    __slots__ = ("greater_is_better", "metric", "output_dir", "rows", "split")

    def __init__(
        self,
        rows: Sequence[Mapping[str, Any]],
        *,
        metric: str,
        split: str,
        greater_is_better: bool,
        output_dir: str,
    ) -> None:
        self.rows = [dict(r) for r in rows]
        self.metric, self.split = metric, split
        self.greater_is_better = bool(greater_is_better)
        self.output_dir = output_dir

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def score(self, row: Mapping[str, Any]) -> float:
        """The ranking value of a row (NaN for a failed row or a missing value)."""
        try:
            return float(row["metrics"][self.split][self.metric])
        except (KeyError, TypeError, ValueError):
            return math.nan

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The rows whose configuration failed."""
        return [r for r in self.rows if r["status"] != "ok"]

    @property
    def best(self) -> dict[str, Any]:
        """The row with the best score (ties: the first configuration).

        Raises:
            SweepError: no configuration produced a finite score.
        """
        scored = [(self.score(r), r["index"], r) for r in self.rows]
        scored = [t for t in scored if math.isfinite(t[0])]
        if not scored:
            raise SweepError(
                f"no configuration has a finite {self.split} {self.metric}"
                + (f" ({len(self.failed)} failed)" if self.failed else "")
            )
        sign = -1.0 if self.greater_is_better else 1.0
        return min(scored, key=lambda t: (sign * t[0], t[1]))[2]

    def keys(self) -> list[str]:
        """The configuration keys of all rows, in first-seen order."""
        seen: dict[str, None] = {}
        for r in self.rows:
            for k in r["config"]:
                seen.setdefault(k, None)
        return list(seen)

    def check(self) -> None:
        """Raise :class:`SweepError` listing every failed configuration (nothing if none failed)."""
        if self.failed:
            lines = [f"configuration {r['index']} {r['config']}: {r['error']}" for r in self.failed]
            raise SweepError(
                f"{len(self.failed)} of {len(self.rows)} configuration(s) failed: "
                + "; ".join(lines)
            )

    def _metric_names(self) -> list[str]:
        names: dict[str, None] = {}
        for r in self.rows:
            for m in (r.get("metrics") or {}).get(self.split, {}):
                names.setdefault(m, None)
        return list(names)

    def table(self) -> str:
        """A text table: the configuration keys, the ranking split's metrics, the checkpoint; the
        best row marked with ``*``."""
        keys = self.keys()
        metrics = self._metric_names()
        try:
            best = self.best["index"]
        except SweepError:
            best = None
        head = ["", "#", *keys, *[f"{self.split} {m}" for m in metrics], "status", "checkpoint"]
        body = []
        for r in self.rows:
            scores = (r.get("metrics") or {}).get(self.split, {})
            body.append(
                ["*" if r["index"] == best else "", str(r["index"])]
                + [_fmt(r["config"].get(k, "")) for k in keys]
                + [_fmt(scores.get(m, math.nan)) for m in metrics]
                + [r["status"], r.get("checkpoint") or "-"]
            )
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in [head, *body]
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def to_records(self) -> list[dict[str, Any]]:
        """Flat rows: ``index``, ``config_id``, ``status``, each configuration key, ``<split>_<metric>``
        for every split and metric of the model, ``checkpoint``, ``seconds``, ``worker``, ``error``."""
        out = []
        for r in self.rows:
            rec: dict[str, Any] = {
                "index": r["index"],
                "config_id": r["config_id"],
                "status": r["status"],
            }
            for k in self.keys():
                rec[k] = r["config"].get(k)
            for split, scores in (r.get("metrics") or {}).items():
                for m, v in scores.items():
                    rec[f"{split}_{m}"] = v
            rec["checkpoint"] = r.get("checkpoint")
            rec["seconds"] = r.get("seconds")
            rec["cpu_seconds"] = r.get("cpu_seconds")
            rec["worker"] = r.get("worker")
            rec["error"] = r.get("error")
            out.append(rec)
        return out

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_records` as CSV (atomically)."""
        import csv
        import io

        from swets_core.checkpoint import atomic_write

        records = self.to_records()
        columns: dict[str, None] = {}
        for rec in records:
            for k in rec:
                columns.setdefault(k, None)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        for rec in records:
            writer.writerow({k: "" if v is None else v for k, v in rec.items()})
        with atomic_write(path) as fh:
            fh.write(buf.getvalue().encode())

    def to_dict(self) -> dict[str, Any]:
        """Plain data: ``metric``, ``split``, ``greater_is_better``, ``output_dir``, ``rows``, ``best``
        (the best row's index or None)."""
        try:
            best = self.best["index"]
        except SweepError:
            best = None
        return {
            "metric": self.metric,
            "split": self.split,
            "greater_is_better": self.greater_is_better,
            "output_dir": self.output_dir,
            "best": best,
            "rows": self.rows,
        }

    def __repr__(self) -> str:
        try:
            b = self.best
            best = (
                f"best #{b['index']} {b['config']} {self.split} {self.metric}={self.score(b):.4g}"
            )
        except SweepError:
            best = "no best"
        return f"SweepResult({len(self.rows)} configurations, {len(self.failed)} failed, {best})"


# -- running ----------------------------------------------------------------------------------------
def _check_metric(metric: Any, split: Any, splits: Sequence[str], metrics: Sequence[str]) -> bool:
    from swets_core import registry

    if metric not in metrics:
        raise ConfigError(f"metric must be one of {', '.join(metrics)}, got {metric!r}")
    if split not in splits:
        raise ConfigError(f"split must be one of {', '.join(splits)}, got {split!r}")
    return bool(getattr(registry.get("metrics", metric), "greater_is_better", False))


def _positive(value: Any, name: str, minimum: int = 1) -> int:
    if not is_int(value) or value < minimum:
        raise ConfigError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _execute(
    task: Callable[..., dict[str, Any]],
    jobs: Sequence[tuple[dict[str, Any], dict[str, Any], str, int]],
    extra: tuple[Any, ...],
    *,
    client: Any,
    address: str | None,
    n_workers: int,
    retries: int,
    serial: bool,
    progress: bool,
    label: str,
) -> list[dict[str, Any]]:
    """Run ``task(spec, overrides, directory, index, *extra)`` for every job; rows in job order."""
    rows: list[dict[str, Any] | None] = [None] * len(jobs)

    def report(row: dict[str, Any]) -> None:
        if not progress:
            return
        done = sum(r is not None for r in rows)
        state = row["status"] if row["status"] != "ok" else "done"
        print(
            f"[{done}/{len(jobs)}] configuration {row['index']} {row['config']}: {state} "
            f"on {row['worker']} in {row.get('seconds', 0.0):.1f} s",
            file=sys.stderr,
            flush=True,
        )

    if serial:
        for i, (spec, overrides, directory, index) in enumerate(jobs):
            rows[i] = task(spec, overrides, directory, index, *extra)
            report(rows[i])
        return rows  # type: ignore[return-value]

    import uuid

    from distributed import as_completed

    from swets_dask.cluster import check_workers, client_scope

    # one key per configuration and call: readable (index, configuration id) and never shared with
    # the keys of an earlier call, whose cancelled tasks the scheduler may still be forgetting
    token = uuid.uuid4().hex[:12]
    with client_scope(client, address, n_workers=n_workers) as cl:
        check_workers(cl)
        futures = {}
        for i, (spec, overrides, directory, index) in enumerate(jobs):
            fut = cl.submit(
                task,
                spec,
                overrides,
                directory,
                index,
                *extra,
                key=f"swets-{label}-{index:04d}-{config_id(overrides)}-{token}",
                retries=retries,
            )
            futures[fut.key] = (i, fut)
        errors = []
        try:
            for fut in as_completed([f for _, f in futures.values()]):
                i, _ = futures[fut.key]
                spec, overrides, directory, index = jobs[i]
                if fut.status == "finished":
                    rows[i] = fut.result()
                else:
                    exc = fut.exception()
                    errors.append((index, exc))
                    row = _row(index, overrides, directory)
                    row.update(
                        status="failed",
                        error=f"{type(exc).__name__}: {exc}",
                        worker=None,
                        pid=None,
                    )
                    rows[i] = row
                report(rows[i])  # type: ignore[arg-type]
        finally:
            cl.cancel([f for _, f in futures.values()])
    return rows  # type: ignore[return-value]


def _prepare_jobs(
    base_spec: Any,
    overrides: Sequence[dict[str, Any]],
    output_dir: Any,
) -> tuple[str, list[tuple[dict[str, Any], dict[str, Any], str, int]]]:
    if output_dir is None or not isinstance(output_dir, (str, os.PathLike)):
        raise ConfigError(f"output_dir must be a directory path, got {output_dir!r}")
    out = os.path.abspath(os.fspath(output_dir))
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"output_dir: cannot create {out}: {exc}") from exc
    base = normalize_spec(base_spec)
    jobs = []
    for i, c in enumerate(overrides):
        directory = os.path.join(out, f"{i:04d}-{config_id(c)}")
        jobs.append((_job_spec(base, c, directory, i), c, directory, i))
    return out, jobs


def _save_result(result: SweepResult, name: str) -> None:
    try:
        _write_json(os.path.join(result.output_dir, f"{name}.json"), result.to_dict())
        result.to_csv(os.path.join(result.output_dir, f"{name}.csv"))
    except OSError as exc:
        raise ConfigError(f"cannot write the {name} table into {result.output_dir}: {exc}") from exc


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
            ``"validation"`` or ``"test"``); the best is :attr:`SweepResult.best`.
        retries: how often Dask re-runs a task that raised something other than a swets error.
            A worker lost mid-task is handled by the scheduler (``allowed-failures``).
        serial: run the configurations one after the other in this process (no Dask), e.g. as a
            reference or for a handful of tiny jobs.
        progress: print a line per finished configuration to stderr.

    Returns:
        A :class:`SweepResult` (also written to ``output_dir/sweep.json`` and ``sweep.csv``).

    Raises:
        ConfigError: a bad argument, grid or configuration (checked before anything runs).
    """
    from swets_train.jobs import METRICS

    greater = _check_metric(metric, split, ("validation", "test"), METRICS)
    _positive(retries, "retries", 0)
    return _run_configurations(
        run_configuration,
        (),
        base_spec,
        grid,
        dict(configs=configs, n_random=n_random, seed=seed, per_series=per_series),
        output_dir,
        dict(
            client=client,
            address=address,
            n_workers=n_workers,
            retries=retries,
            serial=serial,
            progress=progress,
        ),
        metric=metric,
        split=split,
        greater=greater,
        label="sweep",
    )


def _run_configurations(
    task: Callable[..., dict[str, Any]],
    task_args: tuple[Any, ...],
    base_spec: Any,
    grid: Mapping[str, Sequence[Any]] | None,
    choose: Mapping[str, Any],
    output_dir: str | os.PathLike[str],
    run: Mapping[str, Any],
    *,
    metric: str,
    split: str,
    greater: bool,
    label: str,
) -> SweepResult:
    """The shared body of :func:`sweep` and :func:`backtest_many`: expand the configurations, run
    ``task`` on each (Dask or serial), gather one table and write it as ``<label>.json/.csv``."""
    overrides = configurations(normalize_spec(base_spec), grid, **choose)
    out, jobs = _prepare_jobs(base_spec, overrides, output_dir)
    rows = _execute(task, jobs, task_args, label=label, **run)
    result = SweepResult(
        rows, metric=metric, split=split, greater_is_better=greater, output_dir=out
    )
    _save_result(result, label)
    return result


def backtest_many(
    base_spec: Any,
    grid: Mapping[str, Sequence[Any]] | None = None,
    *,
    configs: Sequence[Mapping[str, Any]] | None = None,
    n_random: int | None = None,
    seed: int = 0,
    per_series: bool = False,
    folds: int = 5,
    stride: int | None = None,
    client: Any = None,
    address: str | None = None,
    n_workers: int = 2,
    output_dir: str | os.PathLike[str],
    metric: str = "mase",
    retries: int = 3,
    serial: bool = False,
    progress: bool = False,
) -> SweepResult:
    """Like :func:`sweep`, then a rolling-origin backtest of each trained model.

    Each task trains its configuration (``run_job``) and backtests the model on the last ``folds``
    origins of its data, ``stride`` rows apart (default: the horizon), next to the naive and
    seasonal-naive baselines (``swets_train.backtest``). Rows hold ``metrics["backtest"]``,
    ``baselines[name]["backtest"]``, ``folds`` and ``in_sample_folds`` (folds starting inside the
    training rows; keep it 0 by giving the job a test part at least ``folds * stride`` rows long).
    The table is also written to ``output_dir/backtest.json`` and ``backtest.csv``.
    """
    from swets_train.jobs import METRICS

    greater = _check_metric(metric, "backtest", ("backtest",), METRICS)
    _positive(retries, "retries", 0)
    _positive(folds, "folds")
    if stride is not None:
        _positive(stride, "stride")
    return _run_configurations(
        run_backtest_configuration,
        (folds, stride),
        base_spec,
        grid,
        dict(configs=configs, n_random=n_random, seed=seed, per_series=per_series),
        output_dir,
        dict(
            client=client,
            address=address,
            n_workers=n_workers,
            retries=retries,
            serial=serial,
            progress=progress,
        ),
        metric=metric,
        split="backtest",
        greater=greater,
        label="backtest",
    )
