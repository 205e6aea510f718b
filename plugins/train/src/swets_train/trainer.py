"""The training loop: :class:`Trainer`, :func:`fit` and the :class:`History` they return.

One training step is::

    with GradientTape() as tape:
        loss = loss_fn(model(x), y)
    grads = tape.backward(loss)
    # callbacks.on_after_backward (the non-finite guard), optional clipping
    grads, norm = clip_grad_norm(grads, max_norm)
    optimizer.step(None, grads)
    scheduler.step()          # when scheduler_interval == "step"

Data: ``train`` (and ``validation``) is any re-iterable of batches, typically a
``swets_timeseries.DataLoader``; a batch is a ``swets_timeseries.Batch`` (``x_past`` and ``y``), an
``(x, y)`` pair, a mapping with ``"x"`` and ``"y"``, or an object with ``x`` and ``y`` attributes. ``x`` is ``(B, L, F)`` and
``y`` ``(B, H)`` (any shapes the model and loss agree on). Optional loader methods the trainer uses
when present: ``__len__`` (progress bar), ``set_epoch(epoch)`` (called before each epoch),
``state_dict()`` / ``load_state_dict(state)`` (the position inside an epoch, for mid-epoch resume),
``generator`` (a numpy Generator that ``fit(seed=...)`` reseeds in place). A loader without a state
dict is resumed by re-iterating the epoch and skipping the batches already done, which is exact when its
batch order depends only on the epoch.

Reproducibility: ``seed`` reseeds every numpy Generator held by the model's layers (dropout) and the
loader; with the same seed, model initialisation and data, two runs give bitwise-identical parameters.
A checkpoint saved by :class:`~swets_train.callbacks.ModelCheckpoint` (or :meth:`Trainer.save_checkpoint`)
at any step holds everything needed to continue exactly: ``fit(..., resume_from=path)``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from swets_core import GradientTape, Tensor, no_grad, registry
from swets_core import checkpoint as _ckpt
from swets_core.checks import is_int
from swets_core.errors import (
    CheckpointError,
    ConfigError,
    DataValidationError,
    MissingKeyError,
    ShapeError,
    StateDictError,
)
from swets_optim import ReduceLROnPlateau
from swets_optim import clip_grad_norm as _clip_grad_norm
from swets_train._progress import Progress
from swets_train.callbacks import NonFiniteGuard
from swets_train.metrics import evaluate, metric_name

__all__ = ["History", "Trainer", "fit", "model_generators", "seed_model", "validate"]

TRAINING_STATE_VERSION = 1

_HOOKS = (
    "on_fit_start",
    "on_epoch_start",
    "on_after_backward",
    "on_batch_end",
    "on_epoch_end",
    "on_fit_end",
)


class History:
    """Per-epoch records of a training run.

    Each record is a dict: ``epoch`` (0-based), ``step`` (optimizer steps done at its end), ``loss``
    (the sample-weighted mean training loss of the epoch), ``lr`` (the first group's learning rate
    during the epoch) and, with validation data, ``val_loss`` and ``val_<metric>`` for each metric.
    ``history["val_mae"]`` gives one value per epoch (NaN where a record lacks the key).

    Attributes:
        records: the list of per-epoch dicts.
        stop_reason: why training stopped before its budget (early stopping, the non-finite guard, a
            callback), or None.
    """

    __slots__ = ("records", "stop_reason")

    def __init__(self, records: Iterable[Mapping[str, Any]] = (), stop_reason: str | None = None):
        self.records: list[dict[str, Any]] = [dict(r) for r in records]
        self.stop_reason = stop_reason

    def append(self, record: Mapping[str, Any]) -> None:
        """Add one epoch's record."""
        self.records.append(dict(record))

    def keys(self) -> list[str]:
        """Every key that appears in a record, in first-seen order."""
        seen: dict[str, None] = {}
        for r in self.records:
            for k in r:
                seen.setdefault(k, None)
        return list(seen)

    def __getitem__(self, key: str) -> list[Any]:
        if key not in self.keys():
            raise MissingKeyError(f"no {key!r} in the history; keys: {', '.join(self.keys())}")
        return [r.get(key, math.nan) for r in self.records]

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self):
        return iter(self.records)

    @property
    def epochs(self) -> int:
        """Number of completed epochs recorded."""
        return len(self.records)

    def best(self, monitor: str = "val_loss", mode: str = "min") -> dict[str, Any]:
        """The record with the best ``monitor`` value (NaN values are never best)."""
        if mode not in ("min", "max"):
            raise ConfigError(f"History.best: mode must be 'min' or 'max', got {mode!r}")
        values = [(r.get(monitor, math.nan), i) for i, r in enumerate(self.records)]
        values = [(v, i) for v, i in values if not math.isnan(v)]
        if not values:
            raise ConfigError(f"History.best: no finite {monitor!r} value is recorded")
        pick = min(values) if mode == "min" else max(values, key=lambda t: (t[0], -t[1]))
        return dict(self.records[pick[1]])

    def state_dict(self) -> dict[str, Any]:
        """Plain data: ``{"records": [...], "stop_reason": ...}``."""
        return {"records": [dict(r) for r in self.records], "stop_reason": self.stop_reason}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.records = [dict(r) for r in state["records"]]
        self.stop_reason = state["stop_reason"]

    to_dict = state_dict

    def __repr__(self) -> str:
        last = self.records[-1] if self.records else {}
        shown = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in last.items()
        )
        return f"History({len(self.records)} epoch(s); last: {shown or '-'})"


