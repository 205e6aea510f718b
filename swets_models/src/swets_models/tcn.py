"""Temporal convolutional network (Bai, Kolter and Koltun, 2018) as a direct multi-step forecaster."""

from __future__ import annotations

from typing import Any

import numpy as np

from swets_core import Parameter, Tensor
from swets_core.errors import ConfigError
from swets_models._base import ComposedLayer, ForecastingModel, flag, positive_int, probability
from swets_nn import Conv1d, Dropout, init
from swets_nn.paths import ForwardPath, forward_on_path

__all__ = ["CausalConv1d", "TCNModel", "TemporalBlock", "covering_levels"]


class CausalConv1d(ComposedLayer):
    """Dilated causal convolution with optional weight normalisation.

    Output step ``t`` sees inputs ``t - dilation * (K - 1) .. t`` only (zeros on the left), so the
    length is preserved. With ``weight_norm=True`` the kernel is re-parameterised as
    ``weight = weight_g * weight_v / ||weight_v||`` (the norm over every axis but the output channel,
    as PyTorch's ``weight_norm(dim=0)``), computed differentiably on every forward.

    Shapes: input ``(N, C_in, L)``, output ``(N, C_out, L)``.

    Parameters: ``weight (C_out, C_in, K)`` or ``weight_g (C_out, 1, 1)`` and
    ``weight_v (C_out, C_in, K)``, and ``bias (C_out,)``. ``weight``/``weight_v`` follow PyTorch's
    Conv1d initialisation; ``weight_g`` starts at ``||weight_v||`` so the initial kernel is ``weight_v``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        dilation: int = 1,
        weight_norm: bool = True,
        rng: np.random.Generator | None = None,
        dtype: Any = "float32",
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.weight_norm = weight_norm
        self._left = dilation * (kernel_size - 1)
        self._padding = (self._left, 0)
        conv = Conv1d(
            in_channels,
            out_channels,
            kernel_size,
            padding=(self._left, 0),
            dilation=dilation,
            rng=rng,
            dtype=dtype,
        )
        if weight_norm:
            v = conv.weight._data
            self.weight_g = Parameter(
                np.sqrt((v.astype(np.float64) ** 2).sum(axis=(1, 2)))
                .reshape(-1, 1, 1)
                .astype(v.dtype)
            )
            self.weight_v = conv.weight
        else:
            self.weight = conv.weight
        self.bias = conv.bias

    def kernel(self) -> Tensor:
        """The effective kernel ``(C_out, C_in, K)`` (``g * v / ||v||`` with weight norm)."""
        return forward_on_path(self._kernel)

    def _kernel(self, p: ForwardPath) -> Any:
        if not self.weight_norm:
            return p.value(self.weight)
        return p.op("weight_norm", p.value(self.weight_v), p.value(self.weight_g))  # axis 0

    def _compute(self, p: ForwardPath, x: Any) -> Any:
        """``(N, C_in, L)`` -> ``(N, C_out, L)``."""
        bias = None if self.bias is None else p.value(self.bias)
        kernel = self._kernel(p)
        return p.op("conv1d", x, kernel, bias, padding=self._padding, dilation=self.dilation)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"dilation={self.dilation}, weight_norm={self.weight_norm}"
        )


class TemporalBlock(ComposedLayer):
    """One residual block: two dilated causal convolutions, each followed by ReLU and dropout, and
    ``relu(out + residual)`` where the residual is the input, or a 1x1 convolution of it when the
    channel count changes.

    Shapes: input ``(N, C_in, L)``, output ``(N, C_out, L)``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        dilation: int,
        dropout: float,
        weight_norm: bool,
        rng: np.random.Generator,
        dtype: Any,
    ) -> None:
        super().__init__()
        self.conv1 = CausalConv1d(
            in_channels, out_channels, kernel_size, dilation, weight_norm, rng, dtype
        )
        self.conv2 = CausalConv1d(
            out_channels, out_channels, kernel_size, dilation, weight_norm, rng, dtype
        )
        self.dropout1 = Dropout(dropout, rng=rng.spawn(1)[0])
        self.dropout2 = Dropout(dropout, rng=rng.spawn(1)[0])
        self.downsample = None
        if in_channels != out_channels:
            self.downsample = Conv1d(in_channels, out_channels, 1, rng=rng, dtype=dtype)
            init.normal_(self.downsample.weight, 0.0, 0.01, rng=rng)

    def _compute(self, p: ForwardPath, x: Any) -> Any:
        """``(N, C_in, L)`` -> ``(N, C_out, L)``."""
        f = p.forward
        out = f(self.dropout1)(p.op("relu", f(self.conv1)(x)))
        out = f(self.dropout2)(p.op("relu", f(self.conv2)(out)))
        res = x if self.downsample is None else f(self.downsample)(x)
        return p.op("relu", p.op("add", out, res))


