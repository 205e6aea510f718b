"""The training state of a run: what :meth:`Trainer.training_state` writes and ``resume_from`` reads.

One definition of the format, shared by every way of training (:meth:`Trainer.fit` with any executor):
plain data (numbers, strings, lists, dicts and arrays) with the keys ``version``, ``epoch``, ``batch``
(batches done in the epoch), ``step`` (optimizer steps done), ``elapsed`` (seconds of training, for
a time budget), ``epoch_loss`` (the running sum and count of the epoch's loss), ``history``
(``records``, ``stop_reason`` and ``partial``: whether the last record closes an epoch the budget cut
short), ``stop``, ``optimizer``, ``scheduler``, ``rng`` (every numpy Generator of the model's layers,
by dotted name), ``loader`` (the data loader's position, or None), ``scaler``, ``callbacks`` (their
states by class name, ``Name#1`` for a second one), ``options`` (the budget, scheduler interval,
monitor, clipping and seed ``fit`` was given) and, only when a callback changed the weights after
the budget ran out (early stopping restoring its best epoch), ``weights``: the parameters to
continue from.

**The resume point.** A run that ends because its budget (epochs, steps or time) ran out records
the state at that moment, before anything that happens only because training ends: closing an
epoch the budget cut short (its validation, History record, scheduler step and ``on_epoch_end``),
``on_fit_end`` (early stopping's weight restore). Every training state written afterwards (by
``ModelCheckpoint`` while closing that epoch, or by :meth:`~TrainingStateMixin.save_checkpoint`
after ``fit`` returned) is that resume point, so ``fit(..., resume_from=...)`` with a larger budget
continues exactly where an uninterrupted run would be: bit for bit the same parameters and history.

:func:`check_training_state` validates every field by type before anything is restored; each
problem is a :class:`~swets_core.errors.CheckpointError` naming the field (``training.history.
records[3]``), and a component's state that does not load (optimizer, scheduler, loader, scaler,
callbacks) is a ``CheckpointError`` naming it too.

Seeding (``fit(seed=...)``): child 0 of ``SeedSequence(seed)`` seeds the training data's generator
(:func:`seed_loader`), children ``1..n`` the model's generators (:func:`seed_model`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from swets_core import checkpoint as _ckpt
from swets_core import registry
from swets_core.checks import is_int
from swets_core.errors import (
    CheckpointError,
    ConfigError,
    StateDictError,
    SwetsError,
)

__all__ = [
    "TRAINING_STATE_VERSION",
    "TrainingStateMixin",
    "check_training_state",
    "model_generators",
    "seed_loader",
    "seed_model",
]

TRAINING_STATE_VERSION = 1


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


def seed_loader(loader: Any, seed: int) -> None:
    """Reseed the training data's numpy Generator (``loader.generator``, when it has one) in place
    with child 0 of ``SeedSequence(seed)``."""
    gen = getattr(loader, "generator", None)
    if isinstance(gen, np.random.Generator):
        child = np.random.SeedSequence(int(seed)).spawn(1)[0]
        gen.bit_generator.state = type(gen.bit_generator)(child).state


_REQUIRED = (
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
_LOADER_KEYS = {"epoch", "position", "rng_state", "num_windows", "batch_size"}  # a DataLoader's
_RECORD_VALUES = (type(None), bool, int, float, str, np.bool_, np.integer, np.floating)


def _expect(ok: bool, source: str, field: str, value: Any, expected: str) -> None:
    if not ok:
        raise _ckpt.field_error(source, f"training.{field}", value, expected)


def _present(mapping: Mapping[str, Any], key: str, source: str, field: str) -> None:
    if key not in mapping:
        raise CheckpointError(f"{source}: missing field 'training.{field}'")


def _count(state: Mapping[str, Any], key: str, source: str, field: str | None = None) -> int:
    value = state[key]
    _expect(is_int(value) and value >= 0, source, field or key, value, "an int >= 0")
    return int(value)


def _mapping(value: Any, source: str, field: str, optional: bool = False) -> bool:
    """True for a mapping (None too when ``optional``), else a CheckpointError naming ``field``."""
    if optional and value is None:
        return False
    expected = "a mapping or None" if optional else "a mapping"
    _expect(isinstance(value, Mapping), source, field, value, expected)
    return True


def _text_or_none(value: Any, source: str, field: str) -> None:
    _expect(value is None or isinstance(value, str), source, field, value, "a str or None")


def check_training_state(state: Any, source: str = "the training state") -> None:
    """Check every field of a training state (see the module docstring) by type and range.

    The states of the components (optimizer, scheduler, loader, scaler, callbacks) are checked
    here to be mappings; each component checks its own content when it loads it.

    Raises:
        CheckpointError: naming ``source`` and the field (``training.history.records[2]``): a
            missing key, a value of the wrong type or range, an unknown version, a batch count
            that contradicts the data loader's position.
    """
    if not isinstance(state, Mapping):
        raise _ckpt.field_error(source, "training", state, "a mapping")
    version = state.get("version")
    if not (is_int(version) and version == TRAINING_STATE_VERSION):
        raise CheckpointError(
            f"{source}: unknown training-state version {version!r:.40} (field "
            f"'training.version'); this swets-train writes version {TRAINING_STATE_VERSION}"
        )
    missing = [k for k in _REQUIRED if k not in state]
    if missing:
        raise CheckpointError(
            f"{source}: the training state lacks " + ", ".join(f"'training.{k}'" for k in missing)
        )
    batch = _count(state, "batch", source)
    _count(state, "epoch", source)
    _count(state, "step", source)
    if "elapsed" in state:
        e = state["elapsed"]
        ok = isinstance(e, (int, float)) and not isinstance(e, bool) and math.isfinite(e) and e >= 0
        _expect(ok, source, "elapsed", e, "a finite number of seconds >= 0")
    loss = state["epoch_loss"]
    _mapping(loss, source, "epoch_loss")
    for key in ("sum", "count"):
        _present(loss, key, source, f"epoch_loss.{key}")
    total = loss["sum"]
    _expect(
        isinstance(total, (int, float)) and not isinstance(total, bool),
        source,
        "epoch_loss.sum",
        total,
        "a number",
    )
    _count(loss, "count", source, "epoch_loss.count")
    _check_history(state["history"], source)
    stop = state["stop"]
    _mapping(stop, source, "stop")
    for key in ("requested", "reason"):
        _present(stop, key, source, f"stop.{key}")
    _expect(
        isinstance(stop.get("requested"), bool),
        source,
        "stop.requested",
        stop.get("requested"),
        "a bool",
    )
    _text_or_none(stop.get("reason"), source, "stop.reason")
    _mapping(state["optimizer"], source, "optimizer")
    _mapping(state["scheduler"], source, "scheduler", optional=True)
    rng = state["rng"]
    _mapping(rng, source, "rng")
    _present(rng, "model", source, "rng.model")
    _mapping(rng["model"], source, "rng.model")
    for name, gen in rng["model"].items():
        _expect(isinstance(name, str), source, "rng.model", name, "a mapping with str keys")
        _mapping(gen, source, f"rng.model.{name}")
    loader = state["loader"]
    if _mapping(loader, source, "loader", optional=True) and set(loader) >= _LOADER_KEYS:
        pos = loader.get("position")
        if is_int(pos) and pos != batch and batch != 0:
            raise CheckpointError(
                f"{source}: field 'training.batch' says {batch} batch(es) of the epoch are done but "
                f"the data loader's position ('training.loader.position') is {pos}: the state is "
                "inconsistent (an older swets saved it at the end of an epoch cut short by "
                "max_steps, or it was edited) and cannot be resumed exactly"
            )
        if is_int(pos) and batch == 0 and pos != 0 and not _finished_epoch(loader):
            raise CheckpointError(
                f"{source}: field 'training.batch' is 0 (an epoch boundary) but the data loader "
                f"is at batch {pos} of its epoch ('training.loader.position'): the state is "
                "inconsistent (an older swets saved it at the end of an epoch cut short by "
                "max_steps, or it was edited) and cannot be resumed exactly"
            )
    _mapping(state.get("scaler"), source, "scaler", optional=True)
    callbacks = state["callbacks"]
    _mapping(callbacks, source, "callbacks")
    for key, value in callbacks.items():
        _expect(isinstance(key, str), source, "callbacks", key, "a mapping with str keys")
        _mapping(value, source, f"callbacks.{key}")
    if "options" in state:
        _mapping(state["options"], source, "options")
    if "weights" in state:
        weights = state["weights"]
        _mapping(weights, source, "weights")
        for name, arr in weights.items():
            _expect(
                isinstance(name, str) and isinstance(arr, np.ndarray),
                source,
                f"weights.{name}",
                arr,
                "an array",
            )


def _finished_epoch(loader: Mapping[str, Any]) -> bool:
    """Whether a loader state was saved right after delivering the last batch of an epoch (the
    epoch the trainer closed): its ``position`` equals its number of batches."""
    n, size = loader.get("num_windows"), loader.get("batch_size")
    pos, drop = loader.get("position"), loader.get("drop_last")
    if not (is_int(n) and is_int(size) and size > 0 and is_int(pos)):
        return False
    batches = n // size if drop else -(-n // size)
    return pos == batches


def _check_history(history: Any, source: str) -> None:
    _mapping(history, source, "history")
    records = history.get("records")
    _expect(isinstance(records, list), source, "history.records", records, "a list of mappings")
    for i, record in enumerate(records):
        where = f"history.records[{i}]"
        _expect(isinstance(record, Mapping), source, where, record, "a mapping")
        for key, value in record.items():
            _expect(isinstance(key, str), source, where, key, "a mapping with str keys")
            _expect(
                isinstance(value, _RECORD_VALUES),
                source,
                f"{where}.{key}",
                value,
                "a number, a str or None",
            )
    _text_or_none(history.get("stop_reason"), source, "history.stop_reason")
    partial = history.get("partial", False)
    _expect(isinstance(partial, bool), source, "history.partial", partial, "a bool")
    if partial and not records:
        raise CheckpointError(
            f"{source}: field 'training.history.partial' is true but there is no record"
        )


def _copy_arrays(value: Any) -> Any:
    """A copy of plain data in which every array is copied too (a state that must not change)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _copy_arrays(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_arrays(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_copy_arrays(v) for v in value)
    return value


def _load_component(source: str, field: str, load: Any, state: Any) -> None:
    """``load(state)``; whatever it raises becomes a CheckpointError naming ``training.<field>``."""
    try:
        load(state)
    except StateDictError as exc:
        raise _ckpt.CheckpointStateError(f"training.{field} of {source}", exc.problems) from exc
    except CheckpointError as exc:
        raise CheckpointError(f"{source}: field 'training.{field}': {exc}") from exc
    except Exception as exc:  # a hostile state may make any component fail
        kind = "" if isinstance(exc, SwetsError) else f"{type(exc).__name__}: "
        text = str(exc)
        if len(text) > 1000:
            text = f"{text[:1000]}... ({len(text):,} characters)"
        raise CheckpointError(
            f"{source}: field 'training.{field}' cannot be loaded: {kind}{text}"
        ) from exc


def _registered_name(kind: str, obj: Any) -> str | None:
    try:
        for comp in registry.default_registry().items(kind):
            if comp.obj is type(obj):
                return comp.name
    except Exception:  # pragma: no cover - registry trouble must not block a save
        return None
    return None


class TrainingStateMixin:
    """The state methods of :class:`~swets_train.Trainer`: writing, saving and restoring the training
    state of the run in progress (see the module docstring)."""

    def _callback_keys(self) -> list[str]:
        keys, counts = [], {}
        for cb in self.callbacks:
            base = type(cb).__name__
            n = counts.get(base, 0)
            counts[base] = n + 1
            keys.append(base if n == 0 else f"{base}#{n}")
        return keys

    def training_state(self) -> dict[str, Any]:
        """Everything needed to resume this run exactly, as plain data (see the module docstring).

        After the budget ran out this is the resume point (with the History record of an epoch the
        budget cut short, flagged ``partial``, and the weights to continue from when a callback
        replaced them since).
        """
        if self._resume_point is not None:
            return self._resume_state()
        return self._current_state()

    def _current_state(self) -> dict[str, Any]:
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
            "elapsed": self._elapsed,
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

    def _mark_resume_point(self) -> None:
        """Record the state at the moment the budget ran out (see the module docstring)."""
        state = _copy_arrays(self._current_state())
        weights = {k: np.array(v, copy=True) for k, v in self.model.state_dict().items()}
        self._resume_point = (state, weights)

    def _resume_state(self) -> dict[str, Any]:
        state, weights = self._resume_point
        out = dict(state)
        if self.history.partial:  # the record of the epoch the budget cut short, for the record
            history = dict(state["history"])
            history["records"] = [*history["records"], dict(self.history.records[-1])]
            history["partial"] = True
            out["history"] = history
        now = self.model.state_dict()
        if now.keys() != weights.keys() or any(
            now[k].tobytes() != weights[k].tobytes() for k in weights
        ):
            out["weights"] = weights
        return out

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

    def _load_source(self, source: Any) -> tuple[Mapping[str, Any], str]:
        """The training state to resume from and the name of where it came from."""
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
                        f"in {', '.join(diff[:20])}"
                    )
            if source.training_state is None:
                raise CheckpointError(
                    f"{source.path}: holds no training state (saved outside training); load it "
                    "with load_checkpoint to predict, or fine-tune without resume_from"
                )
            check_training_state(source.training_state, source.path)
            self.model.load_state_dict(source.model.state_dict())
            return source.training_state, source.path
        if isinstance(source, Mapping):
            check_training_state(source)
            return source, "the training state"
        raise ConfigError(
            "fit: resume_from must be a checkpoint path, a loaded Checkpoint or a training-state "
            f"mapping, got {type(source).__name__}"
        )

    def _restore(self, state: Mapping[str, Any], source: str) -> None:
        """Restore a training state :func:`check_training_state` accepted into this run's objects."""
        if "weights" in state:  # the weights at the resume point (a callback replaced them later)
            _load_component(source, "weights", self.model.load_state_dict, state["weights"])
        self.epoch = int(state["epoch"])
        self.batch_index = int(state["batch"])
        self.global_step = int(state["step"])
        self._elapsed = float(state.get("elapsed", 0.0))
        self._loss_sum = float(state["epoch_loss"]["sum"])
        self._loss_count = int(state["epoch_loss"]["count"])
        self.history.load_state_dict(state["history"])
        if self.history.partial:  # the epoch the budget cut short goes on
            self.history.records.pop()
            self.history.partial = False
        self.stop_requested = bool(state["stop"]["requested"])
        self.stop_reason = state["stop"]["reason"]
        _load_component(source, "optimizer", self.optimizer.load_state_dict, state["optimizer"])
        if (state["scheduler"] is None) != (self.scheduler is None):
            raise CheckpointError(
                f"{source}: the checkpoint was saved "
                + ("without" if state["scheduler"] is None else "with")
                + " a scheduler, but fit was given "
                + ("one" if self.scheduler is not None else "none")
            )
        if self.scheduler is not None:
            _load_component(source, "scheduler", self.scheduler.load_state_dict, state["scheduler"])
        gens = {name: gen for name, _, _, gen in model_generators(self.model)}
        saved = state["rng"]["model"]
        if set(saved) != set(gens):
            problems = [f"missing {k!r}" for k in sorted(set(gens) - set(saved))]
            problems += [f"unexpected {k!r}" for k in sorted(set(saved) - set(gens))]
            raise _ckpt.CheckpointStateError(
                f"the model's random generators ('training.rng.model') of {source}", problems
            )
        for name, gen in gens.items():

            def restore(rng_state: Any, gen: Any = gen) -> None:
                gen.bit_generator.state = _ckpt.restore_generator(rng_state).bit_generator.state

            _load_component(source, f"rng.model.{name}", restore, saved[name])
        loader_state = state["loader"]
        if loader_state is not None:
            if not callable(getattr(self.train_data, "load_state_dict", None)):
                raise CheckpointError(
                    f"{source}: the checkpoint holds a data-loader position but the training data "
                    f"given to fit ({type(self.train_data).__name__}) has no load_state_dict()"
                )
            # loaded now so that a state the loader refuses fails before training, and again
            # when the epoch starts (after set_epoch)
            _load_component(source, "loader", self.train_data.load_state_dict, loader_state)
            self._pending_loader = loader_state
            self._skip_batches = 0
        else:
            self._pending_loader = None
            self._skip_batches = self.batch_index
        if self.scaler is not None and state.get("scaler") is not None:
            _load_component(source, "scaler", self.scaler.load_state_dict, state["scaler"])
        keys = self._callback_keys()
        by_key = dict(zip(keys, self.callbacks))
        unknown = sorted(set(state["callbacks"]) - set(by_key))
        if unknown:
            raise CheckpointError(
                f"{source}: the checkpoint holds the state of callback(s) {', '.join(unknown[:20])} "
                f"that fit was not given (callbacks given: {', '.join(keys) or 'none'})"
            )
        for key, cb_state in state["callbacks"].items():
            _load_component(source, f"callbacks.{key}", by_key[key].load_state_dict, cb_state)
