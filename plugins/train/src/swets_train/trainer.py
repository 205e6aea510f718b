"""The training loop: :class:`Trainer`, :func:`fit` and the :class:`History` they return.

One training step is::

    value, grads = executor.gradients(trainer, batch, x, y)   # locally:
        # with GradientTape() as tape: loss = loss_fn(model(x), y)
        # grads = tape.backward(loss)
    # callbacks.on_after_backward (the non-finite guard), optional clipping
    grads, norm = clip_grad_norm(grads, max_norm)
    optimizer.step(None, grads)
    scheduler.step()          # when scheduler_interval == "step"

This is the only training loop: where the gradients are computed is the executor's business
(:mod:`swets_train.executor`; in this process by default, data-parallel on Dask workers with
swets-dask), everything else happens here for every executor.

Data: ``train`` (and ``validation``) is any re-iterable of batches, typically a
``swets_timeseries.DataLoader``; a batch is a ``swets_timeseries.Batch`` (``x_past`` and ``y``), an
``(x, y)`` pair, a mapping with ``"x"`` and ``"y"``, or an object with ``x`` and ``y`` attributes.
``x`` is ``(B, L, F)`` and ``y`` ``(B, H)`` (any shapes the model and loss agree on). The model is
called as ``model(x, future=..., static=..., mask=...)`` with the inputs the batch holds besides
``x`` (known-future covariates, static covariates, an input mask:
:func:`swets_train.executor.model_inputs`), and the loss gets ``mask=`` when the batch has a
``y_mask`` (:func:`~swets_train.executor.target_mask`). Optional loader
methods the trainer uses when present: ``__len__`` (progress bar), ``set_epoch(epoch)`` (called before
each epoch), ``state_dict()`` / ``load_state_dict(state)`` (the position inside an epoch, for
mid-epoch resume), ``generator`` (a numpy Generator that ``fit(seed=...)`` reseeds in place). A loader
without a state dict is resumed by re-iterating the epoch and skipping the batches already done, which
is exact when its batch order depends only on the epoch.

Reproducibility: ``seed`` reseeds every numpy Generator held by the model's layers (dropout) and the
loader; with the same seed, model initialisation and data, two runs give bitwise-identical parameters.
A checkpoint saved by :class:`~swets_train.callbacks.ModelCheckpoint` (or :meth:`Trainer.save_checkpoint`)
at any step holds everything needed to continue exactly: ``fit(..., resume_from=path)`` (the format:
:mod:`swets_train.training_state`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from swets_core import Tensor, no_grad, registry
from swets_core.checks import is_int
from swets_core.errors import ConfigError, DataValidationError
from swets_core.lazy import exports_of
from swets_optim import clip_grad_norm as _clip_grad_norm
from swets_train._progress import Progress
from swets_train.callbacks import HOOKS, NonFiniteGuard
from swets_train.executor import (
    batch_loss,
    call_model,
    check_executor,
    loss_keywords,
    loss_value,
    model_inputs,
    target_mask,
    unpack_batch,
    with_target,
)
from swets_train.history import History
from swets_train.inference import _quantiles
from swets_train.metrics import evaluate, get_metric, metric_name
from swets_train.training_state import (
    TRAINING_STATE_VERSION,
    TrainingStateMixin,
    _load_component,
    model_generators,
    seed_loader,
    seed_model,
)

__all__ = [
    *exports_of(__name__),
    "TRAINING_STATE_VERSION",
    "model_generators",
    "seed_model",
]


def _check_count(value: Any, name: str, minimum: int = 1) -> int | None:
    if value is None:
        return None
    if not is_int(value) or value < minimum:
        raise ConfigError(f"fit: {name} must be an int >= {minimum} or None, got {value!r}")
    return int(value)


def _batch_size(y: Tensor) -> int:
    return int(y.shape[0]) if y.ndim else 1


class Trainer(TrainingStateMixin):
    """Runs :meth:`fit`; during a run it is the object callbacks receive.

    Attributes available to callbacks: ``model``, ``loss``, ``optimizer``, ``scheduler``, ``epoch``
    (current epoch, 0-based), ``batch_index`` (batches done in the current epoch), ``global_step``
    (optimizer steps done), ``history``, ``stop_requested``, ``stop_reason``, ``executor`` (where the
    gradients are computed, :mod:`swets_train.executor`); methods
    :meth:`request_stop`, :meth:`skip_step`, :meth:`parameter_names`, :meth:`training_state`,
    :meth:`save_checkpoint`.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.model: Any = None
        self.loss: Any = None
        self.optimizer: Any = None
        self.scheduler: Any = None
        self.train_data: Any = None
        self.validation_data: Any = None
        self.scaler: Any = None
        self.callbacks: list[Any] = []
        self.history = History()
        self.epoch = 0
        self.batch_index = 0
        self.global_step = 0
        self.stop_requested = False
        self.stop_reason: str | None = None
        self._skip = False
        self._loss_sum = 0.0
        self._loss_count = 0
        self._names: dict[int, str] | None = None
        self._batch: tuple[Tensor, Tensor] | None = None
        self._pending_loader: Any = None
        self._skip_batches = 0
        self._hooks: dict[str, list[Callable[..., Any]]] = {h: [] for h in HOOKS}
        self._plateau = False
        self._options: dict[str, Any] = {}
        self.executor: Any = None
        self._resume_point: tuple[dict[str, Any], dict[str, Any]] | None = None
        self._resume_source = "the training state"
        self._elapsed = 0.0
        self._elapsed_base = 0.0
        self._clock: Callable[[], float] = time.monotonic
        self._t0 = 0.0

    # -- what callbacks call ----------------------------------------------------------------------
    def request_stop(self, reason: str = "stop requested by a callback") -> None:
        """Stop after the current batch (or before the next epoch when called at an epoch's end)."""
        if not self.stop_requested:
            self.stop_requested = True
            self.stop_reason = reason
            self.history.stop_reason = reason

    def skip_step(self) -> None:
        """Leave the parameters unchanged for the current batch (from ``on_after_backward``)."""
        self._skip = True

    def parameter_names(self) -> dict[int, str]:
        """``{TensorId: dotted parameter name}`` of the model."""
        if self._names is None:
            named = self.model.named_parameters() if hasattr(self.model, "named_parameters") else []
            self._names = {p.id: name for name, p in named}
        return self._names

    def batch_nonfinite(self) -> str:
        """A description of non-finite values in the current batch ("" when it is all finite)."""
        if self._batch is None:
            return ""
        found = []
        for label, t in zip(("inputs", "targets"), self._batch):
            arr = t._data
            if arr.dtype.kind != "f":
                continue
            n_nan, n_inf = int(np.isnan(arr).sum()), int(np.isinf(arr).sum())
            if n_nan or n_inf:
                found.append(f"{label} hold {n_nan} NaN and {n_inf} Inf value(s)")
        if not found:
            return ""
        return "the batch's " + " and its ".join(found) + " (the data is the source)"

    # -- the loop ---------------------------------------------------------------------------------
    def fit(
        self,
        model: Any,
        loss: Any,
        optimizer: Any,
        train: Iterable[Any],
        validation: Iterable[Any] | None = None,
        *,
        epochs: int | None = None,
        max_steps: int | None = None,
        max_time: float | None = None,
        scheduler: Any = None,
        scheduler_interval: str = "epoch",
        monitor: str | None = None,
        clip_grad_norm: float | None = None,
        metrics: Sequence[Any] = ("mae", "rmse"),
        metric_context: Mapping[str, Any] | None = None,
        callbacks: Sequence[Any] = (),
        seed: int | None = None,
        progress: bool = True,
        resume_from: Any = None,
        scaler: Any = None,
        executor: Any = None,
        clock: Callable[[], float] | None = None,
    ) -> History:
        """Train ``model`` and return the :class:`History`.

        Args:
            model: a Layer (``(B, L, F) -> (B, H)`` for the forecasters).
            loss: a Loss object ``loss(pred, target) -> scalar`` or a registered loss name (``"mse"``).
            optimizer: an optimizer built on ``model.parameters()``.
            train: the training batches (see the module docstring), iterated once per epoch.
            validation: batches evaluated after each epoch (no gradients, eval mode).
            epochs: number of epochs; ``max_steps``: number of optimizer steps; ``max_time``:
                seconds of training (checked after every batch and every epoch's end, read from
                ``clock``). At least one is required; training stops at whichever comes first. An
                epoch cut short by ``max_steps`` or ``max_time`` is still validated and recorded
                (``History.partial``); the training state saved after it is the moment the budget
                ran out, so resuming with a larger budget equals never having stopped.
            scheduler: an LR scheduler stepped after the optimizer, per ``scheduler_interval``
                (``"epoch"`` or ``"step"``). A scheduler with ``needs_metric = True``
                (ReduceLROnPlateau) is stepped per epoch with the ``monitor`` value.
            monitor: the epoch-log value such a scheduler follows (``"val_loss"`` when there is
                validation data, else ``"loss"``).
            clip_grad_norm: clip the global gradient norm to this value before each step.
            metrics: validation metrics (names or Metric objects), computed on all validation
                predictions at once and logged as ``val_<name>``. For a quantile model the point
                metrics score the 0.5 level.
            metric_context: context passed to the metrics (``insample``/``scale`` for MASE...);
                ``quantiles`` defaults to the model's (``model.config()["quantiles"]``).
            callbacks: callback objects (see :mod:`swets_train.callbacks`). A
                :class:`~swets_train.callbacks.NonFiniteGuard` raising on NaN/Inf is added when none
                is given.
            seed: reseed the model's random generators (dropout) and the loader's shuffling.
            progress: show progress on stderr: a bar on a terminal, tqdm's notebook bar in Jupyter
                (with ipywidgets), one line per epoch anywhere else.
            resume_from: a checkpoint path (or loaded ``Checkpoint``, or a training-state mapping)
                to continue from; the model, optimizer, scheduler, RNGs, loader position, counters,
                history and callback states are restored. Pass the same objects as the original run.
            scaler: the fitted scaler of the data; not used for training, but stored in every
                checkpoint (``training_state["scaler"]``) so forecasts can be made from the file
                (:func:`swets_train.data.scaler_from_state`).
            executor: where each batch's gradients are computed (:mod:`swets_train.executor`):
                None for this process, or e.g. ``registry.create("executors", "dask", ...)``.
            clock: a function returning seconds (``time.monotonic`` by default) that ``max_time``
                is measured with; a test passes one it controls. A resumed run adds the seconds
                its checkpoint recorded.

        Returns:
            The :class:`History` (also ``trainer.history``).

        Raises:
            ConfigError: invalid arguments. NonFiniteError: from the default guard.
            DataValidationError: the training data yields no batch or malformed batches.
        """
        epochs = _check_count(epochs, "epochs")
        max_steps = _check_count(max_steps, "max_steps")
        if max_time is not None and not (
            isinstance(max_time, (int, float))
            and not isinstance(max_time, bool)
            and math.isfinite(max_time)
            and max_time > 0
        ):
            raise ConfigError(f"fit: max_time must be a number of seconds > 0, got {max_time!r}")
        if epochs is None and max_steps is None and max_time is None:
            raise ConfigError("fit: give epochs=, max_steps=, max_time= or several")
        if clock is not None and not callable(clock):
            raise ConfigError(f"fit: clock must be a function returning seconds, got {clock!r}")
        if scheduler_interval not in ("epoch", "step"):
            raise ConfigError(
                f"fit: scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}"
            )
        if clip_grad_norm is not None and not (
            isinstance(clip_grad_norm, (int, float)) and clip_grad_norm > 0
        ):
            raise ConfigError(f"fit: clip_grad_norm must be a number > 0, got {clip_grad_norm!r}")
        if isinstance(loss, str):
            loss = registry.create("losses", loss)
        if not callable(loss):
            raise ConfigError(f"fit: loss must be callable or a registered name, got {loss!r}")
        if not callable(getattr(optimizer, "step", None)):
            raise ConfigError(f"fit: optimizer has no step(), got {type(optimizer).__name__}")
        if not callable(getattr(model, "parameters", None)):
            raise ConfigError(f"fit: model has no parameters(), got {type(model).__name__}")
        if scaler is not None and not callable(getattr(scaler, "state_dict", None)):
            raise ConfigError(f"fit: scaler has no state_dict(), got {type(scaler).__name__}")
        if seed is not None and (not is_int(seed) or seed < 0):
            raise ConfigError(f"fit: seed must be a non-negative int or None, got {seed!r}")
        plateau = scheduler is not None and bool(getattr(scheduler, "needs_metric", False))
        if plateau and scheduler_interval == "step":
            raise ConfigError(
                f"fit: the {type(scheduler).__name__} scheduler follows an epoch metric; use "
                "scheduler_interval='epoch'"
            )
        executor = check_executor(executor)
        if monitor is None:
            monitor = "val_loss" if validation is not None else "loss"
        metrics = list(metrics or ())
        names = [metric_name(m) if not isinstance(m, str) else m for m in metrics]
        if len(set(names)) != len(names):
            raise ConfigError(f"fit: duplicate metric names {names}")

        self._reset()  # a Trainer may run fit several times; each run starts clean
        self.model, self.loss, self.optimizer, self.scheduler = model, loss, optimizer, scheduler
        self.executor = executor
        self.train_data, self.validation_data = train, validation
        self.scaler = scaler
        self._plateau = plateau
        self._clock = time.monotonic if clock is None else clock
        self._options = {
            "epochs": epochs,
            "max_steps": max_steps,
            "max_time": None if max_time is None else float(max_time),
            "scheduler_interval": scheduler_interval,
            "monitor": monitor,
            "clip_grad_norm": clip_grad_norm,
            "seed": seed,
        }
        cbs = list(callbacks)
        for cb in cbs:
            if not any(callable(getattr(cb, h, None)) for h in HOOKS):
                raise ConfigError(
                    f"fit: {cb!r} is not a callback (it has none of {', '.join(HOOKS)})"
                )
        if not any(isinstance(cb, NonFiniteGuard) for cb in cbs):
            cbs.append(NonFiniteGuard())
        cbs.sort(key=lambda cb: getattr(cb, "order", 0))
        self.callbacks = cbs
        for hook in HOOKS:
            self._hooks[hook] = [
                getattr(cb, hook) for cb in cbs if callable(getattr(cb, hook, None))
            ]

        if seed is not None:
            seed_model(model, int(seed))
            seed_loader(train, int(seed))
        if resume_from is not None:
            state, self._resume_source = self._load_source(resume_from)
            self._restore(state, self._resume_source)

        was_training = getattr(model, "training", True)
        metric_context = _metric_context(model, metrics, metric_context)
        try:
            executor.start(self)
            for hook in self._hooks["on_fit_start"]:
                hook(self)
            bar = Progress(progress, epochs)
            self._elapsed_base, self._t0 = self._elapsed, self._clock()
            try:
                while not self.stop_requested:
                    if self._budget_spent():
                        self._mark_resume_point()
                        if self.batch_index > 0:  # the budget ran out inside an epoch
                            self._end_epoch(bar, metrics, metric_context, monitor, partial=True)
                        break
                    self._run_epoch(bar, metrics, metric_context, monitor)
            finally:
                bar.close()
                self._batch = None
            executor.finish(self)
        finally:
            executor.close()
        for hook in self._hooks["on_fit_end"]:
            hook(self)
        if hasattr(model, "train"):
            model.train(was_training)
        return self.history

    def _budget_spent(self, within_epoch: bool = False) -> bool:
        """Whether the budget ran out (``within_epoch``: the step and time budgets only)."""
        o = self._options
        if not within_epoch and o["epochs"] is not None and self.epoch >= o["epochs"]:
            return True
        if o["max_steps"] is not None and self.global_step >= o["max_steps"]:
            return True
        return o["max_time"] is not None and self._elapsed >= o["max_time"]

    def _tick(self) -> None:
        """Read the clock (after each batch, and at each epoch's end before ``on_epoch_end``):
        the seconds of training so far, those before a resume included."""
        self._elapsed = self._elapsed_base + (float(self._clock()) - self._t0)

    def _resume_loader(self, total: int | None) -> bool:
        """Load the data loader's saved position; False when the epoch has no batch left to run
        (saved after its last batch, before the trainer closed it)."""
        state, self._pending_loader = self._pending_loader, None
        train = self.train_data
        _load_component(self._resume_source, "loader", train.load_state_dict, state)
        position = state.get("position") if isinstance(state, Mapping) else None
        if total is None or not is_int(position) or position != total:
            return True
        # saved after the epoch's last batch, before the loader noticed the end: an empty
        # iteration closes the loader's epoch exactly as finishing the loop would have
        for _ in train:
            raise DataValidationError(
                f"the training data yielded a batch past the end of epoch {self.epoch} when resumed"
            )
        return self.batch_index != total

    def _run_epoch(
        self,
        bar: Progress,
        metrics: list[Any],
        metric_context: dict[str, Any],
        monitor: str,
    ) -> None:
        epoch = self.epoch
        train = self.train_data
        resumed = self.batch_index > 0
        set_epoch = getattr(train, "set_epoch", None)
        if callable(set_epoch):
            set_epoch(epoch)
        try:
            total = len(train)  # type: ignore[arg-type]
        except TypeError:
            total = None
        skip, self._skip_batches = self._skip_batches, 0
        iterate = True
        if self._pending_loader is not None:
            iterate = self._resume_loader(total)
        if not resumed:
            self._loss_sum, self._loss_count = 0.0, 0
            for hook in self._hooks["on_epoch_start"]:
                hook(self, epoch)
        self.model.train()
        bar.start_epoch(epoch, total, initial=self.batch_index)
        ran = resumed
        for batch in train if iterate else ():
            if skip:
                skip -= 1
                continue
            ran = True
            self._train_batch(batch, bar)
            if self.stop_requested:
                return
            # the budget ran out: leave the epoch, unless that was its last batch (then the loop
            # ends by itself, so the loader closes its epoch and the trainer closes it in full)
            if self._budget_spent(within_epoch=True) and (
                total is None or self.batch_index < total
            ):
                return
        if skip:
            raise DataValidationError(
                f"cannot resume epoch {epoch + 1} at batch {self.batch_index + 1}: the training data "
                f"yielded only {self.batch_index - skip} batch(es)"
            )
        if not ran:
            raise DataValidationError(f"the training data yielded no batch in epoch {epoch + 1}")
        self._end_epoch(bar, metrics, metric_context, monitor)

    def _lr(self) -> float:
        groups = getattr(self.optimizer, "param_groups", None)
        if groups:
            return float(groups[0]["lr"])
        if self.scheduler is not None:
            return float(self.scheduler.get_last_lr()[0])
        return math.nan

    def _train_batch(self, batch: Any, bar: Progress) -> None:
        x, y = unpack_batch(batch)
        self._batch = (x, y)
        value, grads = self.executor.gradients(self, batch, x, y)
        self._skip = False
        for hook in self._hooks["on_after_backward"]:
            hook(self, value, grads)
        self.batch_index += 1
        self._tick()
        if self._skip:
            return
        clip = self._options["clip_grad_norm"]
        if clip is not None:
            grads, _ = _clip_grad_norm(grads, clip)
        self.optimizer.step(None, grads)
        self.global_step += 1
        if self.scheduler is not None and self._options["scheduler_interval"] == "step":
            self.scheduler.step()
        n = _batch_size(y)
        self._loss_sum += value * n
        self._loss_count += n
        bar.update(value)
        hooks = self._hooks["on_batch_end"]
        if hooks:
            logs = {
                "loss": value,
                "step": self.global_step,
                "epoch": self.epoch,
                "batch": self.batch_index,
                "lr": self._lr(),
            }
            for hook in hooks:
                hook(self, logs)

    def _end_epoch(
        self,
        bar: Progress,
        metrics: list[Any],
        metric_context: dict[str, Any],
        monitor: str,
        partial: bool = False,
    ) -> None:
        """Close the epoch: validation, the History record (``partial``: of an epoch the budget cut
        short), the epoch's scheduler step, ``on_epoch_end``."""
        epoch = self.epoch
        record: dict[str, Any] = {
            "epoch": epoch,
            "step": self.global_step,
            "loss": self._loss_sum / self._loss_count if self._loss_count else math.nan,
            "lr": self._lr(),
        }
        if self.validation_data is not None:
            record.update(
                validate(self.model, self.loss, self.validation_data, metrics, metric_context)
            )
        self.history.append(record, partial=partial)
        if self.scheduler is not None and self._options["scheduler_interval"] == "epoch":
            if self._plateau:
                if monitor not in record:
                    raise ConfigError(
                        f"fit: the scheduler follows {monitor!r}, which is not in the epoch logs "
                        f"({', '.join(record)}); pass validation data or monitor="
                    )
                self.scheduler.step(record[monitor])
            else:
                self.scheduler.step()
        self.epoch += 1
        self.batch_index = 0
        self._loss_sum, self._loss_count = 0.0, 0
        self._tick()
        bar.end_epoch(record)
        for hook in self._hooks["on_epoch_end"]:
            hook(self, epoch, record)


