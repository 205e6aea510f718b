"""What every forecasting model adds to its inputs: instance normalization and static covariates.

:class:`InstanceNorm` is reversible instance normalization (RevIN: Kim, Kim, Tae, Park, Choi and
Choo, "Reversible Instance Normalization for Accurate Time-Series Forecasting against Distribution
Shift", ICLR 2022): each input window's target is normalized by its own mean and standard
deviation before the model reads it, and the model's output is mapped back with the same
statistics, so a model trained on one level and trend forecasts another. :class:`StaticCovariates`
turns a batch's static covariates (numbers and category codes, as a
``swets_timeseries.StaticEncoder`` makes them) into one vector per series: the numbers as they are,
each categorical column through an embedding.

Both are written once, on a :class:`swets_nn.paths.ForwardPath` ``p``: the recorded path (Tensors)
and the array path (nothing recorded) run the same ops.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from swets_core import Module, Parameter
from swets_core.errors import ConfigError, ShapeError
from swets_nn import Embedding
from swets_nn.paths import ForwardPath, as_array

__all__ = ["InstanceNorm", "StaticCovariates", "check_cardinalities", "embedding_dim"]


class InstanceNorm(Module):
    """Reversible instance normalization (RevIN) of the target channel of an input window.

    :meth:`normalize` maps the target ``z`` of each window (channel 0 of ``(B, L, F)``, or the
    whole of ``(B, L)``) to ``(z - mean) / std * gamma + beta``, with the window's own
    ``mean`` and ``std = sqrt(var + eps)`` (population variance over the lookback; over the
    observed positions only when a ``mask`` marks padding, which stays 0), and returns the
    statistics; :meth:`denormalize` maps a forecast ``(B, H)`` or ``(B, H, Q)`` (every quantile
    alike) back: ``(y - beta) / (gamma + eps^2) * std + mean``, as the paper's reference does.
    The other channels (covariates) pass unchanged. The statistics are functions of the input (the
    input's gradient flows through them); the parameters' gradients are the paper's.

    Args:
        affine: learn ``gamma`` (``affine_weight``, starts at 1) and ``beta`` (``affine_bias``,
            starts at 0), one each (the target channel).
        eps: added to the variance.
        dtype: parameter dtype.
    """

    def __init__(self, affine: bool = False, eps: float = 1e-5, dtype: Any = "float32") -> None:
        super().__init__()
        self.affine = bool(affine)
        self.eps = float(eps)
        if self.affine:
            self.affine_weight = Parameter(np.ones(1, dtype=dtype))
            self.affine_bias = Parameter(np.zeros(1, dtype=dtype))

    def normalize(self, p: ForwardPath, x: Any, mask: Any = None) -> tuple[Any, tuple[Any, Any]]:
        """``(x with its target normalized, (mean, std))``; ``mean`` and ``std`` are ``(B, 1)``."""
        target = x if x.ndim == 2 else x[:, :, 0]
        if mask is None:
            mean = p.op("mean", target, axis=1, keepdims=True)
            var = p.op("var", target, axis=1, correction=0, keepdims=True)
        else:
            # the observed positions of each window (at least one counted, so a window of padding
            # only keeps a finite mean of 0)
            count = p.op("maximum", p.op("sum", mask, axis=1, keepdims=True), 1.0)
            mean = p.op("div", p.op("sum", p.op("mul", target, mask), axis=1, keepdims=True), count)
            dev = p.op("mul", p.op("sub", target, mean), mask)
            var = p.op("div", p.op("sum", p.op("square", dev), axis=1, keepdims=True), count)
        std = p.op("sqrt", p.op("add", var, self.eps))
        z = p.op("div", p.op("sub", target, mean), std)
        if self.affine:
            z = p.op("add", p.op("mul", z, p.value(self.affine_weight)), p.value(self.affine_bias))
        if mask is not None:
            z = p.op("mul", z, mask)
        if x.ndim == 2:
            return z, (mean, std)
        z = p.unsqueeze(z, 2)
        if x.shape[2] > 1:
            z = p.op("concat", z, x[:, :, 1:], axis=2)
        return z, (mean, std)

    def denormalize(self, p: ForwardPath, y: Any, stats: tuple[Any, Any]) -> Any:
        """A forecast ``(B, H)`` or ``(B, H, Q)`` in the input's scale."""
        mean, std = stats
        if y.ndim == 3:
            mean, std = p.unsqueeze(mean, 2), p.unsqueeze(std, 2)
        if self.affine:
            scale = p.op("add", p.value(self.affine_weight), self.eps * self.eps)
            y = p.op("div", p.op("sub", y, p.value(self.affine_bias)), scale)
        return p.op("add", p.op("mul", y, std), mean)

    def extra_repr(self) -> str:
        return f"affine={self.affine}, eps={self.eps}"


def embedding_dim(cardinality: int) -> int:
    """The embedding width of a categorical column with ``cardinality`` categories:
    ``min(16, (cardinality + 1) // 2)`` (1 for two categories, 5 for ten, 16 from 31 on)."""
    return max(1, min(16, (int(cardinality) + 1) // 2))


class StaticCovariates(Module):
    """Static covariates ``(B, S)`` as one vector per series ``(B, width)``: the numeric columns
    (cardinality 0) as they are, then one :class:`swets_nn.Embedding` of :func:`embedding_dim`
    values per categorical column, in column order.

    Args:
        cardinalities: one int per column: 0 for a number, the number of categories for a
            categorical column (whose values are the codes ``0 .. n - 1``).
        rng: the generator of the embeddings' initial values.
        dtype: parameter dtype.

    Parameters: ``embeddings.{k}.weight`` for the k-th categorical column.
    """

    def __init__(self, cardinalities: Sequence[int], rng: Any, dtype: Any = "float32") -> None:
        super().__init__()
        self.cardinalities = [int(c) for c in cardinalities]
        self._numeric = [j for j, c in enumerate(self.cardinalities) if c == 0]
        self._categorical = [j for j, c in enumerate(self.cardinalities) if c > 0]
        self.embeddings = [
            Embedding(c, embedding_dim(c), rng=rng, dtype=dtype)
            for c in self.cardinalities
            if c > 0
        ]
        self.width = len(self._numeric) + sum(e.embedding_dim for e in self.embeddings)
        self._all_numeric = len(self._numeric) == len(self.cardinalities)

    def compute(self, p: ForwardPath, static: Any) -> Any:
        """``(B, S)`` -> ``(B, width)``."""
        if self._all_numeric:
            return static
        parts = []
        if self._numeric:
            parts.append(static[:, self._numeric])
        codes = as_array(static)
        for j, emb in zip(self._categorical, self.embeddings):
            column = codes[:, j]
            index = column.astype(np.int64)
            if not np.array_equal(index, column):
                raise ShapeError(
                    f"StaticCovariates: column {j} holds category codes, got {column[index != column][0]!r}"
                )
            parts.append(p.forward(emb)(index))
        return parts[0] if len(parts) == 1 else p.op("concat", *parts, axis=1)

    def extra_repr(self) -> str:
        return f"cardinalities={self.cardinalities}, width={self.width}"


def check_cardinalities(value: Any, count: int, owner: str) -> list[int]:
    """``static_cardinalities``: None (``count`` numeric columns) or one int >= 0 per column."""
    if value is None:
        return [0] * count
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, np.ndarray)):
        raise ConfigError(
            f"{owner}: static_cardinalities must be a list of ints (0 for a number, the number "
            f"of categories otherwise), got {value!r}"
        )
    out = []
    for i, c in enumerate(value):
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 0:
            raise ConfigError(
                f"{owner}: static_cardinalities[{i}] must be 0 (a number) or the number of "
                f"categories, got {c!r}"
            )
        out.append(int(c))
    if len(out) != count:
        raise ConfigError(
            f"{owner}: static_cardinalities has {len(out)} values for n_static_features={count}"
        )
    return out
