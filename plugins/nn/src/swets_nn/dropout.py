"""Dropout with an explicit, seedable numpy Generator."""

from __future__ import annotations

from typing import Any

import numpy as np

from swets_core import Module, Tensor
from swets_nn._common import RngLike, as_generator, probability
from swets_nn.paths import ARRAYS, TENSORS, ForwardPath, to_input, to_input_array

__all__ = ["Dropout", "seed_dropout"]


class Dropout(Module):
    """Zero each element with probability ``p`` in training mode and scale the rest by ``1 / (1 - p)``.

    Args:
        p: drop probability in ``[0, 1]`` (0.5, as PyTorch); ``p = 1`` gives zeros.
        rng: where the masks come from: a numpy Generator (used as is), an int seed, or None (fresh
            entropy). The layer owns it as ``self.rng``; :meth:`seed` replaces it.

    Shape: any; the output has the input's shape. In eval mode, or with ``p = 0``, the input is
    returned unchanged.
    """

    def __init__(self, p: float = 0.5, rng: RngLike = None) -> None:
        super().__init__()
        self.p = probability(p, "p", "Dropout")
        self.rng: np.random.Generator = as_generator(rng, "Dropout")

    def seed(self, rng: RngLike) -> None:
        """Replace the generator (an int seed makes the following masks reproducible)."""
        self.rng = as_generator(rng, "Dropout")

    def forward(self, x: Tensor) -> Tensor:
        """Apply dropout (training mode) or return ``x`` (eval mode)."""
        return self._compute(TENSORS, to_input(x, "Dropout", None))

    def forward_arrays(self, x: np.ndarray) -> np.ndarray:
        """:meth:`forward` on an array, nothing recorded (the same mask from the same generator)."""
        if not self.training or self.p == 0.0:
            return x  # the identity: nothing to check or compute
        return self._compute(ARRAYS, to_input_array(x, "Dropout", None))

    def _compute(self, p: ForwardPath, x: Any) -> Any:
        if not self.training or self.p == 0.0:
            return x
        return p.op("dropout", x, p=self.p, rng=self.rng, training=True)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def seed_dropout(module: Module, rng: RngLike) -> None:
    """Give every sub-layer of ``module`` that owns a dropout generator (``rng`` attribute) a fresh,
    independent generator derived from ``rng``, in a fixed order, so training is reproducible."""
    parent = as_generator(rng, "seed_dropout")
    for _, m in module.named_modules():
        if isinstance(getattr(m, "rng", None), np.random.Generator):
            m.rng = parent.spawn(1)[0]
