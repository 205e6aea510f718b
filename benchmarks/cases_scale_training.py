"""Scale: global training of N-BEATS on a large panel, swets beside NeuralForecast.

``scale.train_nbeats_48k`` and ``_100k``: the generated panels of ``benchmarks.cases_scale.panel``
(48,000 series, the size of M4 monthly, and 100,000; lengths 60 to 2,800, seed 0), in long format
as a file or a data frame holds them. Each framework runs in a fresh process per case (the
process's peak resident set is the memory figure) and does what a user does:

* swets: ``SeriesCollection.from_long`` and the competition sampler (``PanelSampler``: a series
  uniformly, then a cut in its history; batch 1024), then ``Trainer.fit`` with ``max_steps``;
* the peer (NeuralForecast 3.3.0, in its own environment, :mod:`benchmarks.peer_env`): a pandas
  data frame of the same arrays, then ``NeuralForecast(models=[NBEATS(...)]).fit(df)`` with
  ``batch_size=1024`` series and ``windows_batch_size=1024`` windows per step (its way of drawing
  1,024 windows of 1,024 series), no validation, no scaler, the same ``max_steps``.

The model is the same on both sides: N-BEATS generic (NeuralForecast's ``identity`` stacks),
:data:`BLOCKS` blocks of :data:`LAYERS` ReLU layers of width :data:`WIDTH`, lookback 36, horizon
18, MAE loss, Adam at 1e-3, float32. Figures: ``build_s`` (swets: the series and the sampler; the
peer: from the start of ``fit`` to the start of training, which builds its dataset and its
trainer), ``steps_per_s`` (the median interval between the ends of consecutive steps after
:data:`WARMUP` of them), ``cpu_s_per_step`` (the same in CPU time of the process, all threads:
what a step costs whatever else the machine runs; half the peer's is the throughput target in
CPU terms), ``peak`` (the process's peak resident set, VmHWM, from the moment the data are in
memory: the interpreter, the data held (swets: the long-format arrays; the peer: its data frame of
them), the libraries, the dataset, the model, the optimizer and the steps) and ``peak_all`` (the
same from the process's start, generating the data included: the benchmark's own generator needs
about twice the data for a moment, which says nothing of either framework).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from benchmarks.harness import Case

LOOKBACK, HORIZON, BATCH = 36, 18, 1024
BLOCKS, LAYERS, WIDTH = 3, 4, 256
STEPS, WARMUP = 10, 2


def _peak_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    raise OSError("VmHWM not in /proc/self/status")


def _data_loaded() -> float:
    """Once the data are in memory: the process's peak so far (generating them included), then
    the peak reset to the resident set, so that the ``peak`` figure starts from the data held."""
    import gc

    gc.collect()
    before = _peak_mib()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # VmHWM := VmRSS
    except OSError:
        pass
    return before


def _steps_per_s(stamps: list[float]) -> float:
    import statistics

    gaps = [b - a for a, b in zip(stamps[WARMUP:], stamps[WARMUP + 1 :])]
    return 1.0 / statistics.median(gaps)


def _figures(
    build: float, wall: list[float], cpu: list[float], generated: float
) -> dict[str, float]:
    """The case's figures from the build time, the wall-clock and CPU-time stamps of the ends of
    the steps and the peak while the data were generated."""
    peak = _peak_mib()
    return {
        "build_s": build,
        "steps_per_s": _steps_per_s(wall),
        "cpu_s_per_step": 1.0 / _steps_per_s(cpu),
        "peak": peak,
        "peak_all": max(peak, generated),
    }


def _swets(n_series: int) -> Callable[[], Callable[[], dict[str, float]]]:
    def setup() -> Callable[[], dict[str, float]]:
        import numpy as np

        from benchmarks.cases_scale import panel
        from swets_core import registry
        from swets_timeseries import PanelSampler, SeriesCollection
        from swets_train import Callback, Trainer

        ids, timestamps, values = panel(n_series)

        def run() -> dict[str, float]:
            generated = _data_loaded()
            t0 = time.perf_counter()
            series = SeriesCollection.from_long(ids, timestamps, {"y": values}, target="y")
            sampler = PanelSampler(
                series,
                lookback=LOOKBACK,
                horizon=HORIZON,
                batch_size=BATCH,
                rng=np.random.default_rng(0),
            )
            build = time.perf_counter() - t0
            model = registry.create(
                "models",
                "nbeats",
                lookback=LOOKBACK,
                horizon=HORIZON,
                num_blocks=BLOCKS,
                num_layers=LAYERS,
                layer_width=WIDTH,
                seed=0,
            )
            optimizer = registry.create("optimizers", "adam", model.parameters(), lr=1e-3)
            stamps: list[float] = []
            cpu: list[float] = []

            class Clock(Callback):
                def on_batch_end(self, trainer: Any, logs: Any) -> None:
                    stamps.append(time.perf_counter())
                    cpu.append(time.process_time())

            Trainer().fit(
                model,
                "mae",
                optimizer,
                sampler,
                max_steps=STEPS,
                metrics=(),
                progress=False,
                callbacks=[Clock()],
            )
            return _figures(build, stamps, cpu, generated)

        return run

    return setup


def _peer(n_series: int) -> Callable[[], Callable[[], dict[str, float]]]:
    def setup() -> Callable[[], dict[str, float]]:
        import pandas as pd

        from benchmarks.cases_scale import QUIET_LIGHTNING, panel, quiet_peer

        quiet_peer()
        ids, timestamps, values = panel(n_series)
        df = pd.DataFrame({"unique_id": ids, "ds": timestamps, "y": values})
        del ids, timestamps, values

        def run() -> dict[str, float]:
            generated = _data_loaded()
            import pytorch_lightning as pl
            from neuralforecast import NeuralForecast
            from neuralforecast.losses.pytorch import MAE
            from neuralforecast.models import NBEATS

            stamps: list[float] = []
            cpu: list[float] = []
            started: list[float] = []

            class Clock(pl.Callback):
                def on_train_start(self, *args: Any, **kwargs: Any) -> None:
                    started.append(time.perf_counter())

                def on_train_batch_end(self, *args: Any, **kwargs: Any) -> None:
                    stamps.append(time.perf_counter())
                    cpu.append(time.process_time())

            model = NBEATS(
                h=HORIZON,
                input_size=LOOKBACK,
                stack_types=["identity"] * BLOCKS,
                n_blocks=[1] * BLOCKS,
                mlp_units=[[WIDTH, WIDTH]] * (LAYERS - 1),
                loss=MAE(),
                learning_rate=1e-3,
                num_lr_decays=-1,
                max_steps=STEPS,
                val_check_steps=STEPS + 1,
                batch_size=BATCH,
                windows_batch_size=BATCH,
                scaler_type="identity",
                random_seed=0,
                callbacks=[Clock()],
                **QUIET_LIGHTNING,
            )
            t0 = time.perf_counter()
            NeuralForecast(models=[model], freq="D").fit(df)
            return _figures(started[0] - t0, stamps, cpu, generated)

        return run

    return setup


CASES = [
    Case(
        name=f"scale.train_nbeats_{label}",
        group="scale: N-BEATS global training, competition sampler, batch 1024 (fresh process)",
        setups={"swets": _swets(n), "peer": _peer(n)},
        kind="memory",
        note=(
            f"{n:,} series of 60-2,800 points; N-BEATS generic, {BLOCKS} blocks of {LAYERS} layers "
            f"of width {WIDTH}, lookback {LOOKBACK}, horizon {HORIZON}, MAE, Adam; {STEPS} steps"
        ),
        extra={
            "units": {
                "build_s": "s",
                "steps_per_s": "/s",
                "cpu_s_per_step": "s",
                "peak": "MiB",
                "peak_all": "MiB",
            },
            "target": {"steps_per_s": ">=2", "cpu_s_per_step": 0.5, "peak": 0.5},
            "repeats": 1,
        },
    )
    for label, n in (("48k", 48_000), ("100k", 100_000))
]
