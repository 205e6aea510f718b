"""Linear and Identity."""

from __future__ import annotations

from typing import Any

import numpy as np

from swets_core import Module, Tensor, ops, run_op
from swets_nn._common import RngLike, check_shape
from swets_nn._layer import LayerBase
from swets_nn.paths import to_input, to_input_array

__all__ = ["Identity", "Linear"]


class Identity(Module):
    """Returns its input unchanged (a placeholder in containers)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        """``x`` itself."""
        return x

    def forward_arrays(self, x: np.ndarray) -> np.ndarray:
        """``x`` itself."""
        return x


class Linear(LayerBase):
    """``y = x @ weight.T + bias``, PyTorch's ``nn.Linear``.

    Args:
        in_features: size of the last input dimension.
        out_features: size of the last output dimension.
        bias: learn an additive bias.
        rng: a numpy Generator or an int seed for the initialisation (None: fresh entropy).
        dtype: parameter dtype, ``"float32"`` (default) or ``"float64"``.

    Shapes:
        input ``(*, in_features)`` (at least 1-D), output ``(*, out_features)``.

    Parameters:
        ``weight (out_features, in_features)`` ~ kaiming_uniform(a=sqrt(5)), i.e.
        U(-1/sqrt(in_features), 1/sqrt(in_features)); ``bias (out_features,)`` ~ the same bound.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        rng: RngLike = None,
        dtype: Any = "float32",
    ) -> None:
        super().__init__()
        np_dtype = self._init_layer(
            rng, dtype, allow_zero=True, in_features=in_features, out_features=out_features
        )
        self._affine_parameters((self.out_features, self.in_features), bias, np_dtype)
        self.reset_parameters()

    def reset_parameters(self, rng: RngLike = None) -> None:
        """Re-draw the parameters (from ``rng`` if given, else the generator given at construction)."""
        self._reset_affine(self._generator(rng))

    def forward(self, x: Tensor) -> Tensor:
        """Apply the affine map to the last dimension of ``x`` ``(*, in_features)``."""
        x = to_input(x, "Linear", self.weight._data.dtype)
        shape = x.shape
        if not shape or shape[-1] != self.in_features:
            self._shape_error(x)
        if self.bias is None:
            return ops.linear(x, self.weight)
        return ops.linear(x, self.weight, self.bias)

    def forward_arrays(self, x: np.ndarray) -> np.ndarray:
        """:meth:`forward` on an array, nothing recorded (the same op)."""
        w = self.weight._data
        if type(x) is not np.ndarray or x.dtype is not w.dtype:
            x = to_input_array(x, "Linear", w.dtype)
        shape = x.shape
        if not shape or shape[-1] != self.in_features:
            self._shape_error(x)
        if self.bias is None:
            return run_op("linear", x, w)
        return run_op("linear", x, w, self.bias._data)

    def _shape_error(self, x: Any) -> None:
        check_shape(x, self, ("*", self.in_features), features={-1: self.in_features})

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
