"""The hook specifications: the public contract of every swets plugin.

A plugin is a module (or object) exposed through an entry point in the ``swets`` group, e.g. in its
``pyproject.toml``::

    [project.entry-points.swets]
    my_plugin = "my_package.plugin"

and implements any of the hooks below with the :data:`hookimpl` marker. Each ``register`` hook receives
a callback ``register(name, obj, doc=None)``; calling it adds ``obj`` under ``name`` to the registry
for that hook's kind. Plugins return nothing.
"""

from __future__ import annotations

from typing import Any

import pluggy

PROJECT_NAME = "swets"
ENTRY_POINT_GROUP = "swets"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Mark a plugin function as a swets hook implementation: ``@swets_core.hookimpl``."""


@hookspec
def swets_register_ops(register: Any) -> None:
    """Register ops.

    :param register: ``register(name, op, doc=None)`` where ``op`` is a
        :class:`swets_core.autograd.OpDef` or a forward function ``forward(*inputs, **attrs) ->
        (output, backward)`` (see :class:`swets_core.protocols.BackwardOp`).
    """


@hookspec
def swets_register_layers(register: Any) -> None:
    """Register layers.

    :param register: ``register(name, factory, doc=None)``; ``factory(**config)`` returns an object
        implementing :class:`swets_core.protocols.Layer` (usually the layer class itself).
    """


@hookspec
def swets_register_models(register: Any) -> None:
    """Register forecasting models.

    :param register: ``register(name, factory, doc=None)``; ``factory(**config)`` returns a Layer
        whose ``config()`` gives back a plain dict that recreates it, so checkpoints rebuild models by
        registry name and configuration, never by import path.
    """


@hookspec
def swets_register_losses(register: Any) -> None:
    """Register losses.

    :param register: ``register(name, factory, doc=None)``; ``factory(**config)`` returns a
        :class:`swets_core.protocols.Loss`.
    """


@hookspec
def swets_register_optimizers(register: Any) -> None:
    """Register optimizers.

    :param register: ``register(name, factory, doc=None)``; ``factory(params, **hyper)`` returns a
        :class:`swets_core.protocols.Optimizer`.
    """


@hookspec
def swets_register_schedulers(register: Any) -> None:
    """Register learning-rate schedulers.

    :param register: ``register(name, factory, doc=None)``; ``factory(optimizer, **config)`` returns a
        :class:`swets_core.protocols.Scheduler`.
    """


@hookspec
def swets_register_serializers(register: Any) -> None:
    """Register checkpoint serializers.

    :param register: ``register(name, factory, doc=None)``; ``factory()`` returns a
        :class:`swets_core.protocols.Serializer`.
    """


@hookspec
def swets_register_metrics(register: Any) -> None:
    """Register forecast metrics.

    :param register: ``register(name, metric, doc=None)`` with a
        :class:`swets_core.protocols.Metric`.
    """


@hookspec
def swets_register_executors(register: Any) -> None:
    """Register training executors: where :meth:`swets_train.Trainer.fit` computes each batch's
    gradients (see :mod:`swets_train.executor`).

    :param register: ``register(name, factory, doc=None)``; ``factory(**options)`` returns an
        executor (``start``, ``gradients``, ``finish``, ``close``).
    """


@hookspec
def swets_register_functions(register: Any) -> None:
    """Register plain functions that training code calls directly (gradient clipping...).

    :param register: ``register(name, function, doc=None)``; the ``swets`` facade reaches each as
        ``swets.NAME`` and ``swets.functions.NAME`` (``swets.clip_grad_norm(grads, 1.0)``).
    """


@hookspec
def swets_register_commands(cli: Any) -> None:
    """Add sub-commands to the ``swets`` console script.

    :param cli: a :class:`swets_core.cli.CommandRegistry`; call
        ``cli.add_command(name, run, help=..., configure=...)``.
    """


KIND_HOOKS = {
    "ops": "swets_register_ops",
    "layers": "swets_register_layers",
    "models": "swets_register_models",
    "losses": "swets_register_losses",
    "optimizers": "swets_register_optimizers",
    "schedulers": "swets_register_schedulers",
    "serializers": "swets_register_serializers",
    "metrics": "swets_register_metrics",
    "executors": "swets_register_executors",
    "functions": "swets_register_functions",
}
"""Registry kind -> the hook that fills it."""

KINDS = tuple(KIND_HOOKS)
