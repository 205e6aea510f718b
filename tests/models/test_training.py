"""Each model learns the bundled electricity demand and beats the naive forecast on held-out windows.

Half-hourly demand, lookback 96 (two days), horizon 24 (twelve hours). The last 20% of the rows are
held out: the split is chronological, every test window (inputs and targets) lies in the held-out
rows, and the scaler is fitted on the training rows only. Each model trains with a fixed seed and a
small budget (an explicit loop: tape, loss, Adam) and is scored by MAE against the naive (last value)
and seasonal-naive (lag 48, one day) forecasts of the same windows. Run with ``-s`` to see the table.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from swets_core import GradientTape, Tensor, no_grad, registry
from swets_timeseries import DataLoader, StandardScaler, WindowDataset, load_dataset
from swets_timeseries.features import calendar_features

LOOKBACK, HORIZON, SEASON = 96, 24, 48
TEST_FRACTION = 0.2

# name -> (config, batch size, steps, learning rate); covariates: the hour of day as sin/cos
RECIPES = {
    "nbeats": (
        {"stack_types": ["generic"], "num_blocks": 3, "num_layers": 2, "layer_width": 128},
        64,
        300,
        2e-3,
    ),
    "tcn": ({"channels": 12, "levels": 4, "kernel_size": 4, "dropout": 0.0}, 32, 120, 3e-3),
    "lstm": ({"hidden_size": 32, "num_layers": 1}, 32, 200, 3e-3),
    "transformer": (
        {
            "d_model": 16,
            "n_heads": 2,
            "num_layers": 1,
            "dim_feedforward": 32,
            "dropout": 0.0,
            "activation": "relu",
        },
        32,
        200,
        3e-3,
    ),
    "nlinear": ({}, 32, 150, 3e-3),
    "dlinear": ({"kernel_size": 25}, 32, 150, 3e-3),
    "nhits": (
        {
            "pool_kernel_size": [8, 4, 1],
            "freq_downsample": [12, 4, 1],
            "num_layers": 2,
            "layer_width": 64,
        },
        64,
        200,
        2e-3,
    ),
    "tide": (
        {
            "hidden_size": 64,
            "decoder_output_dim": 8,
            "temporal_decoder_hidden": 32,
            "dropout": 0.0,
        },
        32,
        200,
        3e-3,
    ),
    "patchtst": (
        {
            "d_model": 16,
            "n_heads": 4,
            "num_layers": 1,
            "dim_feedforward": 32,
            "dropout": 0.0,
        },
        32,
        150,
        3e-3,
    ),
}


@pytest.fixture(scope="module")
def electricity():
    series = load_dataset("electricity")
    cal = calendar_features(series.timestamps)
    series = series.with_columns(
        covariates=["hour_sin", "hour_cos"], hour_sin=cal["hour_sin"], hour_cos=cal["hour_cos"]
    )
    raw = WindowDataset(series, LOOKBACK, HORIZON).split(val=None, test=TEST_FRACTION)
    ((train_lo, train_hi),) = raw.train.rows.values()
    ((test_lo, test_hi),) = raw.test.rows.values()
    assert train_hi <= test_lo and test_hi == len(series)  # chronological, disjoint

    scaler = StandardScaler().fit(series, rows=slice(train_lo, train_hi))
    demand = series.column("demand_mw")
    np.testing.assert_allclose(scaler.mean[0], demand[train_lo:train_hi].mean())  # train rows only
    scaled = scaler.transform(series)

    out = SimpleNamespace(scale=float(scaler.std[0]))
    for key, covariates in (("with_covariates", None), ("target_only", [])):
        splits = WindowDataset(scaled, LOOKBACK, HORIZON, covariates=covariates).split(
            val=None, test=TEST_FRACTION
        )
        assert splits.train.rows == raw.train.rows and splits.test.rows == raw.test.rows
        x_test, y_test, _ = splits.test.gather(np.arange(len(splits.test)))
        setattr(out, key, SimpleNamespace(train=splits.train, x_test=x_test, y_test=y_test))
    x, y = out.target_only.x_test, out.target_only.y_test
    out.naive = float(np.abs(x[:, -1:, 0] - y).mean())
    out.seasonal_naive = float(
        np.abs(x[:, LOOKBACK - SEASON : LOOKBACK - SEASON + HORIZON, 0] - y).mean()
    )
    return out


def train(model, dataset, steps: int, batch: int, lr: float, loss_fn) -> None:
    """Adam on shuffled mini-batches (fixed seed) for ``steps`` steps."""
    opt = registry.create("optimizers", "adam", model.parameters(), lr=lr)
    loader = DataLoader(dataset, batch_size=batch, shuffle=True, seed=0, drop_last=True)
    model.train()
    done = 0
    while done < steps:
        for x, y, _ in loader:
            with GradientTape() as tape:
                loss = loss_fn(model(x), y)
            opt.step(None, tape.backward(loss))
            done += 1
            if done == steps:
                break
    model.eval()


def predict(model, x: np.ndarray) -> np.ndarray:
    with no_grad():
        return np.concatenate(
            [model(Tensor(x[i : i + 256])).numpy() for i in range(0, len(x), 256)]
        )


@pytest.mark.parametrize("name", list(RECIPES))
def test_model_beats_naive_on_held_out_electricity(name, electricity):
    config, batch, steps, lr = RECIPES[name]
    factory = registry.get("models", name)
    covariates = name != "nbeats" and factory.supports_past_covariates
    data = electricity.with_covariates if covariates else electricity.target_only
    n_features = data.x_test.shape[2]
    model = registry.create(
        "models", name, n_features=n_features, lookback=LOOKBACK, horizon=HORIZON, seed=0, **config
    )
    train(model, data.train, steps, batch, lr, registry.create("losses", "mse"))
    mae = float(np.abs(predict(model, data.x_test) - data.y_test).mean())
    s = electricity.scale
    report = (
        f"{name:<12} MAE {mae * s:7.1f} MW | naive {electricity.naive * s:7.1f} MW | "
        f"seasonal naive (lag {SEASON}) {electricity.seasonal_naive * s:7.1f} MW "
        f"| {len(data.y_test)} held-out windows, {steps} steps of {batch}"
    )
    print(report)
    assert mae < 0.5 * electricity.naive, report
    assert mae < electricity.seasonal_naive, report


def test_nbeats_quantile_head_learns_calibrated_intervals(electricity):
    levels = [0.1, 0.5, 0.9]
    config, batch, steps, lr = RECIPES["nbeats"]
    data = electricity.target_only
    model = registry.create(
        "models", "nbeats", lookback=LOOKBACK, horizon=HORIZON, quantiles=levels, seed=0, **config
    )
    train(
        model, data.train, steps, batch, lr, registry.create("losses", "quantile", quantiles=levels)
    )
    pred = predict(model, data.x_test)  # (windows, horizon, 3)
    y = data.y_test
    assert pred.shape == (*y.shape, 3)
    median_mae = float(np.abs(pred[..., 1] - y).mean())
    coverage = float(((y >= pred[..., 0]) & (y <= pred[..., 2])).mean())
    crossed = float((pred[..., 0] > pred[..., 2]).mean())
    print(
        f"nbeats q-head median MAE {median_mae * electricity.scale:.1f} MW, "
        f"10-90% interval coverage {coverage:.1%}, crossed {crossed:.1%}"
    )
    assert median_mae < 0.5 * electricity.naive
    assert 0.6 <= coverage <= 0.97
    assert crossed < 0.02
