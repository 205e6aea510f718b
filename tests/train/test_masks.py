"""A batch's masks: the input mask reaches the model as ``mask=`` and the targets' mask the loss as
``mask=`` (the N-BEATS protocol's windows, zero-padded for short histories)."""

from __future__ import annotations

import numpy as np
import pytest

from swets_core import Tensor, no_grad, registry
from swets_optim import SGD
from swets_timeseries import PanelSampler
from swets_train import fit
from swets_train.executor import batch_gradients, model_inputs, target_mask, unpack_batch


def _setup():
    series = [np.arange(1.0, 7.0), np.linspace(2.0, 9.0, 40)]  # the first is shorter than L + H
    sampler = PanelSampler(
        series, lookback=8, horizon=3, rng=np.random.default_rng(0), batch_size=16, dtype="float64"
    )
    model = registry.create(
        "models",
        "nbeats",
        lookback=8,
        horizon=3,
        num_blocks=2,
        num_layers=2,
        layer_width=8,
        dtype="float64",
        seed=0,
    )
    return sampler, model, registry.create("losses", "mse")


def test_the_masks_of_a_panel_batch_reach_the_model_and_the_loss():
    sampler, model, loss = _setup()
    batch = sampler.sample()
    assert (batch.x_mask == 0).any() and (batch.y_mask == 0).any()
    x, y = unpack_batch(batch)
    inputs, mask = model_inputs(batch), target_mask(batch)
    assert set(inputs) == {"mask"} and mask.dtype == bool
    value, grads = batch_gradients(model, loss, x, y, inputs, mask)
    with no_grad():
        pred = model(x, mask=Tensor(batch.x_mask)).numpy()
    observed = batch.y_mask == 1
    assert value == pytest.approx(np.mean((pred - batch.y)[observed] ** 2), rel=1e-12)
    # values at padded input positions (and beyond the targets) change nothing
    noisy = batch.x + (1 - batch.x_mask) * 1e3
    wild_y = batch.y + (1 - batch.y_mask) * 1e3
    again, grads2 = batch_gradients(model, loss, Tensor(noisy), Tensor(wild_y), inputs, mask)
    assert again == value
    for k, g in grads.items():
        np.testing.assert_array_equal(grads2[k].numpy(), g.numpy())


def test_fit_trains_on_a_panel_samplers_batches():
    sampler, model, loss = _setup()
    batches = [sampler.sample() for _ in range(3)]
    history = fit(model, loss, SGD(model.parameters(), lr=0.01), batches, epochs=2, progress=False)
    assert history["step"] == [3, 6] and np.isfinite(history["loss"]).all()
