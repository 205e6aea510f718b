"""The swets entry point of this distribution: one hook per kind it contributes."""

from __future__ import annotations

from swets_core import hookimpl
from swets_example_dlinear.layers import SeriesDecomposition
from swets_example_dlinear.losses import LogCosh
from swets_example_dlinear.model import DLinear
from swets_example_dlinear.ops import moving_average


@hookimpl
def swets_register_ops(register):
    register("moving_average", moving_average)


@hookimpl
def swets_register_layers(register):
    register("series_decomposition", SeriesDecomposition)


@hookimpl
def swets_register_models(register):
    register(DLinear.registry_name, DLinear)


@hookimpl
def swets_register_losses(register):
    register("log_cosh", LogCosh)
