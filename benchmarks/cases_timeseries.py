"""Data loading: swets_timeseries.DataLoader vs a PyTorch DataLoader over an equivalent Dataset.

The data: the bundled MSFT daily bars (open, high, low, close, volume) tiled to 1,000,000 rows,
float32, one bar per minute. Windows: lookback 96, horizon 24, 5 input features (close first),
target close, so a batch is x (256, 96, 5) and y (256, 24). Both loaders shuffle with a fixed seed.

- swets: ``WindowDataset`` (sliding-window views) + ``DataLoader(batch_size=256, shuffle=True,
  seed=0)``, batches as swets Tensors.
- torch: a map-style ``Dataset`` whose ``__getitem__`` returns ``(x, y)`` tensors sliced from the same
  float32 array (``torch.from_numpy``, no copies), ``torch.utils.data.DataLoader(batch_size=256,
  shuffle=True, num_workers=0)`` with the default collate.

One timed call draws 20 batches (5,120 windows) from a running iterator (a new epoch starts when one
ends), so windows per second = 5120 / (milliseconds per call / 1000).
"""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.harness import Case

N_ROWS = 1_000_000
LOOKBACK, HORIZON, BATCH = 96, 24, 256
BATCHES_PER_CALL = 20
COLUMNS = ("close", "open", "high", "low", "volume")


def _tiled_msft():
    """(N_ROWS, 5) float32 array of the MSFT columns (close first) repeated, and minute timestamps."""
    import numpy as np

    from swets_timeseries import load_dataset

    bars = load_dataset("msft")
    base = bars.to_array(COLUMNS, dtype=np.float32)
    reps = -(-N_ROWS // base.shape[0])
    data = np.ascontiguousarray(np.tile(base, (reps, 1))[:N_ROWS])
    ts = np.datetime64("2000-01-01", "ns") + np.arange(N_ROWS) * np.timedelta64(1, "m")
    return data, ts


def _draw(make_iter: Callable[[], object]) -> Callable[[], object]:
    state = {"it": make_iter()}

    def run() -> object:
        batch = None
        for _ in range(BATCHES_PER_CALL):
            try:
                batch = next(state["it"])
            except StopIteration:
                state["it"] = make_iter()
                batch = next(state["it"])
        return batch

    return run


def swets_loader() -> Callable[[], object]:
    from swets_timeseries import DataLoader, TimeSeries, WindowDataset

    data, ts = _tiled_msft()
    series = TimeSeries(
        ts,
        {name: data[:, j] for j, name in enumerate(COLUMNS)},
        target="close",
        covariates=list(COLUMNS[1:]),
        id="msft_tiled",
    )
    dataset = WindowDataset(series, LOOKBACK, HORIZON)
    loader = DataLoader(dataset, BATCH, shuffle=True, seed=0)
    return _draw(lambda: iter(loader))


def torch_loader() -> Callable[[], object]:
    import torch
    from torch.utils.data import DataLoader, Dataset

    data, _ = _tiled_msft()
    x_all = torch.from_numpy(data)
    close = torch.from_numpy(data[:, 0].copy())
    length = LOOKBACK + HORIZON

    class Windows(Dataset):
        def __len__(self) -> int:
            return N_ROWS - length + 1

        def __getitem__(self, i: int):
            return x_all[i : i + LOOKBACK], close[i + LOOKBACK : i + length]

    loader = DataLoader(
        Windows(),
        batch_size=BATCH,
        shuffle=True,
        num_workers=0,
        generator=torch.Generator().manual_seed(0),
    )
    return _draw(lambda: iter(loader))


CASES = [
    Case(
        name="timeseries.loader_msft_1m",
        group="timeseries: data loading",
        setups={"swets": swets_loader, "torch": torch_loader},
        number=1,
        note=(
            f"{BATCHES_PER_CALL} shuffled batches of {BATCH} windows (lookback {LOOKBACK}, horizon "
            f"{HORIZON}, 5 features) per call over MSFT tiled to 1M rows; windows/s = "
            f"{BATCHES_PER_CALL * BATCH} / seconds per call"
        ),
    ),
]
