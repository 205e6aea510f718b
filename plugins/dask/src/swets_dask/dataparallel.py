"""Data-parallel training on Dask: the executor ``"dask"`` of ``swets_train.Trainer.fit``.

The training loop is swets-train's, unchanged (``Trainer.fit`` through ``run_job``); this module
supplies only where each batch's gradients are computed (``swets_train.executor``):

1. Every replica is a Dask actor that builds the job from its specification
   (``swets_train.jobs.prepare``): the same seed gives the same data and initial parameters, which
   the driver checks (a digest of each replica's state dict against its own model's, and the number
   of training windows).
2. For each global batch the driver's loader yields, its window indices are split into one contiguous
   shard per replica (``numpy.array_split``). Each replica receives its shard together with the
   driver's current parameters, loads them, gathers its windows from its own copy of the data and
   returns the gradient of the *mean* loss over its ``n_k`` windows (``batch_gradients``, the one
   definition of a step's gradients).
3. The driver averages them weighted by shard size, ``g = sum_k n_k g_k / B``: the gradient of the
   mean loss over the whole global batch of ``B`` windows, which ``Trainer.fit`` then uses as it
   would a local one (the non-finite guard, clipping, the optimizer and scheduler, validation,
   early stopping, the training state and the checkpoint).

One round trip per step: the parameters after step ``t`` travel with the shards of step ``t + 1``.
Every ``check_every`` steps, and at the end, each replica also returns the digest of its state after
loading them, which must equal the driver's.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from swets_core import Tensor
from swets_core.checks import check_count
from swets_core.errors import ConfigError, SwetsError
from swets_dask.errors import ReplicaError

__all__ = ["DataParallel", "Replica", "state_digest", "train_data_parallel"]


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


class Replica:
    """One copy of the job's model and training data: a Dask actor (or an in-process object).

    Args:
        spec: the job's resolved specification (plain data); data: the job's ``data=`` or None.
        rank, world: this replica's index and the number of replicas. The model's generators
            (dropout) are seeded as ``fit(seed=training.seed)`` seeds them for a single replica;
            with several, each rank draws from its own stream, so shards do not share masks.
    """

    def __init__(self, spec: Mapping[str, Any], data: Any = None, rank: int = 0, world: int = 1):
        from swets_train.jobs import prepare
        from swets_train.trainer import model_generators, seed_model

        p = prepare(spec, data=data)
        self.rank, self.world = int(rank), int(world)
        self.model, self.loss = p.model, p.loss
        self.dataset, self.dtype = p.train.dataset, p.train.dtype.numpy
        self.params = dict(self.model.named_parameters())
        seed = p.spec.training.seed
        if self.world == 1:
            seed_model(self.model, seed)
        else:
            gens = model_generators(self.model)
            children = np.random.SeedSequence([seed, self.rank]).spawn(len(gens))
            for (_, _, _, gen), child in zip(gens, children):
                gen.bit_generator.state = type(gen.bit_generator)(child).state
        self.model.train()

    def info(self) -> dict[str, Any]:
        """Digest, window count, parameter count and process id (checked by the driver at start)."""
        return {
            "digest": state_digest(self.model),
            "windows": len(self.dataset),
            "parameters": int(sum(p.size for p in self.params.values())),
            "pid": os.getpid(),
        }

    def step(
        self, params: Mapping[str, np.ndarray] | None, shard: np.ndarray | None, check: bool
    ) -> tuple[str | None, tuple[float, int, dict[str, np.ndarray]] | None]:
        """Load ``params`` (the driver's parameters by name, or None when unchanged), then compute
        the gradient of the mean loss over the windows ``shard``.

        Returns:
            ``(digest, result)``: the state digest after loading (None unless ``check``), and
            ``(loss, n_windows, {parameter name: gradient array})``, or None without a shard.
        """
        from swets_timeseries import gather_batch
        from swets_train.executor import batch_gradients, model_inputs, target_mask, unpack_batch

        if params is not None:
            unknown = sorted(set(params) - set(self.params))
            if unknown:
                raise ReplicaError(
                    f"replica {self.rank}: the driver sends unknown parameters {', '.join(unknown)}"
                )
            for name, arr in params.items():
                self.params[name]._data[...] = arr
        digest = state_digest(self.model) if check else None
        if shard is None or len(shard) == 0:
            return digest, None
        idx = np.asarray(shard, dtype=np.int64)
        batch = gather_batch(self.dataset, idx, self.dtype)  # what the driver's loader yields
        x, y = unpack_batch(batch)
        inputs, mask = model_inputs(batch), target_mask(batch)
        loss, grads = batch_gradients(self.model, self.loss, x, y, inputs, mask)
        ids = {p.id: name for name, p in self.params.items()}
        return digest, (
            loss,
            int(idx.shape[0]),
            {ids[k]: g._data for k, g in grads.items() if k in ids},
        )

    def generators(self) -> dict[str, Any]:
        """The states of the model's generators, by dotted name (plain data)."""
        from swets_core import checkpoint as ckpt
        from swets_train.trainer import model_generators

        return {name: ckpt.generator_state(g) for name, _, _, g in model_generators(self.model)}


class _DaskGroup:
    """Replicas as Dask actors, one per worker (round robin when there are more replicas).

    Each actor is placed on its worker by preference, not by restriction, so that a worker lost
    while the replicas are being built does not leave its actor waiting for an address that no
    longer exists; ``workers`` holds where each actor actually lives.
    """

    def __init__(self, client: Any, spec: Mapping[str, Any], data: Any, n: int) -> None:
        from swets_dask.cluster import check_workers

        workers = check_workers(client)
        self.client = client
        self.workers = [workers[r % len(workers)] for r in range(n)]
        self._futures = [
            client.submit(
                Replica,
                spec,
                data,
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
        return len(self.replicas)

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
        """``method(*args[k])`` on every replica ``k``, concurrently; the results in rank order."""
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

    def close(self) -> None:
        futures, self._futures = self._futures, []
        self.replicas = []
        if futures:
            # a cluster that is already gone needs no cleanup
            with contextlib.suppress(Exception):
                self.client.cancel(futures)


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


def _check_same(
    reference: str, digests: Sequence[str | None], workers: Sequence[str], when: str
) -> None:
    """Every digest given equals the driver's ``reference`` (None: not asked)."""
    differ = [
        f"replica {r} on {workers[r]}" for r, d in enumerate(digests) if d not in (None, reference)
    ]
    if differ:
        raise ReplicaError(
            f"the replicas' parameters differ from the driver's {when}: {', '.join(differ)}"
        )


def _count(value: Any, name: str, minimum: int = 1, optional: bool = True) -> int | None:
    return check_count(value, name, minimum, optional=optional, where="data-parallel training")


class DataParallel:
    """The data-parallel executor (see the module docstring), registered as ``"dask"``.

    Args:
        client: an existing ``distributed.Client`` (left open); else ``address`` of a scheduler,
            else a local cluster of ``n_workers`` processes started for the run and closed after it.
        replicas: the number of replicas (default: one per worker of the cluster).
        check_every: compare the replicas' state digests with the driver's every that many steps
            (and always at the end); 0 checks only at the start and the end.

    ``run_job(spec, executor=DataParallel(...))`` trains a job with it (``for_job`` gives it the
    job); every worker must be able to read the job's data (a bundled data set, or a ``data.path``
    valid on every worker, e.g. on shared storage).
    """

    def __init__(
        self,
        client: Any = None,
        *,
        address: str | None = None,
        n_workers: int = 2,
        replicas: int | None = None,
        check_every: int = 1,
    ) -> None:
        if client is not None and address is not None:
            raise ConfigError("data-parallel training: give client= or address=, not both")
        self.client, self.address = client, address
        self.n_workers = _count(n_workers, "n_workers", optional=False)
        self.replicas = _count(replicas, "replicas")
        self.check_every = _count(check_every, "check_every", 0, optional=False)
        self._job: tuple[dict[str, Any], Any] | None = None
        self._group: Any = None
        self._scope: contextlib.ExitStack | None = None
        self._described: dict[str, Any] = {}

    def for_job(self, spec: Mapping[str, Any], data: Any = None) -> DataParallel:
        """A copy of this executor whose replicas build the job ``spec`` (resolved plain data)."""
        out = copy.copy(self)
        out._job = (dict(spec), data)
        return out

    def _open(self, spec: dict[str, Any], data: Any) -> Any:
        """Connect (as configured) and build the replica group."""
        from swets_dask.cluster import check_workers, client_scope

        assert self._scope is not None
        client = self._scope.enter_context(
            client_scope(self.client, self.address, n_workers=self.n_workers)
        )
        self._scope.enter_context(client.as_current())  # actor proxies find their client there
        n = self.replicas if self.replicas is not None else len(check_workers(client))
        return _DaskGroup(client, spec, data, n)

    def start(self, trainer: Any) -> None:
        """Build the replicas and check that they hold the driver's data and parameters."""
        if self._job is None:
            raise ConfigError(
                "the data-parallel executor builds its replicas from a job: train with "
                "swets_train.jobs.run_job(spec, executor=...)"
            )
        dataset = getattr(trainer.train_data, "dataset", None)
        if dataset is None:
            raise ConfigError(
                "data-parallel training needs a swets_timeseries DataLoader as training data"
            )
        self._scope = contextlib.ExitStack()
        self._group = group = self._open(*self._job)
        windows = len(dataset)
        fresh = trainer.global_step == 0
        mine = state_digest(trainer.model)
        for rank, info in enumerate(group.call("info", [()] * len(group), "reporting its state")):
            where = f"replica {rank} on {group.workers[rank]}"
            if info["windows"] != windows:
                raise ReplicaError(
                    f"{where} sees {info['windows']} training windows, this process {windows}: "
                    "every worker must read the same data (a data.path must be readable at the "
                    "same path on every worker)"
                )
            if fresh and info["digest"] != mine:
                raise ReplicaError(
                    f"{where} built different initial parameters from the same specification; the "
                    "model's initialisation must be deterministic for training.seed"
                )
        self._params = dict(trainer.model.named_parameters())
        self._ids = {name: p.id for name, p in self._params.items()}
        self._sent = (
            trainer.global_step if fresh else None
        )  # the step whose parameters replicas hold

    def _send(self, trainer: Any) -> dict[str, np.ndarray] | None:
        """The driver's parameters when they changed since they were last sent, else None."""
        if self._sent == trainer.global_step:
            return None
        self._sent = trainer.global_step
        return {name: p._data for name, p in self._params.items()}

    def gradients(
        self, trainer: Any, batch: Any, x: Any, y: Any
    ) -> tuple[float, dict[int, Tensor]]:
        """The weighted average of the replicas' shard gradients (see the module docstring)."""
        index = getattr(batch, "index", None)
        if index is None:
            raise ConfigError(
                "data-parallel training needs batches that carry their window indices (a "
                "swets_timeseries DataLoader)"
            )
        group, step = self._group, trainer.global_step
        idx = np.asarray(index, dtype=np.int64)
        shards = np.array_split(idx, len(group)) if len(group) > 1 else [idx]
        check = self.check_every > 0 and step > 0 and step % self.check_every == 0
        params = self._send(trainer)
        replies = group.call(
            "step",
            [(params, s, check) for s in shards],
            f"epoch {trainer.epoch + 1} step {step + 1}",
        )
        if check:
            when = f"after step {step}"
            _check_same(state_digest(trainer.model), [d for d, _ in replies], group.workers, when)
        loss, grads = _average([r for _, r in replies if r is not None], int(idx.shape[0]))
        return loss, {self._ids[name]: Tensor(g) for name, g in grads.items()}

    def finish(self, trainer: Any) -> None:
        """Check every replica holds the final parameters; take replica 0's generator states (the
        model's dropout streams) into the driver's model, as the training state records them."""
        from swets_core import checkpoint as ckpt
        from swets_train.trainer import model_generators

        group = self._group
        final = self._send(trainer)
        replies = group.call("step", [(final, None, True)] * len(group), "checking the end")
        digest = state_digest(trainer.model)
        _check_same(digest, [d for d, _ in replies], group.workers, "at the end of training")
        states = group.call("generators", [()] * len(group), "returning its generators")[0]
        for name, _, _, gen in model_generators(trainer.model):
            gen.bit_generator.state = ckpt.restore_generator(states[name]).bit_generator.state
        batch_size = getattr(trainer.train_data, "batch_size", None)
        self._described = {
            "replicas": len(group),
            "global_batch": batch_size,
            "workers": list(group.workers),
            "digest": digest,
        }

    def close(self) -> None:
        """Release the replicas and the cluster connection (a local cluster started here closes)."""
        group, self._group = self._group, None
        scope, self._scope = self._scope, None
        try:
            if group is not None:
                group.close()
        finally:
            if scope is not None:
                scope.close()

    def metadata(self) -> dict[str, Any]:
        """``{"data_parallel": {"replicas", "global_batch", "workers", "digest"}}`` of the finished
        run (``digest``: the replicas' final parameters, before early stopping restores its best)."""
        return {"data_parallel": dict(self._described)} if self._described else {}

    def __repr__(self) -> str:
        where = self.address or ("a client" if self.client is not None else "a local cluster")
        return f"DataParallel({where}, replicas={self.replicas or 'one per worker'})"


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
) -> Any:
    """``run_job`` of ``spec`` with the :class:`DataParallel` executor: one job's model trained by
    replicas on Dask workers; a ``swets_train.jobs.JobResult``.

    Args:
        spec: a ``JobSpec`` or its plain data.
        address, client, n_workers, replicas, check_every: as :class:`DataParallel`.
        global_batch: windows per global batch (default ``training.batch_size``); each replica
            computes about ``global_batch / replicas`` of them per step.
        epochs, max_steps: a budget replacing the spec's (default: the spec's).
        write, progress: as ``run_job``: the checkpoint at ``output.checkpoint`` and the other
            outputs; progress on stderr.

    Raises:
        ConfigError: a bad argument or spec, or no cluster to connect to.
        ReplicaError: a replica failed or was lost with its worker, or its parameters differ from
            the driver's (never expected).
    """
    from swets_train.jobs import as_spec, run_job

    executor = DataParallel(
        client, address=address, n_workers=n_workers, replicas=replicas, check_every=check_every
    )
    epochs, max_steps = _count(epochs, "epochs"), _count(max_steps, "max_steps")
    plain = as_spec(spec).to_dict()
    training = plain["training"]
    if epochs is not None or max_steps is not None:  # an explicit budget replaces the spec's
        training["epochs"] = "none" if epochs is None else epochs
        training["max_steps"] = "none" if max_steps is None else max_steps
    if _count(global_batch, "global_batch") is not None:
        training["batch_size"] = int(global_batch)
    return run_job(plain, executor=executor, write=write, progress=progress)
