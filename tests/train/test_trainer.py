"""The Trainer: budgets, schedulers, clipping, callbacks, history, progress output, errors."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

from swets_core import Module, Parameter, Tensor
from swets_core.checkpoint import save_checkpoint
from swets_core.errors import (
    CheckpointError,
    ConfigError,
    DataValidationError,
    MissingKeyError,
    ShapeError,
)
from swets_optim import SGD, Adam, ReduceLROnPlateau, StepLR
from swets_timeseries import Batch
from swets_train import (
    Callback,
    EarlyStopping,
    History,
    LambdaCallback,
    ModelCheckpoint,
    Trainer,
    fit,
    validate,
)
from swets_train._progress import Progress
from swets_train.metrics import MAE, MASE

from .conftest import HORIZON, LOOKBACK, data, mse_loss, params_of, small_model


class LinearForecaster(Module):
    """``(B, L, F) -> (B, H)``: a linear map of the target column (fast, deterministic)."""

    def __init__(self, lookback=LOOKBACK, horizon=HORIZON, dtype=np.float64):
        super().__init__()
        self.weight = Parameter(np.zeros((lookback, horizon), dtype=dtype))
        self.bias = Parameter(np.zeros(horizon, dtype=dtype))

    def forward(self, x):
        return x[:, :, 0] @ self.weight + self.bias


def linear_setup(lr=0.05, batch_size=32):
    model = LinearForecaster()
    _, _, train, val = data(batch_size=batch_size)
    return model, SGD(model.parameters(), lr=lr), train, val


def test_fit_by_epochs_learns_and_records_history():
    model, opt, train, val = linear_setup()
    history = fit(model, mse_loss(), opt, train, val, epochs=4, progress=False)
    assert isinstance(history, History) and len(history) == 4
    assert history.keys() == ["epoch", "step", "loss", "lr", "val_loss", "val_mae", "val_rmse"]
    assert history["epoch"] == [0, 1, 2, 3]
    assert history["step"] == [len(train) * (e + 1) for e in range(4)]
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["val_loss"][-1] < history["val_loss"][0]
    assert history.stop_reason is None
    assert history.best("val_loss")["epoch"] == int(np.argmin(history["val_loss"]))
    with pytest.raises(MissingKeyError, match="no 'val_mape' in the history; keys: epoch, step"):
        history["val_mape"]
    with pytest.raises(KeyError, match="val_r2"):
        history["val_r2"]


def test_training_loss_is_the_sample_weighted_mean_of_the_batch_losses():
    model, opt, train, _ = linear_setup(batch_size=100)  # the last batch is smaller
    sizes = [len(b) for b in train]
    losses = []
    cb = LambdaCallback(on_batch_end=lambda t, logs: losses.append(logs["loss"]))
    history = fit(model, mse_loss(), opt, train, epochs=1, callbacks=[cb], progress=False)
    assert sizes[-1] != sizes[0] and len(losses) == len(sizes)
    expected = sum(loss * n for loss, n in zip(losses, sizes)) / sum(sizes)
    assert history["loss"][0] == pytest.approx(expected, rel=1e-12)


def test_max_steps_stops_mid_epoch_and_closes_the_epoch():
    model, opt, train, val = linear_setup()
    trainer = Trainer()
    history = trainer.fit(
        model, mse_loss(), opt, train, val, max_steps=len(train) + 3, progress=False
    )
    assert trainer.global_step == len(train) + 3
    assert len(history) == 2 and history["step"][-1] == len(train) + 3
    # epochs and max_steps together: whichever comes first
    model, opt, train, val = linear_setup()
    h = fit(model, mse_loss(), opt, train, epochs=1, max_steps=10_000, progress=False)
    assert h["step"] == [len(train)]


def test_step_and_epoch_scheduler_intervals():
    model, opt, train, _ = linear_setup(lr=0.08)
    sched = StepLR(opt, step_size=1, gamma=0.5)
    fit(
        model,
        mse_loss(),
        opt,
        train,
        max_steps=3,
        scheduler=sched,
        scheduler_interval="step",
        progress=False,
    )
    assert opt.param_groups[0]["lr"] == pytest.approx(0.08 * 0.5**3)
    model, opt, train, _ = linear_setup(lr=0.08)
    sched = StepLR(opt, step_size=1, gamma=0.5)
    h = fit(model, mse_loss(), opt, train, epochs=3, scheduler=sched, progress=False)
    assert h["lr"] == pytest.approx([0.08, 0.04, 0.02])  # the rate used during each epoch
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01)


def test_reduce_on_plateau_follows_the_monitored_value():
    model, opt, train, val = linear_setup(lr=0.04)
    # mode "max" on a decreasing validation loss: never an improvement after the first epoch
    sched = ReduceLROnPlateau(opt, mode="max", patience=0, factor=0.5)
    h = fit(model, mse_loss(), opt, train, val, epochs=3, scheduler=sched, progress=False)
    assert h["lr"] == pytest.approx([0.04, 0.04, 0.02])
    assert sched.best == h["val_loss"][0]
    with pytest.raises(ConfigError, match="scheduler_interval='epoch'"):
        fit(model, mse_loss(), opt, train, epochs=1, scheduler=sched, scheduler_interval="step")
    # without validation data the plateau scheduler follows the training loss
    model, opt, train, _ = linear_setup(lr=0.04)
    sched = ReduceLROnPlateau(opt, mode="min", patience=0, factor=0.5)
    fit(model, mse_loss(), opt, train, epochs=2, scheduler=sched, progress=False)
    assert sched.best < math.inf
    with pytest.raises(ConfigError, match="'val_mae', which is not in the epoch logs"):
        fit(
            model,
            mse_loss(),
            opt,
            train,
            epochs=1,
            scheduler=sched,
            monitor="val_mae",
            progress=False,
        )


def test_gradient_clipping_bounds_the_update():
    x = np.full((8, LOOKBACK, 1), 10.0)
    y = np.full((8, HORIZON), 1000.0)
    model = LinearForecaster()
    opt = SGD(model.parameters(), lr=1.0)
    fit(model, mse_loss(), opt, [(x, y)], max_steps=1, clip_grad_norm=0.5, progress=False)
    delta = np.sqrt(sum(float(np.sum(v**2)) for v in params_of(model).values()))
    assert delta == pytest.approx(0.5, rel=1e-5)
    unclipped = LinearForecaster()
    fit(
        unclipped,
        mse_loss(),
        SGD(unclipped.parameters(), lr=1.0),
        [(x, y)],
        max_steps=1,
        progress=False,
    )
    assert np.sqrt(sum(float(np.sum(v**2)) for v in params_of(unclipped).values())) > 1000


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_fit_start(self, trainer):
        self.events.append("fit_start")

    def on_epoch_start(self, trainer, epoch):
        self.events.append(f"epoch_start {epoch}")

    def on_after_backward(self, trainer, loss, grads):
        self.events.append("after_backward")

    def on_batch_end(self, trainer, logs):
        self.events.append(f"batch_end {logs['step']}")

    def on_epoch_end(self, trainer, epoch, logs):
        self.events.append(f"epoch_end {epoch} {sorted(logs)}")

    def on_fit_end(self, trainer):
        self.events.append("fit_end")


def test_callback_protocol_order_and_logs():
    model, opt, train, val = linear_setup(batch_size=200)
    rec = Recorder()

    class Late(Callback):
        order = 100  # as ModelCheckpoint

    late = Late()
    trainer = Trainer()
    trainer.fit(model, mse_loss(), opt, train, val, epochs=2, callbacks=[late, rec], progress=False)
    n = len(train)
    keys = "['epoch', 'loss', 'lr', 'step', 'val_loss', 'val_mae', 'val_rmse']"
    expected = ["fit_start", "epoch_start 0"]
    for b in range(n):
        expected += ["after_backward", f"batch_end {b + 1}"]
    expected += [f"epoch_end 0 {keys}", "epoch_start 1"]
    for b in range(n):
        expected += ["after_backward", f"batch_end {n + b + 1}"]
    expected += [f"epoch_end 1 {keys}", "fit_end"]
    assert rec.events == expected
    # a callback with a higher order runs after the others (ModelCheckpoint has order 100)
    assert trainer.callbacks[-1] is late
    assert ModelCheckpoint.order == 100


def test_request_stop_and_plain_object_callbacks():
    model, opt, train, _ = linear_setup()

    class StopAtStep3:
        def on_batch_end(self, trainer, logs):
            if logs["step"] == 3:
                trainer.request_stop("enough")

    trainer = Trainer()
    history = trainer.fit(
        model, mse_loss(), opt, train, epochs=5, callbacks=[StopAtStep3()], progress=False
    )
    assert trainer.global_step == 3 and history.stop_reason == "enough"
    with pytest.raises(ConfigError, match="is not a callback"):
        fit(model, mse_loss(), opt, train, epochs=1, callbacks=[object()])
    with pytest.raises(ConfigError, match="unknown hook 'on_step'"):
        LambdaCallback(on_step=print)


class _Stub:
    """The part of a Trainer that EarlyStopping uses."""

    def __init__(self, model):
        self.model = model
        self.stopped = None

    def request_stop(self, reason):
        self.stopped = reason


def test_early_stopping_patience_min_delta_and_modes():
    model = LinearForecaster()
    stub = _Stub(model)
    es = EarlyStopping(monitor="score", patience=2, min_delta=0.05)
    for epoch, value in enumerate([5.0, 4.0, 3.97, 4.5]):
        assert stub.stopped is None
        es.on_epoch_end(stub, epoch, {"score": value})
    # 3.97 is not below 4.0 - 0.05: the second epoch without improvement stops training
    assert es.stopped_epoch == 3 and es.best == 4.0 and es.best_epoch == 1
    assert "did not improve for 2 epoch(s)" in stub.stopped
    es = EarlyStopping(monitor="val_r2", patience=0)
    assert es.mode == "max"
    es.on_epoch_end(stub, 0, {"val_r2": 0.5})
    es.on_epoch_end(stub, 1, {"val_r2": 0.6})
    assert es.wait == 0 and es.best == 0.6
    es.on_epoch_end(stub, 2, {"val_r2": float("nan")})  # NaN never improves
    assert es.stopped_epoch == 2
    with pytest.raises(ConfigError, match="'val_loss' is not in the epoch logs"):
        EarlyStopping().on_epoch_end(stub, 0, {"loss": 1.0})
    with pytest.raises(ConfigError, match="mode"):
        EarlyStopping(mode="up")
    with pytest.raises(ConfigError, match="patience"):
        EarlyStopping(patience=-1)


def test_early_stopping_stops_training_and_restores_the_best_weights():
    model, opt, train, _ = linear_setup()
    scores = iter([3.0, 1.0, 2.0, 2.5, 0.5, 0.1])
    snapshots = {}

    def score(trainer, epoch, logs):
        logs["score"] = next(scores)
        snapshots[epoch] = params_of(trainer.model)

    es = EarlyStopping(monitor="score", patience=1, restore_best_weights=True)
    history = fit(
        model,
        mse_loss(),
        opt,
        train,
        epochs=6,
        callbacks=[LambdaCallback(on_epoch_end=score), es],
        progress=False,
    )
    assert len(history) == 3 and history.stop_reason.startswith("early stopping: score")
    assert es.best_epoch == 1
    final = params_of(model)
    for k in final:
        assert np.array_equal(final[k], snapshots[1][k])
        assert not np.array_equal(final[k], snapshots[2][k])


def test_progress_without_a_terminal_is_one_line_per_epoch_and_writes_no_files(
    tmp_path, monkeypatch, capfd
):
    monkeypatch.chdir(tmp_path)
    model, opt, train, val = linear_setup()
    fit(model, mse_loss(), opt, train, val, epochs=2, progress=True)
    out, err = capfd.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert [ln.split("  ")[0] for ln in lines] == ["epoch 1/2", "epoch 2/2"]
    assert all(k in lines[1] for k in ("step ", "loss ", "lr ", "val_loss ", "val_mae "))
    assert list(tmp_path.iterdir()) == []
    fit(model, mse_loss(), opt, train, val, epochs=1, progress=False)
    assert capfd.readouterr() == ("", "")


def test_progress_in_a_notebook_uses_the_notebook_bar_or_plain_lines(monkeypatch):
    from swets_train import _progress

    monkeypatch.setattr(_progress, "_in_notebook", lambda: True)
    monkeypatch.setattr(_progress, "_notebook_widgets", lambda: False)
    stream = io.StringIO()  # a notebook's stderr is no terminal
    bar = Progress(True, epochs=2, stream=stream)
    assert bar.mode == "lines"
    bar.start_epoch(0, total=2)
    bar.update(0.5)
    bar.end_epoch({"epoch": 0, "step": 2, "loss": 0.5, "val_loss": 0.25})
    assert stream.getvalue() == "epoch 1/2  step 2  loss 0.5  val_loss 0.25\n"
    monkeypatch.setattr(_progress, "_notebook_widgets", lambda: True)
    assert Progress(True, epochs=2, stream=io.StringIO()).mode == "notebook"
    monkeypatch.setattr(_progress, "_in_notebook", lambda: False)
    assert Progress(True, epochs=2, stream=io.StringIO()).mode == "lines"


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_shows_loss_and_metrics_on_a_terminal():
    stream = FakeTTY()
    bar = Progress(True, epochs=3, stream=stream)
    assert bar.enabled
    bar.start_epoch(0, total=2)
    bar.update(0.5)
    bar.update(0.25)
    bar.end_epoch({"epoch": 0, "loss": 0.375, "val_loss": 0.3, "val_mae": 0.41})
    text = stream.getvalue()
    assert "epoch 1/3" in text and "loss=0.375" in text and "val_mae=0.41" in text
    assert bar.mode == "bar"
    assert not Progress(False, 3, stream=FakeTTY()).enabled
    assert Progress(True, 3, stream=io.StringIO()).mode == "lines"


def test_configuration_errors():
    model, opt, train, _ = linear_setup()
    loss = mse_loss()
    with pytest.raises(ConfigError, match="epochs=, max_steps="):
        fit(model, loss, opt, train)
    with pytest.raises(ConfigError, match="epochs must be an int >= 1"):
        fit(model, loss, opt, train, epochs=0)
    with pytest.raises(ConfigError, match="scheduler_interval"):
        fit(model, loss, opt, train, epochs=1, scheduler_interval="batch")
    with pytest.raises(ConfigError, match="clip_grad_norm"):
        fit(model, loss, opt, train, epochs=1, clip_grad_norm=0)
    with pytest.raises(ConfigError, match="seed"):
        fit(model, loss, opt, train, epochs=1, seed=-1)
    with pytest.raises(ConfigError, match="optimizer has no step"):
        fit(model, loss, object(), train, epochs=1)
    with pytest.raises(ConfigError, match="duplicate metric"):
        fit(model, loss, opt, train, epochs=1, metrics=["mae", MAE()])


def test_batch_formats_and_data_errors():
    x = np.random.default_rng(0).normal(size=(4, LOOKBACK, 1))
    y = np.zeros((4, HORIZON))
    for batches in (
        [(x, y)],
        [{"x": x, "y": y}],
        [Batch(Tensor(x), Tensor(y), None, np.arange(4))],
    ):
        model = LinearForecaster()
        h = fit(
            model, mse_loss(), SGD(model.parameters(), lr=0.1), batches, epochs=1, progress=False
        )
        assert h["step"] == [1]
    model = LinearForecaster()
    opt = SGD(model.parameters(), lr=0.1)
    with_future = Batch(Tensor(x), Tensor(y), Tensor(np.zeros((4, HORIZON, 1))), np.arange(4))
    # the batch's known covariates go to the model as future=; this model takes none
    with pytest.raises(ConfigError, match="takes no 'future' input"):
        fit(model, mse_loss(), opt, [with_future], epochs=1)
    with pytest.raises(DataValidationError, match="3 items"):
        fit(model, mse_loss(), opt, [(x, y, y)], epochs=1)
    with pytest.raises(DataValidationError, match="no batch in epoch 1"):  # 1-based
        fit(model, mse_loss(), opt, [], epochs=1)
    with pytest.raises(ShapeError, match="scalar"):
        fit(model, lambda p, t, tape=None: p - t, opt, [(x, y)], epochs=1)


def test_validate_scores_all_predictions_at_once_with_metric_context():
    model, opt, train, val = linear_setup()
    fit(model, mse_loss(), opt, train, epochs=2, progress=False)
    preds, targets = [], []
    for b in val:
        preds.append(model(b.x_past).numpy())
        targets.append(b.y.numpy())
    p, t = np.concatenate(preds), np.concatenate(targets)
    got = validate(model, mse_loss(), val, [MAE(), MASE(m=1)], {"scale": 2.0})
    assert got["val_mae"] == pytest.approx(np.mean(np.abs(p - t)))
    assert got["val_mase"] == pytest.approx(np.mean(np.abs(p - t)) / 2.0)
    assert got["val_loss"] == pytest.approx(np.mean((p - t) ** 2))
    assert model.training  # the mode is restored
    with pytest.raises(ShapeError, match="validate: the loss must return a scalar Tensor"):
        validate(model, lambda p, t: p - t, val)
    assert model.training  # restored after an error too


def test_resume_errors_name_the_problem(tmp_path):
    model = small_model()
    _, _, train, _ = data()
    opt = Adam(model.parameters())
    trainer = Trainer()
    trainer.fit(
        model,
        mse_loss(),
        opt,
        train,
        epochs=1,
        callbacks=[EarlyStopping(monitor="loss")],
        progress=False,
    )
    path = tmp_path / "state.swets"
    trainer.save_checkpoint(path)
    # a callback whose state is in the checkpoint is missing
    other = small_model()
    with pytest.raises(CheckpointError, match="EarlyStopping"):
        fit(other, mse_loss(), Adam(other.parameters()), train, epochs=2, resume_from=str(path))
    # a different configuration
    wider = small_model(dropout=0.3)
    with pytest.raises(CheckpointError, match="differs from the checkpoint's in dropout"):
        fit(wider, mse_loss(), Adam(wider.parameters()), train, epochs=2, resume_from=str(path))
    # a checkpoint saved outside training
    bare = tmp_path / "bare.swets"
    save_checkpoint(bare, model)
    with pytest.raises(CheckpointError, match="no training state"):
        fit(model, mse_loss(), Adam(model.parameters()), train, epochs=2, resume_from=str(bare))


def test_a_trainer_can_run_fit_twice():
    model, opt, train, _ = linear_setup()
    trainer = Trainer()
    trainer.fit(model, mse_loss(), opt, train, epochs=1, progress=False)
    h = trainer.fit(model, mse_loss(), opt, train, epochs=1, progress=False)
    assert len(h) == 1 and trainer.global_step == len(train)


def test_a_scheduler_that_needs_a_metric_says_so_by_attribute():
    class Halving:
        """Not a ReduceLROnPlateau: halves the lr whenever the metric did not fall."""

        needs_metric = True

        def __init__(self, optimizer):
            self.optimizer, self.best, self.metrics = optimizer, math.inf, []

        def step(self, metric=None):
            self.metrics.append(metric)
            if metric >= self.best:
                for g in self.optimizer.param_groups:
                    g["lr"] *= 0.5
            self.best = min(self.best, metric)

        def get_last_lr(self):
            return [g["lr"] for g in self.optimizer.param_groups]

        def state_dict(self):
            return {"best": self.best}

    model, opt, train, val = linear_setup()
    sched = Halving(opt)
    h = fit(model, mse_loss(), opt, train, val, epochs=2, scheduler=sched, progress=False)
    assert sched.metrics == h["val_loss"]
    with pytest.raises(ConfigError, match="Halving scheduler follows an epoch metric"):
        fit(model, mse_loss(), opt, train, epochs=1, scheduler=sched, scheduler_interval="step")
    assert ReduceLROnPlateau.needs_metric is True and not getattr(StepLR, "needs_metric", False)


def test_the_executor_computes_the_gradients_and_the_loop_does_the_rest():
    from swets_train.executor import LocalExecutor

    class Counting(LocalExecutor):
        def __init__(self):
            self.events = []

        def start(self, trainer):
            self.events.append(("start", trainer.global_step))

        def gradients(self, trainer, batch, x, y):
            self.events.append(("gradients", trainer.global_step, int(x.shape[0])))
            return super().gradients(trainer, batch, x, y)

        def finish(self, trainer):
            self.events.append(("finish", trainer.global_step))

        def close(self):
            self.events.append(("close",))

    model, opt, train, val = linear_setup()
    ref = fit(model, mse_loss(), opt, train, val, epochs=2, clip_grad_norm=0.1, progress=False)
    model2, opt2, train2, val2 = linear_setup()
    counting = Counting()
    trainer = Trainer()
    h = trainer.fit(
        model2,
        mse_loss(),
        opt2,
        train2,
        val2,
        epochs=2,
        clip_grad_norm=0.1,
        progress=False,
        executor=counting,
    )
    assert trainer.executor is counting and h.records == ref.records
    assert all(
        np.array_equal(a, b) for a, b in zip(params_of(model).values(), params_of(model2).values())
    )
    steps = 2 * len(train)
    assert counting.events[0] == ("start", 0) and counting.events[-2:] == [
        ("finish", steps),
        ("close",),
    ]
    assert [e[1] for e in counting.events if e[0] == "gradients"] == list(range(steps))

    class Failing(Counting):
        def gradients(self, trainer, batch, x, y):
            raise DataValidationError("no gradients here")

    failing = Failing()
    with pytest.raises(DataValidationError, match="no gradients here"):
        fit(model, mse_loss(), opt, train, epochs=1, progress=False, executor=failing)
    assert failing.events == [("start", 0), ("close",)]  # closed, not finished
    model3, opt3, train3, val3 = linear_setup()
    by_name = fit(
        model3, mse_loss(), opt3, train3, val3, epochs=2, clip_grad_norm=0.1, executor="local"
    )
    assert by_name.records == ref.records
    with pytest.raises(ConfigError, match="executor object has no start, gradients, finish, close"):
        fit(model, mse_loss(), opt, train, epochs=1, executor=object())


def _quantile_fit(quantiles, **kw):
    """``(model, fit(...) with these keywords)`` for a tiny N-BEATS with a quantile head."""
    from swets_core import registry

    model = registry.create(
        "models",
        "nbeats",
        lookback=LOOKBACK,
        horizon=HORIZON,
        num_blocks=1,
        num_layers=1,
        layer_width=8,
        quantiles=quantiles,
        dtype="float64",
        seed=0,
    )
    _, _, train, val = data(batch_size=32)
    loss = registry.create("losses", "quantile", quantiles=quantiles)
    run = lambda **more: fit(  # noqa: E731
        model, loss, Adam(model.parameters()), train, val, progress=False, **{**kw, **more}
    )
    return model, run


def test_fit_takes_the_quantiles_of_a_quantile_model_for_its_metrics():
    _, run = _quantile_fit([0.1, 0.5, 0.9], epochs=2)
    history = run()
    assert len(history) == 2
    assert all(np.isfinite(history["val_mae"])) and all(np.isfinite(history["val_rmse"]))
    more = run(epochs=1, metrics=("mae", "pinball", "coverage"))
    assert 0.0 <= more["val_coverage"][0] <= 1.0 and np.isfinite(more["val_pinball"][0])


def test_point_metrics_on_quantiles_without_a_median_are_refused_before_training():
    model, run = _quantile_fit([0.1, 0.9], epochs=1)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    with pytest.raises(ConfigError, match=r"without 0.5, so the point metrics \['mae', 'rmse'\]"):
        run()
    assert all(np.array_equal(v, before[k]) for k, v in model.state_dict().items())
    assert np.isfinite(run(metrics=("pinball", "coverage"))["val_pinball"][0])
