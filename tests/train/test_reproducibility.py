"""Acceptance 2: the same seed gives bitwise-identical parameters; resuming equals never stopping."""

from __future__ import annotations

import pytest

from swets_optim import Adam, CosineAnnealingLR, ReduceLROnPlateau
from swets_train import Callback, EarlyStopping, ModelCheckpoint, Trainer

from .conftest import assert_bitwise_equal, data, mse_loss, params_of, small_model


def _train(dtype: str, seed: int, epochs: int = 2):
    model = small_model(dtype)
    _, _, train, val = data(dtype)
    opt = Adam(model.parameters(), lr=1e-2)
    sched = CosineAnnealingLR(opt, T_max=20)
    history = Trainer().fit(
        model,
        mse_loss(),
        opt,
        train,
        val,
        epochs=epochs,
        scheduler=sched,
        scheduler_interval="step",
        clip_grad_norm=1.0,
        seed=seed,
        progress=False,
    )
    return params_of(model), history


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_same_seed_twice_gives_bitwise_identical_parameters(dtype):
    first, h1 = _train(dtype, seed=123)
    second, h2 = _train(dtype, seed=123)
    assert_bitwise_equal(first, second)
    assert h1.records == h2.records
    # the seed matters (dropout masks and shuffling): another seed trains differently
    other, _ = _train(dtype, seed=124)
    assert any(first[k].tobytes() != other[k].tobytes() for k in first)


class Crash(Callback):
    """Simulates the process dying at a given step or epoch start."""

    def __init__(self, at_step=None, at_epoch=None):
        self.at_step, self.at_epoch = at_step, at_epoch

    def on_batch_end(self, trainer, logs):
        if trainer.global_step == self.at_step:
            raise KeyboardInterrupt(f"killed at step {self.at_step}")

    def on_epoch_start(self, trainer, epoch):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt(f"killed at the start of epoch {epoch}")


def _run(ckpt_dir, crash=None, resume_from=None, prefetch=0, epochs=4, **ckpt_options):
    """Training with every stateful piece: Adam, a plateau scheduler, early stopping with best
    weights, checkpoints every 4 steps, dropout, a shuffled loader."""
    model = small_model("float64")
    _, _, train, val = data("float64", prefetch=prefetch)
    opt = Adam(model.parameters(), lr=5e-3)
    sched = ReduceLROnPlateau(opt, patience=0, factor=0.5)
    stopper = EarlyStopping(patience=2, restore_best_weights=True)
    ckpt = ModelCheckpoint(ckpt_dir, **({"every_n_steps": 4} | ckpt_options))
    callbacks = [stopper, ckpt] + ([crash] if crash else [])
    trainer = Trainer()
    history = trainer.fit(
        model,
        mse_loss(),
        opt,
        train,
        val,
        epochs=epochs,
        scheduler=sched,
        callbacks=callbacks,
        seed=5,
        progress=False,
        resume_from=resume_from,
    )
    return model, history, trainer, stopper, ckpt


def test_resume_mid_epoch_equals_never_stopping(tmp_path):
    model_a, hist_a, trainer_a, stop_a, _ = _run(tmp_path / "a")
    steps_per_epoch = len(trainer_a.train_data)
    crash_step = steps_per_epoch + 6  # in the middle of the second epoch
    assert crash_step % 4 != 0 and (crash_step - crash_step % 4) % steps_per_epoch != 0
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "b", crash=Crash(at_step=crash_step))
    last = tmp_path / "b" / "last.swets"
    assert last.exists()
    model_b, hist_b, trainer_b, stop_b, _ = _run(tmp_path / "c", resume_from=str(last))
    assert_bitwise_equal(params_of(model_a), params_of(model_b))
    assert hist_a.records == hist_b.records
    assert trainer_a.global_step == trainer_b.global_step
    assert (stop_a.best, stop_a.best_epoch) == (stop_b.best, stop_b.best_epoch)


def test_resume_at_an_epoch_boundary_with_prefetch_equals_never_stopping(tmp_path):
    model_a, hist_a, *_ = _run(tmp_path / "a", prefetch=2, epochs=3)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "b", crash=Crash(at_epoch=2), prefetch=2, epochs=3)
    model_b, hist_b, *_ = _run(
        tmp_path / "c", resume_from=str(tmp_path / "b" / "last.swets"), prefetch=2, epochs=3
    )
    assert_bitwise_equal(params_of(model_a), params_of(model_b))
    assert hist_a.records == hist_b.records


def test_resume_from_a_checkpoint_written_after_the_last_batch_of_an_epoch(tmp_path):
    # the loader has delivered every batch of the epoch but not yet noticed its end
    _, _, train, _ = data("float64")
    n = len(train)
    only_steps = {"every_n_steps": n, "save_best": False, "save_last": False}
    model_a, hist_a, *_ = _run(tmp_path / "a", epochs=3, **only_steps)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "b", crash=Crash(at_epoch=2), epochs=3, **only_steps)
    last = tmp_path / "b" / "last.swets"
    from swets_core.checkpoint import load_checkpoint

    state = load_checkpoint(last).training_state
    assert state["batch"] == n and state["loader"]["position"] == n and state["step"] == 2 * n
    model_b, hist_b, *_ = _run(tmp_path / "c", resume_from=str(last), epochs=3, **only_steps)
    assert_bitwise_equal(params_of(model_a), params_of(model_b))
    assert hist_a.records == hist_b.records


def test_checkpoint_best_and_last_hold_the_full_training_state(tmp_path):
    from swets_core.checkpoint import load_checkpoint

    _, history, trainer, _, ckpt = _run(tmp_path, epochs=2)
    best = load_checkpoint(ckpt.best_path)
    last = load_checkpoint(ckpt.last_path)
    assert best.model_name == "lstm"
    assert best.user_metadata["kind"] == "best"
    assert best.user_metadata["monitor"] == "val_loss"
    state = last.training_state
    for key in ("optimizer", "scheduler", "rng", "loader", "callbacks", "history", "epoch", "step"):
        assert key in state
    assert state["step"] == trainer.global_step
    assert state["loader"]["position"] == 0 and state["epoch"] == 2
    assert set(state["callbacks"]) == {"EarlyStopping", "ModelCheckpoint"}
    assert len(state["history"]["records"]) == len(history)
    comps = {(c["kind"], c["name"]) for c in last.metadata["components"]}
    assert ("optimizers", "adam") in comps and ("models", "lstm") in comps
