"""Data-parallel training of one model on Dask actors, and the same algorithm in one process.

The algorithm (synchronous data parallelism with a driver):

1. Every replica builds the whole job from the same specification (:func:`swets_train.jobs.prepare`):
   same seed, so the same initial parameters (checked bitwise through a digest of the state dict).
2. The driver iterates its own copy of the seeded training loader, exactly as ``fit`` would, and
   takes each global batch's window indices (``batch.index``).
3. The indices are split into one contiguous shard per replica (``numpy.array_split``); replica
   ``k`` gathers its windows from its own copy of the data and returns the gradient of the *mean*
   loss over its ``n_k`` windows.
4. The driver averages the gradients weighted by shard size, ``g = sum_k n_k g_k / B``, which is
   the gradient of the mean loss over the whole global batch of ``B`` windows.
5. Every replica applies the same ``g`` (after the same optional clipping) with its own copy of the
   optimizer and scheduler, so all parameters stay identical; the driver checks the digests of
   every replica after every update (``check_every``).

Only indices travel to the replicas and only gradients travel back and forth: one round trip per
step (the update of step ``t`` rides with the shard of step ``t + 1``).

:func:`train_single_process` runs the same loop with one in-process replica that takes the whole
global batch; it is bitwise ``swets_train.fit`` on the same job (no clipping), which is how the
data-parallel result is compared with ordinary training.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from swets_core import GradientTape, Tensor
from swets_core.errors import (
    ConfigError,
    DataValidationError,
    NonFiniteError,
    ShapeError,
    SwetsError,
)
from swets_dask._jobs import Setup, build_setup, normalize_spec
from swets_dask.errors import ReplicaError

__all__ = [
    "DataParallelResult",
    "Replica",
    "state_digest",
    "train_data_parallel",
    "train_single_process",
]


def state_digest(model: Any) -> str:
    """A digest of a model's state dict (names, dtypes, shapes and bytes, sorted by name).

    Equal digests mean bitwise-equal parameters and buffers.
    """
    try:
        state = model.state_dict(copy=False)
    except TypeError:
        state = model.state_dict()
    # an equality check, not a security feature: SHA-1 is the fastest of hashlib's (SHA extensions)
    h = hashlib.sha1(usedforsecurity=False)
    for name in sorted(state):
        arr = np.ascontiguousarray(np.asarray(state[name]))
        h.update(f"{name}|{arr.dtype.str}|{arr.shape}|".encode())
        h.update(arr.data if arr.size else b"")
    return h.hexdigest()


def _seed_replica(model: Any, seed: int | None, rank: int, world: int) -> None:
    """Seed the model's own generators (dropout): as ``fit(seed=)`` for a single replica; with
    several replicas each rank gets an independent stream, so shards do not share dropout masks."""
    if seed is None:
        return
    from swets_train.trainer import model_generators, seed_model

    if world == 1:
        seed_model(model, seed)
        return
    gens = model_generators(model)
    children = np.random.SeedSequence([seed, rank]).spawn(len(gens))
    for (_, _, _, gen), child in zip(gens, children):
        gen.bit_generator.state = type(gen.bit_generator)(child).state


class Replica:
    """One copy of the model, its optimizer, scheduler and data: a Dask actor or an in-process object.

    Args:
        spec: the job specification (plain data) every replica builds identically; or, in
            process, an already built :class:`~swets_dask._jobs.Setup`.
        rank, world: this replica's index and the number of replicas.
    """

    def __init__(self, spec: Any, rank: int = 0, world: int = 1) -> None:
        setup = spec if isinstance(spec, Setup) else build_setup(spec)
        self.setup = setup
        self.rank, self.world = int(rank), int(world)
        self.model = setup.model
        self.params = dict(self.model.named_parameters())
        self.ids = {name: p.id for name, p in self.params.items()}
        self.dataset = setup.train.dataset
        self.np_dtype = np.dtype(setup.train.dtype.numpy)
        _seed_replica(self.model, setup.seed, self.rank, self.world)
        self.model.train()

    # -- queries ----------------------------------------------------------------------------------
    def digest(self) -> str:
        """:func:`state_digest` of this replica's model."""
        return state_digest(self.model)

    def info(self) -> dict[str, Any]:
        """Digest, window count, parameter count and process id (checked by the driver at start)."""
        return {
            "digest": self.digest(),
            "windows": len(self.dataset),
            "parameters": int(sum(p.size for p in self.params.values())),
            "pid": os.getpid(),
        }

    def lr(self) -> float:
        """The first parameter group's learning rate (NaN when the optimizer has no groups)."""
        groups = getattr(self.setup.optimizer, "param_groups", None)
        if groups:
            return float(groups[0]["lr"])
        if self.setup.scheduler is not None:
            return float(self.setup.scheduler.get_last_lr()[0])
        return math.nan

    # -- the step ---------------------------------------------------------------------------------
    def _apply(self, update: Mapping[str, np.ndarray]) -> None:
        unknown = sorted(set(update) - set(self.ids))
        if unknown:
            raise ReplicaError(
                f"replica {self.rank}: the update names unknown parameters {', '.join(unknown)}"
            )
        grads = {self.ids[name]: Tensor(np.asarray(arr)) for name, arr in update.items()}
        setup = self.setup
        if setup.clip_grad_norm is not None:
            from swets_optim import clip_grad_norm

            grads, _ = clip_grad_norm(grads, setup.clip_grad_norm)
        setup.optimizer.step(None, grads)
        if setup.scheduler is not None and setup.scheduler_interval == "step":
            setup.scheduler.step()

    def _gradients(self, shard: np.ndarray) -> tuple[float, int, dict[str, np.ndarray]]:
        idx = np.asarray(shard, dtype=np.int64)
        x, y, xf = self.dataset.gather(idx)
        if xf is not None:
            raise DataValidationError(
                "the windows have known-future covariates (x_future) but the models read x_past "
                "only; build the data without known covariates"
            )
        dt = self.np_dtype
        x = x.astype(dt, copy=False)
        y = y.astype(dt, copy=False)
        with GradientTape() as tape:
            pred = self.model(Tensor(x))
            loss = self.setup.loss(pred, Tensor(y))
        if not isinstance(loss, Tensor) or loss.size != 1:
            shape = getattr(loss, "shape", type(loss).__name__)
            raise ShapeError(
                f"data-parallel training: the loss must return a scalar Tensor, got {shape}; "
                "use reduction='mean'"
            )
        grads = tape.backward(loss)
        out = {name: grads[pid]._data for name, pid in self.ids.items() if pid in grads}
        return float(loss._data), int(idx.shape[0]), out

    def step(
        self,
        update: Mapping[str, np.ndarray] | None,
        shard: np.ndarray | None,
        want_digest: bool = False,
    ) -> tuple[str | None, tuple[float, int, dict[str, np.ndarray]] | None]:
        """Apply ``update`` (the averaged gradient of the previous step), then compute the gradient
        of the mean loss over the windows ``shard``.

        Returns:
            ``(digest, result)``: the parameter digest after the update (None unless
            ``want_digest``), and ``(loss, n_windows, {parameter name: gradient array})`` or None
            without a shard.
        """
        if update is not None:
            self._apply(update)
        digest = self.digest() if want_digest else None
        if shard is None or len(shard) == 0:
            return digest, None
        return digest, self._gradients(shard)

    # -- epoch ends -------------------------------------------------------------------------------
    def report(self) -> dict[str, float]:
        """The epoch log entries this replica provides: ``lr`` and, with validation data,
        ``val_loss`` and ``val_<metric>`` (as ``fit``'s History records)."""
        from swets_train import validate

        setup = self.setup
        out = {"lr": self.lr()}
        if setup.val is not None:
            out.update(
                validate(setup.model, setup.loss, setup.val, setup.metrics, setup.metric_context)
            )
            self.model.train()
        return out

    def end_epoch(self, monitor_value: float | None) -> None:
        """Step an epoch-interval scheduler (a plateau scheduler with ``monitor_value``)."""
        sched = self.setup.scheduler
        if sched is None or self.setup.scheduler_interval != "epoch":
            return
        if self.setup.plateau:
            sched.step(monitor_value)
        else:
            sched.step()

    def model_state(self) -> dict[str, np.ndarray]:
        """A copy of the model's state dict."""
        return self.model.state_dict()

    def state(self) -> dict[str, Any]:
        """Model, optimizer and scheduler states and the model's generator states (plain data)."""
        from swets_core import checkpoint as ckpt
        from swets_train.trainer import model_generators

        setup = self.setup
        return {
            "model": self.model.state_dict(),
            "optimizer": setup.optimizer.state_dict(),
            "scheduler": None if setup.scheduler is None else setup.scheduler.state_dict(),
            "rng": {
                name: ckpt.generator_state(g) for name, _, _, g in model_generators(self.model)
            },
        }


