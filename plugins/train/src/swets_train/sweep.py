"""Many jobs at once: the configurations of a sweep, their tasks, and the table of their results.

A configuration is a mapping of dotted keys (``"model.layer_width"``, ``"training.lr"``, see
:func:`swets_train.jobs.set_dotted`) applied to a base job, plus optionally ``"series"`` to train on
one series of the data only. :func:`configurations` expands a grid (:func:`expand_grid`), a random
draw from it (:func:`sample_grid`) or an explicit list; :func:`plan` gives each configuration its job
and its own directory ``<output_dir>/<index>-<config id>/`` (:func:`config_id`, stable on every
machine). A task (:func:`run_configuration`, :func:`run_backtest_configuration`) trains one
configuration and writes its checkpoint (``model.swets``) and its row (``result.json``), both
atomically; a swets error is the row's ``failed`` status, not an exception. :class:`SweepResult`
gathers the rows and ranks them.

Where the tasks run is not decided here: ``swets_dask.sweep`` runs them in this process or as Dask
tasks.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from swets_core.errors import ConfigError, SwetsError
from swets_train.tables import text_table

__all__ = [
    "SERIES_KEY",
    "SweepError",
    "SweepResult",
    "check_metric",
    "config_id",
    "configurations",
    "expand_grid",
    "failed_row",
    "grid_size",
    "plan",
    "run_backtest_configuration",
    "run_configuration",
    "sample_grid",
]

SERIES_KEY = "series"
"""The configuration key selecting one series of the data (one model per series)."""

CHECKPOINT_NAME = "model.swets"
RESULT_NAME = "result.json"
_TEMP_SUFFIX = ".swets-tmp"
HERE = "<this process>"


class SweepError(SwetsError):
    """A sweep configuration failed (or none produced a score)."""


# -- grids ------------------------------------------------------------------------------------------
def _check_grid(grid: Mapping[str, Sequence[Any]]) -> list[tuple[str, list[Any]]]:
    from swets_train.jobs.spec import _split_key

    if not isinstance(grid, Mapping):
        raise ConfigError(
            f"a grid must map dotted keys to lists of values, got {type(grid).__name__}"
        )
    items = []
    for key, values in grid.items():
        _split_key(key)
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise ConfigError(
                f"grid[{key!r}] must be a list of values, got {type(values).__name__}"
            )
        if len(values) == 0:
            raise ConfigError(f"grid[{key!r}] is empty; give at least one value")
        items.append((key, list(values)))
    if not items:
        raise ConfigError("the grid has no key")
    return items


def grid_size(grid: Mapping[str, Sequence[Any]]) -> int:
    """Number of configurations in the cartesian product of ``grid``."""
    return math.prod(len(v) for _, v in _check_grid(grid))


def _decode(items: list[tuple[str, list[Any]]], index: int) -> dict[str, Any]:
    """The ``index``-th configuration of the product (the last key varies fastest)."""
    out: dict[str, Any] = {}
    for key, values in reversed(items):
        index, r = divmod(index, len(values))
        out[key] = values[r]
    return {key: out[key] for key, _ in items}


def expand_grid(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every configuration of the cartesian product, in ``itertools.product`` order.

    ``{"a": [1, 2], "b": [3, 4]}`` gives ``[{a: 1, b: 3}, {a: 1, b: 4}, {a: 2, b: 3}, {a: 2, b: 4}]``.
    """
    items = _check_grid(grid)
    return [_decode(items, i) for i in range(math.prod(len(v) for _, v in items))]


