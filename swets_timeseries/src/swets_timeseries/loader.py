"""The data loader: batches of windows as swets Tensors, seeded shuffling, resumable mid-epoch."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from swets_core import Tensor
from swets_core.checks import check_count, is_int
from swets_core.dtype import DType
from swets_core.errors import ConfigError, StateDictError
from swets_core.lazy import exports_of
from swets_timeseries.windows import WindowDataset


class Batch:
    """One batch of windows: what a model reads and what it is scored on.

    Attributes:
        x_past: Tensor (B, lookback, F), the input rows, laid out ``[targets | past covariates |
            known covariates' history]``.
        y: Tensor (B, horizon) for a single target given as a string, else (B, horizon, T).
        x_future: Tensor (B, horizon, K) of known-future covariates over the horizon, or None.
        index: (B,) int64 numpy array of the dataset's window indices
            (see :meth:`WindowDataset.window_info` for series ids and forecast origins).
        static: Tensor (B, S) of the windows' encoded static covariates, or None.
        x_mask: Tensor (B, lookback), 1 where the input is observed and 0 where it is padding, or
            None (every input observed).
        y_mask: Tensor (B, horizon), 1 where the target is observed, or None (all of them).

    A model is called with the batch's inputs by keyword: ``model(x_past, future=x_future,
    static=static, mask=x_mask)`` (those that are not None; see :meth:`model_inputs`).
    Unpacks as ``x_past, y, x_future = batch``.
    """

    __slots__ = ("index", "static", "x_future", "x_mask", "x_past", "y", "y_mask")

    def __init__(
        self,
        x_past: Tensor,
        y: Tensor,
        x_future: Tensor | None,
        index: np.ndarray,
        *,
        static: Tensor | None = None,
        x_mask: Tensor | None = None,
        y_mask: Tensor | None = None,
    ) -> None:
        self.x_past = x_past
        self.y = y
        self.x_future = x_future
        self.index = index
        self.static = static
        self.x_mask = x_mask
        self.y_mask = y_mask

    def model_inputs(self) -> dict[str, Tensor]:
        """The model's keyword inputs this batch holds: ``future``, ``static``, ``mask``."""
        out = {}
        if self.x_future is not None:
            out["future"] = self.x_future
        if self.static is not None:
            out["static"] = self.static
        if self.x_mask is not None:
            out["mask"] = self.x_mask
        return out

    def __iter__(self) -> Iterator[Tensor | None]:
        return iter((self.x_past, self.y, self.x_future))

    def __len__(self) -> int:
        return int(self.index.shape[0])

    def __repr__(self) -> str:
        parts = [f"x_past={self.x_past.shape}", f"y={self.y.shape}"]
        for name in ("x_future", "static", "x_mask", "y_mask"):
            value = getattr(self, name)
            if value is not None or name == "x_future":
                parts.append(f"{name}={None if value is None else value.shape}")
        return f"Batch({', '.join(parts)}, dtype={self.x_past.dtype.value})"


def gather_batch(dataset: WindowDataset, indices: np.ndarray, dtype: Any = None) -> Batch:
    """The :class:`Batch` of windows ``indices`` of ``dataset`` (copies, in ``dtype``, default the
    dataset's): what a :class:`DataLoader` yields, and what a data-parallel replica builds from
    the window indices of its shard."""
    idx = np.asarray(indices, dtype=np.int64)
    x, y, xf = dataset.gather(idx)
    static = dataset.gather_static(idx)
    dt = dataset.dtype if dtype is None else DType.of(dtype).numpy
    if x.dtype != dt:
        x, y = x.astype(dt), y.astype(dt)
        xf = None if xf is None else xf.astype(dt)
        static = None if static is None else static.astype(dt)
    return Batch(
        Tensor(x),
        Tensor(y),
        None if xf is None else Tensor(xf),
        idx,
        static=None if static is None else Tensor(static),
    )


