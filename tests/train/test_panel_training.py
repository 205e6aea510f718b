"""The N-BEATS protocol through the one training loop: ``Trainer.fit`` takes a ``PanelLoader`` like a
``DataLoader``, hands the batch's target mask and MASE scale to the loss, and resumes exactly."""

from __future__ import annotations

import numpy as np
import pytest

from swets_core import GradientTape, Tensor, ops, registry
from swets_timeseries import PanelLoader, PanelSampler
from swets_train import Trainer
from swets_train.executor import batch_gradients, loss_keywords, model_inputs, target_mask


def panel(n_series=12, seed=0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(6, 40, size=n_series)
    return [50.0 + np.abs(rng.normal(1.0, 0.3, size=n)).cumsum() for n in lengths]


def build(seed=3, steps_per_epoch=5, scales=None, history_size=3.0):
    sampler = PanelSampler(
        panel(),
        lookback=8,
        horizon=4,
        rng=np.random.default_rng(1),
        history_size=history_size,
        batch_size=16,
        dtype="float64",
        scales=scales,
    )
    model = registry.create(
        "models",
        "nbeats",
        lookback=8,
        horizon=4,
        num_blocks=2,
        num_layers=2,
        layer_width=8,
        seed=0,
        dtype="float64",
    )
    opt = registry.create("optimizers", "adam", model.parameters(), lr=1e-3)
    return model, opt, PanelLoader(sampler, steps_per_epoch=steps_per_epoch)


def test_loss_keywords_come_from_the_batch_and_what_the_loss_takes():
    scales = np.linspace(1.0, 2.0, 12)
    _, _, ld = build(scales=scales)
    batch = next(iter(ld))
    mase = registry.create("losses", "mase")
    smape = registry.create("losses", "smape")
    args = loss_keywords(mase, batch)
    assert set(args) == {"scale"} and args["scale"] is batch.scale
    assert loss_keywords(smape, batch) == {}
    assert loss_keywords(mase, (np.zeros((2, 3)), np.zeros((2, 1)))) == {}
    np.testing.assert_array_equal(target_mask(batch), batch.y_mask != 0)
    assert set(model_inputs(batch)) == {"mask"}  # the input mask reaches the model
    assert mase.call_keys == ("insample", "scale") and smape.call_keys == ()


def test_a_step_on_a_panel_batch_is_the_masked_scaled_loss_and_its_gradient():
    scales = np.linspace(1.0, 2.0, 12)
    model, _, ld = build(scales=scales)
    batch = next(iter(ld))
    assert (batch.y_mask == 0).any()  # the horizon ran past some series' ends
    loss = registry.create("losses", "mase")
    value, grads = batch_gradients(
        model,
        loss,
        Tensor(batch.x),
        Tensor(batch.y),
        model_inputs(batch),
        target_mask(batch),
        loss_keywords(loss, batch),
    )
    # by hand: mean over the real targets of |pred - y| / scale of the window's series
    with GradientTape() as tape:
        pred = model(Tensor(batch.x), mask=Tensor(batch.x_mask))
        err = ops.abs(pred - Tensor(batch.y)) * Tensor(batch.y_mask / batch.scale[:, None])
        expected = ops.sum(err) * (1.0 / batch.y_mask.sum())
    assert value == pytest.approx(float(expected._data), rel=1e-12)
    by_hand = tape.backward(expected)
    for p in model.parameters():
        np.testing.assert_allclose(grads[p.id]._data, by_hand[p.id]._data, rtol=1e-9, atol=1e-12)


def test_fit_trains_on_a_panel_loader_and_resumes_bit_for_bit(tmp_path):
    loss = registry.create("losses", "smape")
    model, opt, ld = build()
    history = Trainer().fit(model, loss, opt, ld, max_steps=13, seed=4, progress=False)
    assert [r["step"] for r in history.records] == [5, 10, 13] and history.partial
    assert history.records[-1]["loss"] < history.records[0]["loss"]

    model2, opt2, ld2 = build()
    trainer = Trainer()
    trainer.fit(model2, loss, opt2, ld2, max_steps=7, seed=4, progress=False)
    path = tmp_path / "panel.swets"
    trainer.save_checkpoint(path)
    model3, opt3, ld3 = build()
    resumed = Trainer().fit(
        model3, loss, opt3, ld3, max_steps=13, seed=4, progress=False, resume_from=path
    )
    for a, b in zip(model.parameters(), model3.parameters()):
        np.testing.assert_array_equal(a._data, b._data)
    assert resumed.records == history.records
