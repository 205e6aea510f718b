"""The ``swets`` facade reaches registered components by registry or CamelCase names."""

from __future__ import annotations

import pytest

import swets
import swets_core
from swets_core.errors import UnknownComponentError
from swets_core.registry import Registry, activate


class Layers:
    @swets_core.hookimpl
    def swets_register_layers(self, register):
        register("leaky_relu", "LR")
        register("multihead_attention", "MHA")
        register("linear", "LIN")


@pytest.fixture
def reg():
    r = Registry(entry_points=False)
    r.add_plugin(Layers(), name="layers")
    with activate(r):
        yield r


@pytest.mark.parametrize(
    ("attr", "expected"),
    [("linear", "LIN"), ("Linear", "LIN"), ("LeakyReLU", "LR"), ("MultiheadAttention", "MHA")],
)
def test_names_resolve(reg, attr, expected):
    assert getattr(swets.layers, attr) == expected


def test_unknown_raises_with_suggestion(reg):
    with pytest.raises(UnknownComponentError, match="did you mean 'linear'"):
        swets.layers.linar


def test_core_names_are_reexported():
    assert swets.Tensor is swets_core.Tensor and swets.GradientTape is swets_core.GradientTape
