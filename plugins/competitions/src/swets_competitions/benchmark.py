"""The M-competition benchmark: an ensemble trained with the N-BEATS protocol on a competition's
subsets, scored as the competition scores, beside Theta, Naive2 and the published numbers.

For each subset, :func:`run_benchmark`:

1. loads the split (:func:`~swets_competitions.load_competition`, or :func:`~swets_competitions.load_m4`
   for M4);
2. builds an ensemble (registry ``"ensemble"``) of one member per (repeat, lookback, loss) of the
   subset's :class:`Protocol`: a registered model (``"nbeats"`` by default) with lookback ``k *
   horizon`` for each ``k`` of ``lookbacks``, trained with each loss of ``losses``, ``repeats`` seeds;
3. trains it with ``swets_train.ensemble.fit_ensemble`` (the panel sampler through
   ``Trainer.fit``; members in worker processes or on Dask when asked);
4. forecasts from the window ending at each series' last value (zero-padded where a series is
   shorter than the longest lookback), sets negative forecasts to 0 (the M3 organisers' rule; every
   series of these competitions is positive), and scores sMAPE, MAPE, MASE and OWA with
   :func:`~swets_competitions.evaluate`;
5. computes Naive2 and Theta on the same split, and adds the published numbers
   (:data:`PUBLISHED`).

The CPU time reported is the process CPU time (``time.process_time``) of everything a subset
took, the members' training in other processes included; the machine (CPU model, cores, BLAS and
its thread setting, load average) is recorded with the result. **M3 is the held-out evaluation**:
the settings of :data:`PROTOCOLS` were chosen on M1 and Tourism only (docs/competitions.md).

The protocols are defined in :mod:`swets_competitions.protocols`, the result, the published numbers
and the machine in :mod:`swets_competitions.results`; this module imports them, so every name of the
benchmark is importable from here.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from swets_competitions.baselines import naive2, theta
from swets_competitions.datasets import COMPETITIONS, CompetitionSplit, load_competition, subsets
from swets_competitions.metrics import METRICS, evaluate, pooled_average
from swets_competitions.protocols import (
    PAPER,
    PRESETS,
    PROTOCOLS,
    Protocol,
    ensemble_members,
    protocol,
)
from swets_competitions.results import (
    BENCHMARK_HEADER,
    PUBLISHED,
    BenchmarkResult,
    machine,
    published_rows,
    result_row,
)
from swets_competitions.tsf import load_m4
from swets_core import no_grad, registry
from swets_core.errors import ConfigError, DataValidationError
from swets_timeseries import PanelSampler
from swets_train.ensemble import fit_ensemble
from swets_train.executor import call_model

__all__ = [
    "BENCHMARK_HEADER",
    "PAPER",
    "PRESETS",
    "PROTOCOLS",
    "PUBLISHED",
    "BenchmarkResult",
    "Protocol",
    "ensemble_members",
    "forecast_split",
    "machine",
    "protocol",
    "run_benchmark",
    "score_forecast",
]


def forecast_split(model: Any, split: CompetitionSplit, batch_size: int = 1024) -> np.ndarray:
    """``model``'s ``(N, horizon)`` forecast of a split from the window ending at each series' last
    training value (zero-padded on the left where a series is shorter than the model's lookback,
    with the input mask ``mask=`` that marks the padding, as in training; a batch without padding
    is forecast as ``model(x)``), in ``split.ids`` order, in eval mode, negative values set to
    0."""
    sampler = PanelSampler(
        split.train,
        lookback=int(model.lookback),
        horizon=split.horizon,
        rng=np.random.default_rng(0),
        dtype=model.dtype,
    )
    x, x_mask = sampler.last_windows()
    x = x[:, :, None]
    was_training = getattr(model, "training", False)
    model.eval()
    out = []
    try:
        with no_grad():
            for lo in range(0, x.shape[0], batch_size):
                xb, mb = x[lo : lo + batch_size], x_mask[lo : lo + batch_size]
                inputs = {"mask": mb} if not mb.all() else None  # padding: the input mask
                pred = call_model(model, xb, inputs)
                out.append(np.asarray(pred._data, dtype=np.float64))
    finally:
        model.train(was_training)
    forecast = np.concatenate(out)
    if forecast.shape != (len(split), split.horizon):
        raise DataValidationError(
            f"the model forecasts shape {forecast.shape}; the split needs ({len(split)}, "
            f"{split.horizon}) (a point forecast of the horizon)"
        )
    return np.maximum(forecast, 0.0)


def score_forecast(
    split: CompetitionSplit, forecast: np.ndarray, naive: np.ndarray | None = None
) -> dict[str, float]:
    """sMAPE, MAPE, MASE and OWA of an ``(N, horizon)`` forecast of a split (OWA against
    ``naive``, the Naive2 forecast, computed when not given); MAPE is NaN when a test value is 0."""
    if naive is None:
        naive = naive2(split)
    out = evaluate(split, forecast, metrics=["smape", "mase", "owa"], naive2=naive)
    try:
        out["mape"] = evaluate(split, forecast, metrics=["mape"])["mape"]
    except DataValidationError:  # a test value of 0: MAPE is undefined for the subset
        out["mape"] = math.nan
    return {k: out[k] for k in METRICS}


def _load(dataset: str, subset: str, m4_path: Any, m4_test: Any) -> CompetitionSplit:
    if dataset == "m4":
        if m4_path is None:
            raise ConfigError(
                "M4 is read from your copy of its .tsf files: give --m4-path (a file, or a "
                "directory holding m4_<subset>_dataset.tsf)"
            )
        path = os.fspath(m4_path)
        if os.path.isdir(path):
            path = os.path.join(path, f"m4_{subset}_dataset.tsf")
        return load_m4(path, subset, test=m4_test)
    return load_competition(dataset, subset)


def _say(progress: bool, line: str) -> None:
    """A progress line on stderr when ``progress``."""
    if progress:
        print(line, file=sys.stderr, flush=True)


def _timed(
    forecaster: Callable[[CompetitionSplit], np.ndarray], split: CompetitionSplit
) -> tuple[np.ndarray, float, float]:
    """``forecaster(split)`` with the CPU and wall seconds it took."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    forecast = forecaster(split)
    return forecast, time.process_time() - cpu0, time.perf_counter() - wall0