def sample_grid(grid: Mapping[str, Sequence[Any]], n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` distinct configurations drawn uniformly from the grid's product (random search).

    The draw depends only on ``grid`` and ``seed``; the configurations come in product order.

    Raises:
        ConfigError: ``n`` is not a positive int or exceeds the number of configurations.
    """
    items = _check_grid(grid)
    total = math.prod(len(v) for _, v in items)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"n_random must be an int >= 1, got {n!r}")
    if n > total:
        raise ConfigError(
            f"n_random={n} exceeds the {total} distinct configurations of the grid; "
            "run the whole grid instead"
        )
    if total > 2**62:
        raise ConfigError(f"the grid has {total} configurations, too many to draw from")
    rng = np.random.default_rng(seed)
    picks = np.sort(rng.choice(total, size=n, replace=False))
    return [_decode(items, int(i)) for i in picks]


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ConfigError(
        f"configuration values must be plain data (numbers, strings, bools, None, lists, dicts), "
        f"got {type(value).__name__}"
    )


def config_id(overrides: Mapping[str, Any]) -> str:
    """A stable 10-hex-digit id of a configuration (the same on every machine and run)."""
    text = json.dumps(_canonical(dict(overrides)), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:10]


# -- configurations -------------------------------------------------------------------------------
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
    from swets_train.jobs.spec import as_spec

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
        from swets_train.jobs import load_series

        coll, _ = load_series(as_spec(base_spec))
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
    from swets_train.jobs.spec import apply_overrides, as_spec

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
        return as_spec(spec).to_dict()
    except ConfigError as exc:
        raise ConfigError(f"configuration {index} {dict(overrides)}: {exc}") from None


Job = tuple[dict[str, Any], dict[str, Any], str, int]
"""One configuration's task arguments: ``(spec, overrides, directory, index)``."""


def plan(
    base_spec: Any,
    overrides: Sequence[dict[str, Any]],
    output_dir: Any,
    *,
    tables: Sequence[str] = ("sweep",),
    force: bool = False,
) -> tuple[str, list[Job]]:
    """The absolute ``output_dir`` (created) and each configuration's ``(spec, overrides,
    directory, index)``: its validated job, outputs redirected into its own directory.

    Every file the sweep will write is checked first (:func:`swets_train.outputs.check_outputs`):
    the ``<table>.json`` and ``<table>.csv`` of each of ``tables`` and each configuration's
    checkpoint, ``result.json``, forecast CSV and plot. None may be the data, a directory, or a
    file swets did not write (unless ``force``), and the directory must take new files.

    Raises:
        ConfigError: a bad ``output_dir``, a configuration that is not a valid job (naming it), or
            an output file that may not be written.
    """
    from swets_train.jobs import job_outputs
    from swets_train.jobs.spec import as_spec
    from swets_train.outputs import Output, check_outputs

    if output_dir is None or not isinstance(output_dir, (str, os.PathLike)):
        raise ConfigError(f"output_dir must be a directory path, got {output_dir!r}")
    out = os.path.abspath(os.fspath(output_dir))
    if os.path.lexists(out) and not os.path.isdir(out):
        raise ConfigError(f"output_dir: {out} exists and is not a directory")
    base = as_spec(base_spec).to_dict()
    jobs = []
    files = []
    for name in tables:
        files.append(Output(os.path.join(out, f"{name}.json"), "json", "output_dir"))
        files.append(Output(os.path.join(out, f"{name}.csv"), "table_csv", "output_dir"))
    inputs: list[tuple[str, str]] = []
    for i, c in enumerate(overrides):
        directory = os.path.join(out, f"{i:04d}-{config_id(c)}")
        spec = _job_spec(base, c, directory, i)
        jobs.append((spec, c, directory, i))
        files.extend(job_outputs(as_spec(spec)))
        files.append(Output(os.path.join(directory, RESULT_NAME), "json", "output_dir"))
        path = spec["data"].get("path")
        if path:
            inputs.append((path, "the data of a configuration"))
    check_outputs(files, force=force, inputs=sorted(set(inputs)))
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"output_dir: cannot create {out}: {exc}") from exc
    return out, jobs


def save_result(result: SweepResult, name: str) -> None:
    """Write ``result`` as ``<name>.json`` and ``<name>.csv`` in its output directory (atomically)."""
    try:
        _write_json(os.path.join(result.output_dir, f"{name}.json"), result.to_dict())
        result.to_csv(os.path.join(result.output_dir, f"{name}.csv"))
    except OSError as exc:
        raise ConfigError(f"cannot write the {name} table into {result.output_dir}: {exc}") from exc


# -- the tasks --------------------------------------------------------------------------------------
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
    from swets_train.jobs.spec import as_spec

    if series is None:
        return None
    from swets_train.jobs import load_series

    coll, _ = load_series(as_spec(spec))
    if series not in coll.ids:
        raise ConfigError(
            f"series {series!r} is not in the data (series: {', '.join(coll.ids[:10])}"
            + (" ..." if len(coll.ids) > 10 else "")
            + ")"
        )
    return coll[series]


def failed_row(
    index: int, overrides: Mapping[str, Any], directory: str, error: BaseException
) -> dict[str, Any]:
    """The row of a configuration whose task did not return (it raised on every attempt)."""
    row = _row(index, overrides, directory, None)
    row.update(status="failed", error=f"{type(error).__name__}: {error}", pid=None)
    return row


def _row(
    index: int, overrides: Mapping[str, Any], directory: str, where: str | None
) -> dict[str, Any]:
    return {
        "index": index,
        "config_id": config_id(overrides),
        "config": dict(overrides),
        "directory": directory,
        "status": "ok",
        "error": None,
        "worker": where,
        "pid": os.getpid(),
    }


def _attempt(
    index: int,
    overrides: Mapping[str, Any],
    directory: str,
    where: str,
    body: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    os.makedirs(directory, exist_ok=True)
    _clean_temporaries(directory)
    row = _row(index, overrides, directory, where)
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


def _trained(row: dict[str, Any], result: Any) -> None:
    row.update(
        checkpoint=result.checkpoint,
        epochs=result.epochs,
        steps=result.steps,
        stop_reason=result.stop_reason,
    )


def run_configuration(
    spec: Mapping[str, Any],
    overrides: Mapping[str, Any],
    directory: str,
    index: int,
    *,
    where: str = HERE,
) -> dict[str, Any]:
    """Train, evaluate and save one configuration (``run_job``): the task of a sweep.

    Returns the row (plain data), also written atomically to ``<directory>/result.json``;
    ``where`` names the process it runs in (the row's ``worker``).
    """

    def body(row: dict[str, Any]) -> None:
        from swets_train.jobs import run_job

        data = _load_data(spec, overrides.get(SERIES_KEY))
        result = run_job(spec, write=True, data=data, force=True)  # plan() checked the outputs
        row.update(metrics=result.metrics, baselines=result.baselines)
        _trained(row, result)

    return _attempt(index, overrides, directory, where, body)


def run_backtest_configuration(
    spec: Mapping[str, Any],
    overrides: Mapping[str, Any],
    directory: str,
    index: int,
    folds: int,
    stride: int | None,
    *,
    where: str = HERE,
) -> dict[str, Any]:
    """Train one configuration (as :func:`run_configuration`) and backtest the trained model on the
    last ``folds`` origins of its data (``swets_train.jobs.backtest_job``): the task of a sweep of
    backtests.

    The row's ``metrics`` are ``{"backtest": {metric: value}}`` pooled over the folds; its
    ``baselines`` the same for the naive and seasonal-naive forecasts; ``in_sample_folds`` counts
    the folds whose origin falls inside the training rows (0 for an honest backtest: grow
    ``data.test`` or lower ``folds`` / ``stride`` otherwise).
    """

    def body(row: dict[str, Any]) -> None:
        from swets_train.jobs import backtest_job

        data = _load_data(spec, overrides.get(SERIES_KEY))
        bt = backtest_job(spec, folds, stride, data=data, write=True, force=True)  # see plan()
        overall, (name, *baselines) = bt.report.overall, bt.report.models
        row.update(
            metrics={"backtest": dict(overall[name])},
            baselines={b: {"backtest": dict(overall[b])} for b in baselines},
            folds=bt.report.folds,
            in_sample_folds=bt.in_sample_folds,
        )
        _trained(row, bt.result)

    return _attempt(index, overrides, directory, where, body)


# -- the result -------------------------------------------------------------------------------------
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
                + [r["config"].get(k, "") for k in keys]
                + [scores.get(m, math.nan) for m in metrics]
                + [r["status"], r.get("checkpoint") or "-"]
            )
        return text_table(head, body, left=len(head))

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


def check_metric(metric: Any, split: Any, splits: Sequence[str]) -> bool:
    """Check the ranking ``metric`` (one of a job's) and ``split`` (one of ``splits``); True when
    greater values of the metric are better.

    Raises:
        ConfigError: an unknown metric or split.
    """
    from swets_core import registry
    from swets_train.jobs import METRICS

    if metric not in METRICS:
        raise ConfigError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    if split not in splits:
        raise ConfigError(f"split must be one of {', '.join(splits)}, got {split!r}")
    return bool(getattr(registry.get("metrics", metric), "greater_is_better", False))
