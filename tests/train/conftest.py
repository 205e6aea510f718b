"""Shared helpers of the swets-train tests: a small seasonal series, loaders, a small model, a loss."""

from __future__ import annotations

import numpy as np
import pytest

from swets_core import registry
from swets_timeseries import DataLoader, StandardScaler, TimeSeries, WindowDataset

LOOKBACK, HORIZON = 24, 6


def mse_loss():
    """The registered ``mse`` loss of swets-losses."""
    return registry.create("losses", "mse")


def seasonal_series(n: int = 360, period: int = 24, seed: int = 0, level: float = 100.0):
    """A positive seasonal series with noise, hourly timestamps, target ``y``."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = level + 10 * np.sin(2 * np.pi * t / period) + 0.05 * t + rng.normal(0, 1.0, n)
    stamps = np.datetime64("2024-01-01T00:00") + t.astype("timedelta64[h]")
    return TimeSeries(stamps, {"y": y}, target="y", id="s")


def data(dtype: str = "float64", batch_size: int = 32, seed: int = 7, prefetch: int = 0):
    """``(series, scaler, train loader (shuffled), validation loader)`` over a seasonal series."""
    series = seasonal_series()
    raw = WindowDataset(series, LOOKBACK, HORIZON, dtype=dtype)
    parts = raw.split(val=0.2, test=0)
    scaler = StandardScaler().fit(series, rows=parts.train.rows)
    scaled = WindowDataset(scaler.transform(series), LOOKBACK, HORIZON, dtype=dtype).split(
        val=0.2, test=0
    )
    train = DataLoader(
        scaled.train, batch_size, shuffle=True, seed=seed, dtype=dtype, prefetch=prefetch
    )
    val = DataLoader(scaled.val, 64, dtype=dtype)
    return series, scaler, train, val


def small_model(dtype: str = "float64", seed: int = 0, dropout: float = 0.2):
    """A 2-layer LSTM forecaster with dropout (so training draws random numbers)."""
    return registry.create(
        "models",
        "lstm",
        lookback=LOOKBACK,
        horizon=HORIZON,
        hidden_size=8,
        num_layers=2,
        dropout=dropout,
        dtype=dtype,
        seed=seed,
    )


def params_of(model) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in model.state_dict().items()}


def assert_bitwise_equal(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype, k
        assert a[k].tobytes() == b[k].tobytes(), f"{k} differs"


@pytest.fixture
def loss():
    return mse_loss()
