"""Small configurations of every registered model for the checkpoint round-trip test.

``MODEL_CASES[name]`` gives ``config`` (keyword arguments of ``registry.create("models", name, ...)``)
and ``input_shape`` (a batch the model's forward accepts). A model registered without an entry here
fails ``test_registered_model_round_trip`` with a message asking for one: keep them tiny.
"""

from __future__ import annotations

from typing import Any

MODEL_CASES: dict[str, dict[str, Any]] = {
    "nbeats": {
        "config": {
            "lookback": 12,
            "horizon": 4,
            "stack_types": ["generic", "trend", "seasonality"],
            "num_blocks": 1,
            "num_layers": 2,
            "layer_width": 8,
        },
        "input_shape": (3, 12, 1),
    },
    "tcn": {
        "config": {
            "n_features": 2,
            "lookback": 12,
            "horizon": 3,
            "channels": [4, 4],
            "dropout": 0.0,
        },
        "input_shape": (2, 12, 2),
    },
    "lstm": {
        "config": {
            "n_features": 2,
            "lookback": 10,
            "horizon": 3,
            "hidden_size": 6,
            "num_layers": 2,
        },
        "input_shape": (2, 10, 2),
    },
    "transformer": {
        "config": {
            "n_features": 2,
            "lookback": 10,
            "horizon": 3,
            "d_model": 8,
            "n_heads": 2,
            "num_layers": 1,
            "dim_feedforward": 16,
            "dropout": 0.0,
        },
        "input_shape": (2, 10, 2),
    },
    "nlinear": {"config": {"lookback": 10, "horizon": 3}, "input_shape": (2, 10, 1)},
    "dlinear": {
        "config": {"lookback": 10, "horizon": 3, "kernel_size": 5},
        "input_shape": (2, 10, 1),
    },
    "nhits": {
        "config": {
            "n_features": 2,
            "lookback": 10,
            "horizon": 4,
            "pool_kernel_size": [2, 1],
            "freq_downsample": [2, 1],
            "layer_width": 8,
        },
        "input_shape": (2, 10, 2),
    },
    "tide": {
        "config": {
            "n_features": 2,
            "lookback": 10,
            "horizon": 4,
            "hidden_size": 8,
            "decoder_output_dim": 2,
            "temporal_decoder_hidden": 4,
        },
        "input_shape": (2, 10, 2),
    },
    "patchtst": {
        "config": {
            "lookback": 10,
            "horizon": 3,
            "patch_len": 4,
            "stride": 2,
            "d_model": 4,
            "n_heads": 2,
            "num_layers": 1,
            "dim_feedforward": 8,
        },
        "input_shape": (2, 10, 1),
    },
    "deepar": {
        "config": {
            "lookback": 8,
            "horizon": 3,
            "hidden_size": 5,
            "lags": [1, 2],
            "num_samples": 4,
            "quantiles": [0.1, 0.5, 0.9],
        },
        "input_shape": (2, 8, 1),
    },
    "naive": {"config": {"horizon": 3}, "input_shape": (2, 8, 2)},
    "seasonal_naive": {"config": {"horizon": 3, "season_length": 2}, "input_shape": (2, 8, 2)},
    "mean": {"config": {"horizon": 3}, "input_shape": (2, 8, 2)},
    "drift": {"config": {"horizon": 3}, "input_shape": (2, 8, 2)},
    "ensemble": {
        "config": {
            "members": [
                {
                    "model": "nbeats",
                    "config": {
                        "lookback": lookback,
                        "horizon": 3,
                        "num_blocks": 1,
                        "num_layers": 2,
                        "layer_width": 4,
                    },
                    "loss": loss,
                    "seed": seed,
                }
                for seed, (lookback, loss) in enumerate([(6, "smape"), (9, "mase"), (6, None)])
            ],
            "combine": "median",
        },
        "input_shape": (2, 9, 1),
    },
}
