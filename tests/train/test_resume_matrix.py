"""Resume equals never stopping, bit for bit, history included, whatever stopped the first run and
whatever the budget of the resumed one.

Each case trains a model three times in float32 with a clock the test controls (one tick per clock
reading: the trainer reads it after every batch and at every epoch's end, so a time budget stops
at a reproducible place):

* ``uninterrupted``: ``fit(budget)``;
* ``first``: the same run stopped early, by a smaller budget (epochs, steps or time) that runs out
  in the middle of an epoch or at its end;
* ``resumed``: ``fit(budget, resume_from=...)`` from the checkpoint the first run left, saved both
  ways a user gets one: ``trainer.save_checkpoint`` after ``fit`` returned, and the ``last.swets``
  that ``ModelCheckpoint`` wrote.

The resumed run must end with the uninterrupted run's parameters (bitwise), History records (every
value), ``History.partial`` and stop reason, optimizer state and step count. Models: N-BEATS and an
LSTM with dropout (so the model's random generators matter); callbacks: none, or early stopping
(restoring its best weights at the end) with a plateau scheduler.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from swets_core import registry
from swets_optim import Adam, ReduceLROnPlateau
from swets_train import EarlyStopping, ModelCheckpoint, Trainer
from tests.train.conftest import (
    HORIZON,
    LOOKBACK,
    assert_bitwise_equal,
    data,
    mse_loss,
    small_model,
)

BATCHES = 5  # per epoch: 265 training windows in batches of 64 (the last one short)

# how the first run stops: (budget kind, value, where it stops)
STOPS = {
    "epochs-boundary": {"epochs": 1},
    "steps-boundary": {"max_steps": BATCHES},
    "steps-mid": {"max_steps": BATCHES + 2},
    "time-boundary": {"max_time": BATCHES},  # spent by the epoch's last batch
    "time-after-boundary": {"max_time": BATCHES + 1},  # spent by the epoch's end
    "time-mid": {"max_time": BATCHES + 3},  # 5 batches + 1 epoch end + 2 batches
}
# the budget of the uninterrupted and of the resumed run
BUDGETS = {
    "epochs": {"epochs": 3},
    "steps": {"max_steps": 2 * BATCHES + 3},  # ends in the middle of the third epoch
    "time": {"max_time": 2 * (BATCHES + 1) + 4},  # ditto, by the clock
}


class Clock:
    """A clock the test controls: each reading is one second later than the previous one."""

    def __init__(self) -> None:
        self.now = -1.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def _model(name: str):
    if name == "nbeats":
        return registry.create(
            "models",
            "nbeats",
            lookback=LOOKBACK,
            horizon=HORIZON,
            num_blocks=1,
            num_layers=2,
            layer_width=16,
            seed=0,
            dtype="float32",
        )
    return small_model("float32", dropout=0.2)  # an LSTM with dropout: its generators matter


def _run(model_name, extras, budget, ckpt_dir, resume_from=None):
    _, scaler, train, val = data("float32", batch_size=64)
    assert len(train) == BATCHES
    model = _model(model_name)
    opt = Adam(model.parameters(), lr=0.01)
    callbacks = [ModelCheckpoint(ckpt_dir, save_best=False)]
    scheduler = None
    if extras:
        # never improves after the first epoch: stops at the end of the third one
        callbacks.insert(0, EarlyStopping(patience=2, min_delta=1e9, restore_best_weights=True))
        scheduler = ReduceLROnPlateau(opt, patience=0, factor=0.5)
    trainer = Trainer()
    history = trainer.fit(
        model,
        mse_loss(),
        opt,
        train,
        val,
        scheduler=scheduler,
        callbacks=callbacks,
        seed=3,
        progress=False,
        scaler=scaler,
        resume_from=resume_from,
        clock=Clock(),
        **budget,
    )
    return model, history, trainer, opt


def _same_records(a, b):
    assert len(a) == len(b)
    for ra, rb in zip(a, b):
        assert ra.keys() == rb.keys()
        for k in ra:
            va, vb = ra[k], rb[k]
            if isinstance(va, float) and math.isnan(va):
                assert isinstance(vb, float) and math.isnan(vb), k
            else:
                assert va == vb, (k, va, vb)


def _same_optimizer(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa["param_groups"] == sb["param_groups"]
    assert sa["state"].keys() == sb["state"].keys()
    for i in sa["state"]:
        for k, v in sa["state"][i].items():
            w = sb["state"][i][k]
            if isinstance(v, np.ndarray):
                assert v.tobytes() == w.tobytes(), (i, k)
            else:
                assert v == w, (i, k)


_UNINTERRUPTED: dict = {}


def _uninterrupted(model_name, extras, budget_name, tmp_path_factory):
    key = (model_name, extras, budget_name)
    if key not in _UNINTERRUPTED:
        out = tmp_path_factory.mktemp("straight")
        _UNINTERRUPTED[key] = _run(model_name, extras, BUDGETS[budget_name], out)
    return _UNINTERRUPTED[key]


@pytest.mark.parametrize("model_name", ["nbeats", "lstm"])
@pytest.mark.parametrize("extras", [False, True], ids=["plain", "early-stopping+plateau"])
@pytest.mark.parametrize("budget_name", list(BUDGETS))
@pytest.mark.parametrize("stop_name", list(STOPS))
def test_resume_equals_the_uninterrupted_run(
    model_name, extras, budget_name, stop_name, tmp_path, tmp_path_factory
):
    model0, hist0, trainer0, opt0 = _uninterrupted(
        model_name, extras, budget_name, tmp_path_factory
    )
    _, hist1, trainer1, _ = _run(model_name, extras, STOPS[stop_name], tmp_path / "first")
    if not hist1.stop_reason:
        assert hist1.partial == (stop_name.endswith("mid"))
    trainer1.save_checkpoint(tmp_path / "after_fit.swets")
    for source in (tmp_path / "after_fit.swets", tmp_path / "first" / "last.swets"):
        model2, hist2, trainer2, opt2 = _run(
            model_name, extras, BUDGETS[budget_name], tmp_path / "resumed", resume_from=source
        )
        assert_bitwise_equal(model2.state_dict(), model0.state_dict())
        _same_records(hist2.records, hist0.records)
        assert hist2.partial == hist0.partial
        assert hist2.stop_reason == hist0.stop_reason
        assert trainer2.global_step == trainer0.global_step
        assert trainer2.epoch == trainer0.epoch
        _same_optimizer(opt2, opt0)


def test_the_matrix_covers_stops_in_the_middle_and_at_the_end_of_epochs(tmp_path):
    """The first runs really stop where their names say (so the matrix tests what it claims)."""
    for stop_name, budget in STOPS.items():
        _, hist, trainer, _ = _run("nbeats", False, budget, tmp_path / stop_name)
        state = trainer.training_state()
        mid = stop_name.endswith("mid")
        assert hist.partial is mid and state["history"]["partial"] is mid, stop_name
        assert (state["batch"] > 0) is mid, stop_name
        assert state["loader"]["position"] == (state["batch"] if mid else 0), stop_name