# -- RNG helpers ------------------------------------------------------------------------------------
def model_generators(model: Any) -> list[tuple[str, Any, str, np.random.Generator]]:
    """Every numpy Generator held by a module of ``model``: ``(dotted_name, module, attr, gen)``.

    In a fixed order (module tree depth first, attributes in definition order); a generator shared by
    several layers is listed once (under its first name).
    """
    out = []
    seen: set[int] = set()
    modules = model.named_modules() if hasattr(model, "named_modules") else [("", model)]
    for mod_name, mod in modules:
        for attr, value in list(vars(mod).items()):
            if isinstance(value, np.random.Generator) and id(value) not in seen:
                seen.add(id(value))
                name = f"{mod_name}.{attr}" if mod_name else attr
                out.append((name, mod, attr, value))
    return out


def seed_model(model: Any, seed: int) -> None:
    """Give every Generator of ``model``'s layers a fresh state derived from ``seed``, in place.

    Layers sharing one generator keep sharing it. The derivation is
    children ``1..n`` of ``SeedSequence(seed)`` in :func:`model_generators` order (child 0 seeds the
    data loader in :meth:`Trainer.fit`).
    """
    gens = model_generators(model)
    children = np.random.SeedSequence(seed).spawn(len(gens) + 1)[1:]
    for (_, _, _, gen), child in zip(gens, children):
        gen.bit_generator.state = type(gen.bit_generator)(child).state


def _check_count(value: Any, name: str, minimum: int = 1) -> int | None:
    if value is None:
        return None
    if not is_int(value) or value < minimum:
        raise ConfigError(f"fit: {name} must be an int >= {minimum} or None, got {value!r}")
    return int(value)


def _is_plateau(scheduler: Any) -> bool:
    if isinstance(scheduler, ReduceLROnPlateau):
        return True
    return bool(getattr(scheduler, "needs_metric", False))


def _registered_name(kind: str, obj: Any) -> str | None:
    try:
        for comp in registry.default_registry().items(kind):
            if comp.obj is type(obj):
                return comp.name
    except Exception:  # pragma: no cover - registry trouble must not block a save
        return None
    return None


