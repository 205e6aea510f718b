"""Scale: serving latency and backtests from a loaded model, swets beside NeuralForecast.

The data are generated (:func:`demand`): half-hourly series shaped like the demo's electricity
demand (a daily and a weekly cycle, a level per series, noise; seed 0), in long format.

* ``scale.forecast_1_nbeats_demo``: the forecast of one series (400 rows) by the demo's N-BEATS
  (``swets demo``'s job: generic, 2 blocks of 2 layers of width 128, lookback 336, horizon 48,
  instance normalization, a standard scaler; trained for 2 steps, which does not change the time)
  loaded from its checkpoint: ``Forecaster.forecast(series)`` (scaling, window, model, inverse
  scaling, timestamps). Beside it the peer's ``NeuralForecast.predict(df)`` of the same series
  with its ``NBEATS`` of the same shape (``identity`` stacks, ``scaler_type="revin"``, fitted for
  one step), and ``bare``: the model's own call on the window (``forward_arrays``, batch 1).
  Targets: at most 0.3 ms, at most 2x the bare call.
* ``scale.forecast_1_<model>``: the same for every other built-in model (``tcn``, ``lstm``,
  ``transformer`` with their defaults at lookback 96 and horizon 24, and the baselines), with a
  standard scaler fitted on the series, beside the bare call (target: at most 2x).
* ``scale.forecast_10k_nbeats_demo``: the forecasts of 10,000 series (400 rows each) in one call,
  beside the peer's ``predict`` of the same data frame. Target: under 1 s.
* ``scale.backtest_1000_nbeats_demo``: a rolling-origin backtest without refit of the demo's model
  on one series of 1,800 rows, 1,000 origins one row apart (``swets_train.backtest(model, series,
  folds=1000, stride=1, baselines=())``: windows, forecasts, inverse scaling, metrics), beside the
  peer's historical forecasts of the same origins (``cross_validation(df, n_windows=1000,
  step_size=1, refit=False, use_fitted=True)``: the fitted model, no training). Target: under 1 s.

Every figure is the CPU time of the process per call (all its threads: ``"clock": "cpu"``), the
median of interleaved rounds: the machine these run on is shared, and the wall clock of a short
call there mostly measures when the scheduler lets it run. The comparisons with the bare call run
at one thread (``"threads": "1"``, as a serving process per core does): a second OpenBLAS thread
waiting for work while the machine is loaded adds CPU time to whichever call it happens to
accompany.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any

from benchmarks.harness import Case

DEMO_LOOKBACK, DEMO_HORIZON = 336, 48
ROWS = 400
TARGET = "demand_mw"


def demand(n_series: int, length: int, seed: int = 0) -> tuple[Any, Any, Any]:
    """``(ids, timestamps, values)`` of ``n_series`` generated half-hourly series of ``length``
    rows in long format (ids ``"s0", "s1"...``; float64 values about 30,000 with a daily and a
    weekly cycle)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    t = np.arange(length)
    day = np.sin(2 * np.pi * t / 48)
    week = np.sin(2 * np.pi * t / 336)
    level = rng.uniform(20_000, 40_000, size=(n_series, 1))
    noise = rng.standard_normal((n_series, length))
    values = level * (1 + 0.15 * day + 0.05 * week) + 300 * noise
    start = np.datetime64("2024-01-01T00:00", "ns")
    stamps = start + np.arange(length) * np.timedelta64(30, "m")
    ids = np.repeat(np.array([f"s{i}" for i in range(n_series)], dtype=object), length)
    return ids, np.tile(stamps, n_series), values.reshape(-1)


def demo_checkpoint(directory: str) -> str:
    """Write the demo's job, trained for 2 steps, to ``directory``; returns the checkpoint path."""
    from swets_train.cli import demo_spec
    from swets_train.jobs import JobSpec, run_job

    spec = demo_spec(directory)
    spec["training"].update(epochs=1, max_steps=2)
    run_job(JobSpec.from_dict(spec))
    return os.path.join(directory, "nbeats.swets")


def _collection(n_series: int, length: int) -> Any:
    from swets_timeseries import SeriesCollection

    ids, stamps, values = demand(n_series, length)
    return SeriesCollection.from_long(ids, stamps, {TARGET: values}, target=TARGET)


def _demo_forecaster() -> Any:
    from swets_train import Forecaster
    from swets_train.jobs import load_job

    job = load_job(demo_checkpoint(tempfile.mkdtemp(prefix="swets-bench-serving-")))
    return Forecaster(job.model, scaler=job.scaler, **job.spec.data.reading())


def _swets_demo(n_series: int) -> Callable[[], Callable[[], object]]:
    def setup() -> Callable[[], object]:
        forecaster = _demo_forecaster()
        data = _collection(n_series, ROWS)
        if n_series == 1:
            data = data[0]
        return lambda: forecaster.forecast(data)

    return setup


def _bare_demo() -> Callable[[], object]:
    import numpy as np

    forecaster = _demo_forecaster()
    x = np.random.default_rng(0).standard_normal((1, DEMO_LOOKBACK, 1)).astype(np.float32)
    model = forecaster.model
    return lambda: model.forward_arrays(x)


