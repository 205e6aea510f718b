"""Linear and Identity."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from swets_core import Module, Parameter, Tensor, ops, run_op
from swets_nn import init
from swets_nn._common import RngLike, as_generator, check_shape, float_dtype, positive_int
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


class Linear(Module):
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
        self.in_features = positive_int(in_features, "in_features", "Linear", allow_zero=True)
        self.out_features = positive_int(out_features, "out_features", "Linear", allow_zero=True)
        np_dtype = float_dtype(dtype, "Linear")
        self.weight = Parameter(np.zeros((self.out_features, self.in_features), dtype=np_dtype))
        self.bias = Parameter(np.zeros(self.out_features, dtype=np_dtype)) if bias else None
        self._rng = as_generator(rng, "Linear")
        self.reset_parameters()

    def reset_parameters(self, rng: RngLike = None) -> None:
        """Re-draw the parameters (from ``rng`` if given, else the generator given at construction)."""
        gen = self._rng if rng is None else as_generator(rng, "Linear")
        init.kaiming_uniform_(self.weight, a=math.sqrt(5.0), rng=gen)
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound, rng=gen)

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
