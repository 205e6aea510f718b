"""The training state of a run: what :meth:`Trainer.training_state` writes and ``resume_from`` reads.

One definition of the format, shared by every way of training (:meth:`Trainer.fit` with any executor):
plain data (numbers, strings, lists, dicts and arrays) with the keys ``version``, ``epoch``, ``batch``
(batches done in the epoch), ``step`` (optimizer steps done), ``epoch_loss`` (the running sum and
count of the epoch's loss), ``history``, ``stop``, ``optimizer``, ``scheduler``, ``rng`` (every numpy
Generator of the model's layers, by dotted name), ``loader`` (the data loader's position, or None),
``scaler``, ``callbacks`` (their states by class name, ``Name#1`` for a second one) and ``options``
(the budget, scheduler interval, monitor, clipping and seed ``fit`` was given).

Seeding (``fit(seed=...)``): child 0 of ``SeedSequence(seed)`` seeds the training data's generator
(:func:`seed_loader`), children ``1..n`` the model's generators (:func:`seed_model`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from swets_core import checkpoint as _ckpt
from swets_core import registry
from swets_core.errors import CheckpointError, ConfigError, StateDictError

__all__ = [
    "TRAINING_STATE_VERSION",
    "TrainingStateMixin",
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
