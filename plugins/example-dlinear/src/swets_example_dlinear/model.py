"""The DLinear forecaster (Zeng, Chen, Zhang and Xu, AAAI 2023)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from swets_core import Module, Tensor, registry
from swets_core.errors import ConfigError, ShapeError
from swets_example_dlinear.layers import SeriesDecomposition


class DLinear(Module):
    """Decomposition-linear forecaster on the target series.

    The lookback window of the target (feature 0) is split into trend and remainder; one linear map
    from the lookback to the horizon is applied to each, and the two forecasts are added.

    Args:
        input_size: lookback length L.
        horizon: forecast length H.
        kernel_size: odd moving-average window of the decomposition.
        seed: seed of the parameter initialisation.
        dtype: parameter dtype.

    Shape:
        input (batch, L, features) or (batch, L) -> output (batch, H).
    """

    registry_name: ClassVar[str] = "example_dlinear"

    def __init__(
        self,
        input_size: int,
        horizon: int,
        kernel_size: int = 25,
        seed: int = 0,
        dtype: str = "float32",
    ) -> None:
        super().__init__()
        for name, value in (("input_size", input_size), ("horizon", horizon)):
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"DLinear: {name} must be a positive int, got {value!r}")
        if kernel_size > input_size:
            raise ConfigError(
                f"DLinear: kernel_size {kernel_size} is longer than input_size {input_size}"
            )
        self._config = {
            "input_size": input_size,
            "horizon": horizon,
            "kernel_size": kernel_size,
            "seed": seed,
            "dtype": dtype,
        }
        rng = np.random.default_rng(seed)
        self.decomposition = SeriesDecomposition(kernel_size)
        linear = registry.get("layers", "linear")
        self.seasonal = linear(input_size, horizon, rng=rng, dtype=dtype)
        self.trend = linear(input_size, horizon, rng=rng, dtype=dtype)

    def config(self) -> dict[str, Any]:
        """The configuration that rebuilds this model through the registry."""
        return dict(self._config)

    def forward(self, x: Tensor) -> Tensor:
        lookback = self._config["input_size"]
        if x.ndim == 2:
            x = x.reshape(x.shape[0], x.shape[1], 1)
        if x.ndim != 3 or x.shape[1] != lookback:
            raise ShapeError(
                f"DLinear: expected input (batch, {lookback}, features), got shape {x.shape}"
            )
        target = x[:, :, 0:1]
        remainder, trend = self.decomposition(target)
        b = x.shape[0]
        return self.seasonal(remainder.reshape(b, lookback)) + self.trend(
            trend.reshape(b, lookback)
        )

    def extra_repr(self) -> str:
        c = self._config
        return (
            f"input_size={c['input_size']}, horizon={c['horizon']}, kernel_size={c['kernel_size']}"
        )
