"""The models' tape-free forward (no active tape: inference, metrics) computes what the recorded
forward computes, in both modes and dtypes, dropout included (same generator states, same masks)."""

from __future__ import annotations

import numpy as np
import pytest

from swets_core import GradientTape, Tensor, no_grad, registry
from tests.models.configs import SMALL_CONFIGS, small_input_shape

CASES = [
    ("tcn", {}),
    ("tcn", {"weight_norm": False, "quantiles": [0.1, 0.9], "channels": [3, 3]}),
    ("tcn", {"dropout": 0.0, "kernel_size": 3}),
    ("lstm", {}),
    ("lstm", {"num_layers": 3, "quantiles": [0.2, 0.8]}),
    ("lstm", {"num_layers": 1, "dropout": 0.0}),
    ("transformer", {}),
    ("transformer", {"norm_first": False, "activation": "relu", "positional": "learned"}),
    ("transformer", {"causal": True, "head": "flatten", "quantiles": [0.5, 0.7], "num_layers": 2}),
    ("transformer", {"causal": True, "num_layers": 3}),
    ("nbeats", {}),
    ("nbeats", {"quantiles": [0.1, 0.5, 0.9]}),
    (
        "nbeats",
        {"stack_types": ["generic"], "num_blocks": 3, "share_weights": False, "layer_width": 16},
    ),
    ("nbeats", {"naive_level": True, "quantiles": [0.2, 0.8]}),
    ("ensemble", {}),
    ("ensemble", {"combine": "mean", "quantiles": [0.2, 0.8]}),
    ("nlinear", {}),
    ("nlinear", {"quantiles": [0.1, 0.9], "instance_norm": True}),
    ("dlinear", {"quantiles": [0.5, 0.7]}),
    ("nhits", {}),
    ("nhits", {"quantiles": [0.1, 0.5, 0.9], "interpolation": "nearest"}),
    ("tide", {}),
    ("tide", {"quantiles": [0.1, 0.9], "layer_norm": False}),
    ("patchtst", {}),
    ("patchtst", {"norm": "layer", "quantiles": [0.1, 0.9], "pad_end": False}),
]


def _pair(name: str, overrides: dict, dtype: str, training: bool):
    cfg = {**SMALL_CONFIGS[name], **overrides, "dtype": dtype}
    a = registry.create("models", name, **cfg, seed=0)
    b = registry.create("models", name, **cfg, seed=0)
    for m in (a, b):
        m.train(training)
    return a, b


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "name, overrides", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)]
)
def test_tape_free_forward_equals_the_recorded_forward(name, overrides, dtype, training):
    recorded, free = _pair(name, overrides, dtype, training)
    for batch in (3, 1):
        x = np.random.default_rng(batch).standard_normal(small_input_shape(name, batch))
        x = Tensor(x.astype(dtype))
        with GradientTape():
            want = recorded(x).numpy()
        with no_grad():
            got = free(x)
        assert got.numpy().dtype == want.dtype and got.shape == want.shape
        tol = 1e-12 if dtype == "float64" else 2e-6
        np.testing.assert_allclose(got.numpy(), want, rtol=tol, atol=tol)


def test_tape_free_forward_leaves_the_parameters_and_the_input_alone():
    for name in SMALL_CONFIGS:
        model = registry.create("models", name, **SMALL_CONFIGS[name], seed=0).eval()
        before = {k: v.copy() for k, v in model.state_dict().items()}
        x = np.random.default_rng(0).standard_normal(small_input_shape(name)).astype("float32")
        x_copy = x.copy()
        with no_grad():
            model(Tensor(x))
        np.testing.assert_array_equal(x, x_copy)
        for k, v in model.state_dict().items():
            np.testing.assert_array_equal(v, before[k], err_msg=f"{name}: {k}")


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize(
    "name, overrides", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)]
)
def test_forward_arrays_equals_the_recorded_forward(name, overrides, training):
    recorded, on_arrays = _pair(name, overrides, "float64", training)
    x = np.random.default_rng(2).standard_normal(small_input_shape(name, 2))
    with GradientTape():
        want = recorded(Tensor(x)).numpy()
    got = on_arrays.forward_arrays(x)
    assert isinstance(got, np.ndarray) and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
