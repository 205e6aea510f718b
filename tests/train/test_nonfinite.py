"""Acceptance 3: a NaN injected into a batch triggers the guard, naming the step and the parameters."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from swets_core import Module, Parameter, Tensor, ops
from swets_core.errors import NonFiniteError
from swets_optim import SGD, Adam
from swets_train import NonFiniteGuard, NonFiniteWarning, Trainer

from .conftest import data, mse_loss, params_of, small_model


class Poisoned:
    """Yields the loader's batches, with a NaN written into the inputs of the ``at``-th batch
    (0-based, counted over all epochs)."""

    def __init__(self, loader, at):
        self.loader, self.at, self.seen = loader, at, 0

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        for batch in self.loader:
            self.seen += 1
            if self.seen - 1 == self.at:
                x = batch.x_past.numpy().copy()
                x[0, 3, 0] = np.nan
                yield Tensor(x), batch.y
            else:
                yield batch


def test_nan_in_a_batch_raises_naming_the_step_and_the_parameters():
    model = small_model()
    _, _, train, _ = data()
    poisoned = Poisoned(train, at=len(train) + 2)  # the third batch of the second epoch
    with pytest.raises(NonFiniteError) as info:
        Trainer().fit(
            model, mse_loss(), Adam(model.parameters()), poisoned, epochs=3, progress=False
        )
    message = str(info.value)
    step = len(train) + 3
    assert f"at step {step} (epoch 2, batch 3)" in message  # 1-based, as progress counts
    assert "the loss is nan" in message
    assert "'lstm.weight_ih_l0' (" in message and "'head.weight' (" in message
    assert re.search(r"'head\.bias' \(\d+ NaN, 0 Inf of 6\)", message)
    assert "the batch's inputs hold 1 NaN and 0 Inf value(s)" in message
    # the failing step was not applied: every parameter is still finite
    assert all(np.isfinite(v).all() for v in params_of(model).values())


def test_graceful_stop_skips_the_step_warns_and_records_the_reason():
    model = small_model()
    _, _, train, _ = data()
    trainer = Trainer()
    guard = NonFiniteGuard(on_nonfinite="stop")
    snapshots = []

    class Snapshot:
        def on_batch_end(self, trainer, logs):
            snapshots.append(params_of(trainer.model))

    with pytest.warns(NonFiniteWarning, match="at step 3 "):
        history = trainer.fit(
            model,
            mse_loss(),
            Adam(model.parameters()),
            Poisoned(train, at=2),
            epochs=2,
            callbacks=[guard, Snapshot()],
            progress=False,
        )
    assert trainer.global_step == 2
    assert "at step 3" in history.stop_reason and guard.triggered == history.stop_reason
    assert len(history) == 0  # stopped inside the first epoch
    final = params_of(model)
    for k in final:
        assert np.array_equal(final[k], snapshots[-1][k])  # the poisoned step was skipped


class Root(Module):
    """``pred = scale * x`` with a loss whose gradient is infinite where pred == target."""

    registry_name = "root_test"

    def __init__(self):
        super().__init__()
        self.scale = Parameter(np.zeros(1))

    def forward(self, x):
        return x[:, :, 0] * self.scale


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_non_finite_gradient_with_a_finite_loss_is_caught():
    def sqrt_abs_loss(pred, target, tape=None):
        return ops.mean(ops.sqrt(ops.abs(pred - target)))

    x = np.ones((4, 3, 1))
    y = np.zeros((4, 3))
    model = Root()
    opt = SGD(model.parameters(), lr=0.1)
    expected = r"the loss is 0\.0; non-finite gradient in 1 parameter\(s\): 'scale'"
    with pytest.raises(NonFiniteError, match=expected):
        Trainer().fit(model, sqrt_abs_loss, opt, [(x, y)], epochs=1, progress=False)


def test_default_guard_is_added_and_a_finite_run_is_untouched():
    model = small_model()
    _, _, train, _ = data()
    trainer = Trainer()
    trainer.fit(model, mse_loss(), Adam(model.parameters()), train, epochs=1, progress=False)
    guards = [cb for cb in trainer.callbacks if isinstance(cb, NonFiniteGuard)]
    assert len(guards) == 1 and guards[0].triggered is None
    assert math.isfinite(trainer.history["loss"][0])