def run_benchmark(
    dataset: str,
    subset: str | Sequence[str] = "all",
    *,
    preset: str = "cpu",
    model: str | None = None,
    config: Mapping[str, Any] | None = None,
    members: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    combine: str = "median",
    seed: int = 0,
    workers: int = 1,
    runner: Any = None,
    progress: bool = True,
    m4_path: Any = None,
    m4_test: Any = None,
    on_subset: Callable[[BenchmarkResult, str, Any], None] | None = None,
) -> BenchmarkResult:
    """Train, forecast and score an ensemble on a competition's subsets (see the module docstring).

    Args:
        dataset: ``"m1"``, ``"m3"``, ``"tourism"`` or ``"m4"`` (any case).
        subset: one subset, a list of them, or ``"all"``.
        preset: ``"cpu"`` (:data:`PROTOCOLS`, the default) or ``"paper"`` (:data:`PAPER`).
        model: the members' registered model (default the protocol's, ``"nbeats"``).
        config: member model configuration added to the protocol's.
        members: keep the first that many members (``ensemble_members``).
        overrides: protocol fields to replace for every subset (``steps``, ``history_size``,
            ``lookbacks``, ``losses``, ``repeats``, ``batch_size``, ``lr``).
        combine: ``"median"`` or ``"mean"`` of the members.
        seed: the first member seed.
        workers: members trained at once in worker processes.
        runner: where members train instead (``swets_train.ensemble``; the Dask runner).
        progress: progress lines on stderr (members and steps).
        m4_path, m4_test: M4's ``.tsf`` file (or a directory of them) and its test values.
        on_subset: called as ``on_subset(result so far, subset, ensemble)`` after each subset
            (the command writes its CSV and checkpoints there).

    Returns:
        A :class:`BenchmarkResult`.
    """
    key = str(dataset).lower()
    if key not in COMPETITIONS:
        raise ConfigError(f"unknown data set {dataset!r}; known: {', '.join(COMPETITIONS)}")
    chosen = (
        list(subsets(key))
        if subset == "all"
        else ([subset] if isinstance(subset, str) else list(subset))
    )
    chosen = [s.lower() for s in chosen]
    protos = {}
    for sub in chosen:
        proto = protocol(key, sub, preset)
        if overrides:
            unknown = sorted(set(overrides) - {f.name for f in attrs.fields(Protocol)})
            if unknown:
                raise ConfigError(f"unknown protocol setting(s) {unknown}")
            proto = attrs.evolve(proto, **overrides)
        protos[sub] = proto
    info = machine()
    result = BenchmarkResult([], info, {}, {})
    points: dict[str, int] = {}
    ours: dict[str, dict[str, float]] = {}
    baselines: dict[str, dict[str, dict[str, float]]] = {"Theta (swets)": {}, "Naive2 (swets)": {}}
    for sub in chosen:
        proto = protos[sub]
        split = _load(key, sub, m4_path, m4_test)
        display = split.name  # the competition as it is written ("M3")
        specs = ensemble_members(
            proto, split.horizon, model=model, config=config, members=members, seed=seed
        )
        naive_run = _timed(naive2, split)
        computed = {"Theta (swets)": _timed(theta, split), "Naive2 (swets)": naive_run}
        naive = naive_run[0]
        _say(
            progress,
            f"{display} {sub}: {len(split)} series, horizon {split.horizon}; {len(specs)} "
            f"member(s) x {proto.steps} steps of {proto.batch_size} windows (L_H "
            f"{proto.history_size})",
        )
        cpu0, wall0 = time.process_time(), time.perf_counter()
        ensemble = registry.create("models", "ensemble", members=specs, combine=combine)
        fit = fit_ensemble(
            ensemble,
            split.train,
            steps=proto.steps,
            batch_size=proto.batch_size,
            history_size=proto.history_size,
            lr=proto.lr,
            season_length=split.season_length,
            seed=seed,
            workers=workers,
            runner=runner,
            progress=progress,
        )
        forecast = forecast_split(ensemble, split)
        cpu = time.process_time() - cpu0 + fit.cpu_elsewhere
        wall = time.perf_counter() - wall0
        scores = score_forecast(split, forecast, naive)
        result.rows.append(
            result_row(
                display,
                sub,
                f"swets {specs[0]['model']} ensemble",
                "swets",
                **scores,
                members=len(specs),
                steps=proto.steps,
                cpu_minutes=cpu / 60,
                wall_minutes=wall / 60,
            )
        )
        for name, (f, c, w) in computed.items():
            s = score_forecast(split, f, naive)
            baselines[name][sub] = s
            result.rows.append(
                result_row(
                    display,
                    sub,
                    name,
                    "computed by swets",
                    **s,
                    cpu_minutes=c / 60,
                    wall_minutes=w / 60,
                )
            )
        result.rows.extend(published_rows(key, display, sub))
        result.settings[sub] = attrs.asdict(proto)
        result.fits[sub] = fit
        points[sub] = split.n_points
        ours[sub] = scores
        _say(
            progress,
            f"{display} {sub}: sMAPE {scores['smape']:.2f}, MAPE {scores['mape']:.2f}, OWA "
            f"{scores['owa']:.3f} in {cpu / 60:.1f} CPU min ({wall / 60:.1f} min wall)",
        )
        if on_subset is not None:
            on_subset(result, sub, ensemble)
    if set(chosen) == set(subsets(key)) and len(chosen) > 1:
        _average(result, display, key, chosen, points, ours, baselines)
    try:
        result.machine["load_average_end"] = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        result.machine["load_average_end"] = []
    return result


