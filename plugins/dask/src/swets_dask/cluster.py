"""Getting a Dask client: a local cluster (the embedded default) or an existing scheduler.

Everything in swets-dask runs through a :class:`distributed.Client`. :func:`connect` gives one;
:func:`client_scope` is what the public functions use so that a client they start themselves is
closed again (with its local cluster) when they return, while a client the caller passes in is left
open.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
from collections.abc import Iterator, Sequence
from typing import Any

from swets_core.checks import check_count
from swets_core.errors import ConfigError

__all__ = [
    "DISTRIBUTIONS",
    "WORKER_CONFIG",
    "check_workers",
    "client_scope",
    "connect",
    "run_tasks",
    "worker_addresses",
    "worker_versions",
]

DISTRIBUTIONS = ("swets-core", "swets-train", "swets-models", "swets-dask")
"""The distributions every worker must have, at the driver's versions."""

WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
"""Dask configuration of the local workers :func:`connect` starts (see docs/distributed.md for
workers of your own cluster): the nanny's ``MALLOC_TRIM_THRESHOLD_=65536`` turns off glibc's
adaptive mmap threshold, so every large numpy temporary is mapped and unmapped again (tens of times
more page faults, about 40 % more CPU time per training step); None leaves glibc's default.
"""


def connect(
    address: str | None = None,
    *,
    n_workers: int = 2,
    threads_per_worker: int = 1,
    processes: bool = True,
    timeout: float = 30.0,
) -> Any:
    """A :class:`distributed.Client`: a new local cluster, or a connection to a running scheduler.

    Args:
        address: None starts a ``LocalCluster`` owned by the client (closing the client closes it);
            otherwise the scheduler's address, e.g. ``"tcp://10.0.0.5:8786"`` (what ``dask
            scheduler`` prints), to which the client connects. ``n_workers``,
            ``threads_per_worker`` and ``processes`` are ignored then: the cluster's workers are used.
        n_workers: worker processes (or threads with ``processes=False``) of a local cluster.
        threads_per_worker: threads in each local worker. One thread per worker process is the
            right choice for swets: the tape-based autodiff holds the GIL between numpy calls.
        processes: local workers as separate processes (True, each behind a nanny that restarts it
            if it dies) or as threads of this process (False).
        timeout: seconds to wait for the scheduler at ``address``.

    The local workers run with :data:`WORKER_CONFIG`: glibc's default memory trimming, which
    keeps training steps about 40 % cheaper than Dask's aggressive setting.

    Returns:
        The connected client. Close it (or use it as a context manager) when done.

    Raises:
        ConfigError: a bad argument, or no scheduler answering at ``address``.
    """
    from distributed import Client

    if address is None:
        check_count(n_workers, "n_workers", where="connect")
        check_count(threads_per_worker, "threads_per_worker", where="connect")
        if not isinstance(processes, bool):
            raise ConfigError(f"connect: processes must be a bool, got {processes!r}")
        import dask.config

        try:
            with dask.config.set(WORKER_CONFIG):
                return Client(
                    n_workers=n_workers,
                    threads_per_worker=threads_per_worker,
                    processes=processes,
                    dashboard_address=":0",
                )
        except Exception as exc:  # pragma: no cover - local start-up failures are environmental
            raise ConfigError(f"cannot start a local Dask cluster: {exc}") from exc
    if not isinstance(address, str) or not address.strip():
        raise ConfigError(
            f"connect: address must be a scheduler address such as 'tcp://host:8786', got {address!r}"
        )
    try:
        return Client(address.strip(), timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise ConfigError(
            f"cannot connect to the Dask scheduler at {address!r} within {timeout:g} s: {exc}; "
            "is `dask scheduler` running there and reachable?"
        ) from exc
    except ValueError as exc:
        raise ConfigError(f"invalid Dask scheduler address {address!r}: {exc}") from exc


@contextlib.contextmanager
def client_scope(
    client: Any = None,
    address: str | None = None,
    *,
    n_workers: int = 2,
    threads_per_worker: int = 1,
    processes: bool = True,
) -> Iterator[Any]:
    """Yield ``client`` when given (left open), else a client from :func:`connect` (closed after)."""
    if client is not None:
        if address is not None:
            raise ConfigError("give client= or address=, not both")
        if not callable(getattr(client, "submit", None)):
            raise ConfigError(f"client must be a distributed.Client, got {type(client).__name__}")
        yield client
        return
    own = connect(
        address, n_workers=n_workers, threads_per_worker=threads_per_worker, processes=processes
    )
    try:
        yield own
    finally:
        own.close()


def worker_versions() -> dict[str, str | None]:
    """The installed version of each of :data:`DISTRIBUTIONS` in this process (None: missing)."""
    out: dict[str, str | None] = {}
    for dist in DISTRIBUTIONS:
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = None
    return out


def worker_addresses(client: Any) -> list[str]:
    """The addresses of the workers connected to the client's scheduler now, sorted.

    Asks the scheduler directly: ``Client.scheduler_info()`` returns the client's cached identity,
    which its periodic refresh can replace, between the fetch and the read, with a summary that lists
    no worker (Dask 2026), so a cluster with live workers would look empty."""
    scheduler = getattr(client, "scheduler", None)
    if scheduler is not None and hasattr(client, "sync"):
        try:
            info = client.sync(scheduler.identity, n_workers=-1)
        except TypeError:  # Dask before the n_workers argument lists them all
            info = client.sync(scheduler.identity)
    else:  # a client-like object without a scheduler connection
        info = client.scheduler_info()
    return sorted(info["workers"])


def check_workers(client: Any) -> list[str]:
    """Check that every worker has swets at this process's versions; returns the worker addresses.

    Raises:
        ConfigError: no worker is connected, or a worker lacks a distribution or has another
            version (each such worker and distribution is named).
    """
    workers = worker_addresses(client)
    if not workers:
        raise ConfigError(
            "the Dask cluster has no worker; start some with `dask worker <scheduler address>`"
        )
    mine = worker_versions()
    try:
        theirs = client.run(worker_versions)
    except Exception as exc:
        raise ConfigError(
            f"cannot ask the Dask workers for their swets versions ({exc}); is swets-dask "
            "installed on every worker?"
        ) from exc
    problems = []
    for addr in sorted(theirs):
        for dist, version in mine.items():
            got = theirs[addr].get(dist)
            if got != version:
                have = "is missing" if got is None else f"has {got}"
                problems.append(f"{addr} {have} {dist} (this process: {version})")
    if problems:
        raise ConfigError(
            "swets must be installed on every Dask worker at the driver's versions: "
            + "; ".join(problems)
        )
    return workers


def run_tasks(
    calls: Sequence[tuple[Any, ...]],
    keys: Sequence[str],
    *,
    client: Any = None,
    address: str | None = None,
    n_workers: int = 2,
    retries: int = 0,
    broadcast: tuple[Any, ...] = (),
) -> Iterator[tuple[int, Any]]:
    """Run each ``calls[i] = (function, *args)`` as one Dask task; yield ``(i, future)`` as each
    finishes (whether it succeeded or raised: the future tells).

    The client is :func:`client_scope`'s (its workers checked by :func:`check_workers` first).
    Task ``i``'s key is ``keys[i]`` plus a token of this call, so it is never shared with the keys of
    an earlier call, whose cancelled tasks the scheduler may still be forgetting. Each value of
    ``broadcast`` goes to every worker once (``Client.scatter(..., broadcast=True)``) and is passed
    after each task's own arguments. Dask re-runs a task that raised ``retries`` times; the tasks
    not finished when the iteration stops are cancelled.
    """
    import uuid

    from distributed import as_completed

    token = uuid.uuid4().hex[:12]
    with client_scope(client, address, n_workers=n_workers) as cl:
        check_workers(cl)
        shared = tuple(cl.scatter(value, broadcast=True) for value in broadcast)
        futures = [
            cl.submit(*call, *shared, key=f"{key}-{token}", retries=retries)
            for call, key in zip(calls, keys)
        ]
        index = {fut.key: i for i, fut in enumerate(futures)}
        try:
            for fut in as_completed(futures):
                yield index[fut.key], fut
        finally:
            cl.cancel(futures)
