"""Training an ensemble the N-BEATS way: every member on its own windows, loss and seed, through the
one training loop, members in parallel where the machine allows.

``fit_ensemble(ensemble, data, steps=...)`` trains each member of a ``swets_models.EnsembleModel``
(registry ``"ensemble"``) by itself (Oreshkin et al., ICLR 2020, section 3 and appendix)::

    for each member i (lookback L_i, loss, seed):
        sampler = PanelSampler(data, lookback=L_i, horizon=H, history_size=L_H,
                               batch_size=B, rng=default_rng(seed), scales=MASE scales)
        Trainer().fit(member, loss, Adam(lr), PanelLoader(sampler), max_steps=steps, seed=seed,
                      clip_grad_norm=1.0, scheduler=StepLR(steps // 3, 0.5) per step)

that is :meth:`swets_train.Trainer.fit`, the one training loop, with the panel sampler as its batch
source; the learning rate halves after each third of the steps and the gradient norm is clipped
at 1, as in the paper's published code. The member's loss is its spec's ``loss`` (a registered loss
name or ``{"name", "config"}``), else ``loss``; a loss that takes a ``scale`` (MASE) gets each
series' seasonal naive error (:func:`series_scales`).

Where members train is a *runner*: ``workers=1`` trains them one after another in this process;
``workers=n`` in ``n`` worker processes (:func:`process_runner`); any function ``runner(task,
tasks, shared)`` that yields ``task(t, shared)`` for every ``t`` (in any order) will do, e.g. the
Dask runner swets-dask registers as the function ``"dask_runner"`` (reached through the registry,
as ``swets train --dask`` reaches the ``dask`` executor). A member task is plain data (the member's
registry name, configuration and initial state dict, its training settings) plus the series,
shipped once per worker; it returns the trained state dict, which is loaded into the ensemble, so
where a member trained does not change its weights: one seed gives one ensemble, bit for bit,
serially, in processes or on Dask.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from swets_core import registry
from swets_core.checks import check_count
from swets_core.errors import ConfigError
from swets_timeseries import PanelLoader, PanelSampler, SeriesCollection, TimeSeries
from swets_train.tables import text_table
from swets_train.trainer import Trainer

__all__ = [
    "EnsembleFit",
    "MemberFit",
    "fit_ensemble",
    "member_task",
    "process_runner",
    "serial_runner",
    "series_scales",
]

Runner = Callable[
    [Callable[[dict[str, Any], Any], dict[str, Any]], Sequence[dict[str, Any]], Any],
    Iterable[dict[str, Any]],
]


class MemberFit:
    """How one member trained.

    Attributes:
        index: the member's position in the ensemble.
        model: its registry name; ``lookback``; ``loss`` (the loss's name); ``seed``.
        steps: optimizer steps done; ``final_loss``: the mean training loss of the last epoch.
        cpu_seconds: CPU time of the process that trained it, during its training (``time.
            process_time``); ``wall_seconds``: wall-clock time.
        where: ``"this process"``, ``"pid <n>"`` or a Dask worker address.
    """

    __slots__ = (
        "cpu_seconds",
        "final_loss",
        "index",
        "lookback",
        "loss",
        "model",
        "seed",
        "steps",
        "wall_seconds",
        "where",
    )

    def __init__(self, **fields: Any) -> None:
        for key in self.__slots__:
            setattr(self, key, fields[key])

    def as_dict(self) -> dict[str, Any]:
        """The fields as plain data."""
        return {k: getattr(self, k) for k in self.__slots__}

    def __repr__(self) -> str:
        return (
            f"MemberFit({self.index}: {self.model} lookback {self.lookback}, {self.loss}, seed "
            f"{self.seed}, {self.steps} steps, loss {self.final_loss:.4g}, "
            f"{self.cpu_seconds:.1f} s CPU)"
        )


@attrs.define(eq=False)
class EnsembleFit:
    """The result of :func:`fit_ensemble`.

    Attributes:
        members: one :class:`MemberFit` per member, in member order.
        cpu_seconds: CPU seconds of the whole call: this process's own CPU time during it plus
            ``cpu_elsewhere``.
        cpu_elsewhere: CPU seconds the members' training took in other processes (worker
            processes, Dask workers; 0 when they trained here).
        wall_seconds: wall-clock seconds of the call.
        workers: how many members trained at once (``1`` serially).
    """

    members: list[MemberFit]
    cpu_seconds: float
    wall_seconds: float
    workers: int
    cpu_elsewhere: float = 0.0

    def table(self) -> str:
        """One row per member: lookback, loss, seed, steps, final loss, CPU and wall seconds."""
        head = [
            "member",
            "model",
            "lookback",
            "loss",
            "seed",
            "steps",
            "final loss",
            "CPU s",
            "wall s",
        ]
        rows = [
            [
                m.index,
                m.model,
                m.lookback,
                m.loss,
                m.seed,
                m.steps,
                m.final_loss,
                m.cpu_seconds,
                m.wall_seconds,
            ]
            for m in self.members
        ]
        return text_table(head, rows, left=2)

    def __repr__(self) -> str:
        return (
            f"EnsembleFit({len(self.members)} members, {self.cpu_seconds / 60:.2f} CPU min, "
            f"{self.wall_seconds / 60:.2f} min wall, workers={self.workers})"
        )


# -- the data ------------------------------------------------------------------------------------
def _series(data: Any) -> tuple[list[str], list[np.ndarray]]:
    """(ids, float64 arrays) of the data ``PanelSampler`` takes, as plain data a worker gets."""
    if isinstance(data, TimeSeries):
        data = SeriesCollection([data])
    if isinstance(data, SeriesCollection):
        if len(data.target) != 1:
            raise ConfigError(
                f"fit_ensemble: the series have {len(data.target)} targets ({', '.join(data.target)});"
                " an ensemble of univariate forecasters trains on one"
            )
        col = data.target[0]
        return list(data.ids), [np.asarray(s.column(col), dtype=np.float64) for s in data]
    if isinstance(data, Mapping):
        return [str(k) for k in data], [np.asarray(v, dtype=np.float64) for v in data.values()]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return [str(i) for i in range(len(data))], [np.asarray(v, dtype=np.float64) for v in data]
    raise ConfigError(
        "fit_ensemble: data must be a SeriesCollection, a TimeSeries, a mapping id -> values or a "
        f"list of 1-D arrays, got {type(data).__name__}"
    )


def series_scales(loss: Any, series: Sequence[np.ndarray]) -> np.ndarray:
    """One MASE scale per series for a loss that takes ``scale=`` (MASE): the loss's own
    ``series_scale`` of each whole series (seasonal naive error with its ``m``), falling back, for a
    series of ``m`` values or fewer or with a zero seasonal error, to the naive (``m = 1``) error,
    then to the mean absolute value, then to 1, so that every series has a positive scale.
    """
    naive = registry.create("losses", loss.name, m=1) if getattr(loss, "m", 1) != 1 else loss
    out = np.empty(len(series), dtype=np.float64)
    for i, values in enumerate(series):
        scale = 0.0
        for source in (loss, naive):
            if values.shape[0] > getattr(source, "m", 1):
                scale = float(source.series_scale(values))
                if np.isfinite(scale) and scale > 0:
                    break
        if not (np.isfinite(scale) and scale > 0):
            scale = float(np.mean(np.abs(values)))
        out[i] = scale if np.isfinite(scale) and scale > 0 else 1.0
    return out


# -- one member ----------------------------------------------------------------------------------
def _loss_object(spec: Any, season_length: int) -> Any:
    if isinstance(spec, str):
        name, cfg = spec, {}
    else:
        name, cfg = spec["name"], dict(spec.get("config", {}))
    if name == "mase":
        cfg.setdefault("m", season_length)
    elif name == "mape":
        cfg.setdefault("zero_targets", "skip")
    elif name == "smape":
        cfg.setdefault("mean_over", "all")
    return registry.create("losses", name, **cfg)


def _loss_label(spec: Any) -> str:
    return spec if isinstance(spec, str) else str(spec["name"])


class _MemberProgress:
    """One line per epoch on stderr: ``member 3/18 (nbeats, lookback 54, mase, seed 0): step
    200/600, loss 0.1234``."""

    order = 100

    def __init__(self, label: str, steps: int) -> None:
        self.label, self.steps = label, steps

    def on_epoch_end(self, trainer: Any, epoch: int, logs: Mapping[str, Any]) -> None:
        print(
            f"{self.label}: step {trainer.global_step}/{self.steps}, loss {logs['loss']:.4g}",
            file=sys.stderr,
            flush=True,
        )


def _train(member: Any, task: Mapping[str, Any], series: Sequence[np.ndarray]) -> dict[str, Any]:
    """Train ``member`` as ``task`` says (through :meth:`Trainer.fit`); its result row."""
    o = task["options"]
    loss = _loss_object(task["loss"], o["season_length"])
    scales = None
    if "scale" in getattr(loss, "call_keys", ()):
        scales = series_scales(loss, series)
    seed = task["seed"]
    sampler = PanelSampler(
        list(series),
        lookback=int(task["lookback"]),
        horizon=int(o["horizon"]),
        rng=np.random.default_rng(seed),
        history_size=o["history_size"],
        batch_size=o["batch_size"],
        dtype=o["dtype"],
        scales=scales,
    )
    loader = PanelLoader(sampler, steps_per_epoch=min(o["steps_per_epoch"], o["steps"]))
    optimizer = registry.create("optimizers", "adam", member.parameters(), lr=o["lr"])
    scheduler = None
    if o["lr_decay_steps"]:
        scheduler = registry.create(
            "schedulers", "step_lr", optimizer, step_size=o["lr_decay_steps"], gamma=0.5
        )
    callbacks = [_MemberProgress(task["label"], o["steps"])] if o["progress"] else []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    history = Trainer().fit(
        member,
        loss,
        optimizer,
        loader,
        max_steps=o["steps"],
        scheduler=scheduler,
        scheduler_interval="step",
        clip_grad_norm=o["clip_grad_norm"],
        metrics=(),
        callbacks=callbacks,
        seed=seed,
        progress=False,
    )
    records = history.records
    return {
        "index": task["index"],
        "steps": int(records[-1]["step"]) if records else 0,
        "final_loss": float(records[-1]["loss"]) if records else float("nan"),
        "cpu_seconds": time.process_time() - cpu0,
        "wall_seconds": time.perf_counter() - wall0,
    }


def member_task(task: dict[str, Any], shared: Any) -> dict[str, Any]:
    """Train one member in any process: rebuild it from its registry name, configuration and
    initial state dict, train it (:func:`fit_ensemble`'s settings in ``task["options"]``) on
    ``shared["series"]``, and return its row with the trained ``state`` (plain arrays)."""
    member = registry.create("models", task["model"], **task["config"])
    member.load_state_dict(task["state"])
    row = _train(member, task, shared["series"])
    row["state"] = member.state_dict()
    row["where"] = task.get("where") or f"pid {os.getpid()}"
    return row


# -- runners -------------------------------------------------------------------------------------
def serial_runner(
    task: Callable[[dict[str, Any], Any], dict[str, Any]],
    tasks: Sequence[dict[str, Any]],
    shared: Any,
) -> Iterator[dict[str, Any]]:
    """Run the tasks one after another in this process."""
    for t in tasks:
        yield task(t, shared)


_WORKER_SHARED: Any = None


def _set_shared(shared: Any) -> None:
    global _WORKER_SHARED
    _WORKER_SHARED = shared


def _call_shared(
    task: Callable[[dict[str, Any], Any], dict[str, Any]], t: dict[str, Any]
) -> dict[str, Any]:
    return task(t, _WORKER_SHARED)


def process_runner(workers: int) -> Runner:
    """A runner with ``workers`` worker processes (started with ``spawn``, so nothing but the
    shared data and the tasks is inherited; each worker loads the plugins itself). The shared data
    goes to each worker once; results come back as members finish. Set ``OPENBLAS_NUM_THREADS``
    (or the other BLAS libraries' variables) so that ``workers`` times the threads per worker
    does not exceed the cores: the workers inherit the environment."""
    check_count(workers, "workers", where="process_runner")

    def run(
        task: Callable[[dict[str, Any], Any], dict[str, Any]],
        tasks: Sequence[dict[str, Any]],
        shared: Any,
    ) -> Iterator[dict[str, Any]]:
        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(
            max_workers=min(workers, max(len(tasks), 1)),
            mp_context=ctx,
            initializer=_set_shared,
            initargs=(shared,),
        ) as pool:
            futures = [pool.submit(_call_shared, task, t) for t in tasks]
            try:
                for fut in concurrent.futures.as_completed(futures):
                    yield fut.result()
            finally:
                for fut in futures:
                    fut.cancel()

    return run


# -- the ensemble --------------------------------------------------------------------------------
def _positive(value: Any, name: str, minimum: int = 1) -> int:
    return check_count(value, name, minimum, where="fit_ensemble")


def fit_ensemble(
    ensemble: Any,
    data: Any,
    *,
    steps: int,
    batch_size: int = 1024,
    history_size: float | None = None,
    lr: float = 1e-3,
    lr_decay: bool = True,
    clip_grad_norm: float | None = 1.0,
    loss: Any = "smape",
    season_length: int = 1,
    steps_per_epoch: int = 100,
    seed: int = 0,
    workers: int = 1,
    runner: Runner | None = None,
    progress: bool = True,
    on_member: Callable[[MemberFit, int, int], None] | None = None,
) -> EnsembleFit:
    """Train every member of ``ensemble`` on ``data`` by itself, with the N-BEATS protocol (see the
    module docstring), and load the trained weights into ``ensemble``.

    Args:
        ensemble: a ``swets_models.EnsembleModel`` (any model with ``members`` and
            ``member_specs()``).
        data: the training series: a ``SeriesCollection`` (one target), a ``TimeSeries``, a
            mapping id -> 1-D values or a list of 1-D arrays.
        steps: optimizer steps per member.
        batch_size: windows per step (the paper: 1024).
        history_size: the paper's ``L_H``: cuts among the last ``L_H * horizon`` points of each
            series (None: anywhere).
        lr: Adam's learning rate; with ``lr_decay`` it halves after each third of the steps.
        clip_grad_norm: the global gradient norm bound (None: no clipping).
        loss: the training loss of members whose spec names none (a registered name, or
            ``{"name", "config"}``). As in the paper's code, unless the loss's config says
            otherwise: ``"mase"`` gets ``m = season_length``, ``"mape"`` ``zero_targets="skip"``
            (zeros in a history are no targets) and ``"smape"`` ``mean_over="all"`` (padded
            targets count 0 in the mean, the competition's sMAPE).
        season_length: the seasonal period of the MASE loss's scales.
        steps_per_epoch: batches per epoch of the members' loaders (the training history has one
            record per epoch; progress prints one line per epoch).
        seed: the seed of members whose spec has none: member ``i`` gets ``seed + i``.
        workers: members trained at once in worker processes (1: one after another here).
        runner: where the members train instead (see the module docstring); overrides
            ``workers``.
        progress: print one line per member epoch and per finished member on stderr.
        on_member: called as ``on_member(member_fit, done, total)`` when a member finishes.

    Returns:
        An :class:`EnsembleFit` (per-member steps, final loss, CPU and wall seconds).

    Raises:
        ConfigError: an argument out of range, or an ensemble without members.
    """
    members = getattr(ensemble, "members", None)
    if not members or not callable(getattr(ensemble, "member_specs", None)):
        raise ConfigError(
            f"fit_ensemble: expected an ensemble model (registry 'ensemble'), got "
            f"{type(ensemble).__name__}"
        )
    steps = _positive(steps, "steps")
    batch_size = _positive(batch_size, "batch_size")
    steps_per_epoch = _positive(steps_per_epoch, "steps_per_epoch")
    season_length = _positive(season_length, "season_length")
    seed = _positive(seed, "seed", 0)
    workers = _positive(workers, "workers")
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not lr > 0:
        raise ConfigError(f"fit_ensemble: lr must be a number > 0, got {lr!r}")
    cpu0, wall0 = time.process_time(), time.perf_counter()
    ids, series = _series(data)
    specs = ensemble.member_specs()
    options = {
        "horizon": int(ensemble.horizon),
        "steps": steps,
        "batch_size": batch_size,
        "history_size": history_size,
        "lr": float(lr),
        "lr_decay_steps": max(steps // 3, 1) if lr_decay else 0,
        "clip_grad_norm": clip_grad_norm,
        "season_length": season_length,
        "steps_per_epoch": steps_per_epoch,
        "dtype": ensemble.dtype,
        "progress": bool(progress),
    }
    total = len(specs)
    tasks = []
    for i, (spec, member) in enumerate(zip(specs, members)):
        member_loss = spec["loss"] if spec["loss"] is not None else loss
        member_seed = spec["seed"] if spec["seed"] is not None else seed + i
        _loss_object(member_loss, season_length)  # a bad loss fails here, before any training
        lookback = int(member.lookback)
        tasks.append(
            {
                "index": i,
                "model": spec["model"],
                "config": spec["config"],
                "state": member.state_dict(),
                "loss": member_loss,
                "seed": int(member_seed),
                "lookback": lookback,
                "label": (
                    f"member {i + 1}/{total} ({spec['model']}, lookback {lookback}, "
                    f"{_loss_label(member_loss)}, seed {member_seed})"
                ),
                "options": options,
            }
        )
    if runner is None:
        runner = serial_runner if workers == 1 else process_runner(workers)
    results: list[MemberFit | None] = [None] * total
    member_cpu = 0.0
    local = runner is serial_runner
    for row in runner(
        member_task if not local else _local_task(members), tasks, {"series": series, "ids": ids}
    ):
        i = int(row["index"])
        if "state" in row:
            members[i].load_state_dict(row["state"])
        t = tasks[i]
        fit_row = MemberFit(
            index=i,
            model=t["model"],
            lookback=t["lookback"],
            loss=_loss_label(t["loss"]),
            seed=t["seed"],
            steps=row["steps"],
            final_loss=row["final_loss"],
            cpu_seconds=row["cpu_seconds"],
            wall_seconds=row["wall_seconds"],
            where=row.get("where", "this process"),
        )
        if not local:
            member_cpu += fit_row.cpu_seconds
        results[i] = fit_row
        done = sum(r is not None for r in results)
        if progress:
            print(
                f"[{done}/{total}] {t['label']}: {fit_row.steps} steps, loss "
                f"{fit_row.final_loss:.4g}, {fit_row.cpu_seconds:.1f} s CPU ({fit_row.where})",
                file=sys.stderr,
                flush=True,
            )
        if on_member is not None:
            on_member(fit_row, done, total)
    cpu = time.process_time() - cpu0 + member_cpu
    return EnsembleFit(
        [r for r in results if r is not None],
        cpu,
        time.perf_counter() - wall0,
        1 if local else workers,
        member_cpu,
    )


def _local_task(members: Sequence[Any]) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The serial task: train the ensemble's own member object in place (no copy)."""

    def task(t: dict[str, Any], shared: Any) -> dict[str, Any]:
        row = _train(members[t["index"]], t, shared["series"])
        row["where"] = "this process"
        return row

    return task
