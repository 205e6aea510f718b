"""LayerNorm and BatchNorm1d."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from swets_core import Module, Parameter, Tensor, ops, run_op
from swets_core.errors import ConfigError, ShapeError
from swets_nn import init
from swets_nn._common import check_shape, describe, float_dtype, positive_int
from swets_nn.paths import ARRAYS, TENSORS, ForwardPath, to_input, to_input_array

__all__ = ["BatchNorm1d", "LayerNorm"]


class LayerNorm(Module):
    """Normalise over the last ``len(normalized_shape)`` dimensions, PyTorch's ``nn.LayerNorm``.

    ``y = (x - mean) / sqrt(var + eps) * weight + bias`` with the biased variance.

    Args:
        normalized_shape: an int or the trailing shape to normalise over.
        eps: added to the variance (1e-5, as PyTorch).
        elementwise_affine: learn ``weight`` (ones) and ``bias`` (zeros) of ``normalized_shape``.
        bias: learn the bias (only with ``elementwise_affine``).
        dtype: parameter dtype.

    Shape: input ``(*, *normalized_shape)``, output the same.
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        rng: Any = None,
        dtype: Any = "float32",
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (normalized_shape,)
        shape = tuple(
            positive_int(s, "normalized_shape", "LayerNorm") for s in tuple(normalized_shape)
        )
        if not shape:
            raise ConfigError("LayerNorm: normalized_shape must have at least one dimension")
        self.normalized_shape = shape
        self.eps = float(eps)
        if self.eps < 0:
            raise ConfigError(f"LayerNorm: eps must be >= 0, got {eps}")
        self.elementwise_affine = bool(elementwise_affine)
        self._np_dtype = float_dtype(dtype, "LayerNorm")
        self.weight = Parameter(np.ones(shape, self._np_dtype)) if elementwise_affine else None
        self.bias = (
            Parameter(np.zeros(shape, self._np_dtype)) if elementwise_affine and bias else None
        )
        self.reset_parameters()

    def reset_parameters(self, rng: Any = None) -> None:
        """Weight to ones, bias to zeros (``rng`` is accepted for uniformity and unused)."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        """Normalise ``x`` ``(*, *normalized_shape)`` over its trailing dimensions."""
        w, b = self.weight, self.bias
        x = to_input(x, "LayerNorm", None if w is None else w._data.dtype)
        shape = self.normalized_shape
        k = len(shape)
        if x.shape[-k:] != shape:  # shorter when x has fewer dimensions
            self._shape_error(x.shape)
        return ops.layer_norm(x, w, b, normalized_ndim=k, eps=self.eps)

    def forward_arrays(self, x: np.ndarray) -> np.ndarray:
        """:meth:`forward` on an array, nothing recorded (the same op)."""
        w, b = self.weight, self.bias
        if w is not None:
            w = w._data
            if type(x) is not np.ndarray or x.dtype is not w.dtype:
                x = to_input_array(x, "LayerNorm", w.dtype)
        elif type(x) is not np.ndarray or x.dtype.kind != "f":
            x = to_input_array(x, "LayerNorm", None)
        shape = self.normalized_shape
        k = len(shape)
        if x.shape[-k:] != shape:  # shorter when x has fewer dimensions
            self._shape_error(x.shape)
        b = None if b is None else b._data
        return run_op("layer_norm", x, w, b, normalized_ndim=k, eps=self.eps)

    def _shape_error(self, shape: tuple[int, ...]) -> None:
        raise ShapeError(
            f"{describe(self)}: expected input of shape (*, "
            f"{', '.join(map(str, self.normalized_shape))}), got shape {shape}"
        )

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


class BatchNorm1d(Module):
    """Batch normalisation over the batch (and length) dimension, PyTorch's ``nn.BatchNorm1d``.

    In training mode the batch mean and biased variance normalise the input, and the running
    statistics are updated with the unbiased variance:
    ``running = (1 - momentum) * running + momentum * batch``. With ``momentum=None`` the running
    statistics are a cumulative average (factor ``1 / num_batches_tracked``). In eval mode the running
    statistics are used (batch statistics when ``track_running_stats=False``).

    Args:
        num_features: number of channels ``C``.
        eps: added to the variance (1e-5).
        momentum: running-average factor (0.1) or None for a cumulative average.
        affine: learn ``weight`` (ones) and ``bias`` (zeros) of shape ``(C,)``.
        track_running_stats: keep ``running_mean`` (zeros), ``running_var`` (ones) and
            ``num_batches_tracked`` (int64) buffers, included in the state dict.
        dtype: parameter and buffer dtype.

    Shape: input ``(N, C)`` or ``(N, C, L)``, output the same.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        rng: Any = None,
        dtype: Any = "float32",
    ) -> None:
        super().__init__()
        self.num_features = positive_int(num_features, "num_features", "BatchNorm1d")
        self.eps = float(eps)
        if momentum is not None:
            momentum = float(momentum)
            if not 0.0 <= momentum <= 1.0:
                raise ConfigError(
                    f"BatchNorm1d: momentum must be in [0, 1] or None, got {momentum}"
                )
        self.momentum = momentum
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        np_dtype = float_dtype(dtype, "BatchNorm1d")
        c = self.num_features
        self.weight = Parameter(np.ones(c, np_dtype)) if affine else None
        self.bias = Parameter(np.zeros(c, np_dtype)) if affine else None
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(c, np_dtype))
            self.register_buffer("running_var", np.ones(c, np_dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.running_mean = None
            self.running_var = None
            self.num_batches_tracked = None
        self._np_dtype = np_dtype
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean to zeros, running variance to ones, batch counter to 0."""
        if self.track_running_stats:
            self.running_mean[...] = 0.0
            self.running_var[...] = 1.0
            self.num_batches_tracked[...] = 0

    def reset_parameters(self, rng: Any = None) -> None:
        """Reset the running statistics, weight to ones and bias to zeros."""
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def _dtype(self) -> np.dtype:
        if self.weight is not None:
            return self.weight._data.dtype
        if self.running_mean is not None:
            return self.running_mean.dtype
        return self._np_dtype

    def forward(self, x: Tensor) -> Tensor:
        """Normalise ``x`` ``(N, C)`` or ``(N, C, L)`` per channel."""
        return self._compute(TENSORS, to_input(x, "BatchNorm1d", self._dtype()))

    def forward_arrays(self, x: np.ndarray) -> np.ndarray:
        """:meth:`forward` on an array, nothing recorded (the running statistics update in
        training mode, as in :meth:`forward`)."""
        return self._compute(ARRAYS, to_input_array(x, "BatchNorm1d", self._dtype()))

    def _compute(self, p: ForwardPath, x: Any) -> Any:
        check_shape(x, self, ("N", self.num_features, "[L]"), (2, 3), {1: self.num_features})
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked)
        use_batch = self.training or self.running_mean is None
        if use_batch:
            shape = x.shape
            per_channel = shape[0] * (shape[2] if len(shape) == 3 else 1)
            if per_channel <= 1 and self.training:
                raise ShapeError(
                    f"{describe(self)}: expected more than 1 value per channel when training, "
                    f"got input of shape {shape}"
                )
        w = None if self.weight is None else p.value(self.weight)
        b = None if self.bias is None else p.value(self.bias)
        # running arrays are None without track_running_stats; the op updates them in place
        return p.op(
            "batch_norm",
            x,
            w,
            b,
            running_mean=self.running_mean,
            running_var=self.running_var,
            training=use_batch,
            momentum=factor,
            eps=self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )
