"""Fixtures of the timeseries tests: the bundled MSFT bars and the validation fixture files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def msft():
    from swets_timeseries import load_dataset

    return load_dataset("msft")


@pytest.fixture(scope="session")
def electricity():
    from swets_timeseries import load_dataset

    return load_dataset("electricity")


def random_bars(n: int, seed: int = 0):
    """Valid random OHLCV bars (daily, strictly increasing timestamps)."""
    from swets_timeseries import OHLCV

    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = close * np.exp(rng.normal(0, 0.005, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.005, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.005, n)))
    volume = rng.integers(1_000, 100_000, n).astype(float)
    ts = np.datetime64("2020-01-01T00:00", "ns") + np.arange(n) * np.timedelta64(1, "h")
    return OHLCV(ts, open_, high, low, close, volume)