def _unpack(batch: Any) -> tuple[Any, Any]:
    if hasattr(batch, "x_past") and hasattr(batch, "y"):  # swets_timeseries.Batch
        if getattr(batch, "x_future", None) is not None:
            raise DataValidationError(
                "the batch has known-future covariates (x_future) but the trainer feeds the model "
                "x_past only; build the WindowDataset with known_in_past=True and no "
                "known_covariates, or drop them"
            )
        return batch.x_past, batch.y
    if isinstance(batch, (tuple, list)):
        if len(batch) == 2:
            return batch[0], batch[1]
        raise DataValidationError(
            f"a training batch must be (x, y); got a {type(batch).__name__} of {len(batch)} items"
        )
    if isinstance(batch, Mapping):
        if "x" in batch and "y" in batch:
            return batch["x"], batch["y"]
        raise DataValidationError(
            f"a training batch mapping needs keys 'x' and 'y'; got {sorted(map(str, batch))}"
        )
    if hasattr(batch, "x") and hasattr(batch, "y"):
        return batch.x, batch.y
    raise DataValidationError(
        f"a training batch must be (x, y), a mapping with 'x' and 'y', or an object with x and y "
        f"attributes; got {type(batch).__name__}"
    )


def _as_tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(np.asarray(value))


def _loss_value(loss_t: Any, where: str) -> float:
    """The value of a loss that must be a scalar Tensor (ShapeError otherwise)."""
    if not isinstance(loss_t, Tensor) or loss_t.size != 1:
        shape = getattr(loss_t, "shape", type(loss_t).__name__)
        raise ShapeError(
            f"{where}: the loss must return a scalar Tensor, got {shape}; use reduction='mean'"
        )
    return float(loss_t._data)


def _batch_size(y: Tensor) -> int:
    return int(y.shape[0]) if y.ndim else 1


