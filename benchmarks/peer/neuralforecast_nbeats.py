"""The NeuralForecast side of ``python -m benchmarks.peer_nbeats``: runs in the peer environment
(NeuralForecast and CPU PyTorch, no swets), never in swets' own.

``python neuralforecast_nbeats.py TASK.json OUT.npz``: reads the series and the ensemble's members
from TASK.json (written by ``benchmarks/peer_nbeats.py``), trains one NeuralForecast ``NBEATS`` per
member (the same architecture, lookback, loss, steps, windows per step, learning rate and decay,
seed), forecasts the horizon after each series' end, and writes ``forecasts`` (members, N, H),
``cpu_seconds`` and ``wall_seconds`` of the training and forecasting (this process's CPU time, every
PyTorch thread included) to OUT.npz.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import warnings

import numpy as np


def _loss(name: str, season_length: int):
    from neuralforecast.losses.pytorch import MAPE, MASE, SMAPE

    if name == "smape":
        return SMAPE()
    if name == "mape":
        return MAPE()
    if name == "mase":
        return MASE(seasonality=season_length)
    raise SystemExit(f"no NeuralForecast loss for {name!r}")


def _model(member: dict, task: dict):
    from neuralforecast.models import NBEATS

    cfg = member["config"]
    if cfg.get("stack_types", ["generic"]) != ["generic"]:
        raise SystemExit(
            "the peer benchmark compares the generic N-BEATS (stack_types ['generic'])"
        )
    blocks = cfg.get("num_blocks", 3)
    blocks = blocks[0] if isinstance(blocks, list) else blocks
    layers = cfg.get("num_layers", 4)
    layers = layers[0] if isinstance(layers, list) else layers
    width = cfg.get("layer_width", 512)
    width = width[0] if isinstance(width, list) else width
    steps = task["steps"]
    return NBEATS(
        h=task["horizon"],
        input_size=cfg["lookback"],
        stack_types=["identity"],
        n_blocks=[blocks],
        # NeuralForecast's block is Linear(lookback, W) then one Linear per pair: num_layers linear
        # layers of width W (with one ReLU fewer than swets' block, as NeuralForecast writes it)
        mlp_units=[[width, width]] * (layers - 1),
        loss=_loss(member["loss"], task["season_length"]),
        max_steps=steps,
        learning_rate=task["lr"],
        num_lr_decays=3,
        val_check_steps=steps + 1,
        batch_size=task["series_per_batch"],
        windows_batch_size=task["batch_size"],
        start_padding_enabled=True,
        scaler_type=task["scaler_type"],
        random_seed=member["seed"],
        alias=f"m{member['index']}",
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        gradient_clip_val=1.0,
    )


def main() -> int:
    task_path, out_path = sys.argv[1], sys.argv[2]
    with open(task_path, encoding="utf-8") as fh:
        task = json.load(fh)
    threads = task.get("torch_threads")
    import pandas as pd
    import torch

    if threads:
        torch.set_num_threads(int(threads))
    for name in ("pytorch_lightning", "lightning", "lightning.pytorch", "lightning_fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    from neuralforecast import NeuralForecast

    ids = task["ids"]
    frames = [
        pd.DataFrame(
            {"unique_id": sid, "ds": np.arange(len(v)), "y": np.asarray(v, dtype=np.float32)}
        )
        for sid, v in zip(ids, task["series"])
    ]
    df = pd.concat(frames, ignore_index=True)
    members = task["members"]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    models = []
    for m in members:
        models.append(_model(m, task))
    nf = NeuralForecast(models=models, freq=1)
    nf.fit(df=df)
    pred = nf.predict()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    pred = pred.reset_index() if "unique_id" not in pred.columns else pred
    h = task["horizon"]
    out = np.empty((len(members), len(ids), h), dtype=np.float64)
    order = {sid: i for i, sid in enumerate(ids)}
    for k, m in enumerate(members):
        col = f"m{m['index']}"
        for sid, group in pred.groupby("unique_id", sort=False):
            out[k, order[str(sid)]] = group.sort_values("ds")[col].to_numpy(dtype=np.float64)[:h]
    np.savez(
        out_path,
        forecasts=out,
        cpu_seconds=cpu,
        wall_seconds=wall,
        torch=torch.__version__,
        threads=torch.get_num_threads(),
    )
    print(
        f"neuralforecast: {len(members)} models trained in {wall:.1f} s ({cpu:.1f} s CPU)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTORCH_ENABLE_MPS_FALLBACK", "1")
    sys.exit(main())
