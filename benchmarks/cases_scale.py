"""Scale: building the windowed dataset of a large panel, and loading the demo's checkpoint.

Both are measured in fresh processes (``kind="memory"`` cases: one run per process, the median of
``--memory-repeats`` processes), as a user meets them.

**Dataset build** (``scale.dataset_build_48k`` and ``_100k``): a generated panel the size of M4
monthly (48,000 series) and of 100,000 series, lengths drawn uniformly from 60 to 2,800 points
(seed 0), a random walk per series in float32, daily timestamps from a start drawn per series, in
long format (one id, timestamp and value per row: what a file or a data frame holds). The timed
build is what a global model needs from it: ``SeriesCollection.from_long`` (the series),
``WindowDataset(lookback 36, horizon 18)`` (every window, as views) and ``PanelSampler`` (the
N-BEATS sampler). Figures: ``seconds`` of the build (and ``cpu_seconds``, the process's CPU time:
without the time spent waiting for a core on a loaded machine), ``data`` (MiB of the long-format
arrays), ``peak`` (the process's peak resident set during the build: the interpreter, numpy, the
data and everything built) and ``increase`` (the peak over the resident set before the build, the data
already there: what building costs; it must stay proportional to the data, never to the number
of windows, which is about 140 million for 100,000 series).

**Checkpoint load** (``scale.checkpoint_load_demo``): the model of ``swets demo`` (N-BEATS,
generic, 2 blocks of 2 layers of width 128, lookback 336, horizon 48, instance normalization)
saved with an Adam state (as a training run saves it, 4.3 MB). A fresh interpreter times ``import
swets_core.checkpoint`` (``import_ms``), its first ``load_checkpoint`` (``load_ms``: plugin
discovery, reading and checking the file, building the model, loading its state) and a second one
(``again_ms``), and the process's CPU time of the first two (``import_cpu_ms``, ``load_cpu_ms``:
on a machine loaded by other processes, without the time spent waiting for a core). The
interpreter runs with Python's bytecode cache (in a directory of its own under the system's
temporary directory, warmed by one unmeasured run), as an installed package does: without it
every import compiles its module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from benchmarks.harness import Case

LOOKBACK, HORIZON = 36, 18
MIN_LENGTH, MAX_LENGTH = 60, 2800

DEMO_MODEL = {
    "name": "nbeats",
    "config": {
        "lookback": 336,
        "horizon": 48,
        "num_blocks": 2,
        "num_layers": 2,
        "layer_width": 128,
        "instance_norm": True,
    },
}


QUIET_LIGHTNING = {
    "accelerator": "cpu",
    "enable_progress_bar": False,
    "enable_model_summary": False,
    "enable_checkpointing": False,
    "logger": False,
}
"""The trainer options of a NeuralForecast model run on the CPU without a progress bar, a model
summary, checkpoints or a logger (what the scale suite's peer cases give every model)."""


def quiet_peer() -> None:
    """Silence the warnings and the logs of NeuralForecast and Lightning in this process."""
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    for name in ("pytorch_lightning", "lightning", "lightning_fabric", "neuralforecast"):
        logging.getLogger(name).setLevel(logging.ERROR)


def panel(n_series: int, seed: int = 0) -> tuple[Any, Any, Any]:
    """``(ids, timestamps, values)`` of a generated long-format panel: ``n_series`` random walks
    (float32) of lengths drawn uniformly from 60 to 2,800, daily timestamps from a start drawn per
    series, ids ``0 .. n - 1`` (int32), one block of rows per series."""
    import numpy as np

    rng = np.random.default_rng(seed)
    lengths = rng.integers(MIN_LENGTH, MAX_LENGTH + 1, size=n_series)
    total = int(lengths.sum())
    ids = np.repeat(np.arange(n_series, dtype=np.int32), lengths)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    day = rng.integers(0, 3650, size=n_series)  # first day of each series
    stamps = np.repeat(day.astype(np.int64), lengths)
    stamps += np.arange(total, dtype=np.int64)
    stamps -= starts
    stamps *= 86_400 * 10**9
    timestamps = stamps.view("datetime64[ns]")
    steps = rng.standard_normal(total, dtype=np.float32)
    values = np.cumsum(steps, dtype=np.float32)  # one walk; a series' level is where it starts
    return ids, timestamps, values


def _dataset_build(n_series: int) -> Callable[[], Callable[[], dict[str, float]]]:
    def setup() -> Callable[[], dict[str, float]]:
        import numpy as np

        from swets_timeseries import PanelSampler, SeriesCollection, WindowDataset

        ids, timestamps, values = panel(n_series)
        data_mib = (ids.nbytes + timestamps.nbytes + values.nbytes) / 2**20

        def run() -> dict[str, float]:
            from benchmarks.harness import peak_memory

            seconds = {}

            def build() -> None:
                t0, c0 = time.perf_counter(), time.process_time()
                series = SeriesCollection.from_long(ids, timestamps, {"y": values}, target="y")
                dataset = WindowDataset(series, LOOKBACK, HORIZON)
                sampler = PanelSampler(
                    series, lookback=LOOKBACK, horizon=HORIZON, rng=np.random.default_rng(0)
                )
                seconds["s"] = time.perf_counter() - t0
                seconds["cpu"] = time.process_time() - c0
                assert len(dataset) > 0 and len(sampler) == n_series

            mem = peak_memory(build)
            return {"seconds": seconds["s"], "cpu_seconds": seconds["cpu"], "data": data_mib, **mem}

        return run

    return setup


_LOAD_SCRIPT = """
import json, sys, time
t0, c0 = time.perf_counter(), time.process_time()
import swets_core.checkpoint as ck
t1, c1 = time.perf_counter(), time.process_time()
ck.load_checkpoint(sys.argv[1])
t2, c2 = time.perf_counter(), time.process_time()
ck.load_checkpoint(sys.argv[1])
t3 = time.perf_counter()
print(json.dumps({"import_ms": 1e3 * (t1 - t0), "load_ms": 1e3 * (t2 - t1),
                  "again_ms": 1e3 * (t3 - t2), "import_cpu_ms": 1e3 * (c1 - c0),
                  "load_cpu_ms": 1e3 * (c2 - c1)}))
"""


def demo_checkpoint(path: str) -> None:
    """Write the demo's model with an Adam state (one step on a random batch) to ``path``."""
    import numpy as np

    from swets_core import GradientTape, Tensor, registry
    from swets_core.checkpoint import save_checkpoint

    cfg = DEMO_MODEL["config"]
    model = registry.create("models", DEMO_MODEL["name"], **cfg, seed=0)
    opt = registry.create("optimizers", "adam", model.parameters(), lr=1e-3)
    mse = registry.create("losses", "mse")
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((32, cfg["lookback"], 1)).astype(np.float32))
    y = Tensor(rng.standard_normal((32, cfg["horizon"])).astype(np.float32))
    with GradientTape() as tape:
        loss = mse(model(x), y)
    opt.step(None, tape.backward(loss))
    save_checkpoint(path, model, training_state={"optimizer": opt.state_dict(), "step": 1})


