"""The ``series_decomposition`` layer."""

from __future__ import annotations

from swets_core import Module, Tensor, ops
from swets_core.errors import ConfigError


class SeriesDecomposition(Module):
    """Split a series into a trend (centred moving average) and the remainder.

    Args:
        kernel_size: odd window length of the moving average.

    Shape:
        input (batch, time, channels) -> (remainder, trend), both (batch, time, channels).
    """

    def __init__(self, kernel_size: int = 25) -> None:
        super().__init__()
        if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
            raise ConfigError(
                f"SeriesDecomposition: kernel_size must be a positive odd int, got {kernel_size!r}"
            )
        self.kernel_size = kernel_size

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        trend = ops.moving_average(x, kernel_size=self.kernel_size)
        return x - trend, trend

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}"