# -- replica groups ---------------------------------------------------------------------------------
class _LocalGroup:
    """One in-process replica."""

    def __init__(self, setup: Setup) -> None:
        self.replicas = [Replica(setup, 0, 1)]
        self.workers = ["<this process>"]
        self.size = 1

    def __len__(self) -> int:
        return self.size

    def call(self, method: str, args: Sequence[tuple[Any, ...]], what: str) -> list[Any]:
        return [getattr(r, method)(*a) for r, a in zip(self.replicas, args)]

    def call_one(self, rank: int, method: str, args: tuple[Any, ...], what: str) -> Any:
        return getattr(self.replicas[rank], method)(*args)

    def close(self) -> None:
        self.replicas = []


class _DaskGroup:
    """Replicas as Dask actors, one per worker (round robin when there are more replicas).

    Each actor is placed on its worker by preference, not by restriction, so that a worker lost
    while the replicas are being built does not leave its actor waiting for an address that no
    longer exists; ``workers`` holds where each actor actually lives.
    """

    def __init__(self, client: Any, spec: dict[str, Any], n: int) -> None:
        from swets_dask.cluster import check_workers

        workers = check_workers(client)
        self.client = client
        self.size = n
        self.workers = [workers[r % len(workers)] for r in range(n)]
        self._futures = [
            client.submit(
                Replica,
                spec,
                r,
                n,
                actor=True,
                workers=[self.workers[r]],
                allow_other_workers=True,
                pure=False,
            )
            for r in range(n)
        ]
        try:
            self.replicas = [
                self._result(f, r, "building the replica") for r, f in enumerate(self._futures)
            ]
        except BaseException:
            self.close()
            raise
        self.workers = [getattr(a, "_address", w) for a, w in zip(self.replicas, self.workers)]

    def __len__(self) -> int:
        return self.size

    def _result(self, fut: Any, rank: int, what: str) -> Any:
        try:
            return fut.result()
        except SwetsError:
            raise
        except Exception as exc:
            raise ReplicaError(
                f"replica {rank} on worker {self.workers[rank]} failed while {what}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def call(self, method: str, args: Sequence[tuple[Any, ...]], what: str) -> list[Any]:
        pending = []
        for rank, (actor, a) in enumerate(zip(self.replicas, args)):
            try:
                pending.append(getattr(actor, method)(*a))
            except Exception as exc:
                raise ReplicaError(
                    f"replica {rank} on worker {self.workers[rank]} cannot be reached while "
                    f"{what}: {type(exc).__name__}: {exc}"
                ) from exc
        return [self._result(p, rank, what) for rank, p in enumerate(pending)]

    def call_one(self, rank: int, method: str, args: tuple[Any, ...], what: str) -> Any:
        try:
            fut = getattr(self.replicas[rank], method)(*args)
        except Exception as exc:
            raise ReplicaError(
                f"replica {rank} on worker {self.workers[rank]} cannot be reached while "
                f"{what}: {type(exc).__name__}: {exc}"
            ) from exc
        return self._result(fut, rank, what)

    def close(self) -> None:
        futures, self._futures = self._futures, []
        self.replicas = []
        if futures:
            # a cluster that is already gone needs no cleanup
            with contextlib.suppress(Exception):
                self.client.cancel(futures)


# -- the driver -------------------------------------------------------------------------------------
class DataParallelResult:
    """What :func:`train_data_parallel` and :func:`train_single_process` return.

    The first attributes mirror :class:`swets_train.jobs.JobResult` (so :meth:`table` prints the
    same table as ``swets train``); the others describe the distributed run.

    Attributes:
        metrics: ``{split: {metric: value}}`` of the trained model in the original scale.
        baselines: ``{"naive" | "seasonal_naive": {split: {metric: value}}}``.
        checkpoint: the checkpoint written (loadable with ``swets_train.jobs.load_job``), or None.
        history: one dict per epoch (``epoch``, ``step``, ``loss``, ``lr``, ``val_loss``...).
        spec: the resolved job specification as plain data.
        stop_reason: why training stopped before its budget (early stopping), or None.
        seconds: wall time of the training loop.
        windows: the number of windows per split (``train``, ``validation``, ``test``).
        notes: remarks about choices made while preparing the job.
        model: the trained model in this process (the best epoch's weights when early stopping
            restored them); scaler: the fitted scaler of the data, or None.
        steps, epochs: optimizer steps done and epochs run.
        global_batch: windows per global batch; replicas: how many replicas trained.
        workers: the Dask worker address of each replica (``["<this process>"]`` in process).
        digest: :func:`state_digest` of the final parameters of the replicas (all equal).
        optimizer_state, scheduler_state: the final states (plain data).
    """

    __slots__ = (
        "baselines",
        "checkpoint",
        "digest",
        "epochs",
        "global_batch",
        "history",
        "metrics",
        "model",
        "notes",
        "optimizer_state",
        "replicas",
        "scaler",
        "scheduler_state",
        "seconds",
        "spec",
        "steps",
        "stop_reason",
        "windows",
        "workers",
    )

    def __init__(self, **kw: Any) -> None:
        unknown = set(kw) - set(self.__slots__)
        if unknown:
            raise TypeError(f"unknown fields {sorted(unknown)}")
        for name in self.__slots__:
            setattr(self, name, kw.get(name))

    @property
    def model_name(self) -> str:
        """The model's registry name."""
        return str(self.spec.get("model", {}).get("name", "model"))

    def state_dict(self) -> dict[str, np.ndarray]:
        """The trained model's state dict (copies)."""
        return self.model.state_dict()

    def table(self) -> str:
        """Validation and test metrics next to the naive and seasonal-naive baselines."""
        from swets_train.jobs import format_table

        return format_table(self.metrics, self.baselines, self.model_name)

    def job_result(self) -> Any:
        """The same outcome as a :class:`swets_train.jobs.JobResult`."""
        from swets_train.jobs import JobResult

        return JobResult(
            metrics=self.metrics,
            baselines=self.baselines,
            checkpoint=self.checkpoint,
            history=list(self.history),
            spec=self.spec,
            stop_reason=self.stop_reason,
            seconds=self.seconds,
            windows=dict(self.windows),
            notes=list(self.notes),
            model=self.model,
            scaler=self.scaler,
        )

    def __repr__(self) -> str:
        return (
            f"DataParallelResult({self.model_name}, {self.replicas} replica(s), {self.steps} "
            f"steps in {self.epochs} epoch(s), global batch {self.global_batch}, "
            f"checkpoint={self.checkpoint!r})"
        )


def _average(
    results: Sequence[tuple[float, int, dict[str, np.ndarray]]], total: int
) -> tuple[float, dict[str, np.ndarray]]:
    """The global batch's mean loss and gradient from per-shard means, weighted by shard size:
    ``sum_k n_k g_k / B``. A single shard is passed through unchanged."""
    if len(results) == 1:
        loss, _, grads = results[0]
        return loss, dict(grads)
    loss = math.fsum(r[0] * r[1] for r in results) / total
    out: dict[str, np.ndarray] = {}
    for _, n, grads in results:
        for name, g in grads.items():
            acc = out.get(name)
            if acc is None:
                out[name] = np.multiply(g, g.dtype.type(n))
            else:
                acc += g * g.dtype.type(n)
    for acc in out.values():
        acc /= acc.dtype.type(total)
    return loss, out


def _check_finite(loss: float, grads: Mapping[str, np.ndarray], epoch: int, step: int) -> None:
    bad = [name for name, g in grads.items() if not np.isfinite(g).all()]
    if math.isfinite(loss) and not bad:
        return
    what = [] if math.isfinite(loss) else [f"the loss is {loss}"]
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        what.append(f"the averaged gradients of {shown} are not finite")
    raise NonFiniteError(
        f"data-parallel training, epoch {epoch} step {step + 1}: {' and '.join(what)}; lower "
        "training.lr or set training.clip_grad_norm"
    )


def _check_same(digests: Sequence[str | None], workers: Sequence[str], when: str) -> None:
    present = [(r, d) for r, d in enumerate(digests) if d is not None]
    if len({d for _, d in present}) > 1:
        ref_rank, ref = present[0]
        differ = [f"replica {r} on {workers[r]}" for r, d in present if d != ref]
        raise ReplicaError(
            f"the replicas' parameters differ {when}: {', '.join(differ)} differ from replica "
            f"{ref_rank} on {workers[ref_rank]}"
        )


class _RemoteModel:
    """Stands for the replicas' model in the driver: ``state_dict()`` comes from replica 0."""

    def __init__(self, group: Any) -> None:
        self._group = group

    def state_dict(self) -> dict[str, np.ndarray]:
        return self._group.call_one(0, "model_state", (), "returning its parameters")


class _DriverView:
    """What the driver's epoch-level callbacks (early stopping) see in place of a Trainer."""

    def __init__(self, model: Any, history: Any) -> None:
        self.model = model
        self.history = history
        self.epoch = 0
        self.global_step = 0
        self.stop_requested = False
        self.stop_reason: str | None = None

    def request_stop(self, reason: str = "stop requested by a callback") -> None:
        if not self.stop_requested:
            self.stop_requested = True
            self.stop_reason = reason
            self.history.stop_reason = reason


def _training_state(
    setup: Setup,
    final: Mapping[str, Any],
    view: _DriverView,
    callbacks: Mapping[str, Any],
) -> dict[str, Any]:
    """The training state in ``swets_train``'s format (``Trainer.training_state``)."""
    from swets_train.trainer import TRAINING_STATE_VERSION

    return {
        "version": TRAINING_STATE_VERSION,
        "epoch": view.epoch,
        "batch": 0,
        "step": view.global_step,
        "epoch_loss": {"sum": 0.0, "count": 0},
        "history": view.history.state_dict(),
        "stop": {"requested": view.stop_requested, "reason": view.stop_reason},
        "optimizer": final["optimizer"],
        "scheduler": final["scheduler"],
        "rng": {"model": final["rng"]},
        "loader": setup.train.state_dict(),
        "scaler": None if setup.scaler is None else setup.scaler.state_dict(),
        "callbacks": {k: cb.state_dict() for k, cb in callbacks.items()},
        "options": {
            "epochs": setup.epochs,
            "max_steps": setup.max_steps,
            "scheduler_interval": setup.scheduler_interval,
            "monitor": setup.monitor,
            "clip_grad_norm": setup.clip_grad_norm,
            "seed": setup.seed,
        },
    }


def _seed_loader(loader: Any, seed: int | None) -> None:
    """As ``fit(seed=...)``: child 0 of ``SeedSequence(seed)`` shuffles the training data."""
    if seed is None:
        return
    gen = getattr(loader, "generator", None)
    if isinstance(gen, np.random.Generator):
        child = np.random.SeedSequence(int(seed)).spawn(1)[0]
        gen.bit_generator.state = type(gen.bit_generator)(child).state


def _run(
    setup: Setup, group: Any, *, check_every: int, progress: bool, where: str
) -> tuple[_DriverView, dict[str, Any], dict[str, Any], list[str], float]:
    """The training loop of the driver. Returns the view (history, counters), the final replica
    state, the callbacks by checkpoint key, the final digests and the loop's wall time."""
    import sys
    import time

    from swets_train import EarlyStopping, History

    n = len(group)
    infos = group.call("info", [()] * n, "reporting its initial state")
    mine = state_digest(setup.model)
    for rank, info in enumerate(infos):
        if info["windows"] != len(setup.train.dataset):
            raise ReplicaError(
                f"replica {rank} on {group.workers[rank]} sees {info['windows']} training "
                f"windows, this process {len(setup.train.dataset)}: every worker must read the "
                "same data (a data.path must be readable at the same path on every worker)"
            )
        if info["digest"] != mine:
            raise ReplicaError(
                f"replica {rank} on {group.workers[rank]} built different initial parameters "
                "from the same specification; the model's initialisation must be deterministic "
                "for training.seed"
            )
    loader = setup.train
    _seed_loader(loader, setup.seed)
    history = History()
    view = _DriverView(_RemoteModel(group), history)
    callbacks: dict[str, Any] = {}
    if setup.patience is not None:
        callbacks["EarlyStopping"] = EarlyStopping(
            patience=setup.patience, restore_best_weights=True
        )
    epochs, max_steps = setup.epochs, setup.max_steps
    pending: dict[str, np.ndarray] | None = None
    start = time.perf_counter()
    while not view.stop_requested:
        if epochs is not None and view.epoch >= epochs:
            break
        if max_steps is not None and view.global_step >= max_steps:
            break
        epoch = view.epoch
        loss_sum, loss_count, ran = 0.0, 0, False
        for batch in loader:
            idx = np.asarray(batch.index, dtype=np.int64)
            shards = np.array_split(idx, n) if n > 1 else [idx]
            step = view.global_step
            check = pending is not None and check_every > 0 and step % check_every == 0
            replies = group.call(
                "step", [(pending, s, check) for s in shards], f"epoch {epoch} step {step + 1}"
            )
            if check:
                _check_same([d for d, _ in replies], group.workers, f"after step {step}")
            results = [r for _, r in replies if r is not None]
            loss, pending = _average(results, int(idx.shape[0]))
            _check_finite(loss, pending, epoch, step)
            view.global_step += 1
            loss_sum += loss * idx.shape[0]
            loss_count += int(idx.shape[0])
            ran = True
            if max_steps is not None and view.global_step >= max_steps:
                break
        if not ran:
            raise DataValidationError(
                f"{where}: the training data yielded no batch in epoch {epoch}"
            )
        replies = group.call(
            "step",
            [(pending, None, check_every > 0)] * n,
            f"applying step {view.global_step} of epoch {epoch}",
        )
        pending = None
        if check_every > 0:
            _check_same([d for d, _ in replies], group.workers, f"after step {view.global_step}")
        record: dict[str, Any] = {
            "epoch": epoch,
            "step": view.global_step,
            "loss": loss_sum / loss_count if loss_count else math.nan,
        }
        record.update(group.call_one(0, "report", (), f"validating after epoch {epoch}"))
        history.append(record)
        monitor_value = None
        if setup.plateau:
            if setup.monitor not in record:
                raise ConfigError(
                    f"{where}: the scheduler follows {setup.monitor!r}, which is not in the "
                    f"epoch logs ({', '.join(record)}); give the job validation data"
                )
            monitor_value = record[setup.monitor]
        group.call("end_epoch", [(monitor_value,)] * n, f"ending epoch {epoch}")
        view.epoch += 1
        if progress:
            total = f"/{epochs}" if epochs else ""
            shown = "  ".join(
                f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                for k, v in record.items()
                if k != "epoch"
            )
            print(f"epoch {epoch + 1}{total}  {shown}", file=sys.stderr, flush=True)
        for cb in callbacks.values():
            cb.on_epoch_end(view, epoch, record)
    seconds = time.perf_counter() - start
    digests = group.call("digest", [()] * n, "reporting its final parameters")
    final = group.call_one(0, "state", (), "returning its final state")
    setup.model.load_state_dict(final["model"])
    setup.optimizer.load_state_dict(final["optimizer"])
    if setup.scheduler is not None and final["scheduler"] is not None:
        setup.scheduler.load_state_dict(final["scheduler"])
    _check_same(
        [*digests, state_digest(setup.model)],
        [*group.workers, "<driver>"],
        "at the end of training",
    )
    view.model = setup.model
    for cb in callbacks.values():
        cb.on_fit_end(view)
    return view, final, callbacks, digests, seconds


def _finish(
    setup: Setup,
    group: Any,
    view: _DriverView,
    final: Mapping[str, Any],
    callbacks: Mapping[str, Any],
    digests: Sequence[str],
    seconds: float,
    *,
    write: bool,
    mode: str,
) -> DataParallelResult:
    from swets_core import checkpoint as ckpt
    from swets_train.jobs import JobSpec, evaluate_prepared

    metrics, baselines = evaluate_prepared(setup.prepared)
    path = None
    if write:
        path = JobSpec.from_dict(setup.spec).checkpoint_path
        directory = os.path.dirname(path)
        try:
            if directory:
                os.makedirs(directory, exist_ok=True)
            ckpt.save_checkpoint(
                path,
                setup.model,
                training_state=_training_state(setup, final, view, callbacks),
                metadata={
                    "job": setup.spec,
                    "metrics": metrics,
                    "baselines": baselines,
                    "season_length": setup.prepared.season_length,
                    "data_parallel": {
                        "mode": mode,
                        "replicas": len(group),
                        "global_batch": setup.train.batch_size,
                    },
                },
                components=[(k, v) for k, v in setup.components if v is not None],
            )
        except OSError as exc:
            raise ConfigError(f"output.checkpoint: cannot write {path}: {exc}") from exc
    p = setup.prepared
    out = p.spec.output
    if write and (out.forecast_csv or out.plot):  # as run_job
        from swets_train.jobs import LoadedJob, write_forecast_csv

        job = LoadedJob(
            spec=p.spec,
            model=setup.model,
            scaler=setup.scaler,
            history=[dict(r) for r in view.history],
            checkpoint=path,
        )
        if out.forecast_csv:
            write_forecast_csv(job.forecast(p.series), out.forecast_csv)
        if out.plot:
            from swets_train.plot import plot_job

            plot_job(job, out.plot, data=p.series)
    windows = {
        split: len(part)
        for split, part in (
            ("train", p.splits.train),
            ("validation", p.splits.val),
            ("test", p.splits.test),
        )
        if part is not None
    }
    return DataParallelResult(
        windows=windows,
        notes=list(p.notes),
        metrics=metrics,
        baselines=baselines,
        checkpoint=path,
        history=[dict(r) for r in view.history],
        spec=setup.spec,
        stop_reason=view.stop_reason,
        seconds=seconds,
        model=setup.model,
        scaler=setup.scaler,
        steps=view.global_step,
        epochs=view.epoch,
        global_batch=setup.train.batch_size,
        replicas=len(group),
        workers=list(group.workers),
        digest=digests[0],
        optimizer_state=final["optimizer"],
        scheduler_state=final["scheduler"],
    )


def _resolve(
    spec: Any, where: str, global_batch: Any, epochs: Any, max_steps: Any, check_every: Any
) -> dict[str, Any]:
    for name, value in (
        ("global_batch", global_batch),
        ("epochs", epochs),
        ("max_steps", max_steps),
    ):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1
        ):
            raise ConfigError(f"{where}: {name} must be an int >= 1 or None, got {value!r}")
    if (
        isinstance(check_every, bool)
        or not isinstance(check_every, (int, np.integer))
        or check_every < 0
    ):
        raise ConfigError(f"{where}: check_every must be an int >= 0, got {check_every!r}")
    plain = normalize_spec(spec)
    training = dict(plain.get("training") or {})
    if global_batch is not None:
        training["batch_size"] = int(global_batch)
    if epochs is not None or max_steps is not None:
        # an explicit budget replaces the spec's whole budget
        training.pop("epochs", None)
        training.pop("max_steps", None)
        if epochs is not None:
            training["epochs"] = int(epochs)
        if max_steps is not None:
            training["max_steps"] = int(max_steps)
        if epochs is None:
            training["epochs"] = None
    plain["training"] = training
    return normalize_spec(plain)


