"""Acceptance 1: a registered model trained on the bundled electricity data, with early stopping and
a scheduler, beats the naive and seasonal-naive baselines on MASE in a rolling-origin backtest.

Run with ``-s`` to see the figures.
"""

from __future__ import annotations

import pytest

from swets_core import registry
from swets_optim import Adam, ReduceLROnPlateau
from swets_timeseries import DataLoader, StandardScaler, WindowDataset, load_dataset
from swets_train import EarlyStopping, Trainer, backtest

from .conftest import mse_loss

LOOKBACK, HORIZON = 336, 48  # one week of half-hours in, one day out
FOLDS, STRIDE = 14, 48  # the last two weeks, one forecast per day
SEASON = 48


@pytest.mark.slow
def test_trained_model_beats_naive_and_seasonal_naive_on_mase():
    series = load_dataset("electricity")
    held_out = HORIZON + (FOLDS - 1) * STRIDE
    train_series = series[: len(series) - held_out]  # the backtest rows are never trained on

    raw = WindowDataset(train_series, LOOKBACK, HORIZON).split(val=0.2, test=0)
    scaler = StandardScaler().fit(train_series, rows=raw.train.rows)
    parts = WindowDataset(scaler.transform(train_series), LOOKBACK, HORIZON).split(val=0.2, test=0)
    train = DataLoader(parts.train, 64, shuffle=True, seed=0)
    val = DataLoader(parts.val, 512)

    model = registry.create(
        "models",
        "nbeats",
        lookback=LOOKBACK,
        horizon=HORIZON,
        num_blocks=2,
        num_layers=2,
        layer_width=128,
        seed=0,
    )
    opt = Adam(model.parameters(), lr=1e-3)
    stopper = EarlyStopping(patience=3, restore_best_weights=True)
    history = Trainer().fit(
        model,
        mse_loss(),
        opt,
        train,
        val,
        epochs=12,
        scheduler=ReduceLROnPlateau(opt, patience=1, factor=0.5),
        callbacks=[stopper],
        seed=0,
        progress=False,
    )

    report = backtest(
        {"nbeats": model},
        series,
        folds=FOLDS,
        stride=STRIDE,
        scaler=scaler,
        season_length=SEASON,
        baselines=("naive", "seasonal_naive"),
    )
    print(f"\ntrained {len(history)} epochs ({history.stop_reason or 'budget reached'})")
    print(f"best epoch {stopper.best_epoch}: val_loss {stopper.best:.4f}")
    print(f"backtest: {FOLDS} daily origins, horizon {HORIZON}, MASE with m={SEASON}")
    print(report.table())
    mase = {m: report.overall[m]["mase"] for m in report.models}
    assert mase["nbeats"] < mase["naive"]
    assert mase["nbeats"] < mase["seasonal_naive"]
