"""The plugin's own tests, as a third-party author writes them with the swets conformance kit."""

from __future__ import annotations

import numpy as np

from swets_core import testing

RNG = np.random.default_rng(0)


def test_registered():
    testing.check_registered(
        "swets-example-dlinear",
        {
            "ops": ["moving_average"],
            "layers": ["series_decomposition"],
            "models": ["example_dlinear"],
            "losses": ["log_cosh"],
        },
    )


def test_moving_average_gradient():
    testing.check_op("moving_average", RNG.standard_normal((2, 9, 3)), kernel_size=5)
    testing.check_op("moving_average", RNG.standard_normal((1, 4, 1)), kernel_size=3)


def test_layer():
    from swets_core import registry

    layer = registry.create("layers", "series_decomposition", kernel_size=5)
    remainder, trend = layer(RNG.standard_normal((2, 12, 1)))
    assert remainder.shape == trend.shape == (2, 12, 1)


def test_loss():
    from swets_core import registry

    testing.check_loss(
        registry.create("losses", "log_cosh"),
        RNG.standard_normal((4, 3)),
        RNG.standard_normal((4, 3)),
    )


def test_model():
    testing.check_model(
        "example_dlinear",
        {"input_size": 16, "horizon": 4, "kernel_size": 5, "dtype": "float64"},
        RNG.standard_normal((3, 16, 2)),
    )