def train_data_parallel(
    spec: Any,
    *,
    address: str | None = None,
    client: Any = None,
    n_workers: int = 2,
    replicas: int | None = None,
    global_batch: int | None = None,
    epochs: int | None = None,
    max_steps: int | None = None,
    write: bool = True,
    check_every: int = 1,
    progress: bool = False,
) -> DataParallelResult:
    """Train one job's model data-parallel on Dask workers (see the module docstring).

    Each replica is a Dask actor on its own worker, built from ``spec`` with
    ``swets_train.jobs.prepare``; the driver (this process) draws each global batch from its own
    seeded loader, sends one shard of indices to each replica, averages the returned gradients
    weighted by shard size and sends the average back; every replica applies it. Early stopping,
    schedulers, clipping, evaluation against the baselines and the checkpoint are those of
    ``run_job``; with the same spec the result equals :func:`train_single_process` to rounding.

    Args:
        spec: a ``JobSpec`` or its plain data (``{"data": ..., "model": ..., "training": ...}``).
            Every worker must be able to read its data (a bundled data set, or a ``data.path``
            valid on every worker, e.g. on shared storage).
        address: the scheduler of an existing cluster; None starts a local cluster of
            ``n_workers`` processes for the call (closed afterwards).
        client: an existing ``distributed.Client`` to use instead (left open).
        n_workers: worker processes of the local cluster.
        replicas: number of replicas (default: one per worker of the cluster).
        global_batch: windows per global batch (default ``training.batch_size``); each replica
            computes about ``global_batch / replicas`` of them per step.
        epochs, max_steps: a budget replacing the spec's (default: the spec's).
        write: save the checkpoint at ``output.checkpoint`` (``runs/<model>.swets`` by default),
            in the format of ``run_job`` (so ``load_job`` and ``swets forecast`` read it).
        check_every: compare the parameter digests of all replicas every that many steps (and
            always at the end); 0 checks only at the start and the end.
        progress: print one line per epoch to stderr.

    Returns:
        A :class:`DataParallelResult` (metrics, baselines, history, the trained model, checkpoint).

    Raises:
        ConfigError: a bad argument or spec, or no cluster to connect to.
        ReplicaError: a replica failed or was lost with its worker, or the replicas' parameters
            differ (never expected; it would mean a non-deterministic update).
        NonFiniteError: the averaged loss or gradients are NaN or infinite.
    """
    from swets_dask.cluster import client_scope

    where = "train_data_parallel"
    plain = _resolve(spec, where, global_batch, epochs, max_steps, check_every)
    if replicas is not None and (
        isinstance(replicas, bool) or not isinstance(replicas, (int, np.integer)) or replicas < 1
    ):
        raise ConfigError(f"{where}: replicas must be an int >= 1 or None, got {replicas!r}")
    setup = build_setup(plain)
    with client_scope(client, address, n_workers=n_workers) as cl:
        from swets_dask.cluster import check_workers

        count = int(replicas) if replicas is not None else len(check_workers(cl))
        with cl.as_current():  # actor proxies find their client through the current client
            group = _DaskGroup(cl, plain, count)
            try:
                view, final, callbacks, digests, seconds = _run(
                    setup, group, check_every=int(check_every), progress=progress, where=where
                )
            finally:
                group.close()
    return _finish(setup, group, view, final, callbacks, digests, seconds, write=write, mode="dask")


def train_single_process(
    spec: Any,
    *,
    global_batch: int | None = None,
    epochs: int | None = None,
    max_steps: int | None = None,
    write: bool = True,
    progress: bool = False,
) -> DataParallelResult:
    """The data-parallel algorithm with one in-process replica taking every global batch whole.

    The reference :func:`train_data_parallel` is compared with: same arguments, same result to
    rounding. Without gradient clipping it is also bitwise what ``swets_train.jobs.run_job``
    trains (the same loader order, loss, optimizer, scheduler and early stopping).
    """
    where = "train_single_process"
    plain = _resolve(spec, where, global_batch, epochs, max_steps, 1)
    setup = build_setup(plain)
    group = _LocalGroup(setup)
    view, final, callbacks, digests, seconds = _run(
        setup, group, check_every=0, progress=progress, where=where
    )
    return _finish(
        setup, group, view, final, callbacks, digests, seconds, write=write, mode="single"
    )
