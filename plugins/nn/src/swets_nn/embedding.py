"""Embedding: a lookup table of learned vectors."""

from __future__ import annotations

from typing import Any

import numpy as np

from swets_core import Parameter, Tensor
from swets_core.errors import ConfigError, DTypeError, OpError
from swets_nn import init
from swets_nn._common import RngLike, describe
from swets_nn._layer import LayerBase
from swets_nn.paths import ARRAYS, TENSORS, ForwardPath

__all__ = ["Embedding"]


class Embedding(LayerBase):
    """Row ``i`` of ``weight`` for every index ``i``, PyTorch's ``nn.Embedding``.

    Args:
        num_embeddings: number of rows (valid indices are ``0 .. num_embeddings - 1``).
        embedding_dim: size of each vector.
        padding_idx: a row that starts at zero and receives no gradient (negative values count from
            the end, as PyTorch).
        rng: numpy Generator or int seed for the initialisation.
        dtype: parameter dtype.

    Shapes:
        input: integer indices of any shape ``(*)``; output ``(*, embedding_dim)``.

    Parameters:
        ``weight (num_embeddings, embedding_dim)`` ~ N(0, 1) (row ``padding_idx`` zero).
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        rng: RngLike = None,
        dtype: Any = "float32",
    ) -> None:
        super().__init__()
        np_dtype = self._init_layer(
            rng, dtype, num_embeddings=num_embeddings, embedding_dim=embedding_dim
        )
        if padding_idx is not None:
            if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)):
                raise ConfigError(
                    f"Embedding: padding_idx must be an int or None, got {padding_idx!r}"
                )
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ConfigError(
                    f"Embedding: padding_idx must be within num_embeddings "
                    f"({self.num_embeddings}), got {padding_idx}"
                )
            padding_idx = int(padding_idx) % self.num_embeddings
        self.padding_idx = padding_idx
        self.weight = Parameter(np.zeros((self.num_embeddings, self.embedding_dim), dtype=np_dtype))
        self.reset_parameters()

    def reset_parameters(self, rng: RngLike = None) -> None:
        """Re-draw the weights from N(0, 1); the padding row is zeroed."""
        init.normal_(self.weight, 0.0, 1.0, rng=self._generator(rng))
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0.0

    def forward(self, indices: Any) -> Tensor:
        """Look up ``indices`` (integers of any shape) -> ``(*indices.shape, embedding_dim)``."""
        return self._compute(TENSORS, indices)

    def forward_arrays(self, indices: Any) -> np.ndarray:
        """:meth:`forward` on an array, nothing recorded."""
        return self._compute(ARRAYS, indices)

    def _compute(self, p: ForwardPath, indices: Any) -> Any:
        idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
        if idx.dtype.kind not in "iu":
            raise DTypeError(f"{describe(self)}: indices must be integers, got dtype {idx.dtype}")
        if idx.size:
            lo, hi = int(idx.min()), int(idx.max())
            if lo < 0 or hi >= self.num_embeddings:
                bad = lo if lo < 0 else hi
                raise OpError(
                    f"{describe(self)}: index {bad} is out of range [0, {self.num_embeddings})"
                )
        if self.padding_idx is None:
            return p.op("embedding", p.value(self.weight), idx)
        # the padding row takes part in the lookup but receives no gradient
        return p.op("embedding", p.value(self.weight), idx, padding_idx=self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
