"""Training windows for global models over a panel, sampled as N-BEATS does (Oreshkin et al., ICLR
2020, section 3 and appendix).

Each window of a batch is drawn in two steps:

1. a series ``i``, uniformly among the ``N`` series (so every series counts equally, however long);
2. a forecast point (the *cut*) ``c``, uniformly among the last ``L`` points of that series' history
   that leave at least one point before and one at or after it::

       c ~ U{max(1, n_i - L), ..., n_i - 1}        L = int(history_size * horizon)
                                                     (L = n_i: the whole history, history_size None)

The input ``x`` is the ``lookback`` values before the cut, ``x[j] = v[c - lookback + j]``, zero where
``c - lookback + j < 0`` (the history is shorter than the lookback), with ``x_mask`` 0 there and 1
elsewhere. The target ``y`` is the ``horizon`` values from the cut on, ``y[j] = v[c + j]``, zero where
``c + j >= n_i`` (the horizon runs past the end), with ``y_mask`` marking the real values. A loss
multiplied by ``y_mask`` then ignores the padding.

Storage: the values of every series are kept once, back to back, in one flat array with an offset per
series; a batch is one vectorised gather (``flat[offset + position]``) for all its windows, so memory
grows with the data and the batch, never with the number of possible windows, and no Python loop runs
per window. Randomness comes only from the ``numpy.random.Generator`` given: identical generators give
identical batches (save ``swets_core.checkpoint.generator_state(rng)`` to resume).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from swets_core.checks import array_pair, check_count, check_generator
from swets_core.dtype import DType
from swets_core.errors import (
    ArgumentTypeError,
    ConfigError,
    DataValidationError,
    ShapeError,
)
from swets_core.lazy import exports_of
from swets_timeseries.loader import _Epochs
from swets_timeseries.series import SeriesCollection, TimeSeries

__all__ = exports_of(__name__)  # listed once, in the package's table of lazy exports


class PanelBatch:
    """One batch of sampled windows (numpy arrays in the sampler's dtype).

    Attributes:
        x: (B, lookback) inputs, zero-padded on the left ((B, lookback, 1) from a
            :class:`PanelLoader`, the models' ``(batch, lookback, features)``).
        x_mask: (B, lookback) 1 where ``x`` holds a value of the series, 0 on padding.
        y: (B, horizon) targets, zero-padded on the right.
        y_mask: (B, horizon) 1 where ``y`` holds a value of the series, 0 on padding.
        series: (B,) int64 index of each window's series (into the sampler's ``ids``).
        cut: (B,) int64 position of each window's first target in its series.
        scale: (B,) the MASE scale of each window's series (``PanelSampler.scales``), or None
            when the sampler was built without ``season_length``.

    Unpacks as ``x, x_mask, y, y_mask = batch``.
    """

    __slots__ = ("cut", "scale", "series", "x", "x_mask", "y", "y_mask")

    def __init__(
        self,
        x: np.ndarray,
        x_mask: np.ndarray,
        y: np.ndarray,
        y_mask: np.ndarray,
        series: np.ndarray,
        cut: np.ndarray,
        scale: np.ndarray | None = None,
    ) -> None:
        self.x, self.x_mask, self.y, self.y_mask = x, x_mask, y, y_mask
        self.series, self.cut, self.scale = series, cut, scale

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.x, self.x_mask, self.y, self.y_mask))

    def __len__(self) -> int:
        return int(self.series.shape[0])

    def __repr__(self) -> str:
        return f"PanelBatch(x={self.x.shape}, y={self.y.shape}, dtype={self.x.dtype})"


def _series_values(data: Any, column: str | None) -> tuple[tuple[str, ...], list[np.ndarray]]:
    """(ids, 1-D value arrays) of a SeriesCollection, a TimeSeries, a mapping id -> values or a
    sequence of 1-D arrays (ids "0", "1", ...)."""
    if isinstance(data, TimeSeries):
        data = SeriesCollection([data])
    if isinstance(data, SeriesCollection):
        if column is None:
            if len(data.target) != 1:
                raise ConfigError(
                    f"PanelSampler: the series have {len(data.target)} targets "
                    f"({', '.join(data.target)}); name the one to sample with column="
                )
            column = data.target[0]
        return data.ids, [s.column(column) for s in data]
    if column is not None:
        raise ConfigError("PanelSampler: column= applies to a SeriesCollection or TimeSeries only")
    if isinstance(data, Mapping):
        return tuple(str(k) for k in data), [np.asarray(v) for v in data.values()]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return tuple(str(i) for i in range(len(data))), [np.asarray(v) for v in data]
    raise ArgumentTypeError(
        "PanelSampler: data must be a SeriesCollection, a TimeSeries, a mapping id -> values or a "
        f"list of 1-D arrays, got {type(data).__name__}"
    )


def _series_scales(scales: Any, ids: tuple[str, ...]) -> np.ndarray:
    """``scales`` as a checked (N,) float64 array: one positive finite number per series."""
    try:
        arr = np.asarray(scales, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(
            f"PanelSampler: scales must be {len(ids)} numbers, one per series, got {scales!r}"
        ) from None
    if arr.shape != (len(ids),):
        raise ConfigError(
            f"PanelSampler: scales must hold one number per series ({len(ids)}), got shape "
            f"{arr.shape}"
        )
    bad = np.flatnonzero(~(np.isfinite(arr) & (arr > 0)))
    if bad.size:
        i = int(bad[0])
        raise ConfigError(
            f"PanelSampler: the scale of series {ids[i]!r} must be a positive finite number, got "
            f"{arr[i]} ({bad.size} bad scale(s))"
        )
    return arr


class PanelSampler:
    """Sample N-BEATS training windows from many series (see the module docstring for the law).

    Args:
        data: a :class:`SeriesCollection` (or one :class:`TimeSeries`), a mapping id -> 1-D values,
            or a list of 1-D arrays. Every series needs at least 2 values, all finite.
        lookback: input length (the paper's ``L``, e.g. 2 to 7 times the horizon).
        horizon: target length ``H``.
        rng: the ``numpy.random.Generator`` every draw comes from (seed it:
            ``numpy.random.default_rng(0)``).
        history_size: the paper's ``L_H``: cuts are drawn among the last ``int(history_size *
            horizon)`` points of each series (at least 1); None draws them over the whole history.
        batch_size: windows per batch of :meth:`sample` and of iteration.
        column: the column of a SeriesCollection to sample (default: its single target).
        dtype: dtype of the stored values and of the batches (float32 default).
        scales: optional (N,) positive finite numbers, one per series in ``ids`` order, handed out
            with every window of that series as ``PanelBatch.scale`` (the MASE loss's ``scale=``:
            the seasonal naive error of each series' history, so that training weighs windows as
            the competitions' MASE weighs series).

    Attributes:
        ids: series ids, in the order of ``PanelBatch.series`` indices.
        lengths: (N,) int64 number of values of each series.
        first_cut: (N,) int64 smallest cut of each series (the largest is ``lengths - 1``).
        scales: the ``scales`` given (float64), or None.

    Raises:
        ConfigError: a size that is not a positive integer, no series at all, or ``scales`` of
            the wrong length or with a value that is not positive and finite (named).
        ArgumentTypeError: ``rng`` is not a ``numpy.random.Generator``.
        ShapeError: a series that is not 1-D.
        DataValidationError: a series with fewer than 2 values or a non-finite value (named).
    """

    __slots__ = (
        "_offsets",
        "_values",
        "batch_size",
        "dtype",
        "first_cut",
        "history_size",
        "horizon",
        "ids",
        "lengths",
        "lookback",
        "rng",
        "scales",
    )

    def __init__(
        self,
        data: Any,
        *,
        lookback: int,
        horizon: int,
        rng: np.random.Generator,
        history_size: float | None = None,
        batch_size: int = 1024,
        column: str | None = None,
        dtype: DType | str = "float32",
        scales: Any = None,
    ) -> None:
        self.lookback = check_count(lookback, "lookback", where="PanelSampler")
        self.horizon = check_count(horizon, "horizon", where="PanelSampler")
        self.batch_size = check_count(batch_size, "batch_size", where="PanelSampler")
        self.rng = check_generator(rng, "PanelSampler")
        np_dtype = DType.of(dtype).numpy
        if np_dtype.kind != "f":
            raise ConfigError(f"PanelSampler: dtype must be a float dtype, got {np_dtype}")
        self.dtype = np_dtype
        if history_size is not None:
            if isinstance(history_size, bool) or not isinstance(history_size, numbers.Real):
                raise ConfigError(
                    f"PanelSampler: history_size must be a number > 0 or None, got {history_size!r}"
                )
            if not np.isfinite(history_size) or history_size <= 0:
                raise ConfigError(f"PanelSampler: history_size must be > 0, got {history_size!r}")
            if int(history_size * self.horizon) < 1:
                raise ConfigError(
                    f"PanelSampler: history_size {history_size} times horizon {self.horizon} "
                    "leaves no point to cut at (it must be at least 1)"
                )
        self.history_size = history_size

        ids, arrays = _series_values(data, column)
        if not arrays:
            raise ConfigError("PanelSampler: no series to sample from")
        lengths = np.empty(len(arrays), dtype=np.int64)
        for i, (sid, arr) in enumerate(zip(ids, arrays)):
            if arr.ndim != 1:
                raise ShapeError(f"PanelSampler: series {sid!r} must be 1-D, got shape {arr.shape}")
            if arr.shape[0] < 2:
                raise DataValidationError(
                    f"PanelSampler: series {sid!r} has {arr.shape[0]} value(s); a window needs at "
                    "least one value before its cut and one from it on (2 values)"
                )
            lengths[i] = arr.shape[0]
        # one copy, straight into the dtype (as np.asarray(a, dtype) converts each series)
        with np.errstate(over="ignore"):  # a finite value beyond np_dtype is named below
            values = np.concatenate(arrays, dtype=np_dtype, casting="unsafe")
        bad = ~np.isfinite(values)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            k = int(np.searchsorted(np.cumsum(lengths), pos, side="right"))
            row = pos - int(lengths[:k].sum())
            try:  # the value as given (a float64 holds what float32 cannot)
                given = float(np.asarray(arrays[k][row : row + 1], dtype=np.float64)[0])
            except (TypeError, ValueError, OverflowError):
                given = float("nan")
            if np.isfinite(given):
                raise DataValidationError(
                    f"PanelSampler: series {ids[k]!r} has the value {given!r} at position {row}, "
                    f"beyond the range of {np_dtype} (largest finite "
                    f"{float(np.finfo(np_dtype).max):.6g}); use dtype='float64' or rescale it"
                )
            raise DataValidationError(
                f"PanelSampler: series {ids[k]!r} has a non-finite value ({values[pos]}) at "
                f"position {row}; fill or drop it first"
            )
        self.ids = ids
        self.lengths = lengths
        self._values = values
        self._offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        if history_size is None:
            self.first_cut = np.ones_like(lengths)
        else:
            limit = int(history_size * self.horizon)
            self.first_cut = np.maximum(1, lengths - limit)
        self.scales = None if scales is None else _series_scales(scales, ids)

    def __len__(self) -> int:
        """The number of series."""
        return int(self.lengths.shape[0])

    @property
    def nbytes(self) -> int:
        """Bytes held for the data: the flat values plus three int64 per series (length, offset,
        first cut); independent of the number of windows."""
        arrays = (self._values, self._offsets, self.first_cut, self.lengths)
        return int(sum(a.nbytes for a in arrays))

    def _gather(self, series: np.ndarray, cut: np.ndarray, width: int, before: bool) -> tuple:
        """Values and mask at positions ``cut - width + j`` (before) or ``cut + j`` (after)."""
        step = np.arange(width, dtype=np.int64)
        pos = (cut - width)[:, None] + step if before else cut[:, None] + step
        n = self.lengths[series][:, None]
        mask = (pos >= 0) & (pos < n)
        flat = self._offsets[series][:, None] + np.clip(pos, 0, n - 1)
        out = np.where(mask, self._values[flat], 0).astype(self.dtype, copy=False)
        return out, mask.astype(self.dtype)

    def windows(self, series: Any, cut: Any) -> PanelBatch:
        """The windows at given series indices and cuts (what :meth:`sample` returns for its draws).

        Args:
            series: (B,) indices into ``ids``.
            cut: (B,) positions of the first target, each in ``1 .. lengths[series]`` (a cut equal
                to the length gives the last input window and a target of padding only).

        Raises:
            ShapeError: series and cut of different shapes or not 1-D.
            ConfigError: an index or cut out of range (named).
        """
        names, where = ("series", "cut"), "PanelSampler.windows"
        s, c = array_pair(series, cut, np.int64, 1, names, "1-D of one length", where)
        bad = np.flatnonzero((s < 0) | (s >= len(self)))
        if bad.size:
            raise ConfigError(
                f"PanelSampler.windows: series index {int(s[bad[0]])} is out of range for "
                f"{len(self)} series"
            )
        n = self.lengths[s]
        bad = np.flatnonzero((c < 1) | (c > n))
        if bad.size:
            i = int(bad[0])
            raise ConfigError(
                f"PanelSampler.windows: cut {int(c[i])} is out of range for series "
                f"{self.ids[int(s[i])]!r} of {int(n[i])} values (1 .. {int(n[i])})"
            )
        return self._batch(s, c)

    def _batch(self, s: np.ndarray, c: np.ndarray) -> PanelBatch:
        x, x_mask = self._gather(s, c, self.lookback, before=True)
        y, y_mask = self._gather(s, c, self.horizon, before=False)
        scale = None if self.scales is None else self.scales[s].astype(self.dtype)
        return PanelBatch(x, x_mask, y, y_mask, s, c, scale)

    def sample(self, batch_size: int | None = None) -> PanelBatch:
        """One batch: ``batch_size`` windows (default ``self.batch_size``) drawn from ``rng``.

        Two draws per batch, in this order: the series (``rng.integers(0, N, B)``), then the cuts
        (``rng.integers(first_cut[s], lengths[s])``).
        """
        b = (
            self.batch_size
            if batch_size is None
            else check_count(batch_size, "batch_size", where="PanelSampler")
        )
        s = self.rng.integers(0, len(self), size=b, dtype=np.int64)
        c = self.rng.integers(self.first_cut[s], self.lengths[s], dtype=np.int64)
        return self._batch(s, c)

    def __iter__(self) -> Iterator[PanelBatch]:
        """Batches without end (training runs a number of steps, not epochs)."""
        while True:
            yield self.sample()

    def last_windows(self) -> tuple[np.ndarray, np.ndarray]:
        """The input window ending at the last value of every series, for forecasting past it.

        Returns:
            ``(x, x_mask)``, each (N, lookback), in ``ids`` order.
        """
        s = np.arange(len(self), dtype=np.int64)
        return self._gather(s, self.lengths.copy(), self.lookback, before=True)

    def __repr__(self) -> str:
        return (
            f"PanelSampler({len(self)} series, lookback={self.lookback}, horizon={self.horizon}, "
            f"history_size={self.history_size}, batch_size={self.batch_size})"
        )


class PanelLoader(_Epochs):
    """A :class:`PanelSampler`'s batches as a training loop takes them: :meth:`Trainer.fit
    <swets_train.Trainer.fit>` iterates it like a ``DataLoader`` and resumes it mid-epoch.

    The sampler draws without end; the loader cuts the draws into epochs of ``steps_per_epoch``
    batches (so progress, the per-epoch history and epoch schedulers have something to count) and
    trains for ``fit(max_steps=...)`` or ``fit(epochs=...)``. Each batch is the next
    :meth:`PanelSampler.sample`, its input laid out as the models read it: ``x`` (B, lookback, 1)
    (the target as the one feature), ``x_mask`` (B, lookback), ``y`` and ``y_mask`` (B, horizon),
    ``scale`` (B,) when the sampler has ``scales``. The training loop hands ``y_mask`` to the loss as
    its ``mask`` (padding past a series' end is not a target) and ``scale`` to a loss that takes one
    (MASE).

    Args:
        sampler: the :class:`PanelSampler` to draw from (its ``rng`` is the loader's
            ``generator``, which ``fit(seed=...)`` reseeds in place).
        steps_per_epoch: batches per epoch (default 100).

    Resuming: the sampler's draws are sequential, so the state after batch ``b`` of an epoch is the
    generator's state at that moment; :meth:`state_dict` records it with the epoch and position,
    and after :meth:`load_state_dict` the next iteration draws exactly the batches an uninterrupted
    run would have drawn. An iteration abandoned mid-epoch counts as a finished epoch (as with
    ``DataLoader``).
    """

    __slots__ = ("_resume", "sampler", "steps_per_epoch")

    def __init__(self, sampler: PanelSampler, steps_per_epoch: int = 100) -> None:
        if not isinstance(sampler, PanelSampler):
            raise ArgumentTypeError(
                f"PanelLoader: sampler must be a PanelSampler, got {type(sampler).__name__}"
            )
        self.sampler = sampler
        self.steps_per_epoch = check_count(steps_per_epoch, "steps_per_epoch", where="PanelLoader")
        self._epoch = 0
        self._position = 0
        self._in_progress = False
        self._resume = False

    def __len__(self) -> int:
        """Batches per epoch."""
        return self.steps_per_epoch

    @property
    def generator(self) -> np.random.Generator:
        """The sampler's generator (every draw comes from it)."""
        return self.sampler.rng

    @property
    def batch_size(self) -> int:
        """Windows per batch (the sampler's)."""
        return self.sampler.batch_size

    def __iter__(self) -> Iterator[PanelBatch]:
        if self._resume:
            self._resume = False
        else:
            if self._in_progress:  # an abandoned epoch counts as finished
                self._epoch += 1
            self._position = 0
        self._in_progress = True
        sampler = self.sampler
        for b in range(self._position, self.steps_per_epoch):
            batch = sampler.sample()
            batch.x = batch.x[:, :, None]
            self._position = b + 1
            yield batch
        if self._position == self.steps_per_epoch:
            self._epoch += 1
            self._position = 0
            self._in_progress = False

    def _identity(self) -> dict[str, Any]:
        s = self.sampler
        return {
            "steps_per_epoch": self.steps_per_epoch,
            "batch_size": s.batch_size,
            "num_series": len(s),
            "lookback": s.lookback,
            "horizon": s.horizon,
        }

    def state_dict(self) -> dict[str, Any]:
        """Plain data to resume exactly: ``epoch``, ``position`` (batches delivered in it),
        ``rng_state`` (the generator's state now; integers wider than 64 bits as ``{"int":
        "<decimal>"}``), plus ``steps_per_epoch``, ``batch_size``, ``num_series``, ``lookback``
        and ``horizon`` to check the loader it is loaded into."""
        return self._state(self.sampler.rng.bit_generator.state)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict`; the next iteration continues at the saved batch (a state
        saved after an epoch's last batch gives one empty iteration that closes that epoch).

        Raises:
            StateDictError: listing every missing key and every mismatch with this loader.
        """
        rng_state = self._checked_rng_state(state)
        self.sampler.rng.bit_generator.state = rng_state
        self._epoch = int(state["epoch"])
        self._position = int(state["position"])
        self._in_progress = self._resume = self._position > 0

    def __repr__(self) -> str:
        return (
            f"PanelLoader({self.sampler!r}, steps_per_epoch={self.steps_per_epoch}, "
            f"epoch={self._epoch}, position={self._position})"
        )