class Trainer:
    """Runs :meth:`fit`; during a run it is the object callbacks receive.

    Attributes available to callbacks: ``model``, ``loss``, ``optimizer``, ``scheduler``, ``epoch``
    (current epoch, 0-based), ``batch_index`` (batches done in the current epoch), ``global_step``
    (optimizer steps done), ``history``, ``stop_requested``, ``stop_reason``; methods
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
        self._hooks: dict[str, list[Callable[..., Any]]] = {h: [] for h in _HOOKS}
        self._plateau = False
        self._options: dict[str, Any] = {}

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

    # -- state ------------------------------------------------------------------------------------
    def _callback_keys(self) -> list[str]:
        keys, counts = [], {}
        for cb in self.callbacks:
            base = type(cb).__name__
            n = counts.get(base, 0)
            counts[base] = n + 1
            keys.append(base if n == 0 else f"{base}#{n}")
        return keys

    def training_state(self) -> dict[str, Any]:
        """Everything needed to resume this run exactly, as plain data (see the module docstring)."""
        loader_state = None
        if callable(getattr(self.train_data, "state_dict", None)):
            loader_state = self.train_data.state_dict()
        callbacks = {}
        for key, cb in zip(self._callback_keys(), self.callbacks):
            sd = getattr(cb, "state_dict", None)
            state = sd() if callable(sd) else {}
            if state:
                callbacks[key] = state
        return {
            "version": TRAINING_STATE_VERSION,
            "epoch": self.epoch,
            "batch": self.batch_index,
            "step": self.global_step,
            "epoch_loss": {"sum": self._loss_sum, "count": self._loss_count},
            "history": self.history.state_dict(),
            "stop": {"requested": self.stop_requested, "reason": self.stop_reason},
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "rng": {
                "model": {
                    name: _ckpt.generator_state(gen)
                    for name, _, _, gen in model_generators(self.model)
                }
            },
            "loader": loader_state,
            "scaler": None if self.scaler is None else self.scaler.state_dict(),
            "callbacks": callbacks,
            "options": dict(self._options),
        }

    def save_checkpoint(
        self,
        path: str | os.PathLike[str],
        *,
        serializer: Any = "msgpack",
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """Save the model and :meth:`training_state` to ``path`` (atomically)."""
        components = []
        for kind, obj in (
            ("optimizers", self.optimizer),
            ("schedulers", self.scheduler),
            ("losses", self.loss),
        ):
            name = None if obj is None else _registered_name(kind, obj)
            if name is not None:
                components.append((kind, name))
        _ckpt.save_checkpoint(
            path,
            self.model,
            training_state=self.training_state(),
            metadata=metadata,
            serializer=serializer,
            components=components,
        )

    def _load_source(self, source: Any) -> Mapping[str, Any]:
        if isinstance(source, (str, os.PathLike)):
            source = _ckpt.load_checkpoint(source)
        if isinstance(source, _ckpt.Checkpoint):
            ours = getattr(self.model, "registry_name", None)
            if ours is not None and ours != source.model_name:
                raise CheckpointError(
                    f"{source.path}: holds model {source.model_name!r} but the model given to fit "
                    f"is {ours!r}"
                )
            config = getattr(self.model, "config", None)
            if callable(config):
                mine = config()
                diff = sorted(
                    k for k in set(mine) | set(source.config) if mine.get(k) != source.config.get(k)
                )
                if diff:
                    raise CheckpointError(
                        f"{source.path}: the model's configuration differs from the checkpoint's "
                        f"in {', '.join(diff)}"
                    )
            self.model.load_state_dict(source.model.state_dict())
            if source.training_state is None:
                raise CheckpointError(
                    f"{source.path}: holds no training state (saved outside training); load it "
                    "with load_checkpoint to predict, or fine-tune without resume_from"
                )
            return source.training_state
        if isinstance(source, Mapping):
            return source
        raise ConfigError(
            "fit: resume_from must be a checkpoint path, a loaded Checkpoint or a training-state "
            f"mapping, got {type(source).__name__}"
        )

    def _restore(self, state: Mapping[str, Any]) -> None:
        if state.get("version") != TRAINING_STATE_VERSION:
            raise CheckpointError(
                f"unknown training-state version {state.get('version')!r}; this swets-train "
                f"writes version {TRAINING_STATE_VERSION}"
            )
        required = (
            "epoch",
            "batch",
            "step",
            "epoch_loss",
            "history",
            "stop",
            "optimizer",
            "scheduler",
            "rng",
            "loader",
            "callbacks",
        )
        missing = [k for k in required if k not in state]
        if missing:
            raise CheckpointError(f"the training state lacks {', '.join(missing)}")
        self.epoch = int(state["epoch"])
        self.batch_index = int(state["batch"])
        self.global_step = int(state["step"])
        self._loss_sum = float(state["epoch_loss"]["sum"])
        self._loss_count = int(state["epoch_loss"]["count"])
        self.history.load_state_dict(state["history"])
        self.stop_requested = bool(state["stop"]["requested"])
        self.stop_reason = state["stop"]["reason"]
        self.optimizer.load_state_dict(state["optimizer"])
        if (state["scheduler"] is None) != (self.scheduler is None):
            raise CheckpointError(
                "the checkpoint was saved "
                + ("without" if state["scheduler"] is None else "with")
                + " a scheduler, but fit was given "
                + ("one" if self.scheduler is not None else "none")
            )
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        gens = {name: gen for name, _, _, gen in model_generators(self.model)}
        saved = state["rng"]["model"]
        if set(saved) != set(gens):
            raise StateDictError(
                "the model's random generators",
                [f"missing {k!r}" for k in sorted(set(gens) - set(saved))]
                + [f"unexpected {k!r}" for k in sorted(set(saved) - set(gens))],
            )
        for name, gen in gens.items():
            gen.bit_generator.state = _ckpt.restore_generator(saved[name]).bit_generator.state
        loader_state = state["loader"]
        if loader_state is not None:
            if not callable(getattr(self.train_data, "load_state_dict", None)):
                raise CheckpointError(
                    "the checkpoint holds a data-loader position but the training data given to "
                    f"fit ({type(self.train_data).__name__}) has no load_state_dict()"
                )
            self._pending_loader = loader_state
            self._skip_batches = 0
        else:
            self._pending_loader = None
            self._skip_batches = self.batch_index
        if self.scaler is not None and state.get("scaler") is not None:
            self.scaler.load_state_dict(state["scaler"])
        keys = self._callback_keys()
        by_key = dict(zip(keys, self.callbacks))
        unknown = sorted(set(state["callbacks"]) - set(by_key))
        if unknown:
            raise CheckpointError(
                f"the checkpoint holds the state of callback(s) {', '.join(unknown)} that fit was not "
                f"given (callbacks given: {', '.join(keys) or 'none'})"
            )
        for key, cb_state in state["callbacks"].items():
            by_key[key].load_state_dict(cb_state)

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
    ) -> History:
        """Train ``model`` and return the :class:`History`.

        Args:
            model: a Layer (``(B, L, F) -> (B, H)`` for the forecasters).
            loss: a Loss object ``loss(pred, target) -> scalar`` or a registered loss name (``"mse"``).
            optimizer: an optimizer built on ``model.parameters()``.
            train: the training batches (see the module docstring), iterated once per epoch.
            validation: batches evaluated after each epoch (no gradients, eval mode).
            epochs: number of epochs; ``max_steps``: number of optimizer steps. At least one is
                required; training stops at whichever comes first. An epoch cut short by
                ``max_steps`` is still validated and recorded.
            scheduler: an LR scheduler stepped after the optimizer, per ``scheduler_interval``
                (``"epoch"`` or ``"step"``). A ReduceLROnPlateau is stepped per epoch with the
                ``monitor`` value.
            monitor: the epoch-log value a ReduceLROnPlateau follows (``"val_loss"`` when there is
                validation data, else ``"loss"``).
            clip_grad_norm: clip the global gradient norm to this value before each step.
            metrics: validation metrics (names or Metric objects), computed on all validation
                predictions at once and logged as ``val_<name>``.
            metric_context: context passed to the metrics (``insample``/``scale`` for MASE...).
            callbacks: callback objects (see :mod:`swets_train.callbacks`). A
                :class:`~swets_train.callbacks.NonFiniteGuard` raising on NaN/Inf is added when none
                is given.
            seed: reseed the model's random generators (dropout) and the loader's shuffling.
            progress: show a progress bar (only when stderr is a terminal).
            resume_from: a checkpoint path (or loaded ``Checkpoint``, or a training-state mapping)
                to continue from; the model, optimizer, scheduler, RNGs, loader position, counters,
                history and callback states are restored. Pass the same objects as the original run.
            scaler: the fitted scaler of the data; not used for training, but stored in every
                checkpoint (``training_state["scaler"]``) so forecasts can be made from the file
                (:func:`swets_train.data.scaler_from_state`).

        Returns:
            The :class:`History` (also ``trainer.history``).

        Raises:
            ConfigError: invalid arguments. NonFiniteError: from the default guard.
            DataValidationError: the training data yields no batch or malformed batches.
        """
        epochs = _check_count(epochs, "epochs")
        max_steps = _check_count(max_steps, "max_steps")
        if epochs is None and max_steps is None:
            raise ConfigError("fit: give epochs=, max_steps=, or both")
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
        plateau = scheduler is not None and _is_plateau(scheduler)
        if plateau and scheduler_interval == "step":
            raise ConfigError(
                "fit: a ReduceLROnPlateau scheduler follows an epoch metric; use "
                "scheduler_interval='epoch'"
            )
        if monitor is None:
            monitor = "val_loss" if validation is not None else "loss"
        metrics = list(metrics or ())
        names = [metric_name(m) if not isinstance(m, str) else m for m in metrics]
        if len(set(names)) != len(names):
            raise ConfigError(f"fit: duplicate metric names {names}")

        self._reset()  # a Trainer may run fit several times; each run starts clean
        self.model, self.loss, self.optimizer, self.scheduler = model, loss, optimizer, scheduler
        self.train_data, self.validation_data = train, validation
        self.scaler = scaler
        self._plateau = plateau
        self._options = {
            "epochs": epochs,
            "max_steps": max_steps,
            "scheduler_interval": scheduler_interval,
            "monitor": monitor,
            "clip_grad_norm": clip_grad_norm,
            "seed": seed,
        }
        cbs = list(callbacks)
        for cb in cbs:
            if not any(callable(getattr(cb, h, None)) for h in _HOOKS):
                raise ConfigError(
                    f"fit: {cb!r} is not a callback (it has none of {', '.join(_HOOKS)})"
                )
        if not any(isinstance(cb, NonFiniteGuard) for cb in cbs):
            cbs.append(NonFiniteGuard())
        cbs.sort(key=lambda cb: getattr(cb, "order", 0))
        self.callbacks = cbs
        for hook in _HOOKS:
            self._hooks[hook] = [
                getattr(cb, hook) for cb in cbs if callable(getattr(cb, hook, None))
            ]

        if seed is not None:
            seed_model(model, int(seed))
            gen = getattr(train, "generator", None)
            if isinstance(gen, np.random.Generator):
                child = np.random.SeedSequence(int(seed)).spawn(1)[0]
                gen.bit_generator.state = type(gen.bit_generator)(child).state
        if resume_from is not None:
            self._restore(self._load_source(resume_from))

        was_training = getattr(model, "training", True)
        bar = Progress(progress, epochs)
        metric_context = dict(metric_context or {})
        for hook in self._hooks["on_fit_start"]:
            hook(self)
        try:
            while not self.stop_requested:
                if epochs is not None and self.epoch >= epochs:
                    break
                if max_steps is not None and self.global_step >= max_steps:
                    break
                self._run_epoch(bar, epochs, max_steps, metrics, metric_context, monitor)
        finally:
            bar.close()
            self._batch = None
        for hook in self._hooks["on_fit_end"]:
            hook(self)
        if hasattr(model, "train"):
            model.train(was_training)
        return self.history

    def _run_epoch(
        self,
        bar: Progress,
        epochs: int | None,
        max_steps: int | None,
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
        if self._pending_loader is not None:
            state, self._pending_loader = self._pending_loader, None
            position = state.get("position") if isinstance(state, Mapping) else None
            if total is not None and position == total and self.batch_index == total:
                # saved after the epoch's last batch but before the loader noticed the end:
                # replay the epoch from its start and skip every batch, which leaves the loader
                # exactly where finishing the epoch would have
                train.load_state_dict({**state, "position": 0})
                skip = self.batch_index
            else:
                train.load_state_dict(state)
        if not resumed:
            self._loss_sum, self._loss_count = 0.0, 0
            for hook in self._hooks["on_epoch_start"]:
                hook(self, epoch)
        self.model.train()
        bar.start_epoch(epoch, total, initial=self.batch_index)
        ran = resumed
        for batch in train:
            if skip:
                skip -= 1
                continue
            ran = True
            self._train_batch(batch, bar)
            if self.stop_requested:
                return
            if max_steps is not None and self.global_step >= max_steps:
                break
        if skip:
            raise DataValidationError(
                f"cannot resume epoch {epoch} at batch {self.batch_index}: the training data "
                f"yielded only {self.batch_index - skip} batch(es)"
            )
        if not ran:
            raise DataValidationError(f"the training data yielded no batch in epoch {epoch}")
        self._end_epoch(bar, metrics, metric_context, monitor)

    def _lr(self) -> float:
        groups = getattr(self.optimizer, "param_groups", None)
        if groups:
            return float(groups[0]["lr"])
        if self.scheduler is not None:
            return float(self.scheduler.get_last_lr()[0])
        return math.nan

    def _train_batch(self, batch: Any, bar: Progress) -> None:
        x, y = _unpack(batch)
        x, y = _as_tensor(x), _as_tensor(y)
        self._batch = (x, y)
        model, loss_fn = self.model, self.loss
        with GradientTape() as tape:
            pred = model(x)
            loss_t = loss_fn(pred, y)
        value = _loss_value(loss_t, "fit")
        grads = tape.backward(loss_t)
        self._skip = False
        for hook in self._hooks["on_after_backward"]:
            hook(self, value, grads)
        self.batch_index += 1
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
    ) -> None:
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
        self.history.append(record)
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
        bar.end_epoch(record)
        for hook in self._hooks["on_epoch_end"]:
            hook(self, epoch, record)


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
                x, y = _unpack(batch)
                x, y = _as_tensor(x), _as_tensor(y)
                pred = model(x)
                if loss is not None:
                    n = _batch_size(y)
                    total += _loss_value(loss(pred, y), "validate") * n
                    count += n
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
