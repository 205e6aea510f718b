"""Tiny valid configurations of every swets-models model, for tests anywhere in the suite.

``registry.create("models", name, **SMALL_CONFIGS[name], seed=0)`` builds a model of a few hundred
parameters that runs in about a millisecond; ``small_input_shape(name)`` is the input it expects.
``make`` builds one in float64 and eval mode, ``run`` runs it without recording, and
``doubly_residual_reference`` is the N-BEATS/N-HiTS stacking written out block by block.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from swets_core import Tensor, no_grad, registry

SMALL_CONFIGS: dict[str, dict[str, Any]] = {
    # two levels: 2 -> 4 channels (1x1 downsample) then 4 -> 6 (another downsample), weight norm on
    "tcn": {
        "n_features": 2,
        "lookback": 12,
        "horizon": 3,
        "channels": [4, 6],
        "kernel_size": 2,
        "dropout": 0.1,
        "weight_norm": True,
    },
    "lstm": {
        "n_features": 2,
        "lookback": 6,
        "horizon": 3,
        "hidden_size": 4,
        "num_layers": 2,
        "dropout": 0.1,
    },
    "transformer": {
        "n_features": 2,
        "lookback": 6,
        "horizon": 3,
        "d_model": 4,
        "n_heads": 2,
        "num_layers": 1,
        "dim_feedforward": 8,
        "dropout": 0.1,
    },
    # one stack of each kind, two blocks each, weights shared within a stack
    "nbeats": {
        "lookback": 8,
        "horizon": 3,
        "stack_types": ["trend", "seasonality", "generic"],
        "num_blocks": 2,
        "num_layers": 2,
        "layer_width": 8,
        "trend_degree": 2,
        "share_weights": True,
    },
    # two N-BEATS members of different lookbacks and an LSTM with dropout, by their median
    "ensemble": {
        "lookback": 8,
        "horizon": 3,
        "members": [
            {"model": "nbeats", "config": {"lookback": 6, "num_blocks": 1, "layer_width": 8}},
            {"model": "nbeats", "config": {"lookback": 8, "num_blocks": 2, "layer_width": 8}},
            {"model": "lstm", "config": {"lookback": 4, "hidden_size": 4, "dropout": 0.1}},
        ],
    },
    "nlinear": {"lookback": 8, "horizon": 3},
    "dlinear": {"lookback": 8, "horizon": 3, "kernel_size": 3},
    # two stacks: pooled by 2 (and by 3, a kernel that leaves a short first window) with 1 and 3
    # knots, two blocks in the first
    "nhits": {
        "n_features": 2,
        "lookback": 8,
        "horizon": 3,
        "pool_kernel_size": [3, 2],
        "freq_downsample": [3, 1],
        "num_blocks": [2, 1],
        "num_layers": 2,
        "layer_width": 8,
        "dropout": 0.1,
    },
    # two encoder and two decoder blocks, a past covariate projected to 2 values per step
    "tide": {
        "n_features": 2,
        "lookback": 6,
        "horizon": 3,
        "hidden_size": 8,
        "num_encoder_layers": 2,
        "num_decoder_layers": 2,
        "decoder_output_dim": 3,
        "temporal_decoder_hidden": 5,
        "temporal_width": 2,
        "dropout": 0.1,
    },
    # four patches of 4 steps every 2 (the last one padded), BatchNorm, RevIN with affine (default)
    "patchtst": {
        "lookback": 8,
        "horizon": 3,
        "patch_len": 4,
        "stride": 2,
        "d_model": 4,
        "n_heads": 2,
        "num_layers": 2,
        "dim_feedforward": 6,
        "dropout": 0.1,
    },
}
"""Registry name -> keyword configuration (float32 unless a test overrides ``dtype``)."""


def small_input_shape(name: str, batch: int = 4) -> tuple[int, int, int]:
    """``(batch, lookback, n_features)`` for ``SMALL_CONFIGS[name]``."""
    cfg = SMALL_CONFIGS[name]
    return (batch, cfg["lookback"], cfg.get("n_features", 1))


def make(name: str, **overrides: Any) -> Any:
    """``SMALL_CONFIGS[name]`` (with ``overrides``) built in float64 with seed 0, in eval mode."""
    cfg = {**SMALL_CONFIGS[name], "dtype": "float64", "seed": 0, **overrides}
    return registry.create("models", name, **cfg).eval()


def run(model: Any, x: Any, **inputs: Any) -> np.ndarray:
    """``model(x, **inputs)`` as an array, nothing recorded."""
    with no_grad():
        return model(x, **inputs).numpy().copy()


def doubly_residual_reference(model: Any, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The forecast of an N-BEATS or N-HiTS ``model`` from ``x (batch, lookback)`` computed block by
    block: each block sees the masked residual of the ones before it, the forecasts add up."""
    residual, forecast = x.copy(), 0.0
    with no_grad():
        for block in model.blocks:
            backcast, f = block(Tensor(residual))
            residual = (residual - backcast.numpy()) * mask
            forecast = forecast + f.numpy()
    return forecast


__all__ = ["SMALL_CONFIGS", "doubly_residual_reference", "make", "run", "small_input_shape"]