def _peer_frame(n_series: int, length: int) -> Any:
    import pandas as pd

    ids, stamps, values = demand(n_series, length)
    return pd.DataFrame({"unique_id": ids.astype(str), "ds": stamps, "y": values})


def _peer_demo(df: Any, **extra: Any) -> Any:
    """NeuralForecast's NBEATS of the demo's shape, fitted for one step on ``df``."""
    from neuralforecast import NeuralForecast
    from neuralforecast.models import NBEATS

    from benchmarks.cases_scale import QUIET_LIGHTNING, quiet_peer

    quiet_peer()
    model = NBEATS(
        h=DEMO_HORIZON,
        input_size=DEMO_LOOKBACK,
        stack_types=["identity", "identity"],
        n_blocks=[1, 1],
        mlp_units=[[128, 128]],
        scaler_type="revin",
        max_steps=1,
        random_seed=0,
        **QUIET_LIGHTNING,
        **extra,
    )
    nf = NeuralForecast(models=[model], freq="30min")
    nf.fit(df)
    return nf


def _peer_forecast(n_series: int) -> Callable[[], Callable[[], object]]:
    def setup() -> Callable[[], object]:
        df = _peer_frame(n_series, ROWS)
        nf = _peer_demo(df)
        return lambda: nf.predict(df)

    return setup


BACKTEST_ROWS, ORIGINS = 1800, 1000


def _swets_backtest() -> Callable[[], object]:
    from swets_train import backtest

    forecaster = _demo_forecaster()
    series = _collection(1, BACKTEST_ROWS)[0]
    return lambda: backtest(
        forecaster.model,
        series,
        folds=ORIGINS,
        stride=1,
        scaler=forecaster.scaling.scaler,
        baselines=(),
    )


def _peer_backtest() -> Callable[[], object]:
    df = _peer_frame(1, BACKTEST_ROWS)
    nf = _peer_demo(df)
    return lambda: nf.cross_validation(
        df, n_windows=ORIGINS, step_size=1, refit=False, use_fitted=True
    )


def _model_case(name: str) -> Case:
    baseline = name in ("naive", "seasonal_naive", "mean", "drift")

    def model_and_series() -> tuple[Any, Any, Any]:
        from swets_core import registry
        from swets_timeseries import StandardScaler

        if baseline:  # no parameters, no lookback of their own
            extra = {"season_length": 48} if name == "seasonal_naive" else {}
            model = registry.create("models", name, horizon=24, **extra)
        else:
            model = registry.create("models", name, lookback=96, horizon=24, seed=0)
        series = _collection(1, ROWS)[0]
        return model, series, StandardScaler().fit(series)

    def swets() -> Callable[[], object]:
        from swets_train import Forecaster

        model, series, scaler = model_and_series()
        forecaster = Forecaster(model, scaler=scaler, lookback=96)
        return lambda: forecaster.forecast(series)

    def bare() -> Callable[[], object]:
        import numpy as np

        model, _, _ = model_and_series()
        model.eval()
        x = np.random.default_rng(0).standard_normal((1, 96, 1)).astype(np.float32)
        return lambda: model.forward_arrays(x)

    return Case(
        name=f"scale.forecast_1_{name}",
        group="scale: forecast of one series vs the bare model call (lookback 96, horizon 24)",
        setups={"swets": swets, "bare": bare},
        number=50,
        extra={"versus": "bare", "target": 2, "clock": "cpu", "threads": "1"},
    )


CASES = [
    Case(
        name="scale.forecast_1_nbeats_demo",
        group="scale: serving from a loaded checkpoint (the demo's N-BEATS)",
        setups={"swets": _swets_demo(1), "peer": _peer_forecast(1), "bare": _bare_demo},
        number=50,
        note="Forecaster.forecast of one series (400 rows) vs NeuralForecast.predict; bare: "
        "the model's call on the window",
        extra={"also": {"bare": 2}, "limit_ms": 0.3, "clock": "cpu"},
    ),
    Case(
        name="scale.forecast_10k_nbeats_demo",
        group="scale: serving from a loaded checkpoint (the demo's N-BEATS)",
        setups={"swets": _swets_demo(10_000), "peer": _peer_forecast(10_000)},
        note="the forecasts of 10,000 series of 400 rows in one call",
        extra={"limit_ms": 1000.0, "rounds": 3, "clock": "cpu"},
    ),
    Case(
        name="scale.backtest_1000_nbeats_demo",
        group="scale: rolling-origin backtest without refit (the demo's N-BEATS)",
        setups={"swets": _swets_backtest, "peer": _peer_backtest},
        note="1,000 origins one row apart on one series of 1,800 rows; the peer: "
        "cross_validation(refit=False, use_fitted=True)",
        extra={"limit_ms": 1000.0, "rounds": 3, "clock": "cpu"},
    ),
] + [
    _model_case(name)
    for name in ("nbeats", "tcn", "lstm", "transformer", "naive", "seasonal_naive", "mean", "drift")
]