def _metric_context(
    model: Any, metrics: Sequence[Any], context: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The metrics' context, with the model's quantile levels when it has a quantile head; a point
    metric on a quantile model without a 0.5 level is refused before training, not after an epoch."""
    out = dict(context or {})
    quantiles = _quantiles(model)
    if quantiles is None:
        return out
    out.setdefault("quantiles", list(quantiles))
    levels = [float(q) for q in np.asarray(out["quantiles"], dtype=np.float64).ravel()]
    if any(abs(q - 0.5) <= 1e-9 for q in levels):
        return out
    point = [
        m if isinstance(m, str) else metric_name(m)
        for m in metrics
        if getattr(get_metric(m), "kind", "point") == "point"
    ]
    if point:
        raise ConfigError(
            f"fit: the model forecasts the quantiles {levels}, without 0.5, so the point metrics "
            f"{point} have nothing to score; pass metrics=('pinball', 'coverage')"
        )
    return out


def validate(
    model: Any,
    loss: Any,
    data: Iterable[Any],
    metrics: Sequence[Any] = ("mae", "rmse"),
    metric_context: Mapping[str, Any] | None = None,
    prefix: str = "val_",
) -> dict[str, float]:
    """Evaluate ``model`` on ``data`` in eval mode without gradients.

    Returns ``{prefix + "loss": sample-weighted mean loss, prefix + name: metric}``; the metrics are
    computed once on all predictions and targets together. ``loss`` may be None (no loss entry).
    The model's train/eval mode is restored afterwards.
    """
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    total, count = 0.0, 0
    preds, targets = [], []
    try:
        with no_grad():
            for batch in data:
                x, y = unpack_batch(batch)
                pred = call_model(model, x, with_target(model, model_inputs(batch), y))
                if loss is not None:
                    n = _batch_size(y)
                    value = batch_loss(
                        loss, pred, y, target_mask(batch), loss_keywords(loss, batch)
                    )
                    total += loss_value(value, "validate") * n
                    count += n
                if isinstance(pred, tuple) and hasattr(pred, "point"):
                    # a teacher-forced distribution head's swets_ops.distributions
                    # .DistributionPrediction: scored by the distribution's mean
                    pred = pred.point()
                preds.append(np.asarray(pred._data if isinstance(pred, Tensor) else pred))
                targets.append(np.asarray(y._data))
    finally:
        if hasattr(model, "train"):
            model.train(was_training)
    if not preds:
        raise DataValidationError("the validation data yielded no batch")
    out: dict[str, float] = {}
    if loss is not None:
        out[prefix + "loss"] = total / count
    if metrics:
        scores = evaluate(
            metrics, np.concatenate(targets), np.concatenate(preds), **(metric_context or {})
        )
        out.update({prefix + k: v for k, v in scores.items()})
    return out


def fit(
    model: Any, loss: Any, optimizer: Any, train: Iterable[Any], validation: Any = None, **kw: Any
) -> History:
    """``Trainer().fit(...)``: see :meth:`Trainer.fit`."""
    return Trainer().fit(model, loss, optimizer, train, validation, **kw)