def covering_levels(lookback: int, kernel_size: int) -> int:
    """The fewest levels whose receptive field ``1 + 2 (K - 1) (2^levels - 1)`` covers
    ``lookback`` steps (4 when ``kernel_size`` is 1: no number of levels looks further back)."""
    if kernel_size < 2:
        return 4
    levels = 1
    while 1 + 2 * (kernel_size - 1) * (2**levels - 1) < lookback:
        levels += 1
    return levels


class TCNModel(ForecastingModel, registry_name="tcn"):
    """Temporal convolutional network forecaster (registry name ``"tcn"``).

    A stack of :class:`TemporalBlock` levels with dilation ``2**i`` at level ``i``, read by a linear
    head at the last time step, which sees the whole receptive field
    ``1 + 2 * (kernel_size - 1) * (2**levels - 1)`` steps back. Known covariates over the horizon
    and static covariates are head inputs: the head reads the last step's channels, the known
    covariates of every horizon step and the static vector, concatenated.

    The options every model shares (the covariate inputs, instance normalization, ``quantiles``,
    ``dtype``, ``rng``/``seed``, ``input_size``) are :class:`ForecastingModel`'s.

    Args (all of them are the configuration returned by :meth:`config`, except ``rng``/``seed``):
        n_features: features per step (feature 0 is the target, then the past covariates and the
            known covariates' history).
        lookback: input window length (``kernel_size`` must not exceed it).
        horizon: steps forecast at once.
        channels: channels of every level (an int, with ``levels``), or one int per level.
        levels: number of levels when ``channels`` is an int; default: the fewest whose receptive
            field covers the lookback (5 for a lookback of 96 and ``kernel_size`` 3); must equal
            ``len(channels)`` when it is a list.
        kernel_size: convolution kernel size ``K``.
        dropout: dropout after each convolution's ReLU (training mode only).
        weight_norm: weight-normalise the dilated convolutions (as the paper).

    Shapes:
        input ``(batch, lookback, n_features)``, convolved as ``(batch, channels, lookback)``;
        output ``(batch, horizon)`` or ``(batch, horizon, len(quantiles))``.

    Parameters: ``blocks.{i}.conv1`` and ``blocks.{i}.conv2`` (``weight_g``, ``weight_v`` and
    ``bias`` with weight norm, else ``weight`` and ``bias``), ``blocks.{i}.downsample`` where the
    channels change, ``head.weight``, ``head.bias``.
    """

    def __init__(
        self,
        *,
        channels: int | list[int] = 32,
        levels: int | None = None,
        kernel_size: int = 3,
        dropout: float = 0.1,
        weight_norm: bool = True,
        **common: Any,
    ) -> None:
        super().__init__(**common)
        owner = "TCNModel"
        if isinstance(channels, (list, tuple)):
            if not channels:
                raise ConfigError(f"{owner}: channels must not be empty")
            chans = [positive_int(c, f"channels[{i}]", owner) for i, c in enumerate(channels)]
            if levels is not None and positive_int(levels, "levels", owner) != len(chans):
                raise ConfigError(
                    f"{owner}: levels ({levels}) must equal len(channels) ({len(chans)}) "
                    f"when channels is a list"
                )
        else:
            kernel = positive_int(kernel_size, "kernel_size", owner)
            n = covering_levels(self.lookback, kernel) if levels is None else levels
            chans = [positive_int(channels, "channels", owner)] * positive_int(n, "levels", owner)
        self.channels = chans
        self.levels = len(chans)
        self.kernel_size = positive_int(kernel_size, "kernel_size", owner)
        if self.kernel_size > self.lookback:
            raise ConfigError(
                f"{owner}: kernel_size ({self.kernel_size}) must not exceed lookback "
                f"({self.lookback}): the first convolution would see only padding"
            )
        self.dropout = probability(dropout, "dropout", owner)
        self.weight_norm = flag(weight_norm, "weight_norm", owner)
        gen = self._generator()
        dt = self._dtype.value
        self.blocks = []
        c_in = self.n_features
        for i, c_out in enumerate(chans):
            self.blocks.append(
                TemporalBlock(
                    c_in, c_out, self.kernel_size, 2**i, self.dropout, self.weight_norm, gen, dt
                )
            )
            c_in = c_out
        self._init_inputs(gen)
        self._init_head(c_in, gen)

    @property
    def receptive_field(self) -> int:
        """How many past steps the last output step sees: ``1 + 2 (K - 1) (2^levels - 1)``."""
        return 1 + 2 * (self.kernel_size - 1) * (2 ** len(self.channels) - 1)

    def _compute(self, p: ForwardPath, x: Any, future: Any, static: Any, mask: Any) -> Any:
        h = x.transpose(0, 2, 1)
        for block in self.blocks:
            h = p.forward(block)(h)
        last = self._with_exogenous(p, h[:, :, -1], future, static)
        return self._finish(p, p.forward(self.head)(last))