def _encode_state(value: Any) -> Any:
    """Make a bit-generator state plain data that any serializer takes: ints beyond 64 bits
    become ``{"int": "<decimal>"}``."""
    if isinstance(value, Mapping):
        return {str(k): _encode_state(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode_state(v) for v in value]
    if isinstance(value, np.ndarray):
        return {"array": value.tolist(), "dtype": str(value.dtype)}
    if is_int(value):
        v = int(value)
        return v if -(2**63) <= v < 2**63 else {"int": str(v)}
    return value


def _decode_state(value: Any) -> Any:
    if isinstance(value, Mapping):
        if set(value) == {"int"}:
            return int(value["int"])
        if set(value) == {"array", "dtype"}:
            return np.asarray(value["array"], dtype=value["dtype"])
        return {k: _decode_state(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode_state(v) for v in value]
    return value


class _Epochs:
    """What the loaders of a training loop share (:class:`DataLoader`, ``PanelLoader``): epochs of
    ``len(self)`` batches from ``self.generator``, the epoch and position they are at, and their
    state as plain data, checked when it is loaded. A subclass names in :meth:`_identity` what a
    saved state must match."""

    __slots__ = ("_epoch", "_in_progress", "_position")

    _epoch: int
    _in_progress: bool
    _position: int
    generator: np.random.Generator

    def __len__(self) -> int:
        raise NotImplementedError

    @property
    def epoch(self) -> int:
        """The epoch in progress, or the next one to start."""
        return self._epoch

    @property
    def position(self) -> int:
        """Batches already delivered in the epoch in progress."""
        return self._position

    def _identity(self) -> dict[str, Any]:
        """What a saved state must match, by key (the sizes the batches depend on)."""
        raise NotImplementedError

    def _state(self, rng_state: Any) -> dict[str, Any]:
        """The :meth:`state_dict` of a loader whose epoch in progress draws from ``rng_state``."""
        return {
            "epoch": self._epoch,
            "position": self._position if self._in_progress else 0,
            "rng_state": _encode_state(rng_state),
            **self._identity(),
        }

    def _checked_rng_state(self, state: Any) -> Any:
        """The decoded ``rng_state`` of a saved ``state`` (a :meth:`_state`), after checking it
        whole: StateDictError lists every missing key, every mismatch with :meth:`_identity`, a
        position outside the epoch, an epoch below 0 and a generator state that does not fit."""
        owner = type(self).__name__
        if not isinstance(state, Mapping):
            raise StateDictError(owner, [f"expected a mapping, got {type(state).__name__}"])
        mine = self._identity()
        keys = ("epoch", "position", "rng_state", *mine)
        problems = [f"missing key {k!r}" for k in keys if k not in state]
        if not problems:
            problems += [
                f"{k}: saved {state[k]!r}, this loader has {v!r}"
                for k, v in mine.items()
                if state[k] != v
            ]
            pos, epoch = state["position"], state["epoch"]
            if not is_int(pos) or not 0 <= pos <= len(self):
                problems.append(f"position {pos!r} outside [0, {len(self)}]")
            if not is_int(epoch) or epoch < 0:
                problems.append(f"epoch {epoch!r} is not an integer >= 0")
        rng_state = None
        if not problems:
            rng_state = _decode_state(state["rng_state"])
            probe = type(self.generator.bit_generator)()
            try:
                probe.state = rng_state
            except (TypeError, ValueError, KeyError) as exc:
                problems.append(f"rng_state does not fit a {type(probe).__name__} generator: {exc}")
        if problems:
            raise StateDictError(owner, problems)
        return rng_state


_DONE = object()


class DataLoader(_Epochs):
    """Iterate a :class:`WindowDataset` in batches of Tensors.

    Args:
        dataset: the windows.
        batch_size: windows per batch.
        shuffle: visit windows in a new random order each epoch; needs ``seed`` or ``generator``.
        seed: seed of the shuffling generator (``numpy.random.default_rng(seed)``).
        generator: a ``numpy.random.Generator`` to shuffle with (instead of ``seed``).
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        dtype: dtype of the batch tensors (float32 default); build the dataset with the same
            dtype to avoid a conversion per batch.
        prefetch: number of batches a background thread prepares ahead (0 = none).

    Each epoch draws one permutation (one ``generator.permutation(len(dataset))`` call); identical
    seeds give identical batches. Iterating again after an epoch ends starts the next epoch;
    abandoning an epoch (``break``) and iterating again also starts the next one, unless a state
    was loaded with :meth:`load_state_dict`, in which case iteration resumes at the saved position.
    """

    __slots__ = (
        "_epoch_state",
        "_np_dtype",
        "_resume",
        "batch_size",
        "dataset",
        "drop_last",
        "dtype",
        "generator",
        "prefetch",
        "shuffle",
    )

    def __init__(
        self,
        dataset: WindowDataset,
        batch_size: int = 32,
        *,
        shuffle: bool = False,
        seed: int | None = None,
        generator: np.random.Generator | None = None,
        drop_last: bool = False,
        dtype: DType | str = "float32",
        prefetch: int = 0,
    ) -> None:
        if not isinstance(dataset, WindowDataset):
            raise ConfigError(f"DataLoader needs a WindowDataset, got {type(dataset).__name__}")
        batch_size = check_count(batch_size, "batch_size", where="DataLoader")
        prefetch = check_count(prefetch, "prefetch", minimum=0, where="DataLoader")
        if seed is not None and generator is not None:
            raise ConfigError("give seed= or generator=, not both")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise ConfigError(
                f"generator must be a numpy.random.Generator, got {type(generator).__name__}"
            )
        if shuffle and seed is None and generator is None:
            raise ConfigError(
                "shuffle=True needs an explicit seed= or generator= (reproducible batches)"
            )
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.generator = generator if generator is not None else np.random.default_rng(seed)
        self.drop_last = bool(drop_last)
        self.dtype = DType.of(dtype)
        self._np_dtype = self.dtype.numpy
        if not self.dtype.is_floating:
            raise ConfigError(
                f"DataLoader dtype must be float32 or float64, got {self.dtype.value}"
            )
        dataset.require_dtype(self.dtype, f"use DataLoader(dtype={dataset.dtype.name!r})")
        self.prefetch = int(prefetch)
        self._epoch = 0
        self._position = 0
        self._in_progress = False
        self._epoch_state: dict[str, Any] | None = None
        self._resume: int | None = None
        if len(self) == 0:
            raise ConfigError(
                f"the loader has no batch: {len(dataset)} windows, batch_size={batch_size}, "
                f"drop_last={drop_last}"
            )

    def __len__(self) -> int:
        """Batches per epoch."""
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    # -- iteration -----------------------------------------------------------------------------
    def _order(self) -> np.ndarray | None:
        if not self.shuffle:
            return None
        return self.generator.permutation(len(self.dataset))

    def _batch_indices(self, order: np.ndarray | None, b: int) -> np.ndarray:
        lo = b * self.batch_size
        hi = min(len(self.dataset), lo + self.batch_size)
        if order is None:
            return np.arange(lo, hi, dtype=np.int64)
        return order[lo:hi]

    def _make(self, idx: np.ndarray) -> Batch:
        return gather_batch(self.dataset, idx, self._np_dtype)

    def __iter__(self) -> Iterator[Batch]:
        if self._resume is not None:
            start = self._resume
            self._resume = None
            assert self._epoch_state is not None
            self.generator.bit_generator.state = self._epoch_state
        else:
            if self._in_progress:  # an abandoned epoch counts as finished
                self._epoch += 1
            self._epoch_state = self.generator.bit_generator.state
            start = 0
        order = self._order()
        self._in_progress = True
        self._position = start
        n_batches = len(self)
        if self.prefetch:
            source: Iterator[Batch] = self._prefetched(order, start, n_batches)
        else:
            source = (self._make(self._batch_indices(order, b)) for b in range(start, n_batches))
        try:
            for b, batch in enumerate(source, start):
                self._position = b + 1
                yield batch
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()
        if self._position == n_batches:
            self._epoch += 1
            self._position = 0
            self._in_progress = False

    def _prefetched(self, order: np.ndarray | None, start: int, n_batches: int) -> Iterator[Batch]:
        q: queue.Queue[Any] = queue.Queue(maxsize=self.prefetch)
        stop = threading.Event()

        def put(item: Any) -> bool:
            while not stop.is_set():
                try:
                    q.put(item, timeout=0.05)
                    return True
                except queue.Full:
                    continue
            return False

        def work() -> None:
            try:
                for b in range(start, n_batches):
                    if not put(self._make(self._batch_indices(order, b))):
                        return
            except BaseException as exc:  # handed to the consumer
                put(("error", exc))
                return
            put(_DONE)

        thread = threading.Thread(target=work, name="swets-prefetch", daemon=True)
        thread.start()
        try:
            while True:
                item = q.get()
                if item is _DONE:
                    return
                if isinstance(item, tuple):
                    raise item[1]
                yield item
        finally:
            stop.set()
            thread.join()

    # -- state ---------------------------------------------------------------------------------
    def _identity(self) -> dict[str, Any]:
        return {
            "num_windows": len(self.dataset),
            "batch_size": self.batch_size,
            "shuffle": self.shuffle,
            "drop_last": self.drop_last,
        }

    def state_dict(self) -> dict[str, Any]:
        """Plain data to resume exactly: ``epoch``, ``position`` (batches delivered in it),
        ``rng_state`` (the generator state the epoch's permutation is drawn from; big integers
        as ``{"int": "<decimal>"}``), plus ``num_windows``, ``batch_size``, ``shuffle``,
        ``drop_last`` to check the loader it is loaded into."""
        rng_state = self._epoch_state if self._in_progress else self.generator.bit_generator.state
        return self._state(rng_state)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict`; the next iteration continues at the saved batch.

        A state saved after an epoch's last batch (``position == len(loader)``) resumes with an
        empty iteration that closes that epoch, exactly like the uninterrupted loop would.

        Raises StateDictError listing every missing key and every mismatch with this loader."""
        rng_state = self._checked_rng_state(state)
        self._epoch = int(state["epoch"])
        self._position = int(state["position"])
        if self._position > 0:
            self._epoch_state = rng_state
            self._resume = self._position
            self._in_progress = True
        else:
            self.generator.bit_generator.state = rng_state
            self._epoch_state = None
            self._resume = None
            self._in_progress = False

    def __repr__(self) -> str:
        return (
            f"DataLoader({len(self.dataset)} windows, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, dtype={self.dtype.value}, "
            f"prefetch={self.prefetch}, epoch={self._epoch}, position={self._position})"
        )


__all__ = exports_of(__name__)  # listed once, in the package's table of lazy exports
