"""One import for the public API of swets: ``import swets``.

The core names (``swets.Tensor``, ``swets.GradientTape``, ``swets.Module``, ``swets.DType``...) and, for
every registry kind, a namespace that reaches what plugins registered::

    swets.ops.matmul(a, b)
    swets.layers.Linear(8, 4)          # or swets.layers.linear(...): registry name "linear"
    swets.models.create("nbeats", input_size=96, horizon=24)
    swets.losses.MSE()
    swets.registry.names("models")
"""

from __future__ import annotations

import re
from typing import Any

from swets_core import *  # noqa: F403
from swets_core import __all__ as _core_all
from swets_core import __version__ as __version__
from swets_core import ops, registry
from swets_core.hookspecs import KINDS


def _snake(name: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return s.lower()


class KindNamespace:
    """Registry-backed access to one kind: ``swets.layers.Linear`` is ``registry.get("layers", "linear")``."""

    def __init__(self, kind: str) -> None:
        self._kind = kind

    def names(self) -> list[str]:
        """Registered names of this kind."""
        return registry.names(self._kind)

    def get(self, name: str) -> Any:
        """The registered object."""
        return registry.get(self._kind, name)

    def create(self, name: str, /, *args: Any, **config: Any) -> Any:
        """Create a component by registry name."""
        return registry.create(self._kind, name, *args, **config)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        known = registry.names(self._kind)
        for candidate in (name, _snake(name), name.lower()):
            if candidate in known:
                return registry.get(self._kind, candidate)
        squashed = {k.replace("_", ""): k for k in known}
        if name.lower() in squashed:  # LeakyReLU -> leaky_relu
            return registry.get(self._kind, squashed[name.lower()])
        return registry.get(self._kind, name)  # raises with close matches

    def __dir__(self) -> list[str]:
        return registry.names(self._kind)

    def __repr__(self) -> str:
        return f"<swets.{self._kind}: {len(registry.names(self._kind))} registered>"


layers = KindNamespace("layers")
models = KindNamespace("models")
losses = KindNamespace("losses")
optimizers = KindNamespace("optimizers")
schedulers = KindNamespace("schedulers")
serializers = KindNamespace("serializers")
metrics = KindNamespace("metrics")

__all__ = [*_core_all, "KINDS", "layers", "losses", "metrics", "models", "ops", "optimizers"]
__all__ += ["schedulers", "serializers"]