def _checkpoint_load() -> Callable[[], dict[str, float]]:
    directory = tempfile.mkdtemp(prefix="swets-bench-scale-")
    path = os.path.join(directory, "demo.swets")
    demo_checkpoint(path)
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "swets-bench-pycache")
    cmd = [sys.executable, "-c", _LOAD_SCRIPT, path]

    def run() -> dict[str, float]:
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    run()  # warms the bytecode cache (and the file cache)
    return run


CASES = [
    Case(
        name=f"scale.dataset_build_{label}",
        group="scale: building the windowed dataset of a panel (fresh process)",
        setups={"swets": _dataset_build(n)},
        kind="memory",
        note=(
            f"{n:,} series of 60-2,800 points in long format: SeriesCollection.from_long, "
            f"WindowDataset (lookback {LOOKBACK}, horizon {HORIZON}) and PanelSampler"
        ),
        extra={"units": {"seconds": "s", "cpu_seconds": "s"}},
    )
    for label, n in (("48k", 48_000), ("100k", 100_000))
] + [
    Case(
        name="scale.checkpoint_load_demo",
        group="scale: loading the demo's checkpoint (fresh interpreter)",
        setups={"swets": _checkpoint_load},
        kind="memory",
        note=(
            "import swets_core.checkpoint, then load_checkpoint of the demo's N-BEATS with its Adam "
            "state, twice"
        ),
        extra={
            "units": {
                "import_ms": "ms",
                "load_ms": "ms",
                "again_ms": "ms",
                "import_cpu_ms": "ms",
                "load_cpu_ms": "ms",
            }
        },
    ),
]
