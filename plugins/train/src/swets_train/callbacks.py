"""Training callbacks: the protocol, early stopping, checkpointing and the non-finite guard.

The protocol (every method optional; subclass :class:`Callback` or write any object with some of them):

``on_fit_start(trainer)``
    once, before the first batch (after a resume has restored every state).
``on_epoch_start(trainer, epoch)``
    before the first batch of epoch ``epoch`` (0-based); not called again for an epoch resumed
    in its middle.
``on_after_backward(trainer, loss, grads)``
    after the backward pass of each batch, before clipping and the optimizer step: ``loss`` is the
    batch loss (a float), ``grads`` the ``{TensorId: Tensor}`` mapping. Call
    ``trainer.skip_step()`` to leave the parameters unchanged for this batch.
``on_batch_end(trainer, logs)``
    after each optimizer step: ``logs`` has ``loss`` (the batch loss), ``step`` (optimizer steps done),
    ``epoch``, ``batch`` (batches done in the epoch) and ``lr``.
``on_epoch_end(trainer, epoch, logs)``
    after validation and the epoch's scheduler step: ``logs`` is the epoch's History record
    (``loss``, ``lr``, ``val_loss``, ``val_<metric>`` ...).
``on_fit_end(trainer)``
    once, when training ends for any reason other than an exception.
``state_dict()`` / ``load_state_dict(state)``
    plain data saved in checkpoints and restored on resume.

A callback stops training with ``trainer.request_stop(reason)``: the trainer finishes the current
batch and stops (an epoch-end request stops before the next epoch). Callbacks run in the order given,
sorted by their ``order`` attribute (default 0, stable): :class:`ModelCheckpoint` has ``order = 100``
so the state it saves includes what every other callback did for the same event.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from swets_core.checks import check_count, is_int
from swets_core.errors import ConfigError, NonFiniteError, StateDictError
from swets_core.lazy import exports_of

if TYPE_CHECKING:  # pragma: no cover
    from swets_train.trainer import Trainer

__all__ = ["HOOKS", *exports_of(__name__)]

HOOKS = (
    "on_fit_start",
    "on_epoch_start",
    "on_after_backward",
    "on_batch_end",
    "on_epoch_end",
    "on_fit_end",
)
"""The hooks of the callback protocol, in the order a run calls them."""


class Callback:
    """Base class with no-op hooks; override the ones you need (see the module docstring)."""

    order: int = 0

    def on_fit_start(self, trainer: Trainer) -> None:
        """Called once before training starts."""

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        """Called before the first batch of an epoch."""

    def on_after_backward(self, trainer: Trainer, loss: float, grads: Mapping[Any, Any]) -> None:
        """Called after each backward pass, before clipping and the optimizer step."""

    def on_batch_end(self, trainer: Trainer, logs: Mapping[str, Any]) -> None:
        """Called after each optimizer step."""

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: Mapping[str, Any]) -> None:
        """Called after each epoch (validation and scheduler step done)."""

    def on_fit_end(self, trainer: Trainer) -> None:
        """Called once when training ends normally (budget reached or stop requested)."""

    def state_dict(self) -> dict[str, Any]:
        """State to save in a checkpoint (plain data)."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`."""


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda t, e, logs: ...)``."""

    _HOOKS = HOOKS

    def __init__(self, **hooks: Any) -> None:
        for name, fn in hooks.items():
            if name not in self._HOOKS:
                raise ConfigError(
                    f"LambdaCallback: unknown hook {name!r}; hooks are {', '.join(self._HOOKS)}"
                )
            if not callable(fn):
                raise ConfigError(f"LambdaCallback: {name} must be callable, got {fn!r}")
            setattr(self, name, fn)


def _check_mode(owner: str, mode: str, monitor: str) -> str:
    if mode == "auto":
        higher = ("r2", "accuracy", "coverage")
        return "max" if any(h in monitor for h in higher) else "min"
    if mode not in ("min", "max"):
        raise ConfigError(f"{owner}: mode must be 'min', 'max' or 'auto', got {mode!r}")
    return mode


def _monitored(owner: str, logs: Mapping[str, Any], monitor: str) -> float:
    if monitor not in logs:
        available = ", ".join(sorted(k for k in logs if k not in ("epoch", "step")))
        hint = (
            " (pass validation= data to fit to get val_* values)"
            if monitor.startswith("val_")
            else ""
        )
        raise ConfigError(
            f"{owner}: the monitored value {monitor!r} is not in the epoch logs; available: "
            f"{available}{hint}"
        )
    return float(logs[monitor])


class _Tracker:
    """Best value of a monitored quantity with a minimum improvement."""

    __slots__ = ("best", "min_delta", "mode")

    def __init__(self, mode: str, min_delta: float) -> None:
        self.mode = mode
        self.min_delta = abs(float(min_delta))
        self.best: float | None = None

    def improved(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(Callback):
    """Stop when a monitored value has not improved for ``patience`` epochs.

    Args:
        monitor: a key of the epoch logs: ``"val_loss"`` (default), ``"val_mae"``, ``"loss"``...
        patience: number of epochs without improvement after which training stops (>= 0; 0 stops
            at the first epoch that does not improve), as Keras and Lightning count it.
        min_delta: the smallest change that counts as an improvement (absolute).
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for r2/accuracy/coverage, else min).
        restore_best_weights: at the end of training, load the parameters of the best epoch back
            into the model (whether training stopped early or ran out of budget).

    A NaN value never counts as an improvement. Attributes after training: ``best`` (value),
    ``best_epoch``, ``stopped_epoch`` (None if it did not stop training).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = False,
    ) -> None:
        check_count(patience, "patience", 0, where="EarlyStopping")
        if not isinstance(min_delta, (int, float)) or not math.isfinite(min_delta):
            raise ConfigError(
                f"EarlyStopping: min_delta must be a finite number, got {min_delta!r}"
            )
        self.monitor = monitor
        self.patience = int(patience)
        self.mode = _check_mode("EarlyStopping", mode, monitor)
        self.restore_best_weights = bool(restore_best_weights)
        self._tracker = _Tracker(self.mode, min_delta)
        self.wait = 0
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.best_weights: dict[str, np.ndarray] | None = None

    @property
    def best(self) -> float | None:
        """The best monitored value seen."""
        return self._tracker.best

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: Mapping[str, Any]) -> None:
        value = _monitored("EarlyStopping", logs, self.monitor)
        if self._tracker.improved(value):
            self._tracker.best = value
            self.best_epoch = epoch
            self.wait = 0
            if self.restore_best_weights:
                self.best_weights = trainer.model.state_dict()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.request_stop(
                f"early stopping: {self.monitor} did not improve for {self.wait} epoch(s); best "
                f"{self._tracker.best:.6g} at epoch {self.best_epoch + 1}"
            )

    def on_fit_end(self, trainer: Trainer) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            trainer.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        return {
            "best": self._tracker.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
            "best_weights": None if self.best_weights is None else dict(self.best_weights),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        keys = ("best", "best_epoch", "wait", "stopped_epoch", "best_weights")
        _expect_keys("EarlyStopping", state, keys)
        problems = _value_problems(state)
        if not (is_int(state["wait"]) and state["wait"] >= 0):
            problems.append(f"'wait' must be an int >= 0, got {state['wait']!r:.40}")
        bw = state["best_weights"]
        if bw is not None and not (
            isinstance(bw, Mapping)
            and all(isinstance(k, str) and isinstance(v, np.ndarray) for k, v in bw.items())
        ):
            problems.append("'best_weights' must be None or a mapping of names to arrays")
        if problems:
            raise StateDictError("EarlyStopping", problems)
        self._tracker.best = state["best"]
        self.best_epoch = state["best_epoch"]
        self.wait = int(state["wait"])
        self.stopped_epoch = state["stopped_epoch"]
        bw = state["best_weights"]
        self.best_weights = None if bw is None else {k: np.array(v) for k, v in bw.items()}


def _value_problems(state: Mapping[str, Any]) -> list[str]:
    """The problems of the ``best`` value and the epoch numbers of a tracker's state."""
    problems = []
    best = state["best"]
    if best is not None and not (isinstance(best, (int, float)) and not isinstance(best, bool)):
        problems.append(f"'best' must be None or a number, got {best!r:.40}")
    for key in ("best_epoch", "stopped_epoch"):
        value = state.get(key)
        if value is not None and not (is_int(value) and value >= 0):
            problems.append(f"{key!r} must be None or an int >= 0, got {value!r:.40}")
    return problems


def _expect_keys(owner: str, state: Any, keys: tuple[str, ...]) -> None:
    if not isinstance(state, Mapping):
        raise StateDictError(owner, [f"expected a dict, got {type(state).__name__}"])
    problems = [f"missing key {k!r}" for k in keys if k not in state]
    problems += [f"unexpected key {k!r}" for k in state if k not in keys]
    if problems:
        raise StateDictError(owner, problems)


class ModelCheckpoint(Callback):
    """Save the best and the last checkpoint, with the full training state, so training can resume.

    Args:
        dirpath: directory of the files (created when missing).
        monitor: the epoch-log value deciding the best checkpoint (``"val_loss"`` by default).
        mode: ``"min"``, ``"max"`` or ``"auto"``.
        save_best: write ``best<suffix>`` whenever the monitored value improves.
        save_last: write ``last<suffix>`` at the end of every epoch.
        every_n_steps: also write ``last<suffix>`` every that many optimizer steps (mid-epoch).
        min_delta: the smallest change that counts as an improvement.
        serializer: the registered serializer name (``"msgpack"``) or a serializer object.
        metadata: user metadata stored in every file.

    Files go through :func:`swets_core.checkpoint.save_checkpoint` (atomic writes). Each holds the
    model (registry name, configuration, parameters) and ``trainer.training_state()``: optimizer,
    scheduler, RNG and data-loader states, epoch and step counters, history and callback states.
    ``fit(..., resume_from=path)`` continues from one. Attributes: ``best_path``, ``last_path``,
    ``best`` (value).
    """

    order = 100

    def __init__(
        self,
        dirpath: str | os.PathLike[str],
        monitor: str = "val_loss",
        mode: str = "auto",
        save_best: bool = True,
        save_last: bool = True,
        every_n_steps: int | None = None,
        min_delta: float = 0.0,
        serializer: Any = "msgpack",
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        check_count(every_n_steps, "every_n_steps", optional=True, where="ModelCheckpoint")
        if not (save_best or save_last or every_n_steps):
            raise ConfigError("ModelCheckpoint: nothing to save (save_best and save_last are off)")
        self.dirpath = os.fspath(dirpath)
        self.monitor = monitor
        self.mode = _check_mode("ModelCheckpoint", mode, monitor)
        self.save_best = bool(save_best)
        self.save_last = bool(save_last)
        self.every_n_steps = None if every_n_steps is None else int(every_n_steps)
        self.serializer = serializer
        self.metadata = dict(metadata or {})
        self._tracker = _Tracker(self.mode, min_delta)
        self.best_epoch: int | None = None
        suffix = self._suffix()
        self.best_path = os.path.join(self.dirpath, f"best{suffix}")
        self.last_path = os.path.join(self.dirpath, f"last{suffix}")

    def _suffix(self) -> str:
        if isinstance(self.serializer, str):
            from swets_core import registry

            try:
                ser = registry.create("serializers", self.serializer)
            except Exception as exc:
                raise ConfigError(
                    f"ModelCheckpoint: serializer {self.serializer!r}: {exc}"
                ) from exc
        else:
            ser = self.serializer
        return str(getattr(ser, "suffix", ".ckpt"))

    @property
    def best(self) -> float | None:
        """The best monitored value saved so far."""
        return self._tracker.best

    def _save(self, trainer: Trainer, path: str, extra: Mapping[str, Any]) -> None:
        os.makedirs(self.dirpath, exist_ok=True)
        trainer.save_checkpoint(
            path, serializer=self.serializer, metadata={**self.metadata, **extra}
        )

    def on_batch_end(self, trainer: Trainer, logs: Mapping[str, Any]) -> None:
        if self.every_n_steps and trainer.global_step % self.every_n_steps == 0:
            self._save(trainer, self.last_path, {"kind": "last", "step": trainer.global_step})

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: Mapping[str, Any]) -> None:
        if self.save_best:
            value = _monitored("ModelCheckpoint", logs, self.monitor)
            if self._tracker.improved(value):
                self._tracker.best = value
                self.best_epoch = epoch
                self._save(
                    trainer,
                    self.best_path,
                    {"kind": "best", "epoch": epoch, "monitor": self.monitor, "value": value},
                )
        if self.save_last:
            self._save(trainer, self.last_path, {"kind": "last", "epoch": epoch})

    def state_dict(self) -> dict[str, Any]:
        return {"best": self._tracker.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        _expect_keys("ModelCheckpoint", state, ("best", "best_epoch"))
        problems = _value_problems(state)
        if problems:
            raise StateDictError("ModelCheckpoint", problems)
        self._tracker.best = state["best"]
        self.best_epoch = state["best_epoch"]


class NonFiniteWarning(RuntimeWarning):
    """Training was stopped gracefully by :class:`NonFiniteGuard`."""


def _array(g: Any) -> np.ndarray:
    return g._data if hasattr(g, "_data") else np.asarray(g)


def _all_finite(arr: np.ndarray) -> bool:
    # the sum is finite unless a value is NaN/inf (or, rarely, it overflows: then check exactly)
    total = np.add.reduce(arr, axis=None)
    if math.isfinite(total):
        return True
    return bool(np.isfinite(arr).all())


class NonFiniteGuard(Callback):
    """Stop training when the loss or a gradient holds a NaN or an infinity.

    Args:
        on_nonfinite: ``"raise"`` (default) raises :class:`~swets_core.errors.NonFiniteError`;
            ``"stop"`` skips the optimizer step (the parameters stay finite), warns with
            :class:`NonFiniteWarning` and stops training (``History.stop_reason`` holds the message).

    The message names the step (1-based), the epoch and batch (0-based), the loss value, every
    parameter whose gradient is non-finite by its dotted name with NaN/Inf counts, and whether the
    batch's inputs or targets were already non-finite. The trainer adds a guard with ``"raise"``
    when none is given.
    """

    def __init__(self, on_nonfinite: str = "raise") -> None:
        if on_nonfinite not in ("raise", "stop"):
            raise ConfigError(
                f"NonFiniteGuard: on_nonfinite must be 'raise' or 'stop', got {on_nonfinite!r}"
            )
        self.on_nonfinite = on_nonfinite
        self.triggered: str | None = None

    def on_after_backward(self, trainer: Trainer, loss: float, grads: Mapping[Any, Any]) -> None:
        if math.isfinite(loss) and all(_all_finite(_array(g)) for g in grads.values()):
            return
        message = self._describe(trainer, loss, grads)
        self.triggered = message
        if self.on_nonfinite == "raise":
            raise NonFiniteError(message)
        trainer.skip_step()
        trainer.request_stop(message)
        warnings.warn(message, NonFiniteWarning, stacklevel=2)

    def _describe(self, trainer: Trainer, loss: float, grads: Mapping[Any, Any]) -> str:
        names = trainer.parameter_names()
        where = (  # 1-based, as the progress lines count
            f"at step {trainer.global_step + 1} (epoch {trainer.epoch + 1}, batch "
            f"{trainer.batch_index + 1})"
        )
        parts = [f"non-finite values in training {where}: the loss is {loss!r}"]
        bad = []
        ordered = [t for t in names if t in grads] + [t for t in grads if t not in names]
        for tid in ordered:
            arr = _array(grads[tid])
            if _all_finite(arr):
                continue
            n_nan = int(np.isnan(arr).sum())
            n_inf = int(np.isinf(arr).sum())
            bad.append(
                f"{names.get(tid, f'<tensor {tid}>')!r} ({n_nan} NaN, {n_inf} Inf of {arr.size})"
            )
        if bad:
            shown = "; ".join(bad[:10]) + (f"; and {len(bad) - 10} more" if len(bad) > 10 else "")
            parts.append(f"non-finite gradient in {len(bad)} parameter(s): {shown}")
        else:
            parts.append("every gradient is finite")
        origin = trainer.batch_nonfinite()
        if origin:
            parts.append(origin)
        return "; ".join(parts)