def _average(
    result: BenchmarkResult,
    display: str,
    key: str,
    chosen: list[str],
    points: dict[str, int],
    ours: dict[str, dict[str, float]],
    baselines: dict[str, dict[str, dict[str, float]]],
) -> None:
    """The competitions' average over subsets (every forecast value weighs the same): sMAPE and
    MAPE pooled by ``n_points``; CPU and wall minutes summed."""
    weights = [points[s] for s in chosen]

    def pooled(table: Mapping[str, Mapping[str, float]], metric: str) -> float:
        return pooled_average([table[s][metric] for s in chosen], weights)

    swets_rows = [r for r in result.rows if r["source"] == "swets"]
    result.rows.append(
        result_row(
            display,
            "average",
            swets_rows[0]["method"],
            "swets",
            smape=pooled(ours, "smape"),
            mape=pooled(ours, "mape"),
            members=None,
            cpu_minutes=sum(r["cpu_minutes"] for r in swets_rows),
            wall_minutes=sum(r["wall_minutes"] for r in swets_rows),
        )
    )
    for name, table in baselines.items():
        result.rows.append(
            result_row(
                display,
                "average",
                name,
                "computed by swets",
                smape=pooled(table, "smape"),
                mape=pooled(table, "mape"),
            )
        )
    result.rows.extend(published_rows(key, display, "average"))
