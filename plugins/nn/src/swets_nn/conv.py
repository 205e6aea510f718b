"""Conv1d: 1-D convolution over ``(N, C, L)`` inputs."""

from __future__ import annotations

from typing import Any

import numpy as np

from swets_core import Tensor
from swets_core.errors import ConfigError, ShapeError
from swets_nn._common import RngLike, check_shape, describe, positive_int
from swets_nn._layer import LayerBase
from swets_nn.paths import ARRAYS, TENSORS, ForwardPath, to_input, to_input_array

__all__ = ["Conv1d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _single(value: Any, name: str) -> int:
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ConfigError(f"Conv1d: {name} must be an int or a 1-tuple, got {value!r}")
        value = value[0]
    return positive_int(value, name, "Conv1d")


class Conv1d(LayerBase):
    """1-D cross-correlation, PyTorch's ``nn.Conv1d``.

    ``out[n, o, t] = bias[o] + sum_{c, k} weight[o, c, k] * x_padded[n, g*C_in/groups + c,
    t*stride + k*dilation]`` for the group ``g`` of output channel ``o``.

    Args:
        in_channels: ``C_in``.
        out_channels: ``C_out``.
        kernel_size: ``K``.
        stride: step between output positions.
        padding: an int (both sides), a pair ``(left, right)``, ``"valid"`` (none), ``"same"`` (output
            length = input length; stride 1 only; the odd element goes right, as PyTorch) or
            ``"causal"`` (``dilation * (K - 1)`` on the left only, so output ``t`` sees inputs
            ``<= t``).
        dilation: spacing between kernel taps.
        groups: split the channels into ``groups`` independent convolutions (``C_in`` and ``C_out``
            must be divisible by it).
        bias: learn a bias per output channel.
        padding_mode: ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``.
        rng: numpy Generator or int seed for the initialisation.
        dtype: parameter dtype.

    Shapes:
        input ``(N, C_in, L)`` or unbatched ``(C_in, L)``; output ``(N, C_out, L_out)`` with
        ``L_out = (L + left + right - dilation * (K - 1) - 1) // stride + 1``.

    Parameters:
        ``weight (C_out, C_in / groups, K)`` ~ kaiming_uniform(a=sqrt(5)), i.e. U(-b, b) with
        ``b = 1 / sqrt(C_in / groups * K)``; ``bias (C_out,)`` ~ U(-b, b).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int | tuple[int, int] | str = 0,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        rng: RngLike = None,
        dtype: Any = "float32",
    ) -> None:
        super().__init__()
        np_dtype = self._init_layer(rng, dtype, in_channels=in_channels, out_channels=out_channels)
        self.kernel_size = _single(kernel_size, "kernel_size")
        self.stride = _single(stride, "stride")
        self.dilation = _single(dilation, "dilation")
        self.groups = positive_int(groups, "groups", "Conv1d")
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ConfigError(
                f"Conv1d: in_channels ({self.in_channels}) and out_channels ({self.out_channels}) "
                f"must be divisible by groups ({self.groups})"
            )
        if padding_mode not in _PADDING_MODES:
            raise ConfigError(
                f"Conv1d: padding_mode must be one of {', '.join(_PADDING_MODES)}, got {padding_mode!r}"
            )
        self.padding_mode = padding_mode
        self.padding = padding
        self._pad = self._resolve_padding(padding)
        shape = (self.out_channels, self.in_channels // self.groups, self.kernel_size)
        self._affine_parameters(shape, bias, np_dtype)
        self.reset_parameters()

    def _resolve_padding(self, padding: Any) -> tuple[int, int]:
        span = self.dilation * (self.kernel_size - 1)
        if isinstance(padding, str):
            if padding == "valid":
                return 0, 0
            if padding == "same":
                if self.stride != 1:
                    raise ConfigError("Conv1d: padding='same' needs stride=1")
                return span // 2, span - span // 2
            if padding == "causal":
                return span, 0
            raise ConfigError(
                f"Conv1d: padding must be an int, a (left, right) pair, 'valid', 'same' or 'causal', "
                f"got {padding!r}"
            )
        if isinstance(padding, (tuple, list)):
            if len(padding) == 1:
                p = positive_int(padding[0], "padding", "Conv1d", allow_zero=True)
                return p, p
            if len(padding) == 2:
                return (
                    positive_int(padding[0], "padding", "Conv1d", allow_zero=True),
                    positive_int(padding[1], "padding", "Conv1d", allow_zero=True),
                )
            raise ConfigError(f"Conv1d: padding must have one or two values, got {padding!r}")
        p = positive_int(padding, "padding", "Conv1d", allow_zero=True)
        return p, p

    def reset_parameters(self, rng: RngLike = None) -> None:
        """Re-draw the parameters (PyTorch's default: kaiming_uniform(a=sqrt(5)), bias U(-b, b))."""
        self._reset_affine(self._generator(rng))

    def forward(self, x: Tensor) -> Tensor:
        """Convolve ``x`` ``(N, C_in, L)`` (or ``(C_in, L)``) -> ``(N, C_out, L_out)``."""
        return self._compute(TENSORS, to_input(x, "Conv1d", self.weight._data.dtype))

    def forward_arrays(self, x: np.ndarray) -> np.ndarray:
        """:meth:`forward` on an array, nothing recorded."""
        return self._compute(ARRAYS, to_input_array(x, "Conv1d", self.weight._data.dtype))

    def _compute(self, p: ForwardPath, x: Any) -> Any:
        check_shape(x, self, ("N", self.in_channels, "L"), (2, 3), {-2: self.in_channels})
        unbatched = len(x.shape) == 2
        if unbatched:
            x = p.unsqueeze(x, 0)
        left, right = self._pad
        length = x.shape[2]
        span = self.dilation * (self.kernel_size - 1) + 1
        if length + left + right < span:
            raise ShapeError(
                f"{describe(self)}: input length {length} with padding ({left}, {right}) is shorter "
                f"than the dilated kernel span {span}; got input shape {tuple(x.shape)}"
            )
        padding: int | tuple[int, int] = (left, right)
        if self.padding_mode != "zeros" and (left or right):
            x = x[:, :, self._pad_index(x.shape, left, right)]
            padding = 0
        elif left == right:
            padding = left
        w = p.value(self.weight)
        args = (x, w) if self.bias is None else (x, w, p.value(self.bias))
        y = p.op(
            "conv1d",
            *args,
            stride=self.stride,
            padding=padding,
            dilation=self.dilation,
            groups=self.groups,
        )
        return p.squeeze(y, 0) if unbatched else y

    def _pad_index(self, shape: tuple[int, ...], left: int, right: int) -> np.ndarray:
        """The input positions of the padded sequence under :attr:`padding_mode`."""
        length = shape[2]
        pos = np.arange(-left, length + right)
        mode = self.padding_mode
        if mode == "circular":
            if left > length or right > length:
                raise ShapeError(
                    f"{describe(self)}: circular padding ({left}, {right}) needs an input length of "
                    f"at least {max(left, right)}, got shape {tuple(shape)}"
                )
            return pos % length
        if mode == "reflect":
            if left >= length or right >= length:
                raise ShapeError(
                    f"{describe(self)}: reflect padding ({left}, {right}) needs an input length "
                    f"greater than {max(left, right)}, got shape {tuple(shape)}"
                )
            idx = np.abs(pos)
            return np.where(idx > length - 1, 2 * (length - 1) - idx, idx)
        return np.clip(pos, 0, length - 1)  # replicate

    def extra_repr(self) -> str:
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding not in (0, "valid"):
            s += f", padding={self.padding!r}"
        if self.dilation != 1:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode!r}"
        return s
