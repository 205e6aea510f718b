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
