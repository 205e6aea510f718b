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
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from swets_competitions.baselines import naive2, theta
from swets_competitions.datasets import COMPETITIONS, CompetitionSplit, load_competition, subsets
from swets_competitions.metrics import evaluate, pooled_average
from swets_competitions.tsf import load_m4
from swets_core import no_grad, registry
from swets_core.checks import is_int
from swets_core.errors import ConfigError, DataValidationError
from swets_timeseries import PanelSampler
from swets_train.ensemble import EnsembleFit, fit_ensemble
from swets_train.executor import call_model

__all__ = [
    "BENCHMARK_HEADER",
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

METRICS = ("smape", "mape", "mase", "owa")
"""The columns every row has (empty where a published table gives no value)."""

BENCHMARK_HEADER = (
    "dataset,subset,method,smape,mape,mase,owa,members,steps,cpu_minutes,wall_minutes,source"
)
"""How every benchmark CSV swets writes begins."""


@attrs.frozen
class Protocol:
    """How the ensemble of one subset is built and trained.

    Attributes:
        history_size: the paper's ``L_H``: training cuts among the last ``L_H * horizon`` points of
            each series.
        steps: optimizer steps per member (the learning rate halves after each third).
        lookbacks: member lookbacks as multiples of the horizon (the paper: 2 to 7).
        losses: member training losses (registered names).
        repeats: seeds per (lookback, loss): the ensemble has ``repeats * len(lookbacks) *
            len(losses)`` members.
        batch_size: windows per step.
        lr: Adam's learning rate.
        model: the members' registered model.
        config: the members' model configuration (besides lookback and horizon).
    """

    history_size: float
    steps: int
    lookbacks: tuple[int, ...]
    losses: tuple[str, ...]
    repeats: int = 1
    batch_size: int = 1024
    lr: float = 1e-3
    model: str = "nbeats"
    config: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def members(self) -> int:
        """The ensemble size."""
        return self.repeats * len(self.lookbacks) * len(self.losses)


_GENERIC_PAPER = {
    "stack_types": ["generic"],
    "num_blocks": 30,
    "num_layers": 4,
    "layer_width": 512,
    "naive_level": True,
}
_ALL_LOSSES = ("smape", "mase", "mape")
_LOOKBACKS = (2, 3, 4, 5, 6, 7)


def _paper(
    history: float, steps: int, losses: tuple[str, ...] = _ALL_LOSSES, layers: int = 4
) -> Protocol:
    return Protocol(
        history_size=history,
        steps=steps,
        lookbacks=_LOOKBACKS,
        losses=losses,
        repeats=10,
        config={**_GENERIC_PAPER, "num_layers": layers},
    )


PAPER: dict[str, dict[str, Protocol]] = {
    "m3": {
        "yearly": _paper(20, 20),
        "quarterly": _paper(20, 250),
        "monthly": _paper(20, 10000),
        "other": _paper(10, 250),
    },
    "tourism": {
        "yearly": _paper(5, 30, ("mape",), 2),
        "quarterly": _paper(10, 100, ("mape",), 2),
        "monthly": _paper(20, 100, ("mape",), 2),
    },
    "m4": {
        "yearly": _paper(1.5, 15000),
        "quarterly": _paper(1.5, 15000),
        "monthly": _paper(1.5, 15000),
        "weekly": _paper(10, 5000),
        "daily": _paper(10, 5000),
        "hourly": _paper(10, 5000),
    },
}
"""The published N-BEATS-G settings (the paper's appendix and its published experiment files):
30 generic blocks of 4 layers of width 512 (2 layers for Tourism), batch 1024, lookbacks 2H-7H,
losses sMAPE, MASE and MAPE (MAPE alone for Tourism), 10 repeats: 180 members (60 for Tourism).
Far beyond a laptop's CPU budget; ``swets benchmark --preset paper`` runs them as published."""


def _cpu(
    history: float, steps: int, losses: tuple[str, ...], repeats: int, config: Mapping[str, Any]
) -> Protocol:
    return Protocol(
        history_size=history,
        steps=steps,
        lookbacks=_LOOKBACKS,
        losses=losses,
        repeats=repeats,
        config=dict(config),
    )


_CPU_MODEL = {
    "stack_types": ["generic"],
    "num_blocks": 10,
    "num_layers": 4,
    "layer_width": 256,
    "naive_level": True,
}
_CPU_TOURISM = {
    "stack_types": ["generic"],
    "num_blocks": 30,
    "num_layers": 2,
    "layer_width": 512,
    "naive_level": True,
}

PROTOCOLS: dict[str, dict[str, Protocol]] = {
    "m1": {
        "yearly": _cpu(20, 30, _ALL_LOSSES, 1, _CPU_MODEL),
        "quarterly": _cpu(20, 250, _ALL_LOSSES, 1, _CPU_MODEL),
        "monthly": _cpu(20, 300, _ALL_LOSSES, 1, _CPU_MODEL),
    },
    "m3": {
        "yearly": _cpu(20, 30, _ALL_LOSSES, 1, _CPU_MODEL),
        "quarterly": _cpu(20, 250, _ALL_LOSSES, 1, _CPU_MODEL),
        "monthly": _cpu(20, 300, _ALL_LOSSES, 1, _CPU_MODEL),
        "other": _cpu(10, 250, _ALL_LOSSES, 1, _CPU_MODEL),
    },
    "tourism": {
        "yearly": _cpu(5, 30, ("mape",), 1, _CPU_TOURISM),
        "quarterly": _cpu(10, 100, ("mape",), 1, _CPU_TOURISM),
        "monthly": _cpu(20, 100, ("mape",), 1, _CPU_TOURISM),
    },
    "m4": {
        "yearly": _cpu(1.5, 1000, _ALL_LOSSES, 1, _CPU_MODEL),
        "quarterly": _cpu(1.5, 1000, _ALL_LOSSES, 1, _CPU_MODEL),
        "monthly": _cpu(1.5, 1000, _ALL_LOSSES, 1, _CPU_MODEL),
        "weekly": _cpu(10, 500, _ALL_LOSSES, 1, _CPU_MODEL),
        "daily": _cpu(10, 500, _ALL_LOSSES, 1, _CPU_MODEL),
        "hourly": _cpu(10, 500, _ALL_LOSSES, 1, _CPU_MODEL),
    },
}
"""The default settings: what fits a CPU budget of 30 minutes on 2 cores per subset (chosen on M1
and Tourism; see docs/competitions.md for the measurements)."""

PRESETS = {"cpu": PROTOCOLS, "paper": PAPER}


def protocol(dataset: str, subset: str, preset: str = "cpu") -> Protocol:
    """The :class:`Protocol` of a subset in a preset (``"cpu"``: :data:`PROTOCOLS`, ``"paper"``:
    :data:`PAPER`).

    Raises:
        ConfigError: an unknown preset, competition or subset (listing the known ones).
    """
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    table = PRESETS[preset]
    key = str(dataset).lower()
    if key not in table:
        raise ConfigError(
            f"the {preset!r} preset has no settings for {dataset!r}; it has {', '.join(table)}"
        )
    sub = str(subset).lower()
    if sub not in table[key]:
        raise ConfigError(
            f"{dataset} has no subset {subset!r}; its subsets are {', '.join(table[key])}"
        )
    return table[key][sub]


_PAPER_T14 = "N-BEATS paper, Table 14"
_PAPER_T15 = "N-BEATS paper, Table 15"

PUBLISHED: dict[tuple[str, str], dict[str, dict[str, float]]] = {
    ("m3", "yearly"): {
        "Theta (published)": {"smape": 16.90},
        "N-BEATS-G (published)": {"smape": 16.2},
        "N-BEATS-I+G (published)": {"smape": 15.93},
    },
    ("m3", "quarterly"): {
        "Theta (published)": {"smape": 8.96},
        "N-BEATS-G (published)": {"smape": 8.92},
        "N-BEATS-I+G (published)": {"smape": 8.84},
    },
    ("m3", "monthly"): {
        "Theta (published)": {"smape": 13.85},
        "N-BEATS-G (published)": {"smape": 13.19},
        "N-BEATS-I+G (published)": {"smape": 13.11},
    },
    ("m3", "other"): {
        "Theta (published)": {"smape": 4.41},
        "N-BEATS-G (published)": {"smape": 4.19},
        "N-BEATS-I+G (published)": {"smape": 4.24},
    },
    ("m3", "average"): {
        "Theta (published)": {"smape": 13.01},
        "N-BEATS-G (published)": {"smape": 12.47},
        "N-BEATS-I+G (published)": {"smape": 12.37},
    },
    ("tourism", "yearly"): {"N-BEATS-G (published)": {"mape": 21.67}},
    ("tourism", "quarterly"): {"N-BEATS-G (published)": {"mape": 14.71}},
    ("tourism", "monthly"): {"N-BEATS-G (published)": {"mape": 19.17}},
}
"""Published accuracy next to which swets' results are printed: the N-BEATS paper (Oreshkin et al.,
ICLR 2020), Table 14 (M3 sMAPE, with Theta from the M3 results) and Table 15 (Tourism MAPE)."""

_SOURCES = {"m3": _PAPER_T14, "tourism": _PAPER_T15}


# -- the machine ---------------------------------------------------------------------------------
def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas() -> str:
    try:
        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{info.get('name', '?')} {info.get('version', '')}".strip()
    except Exception:  # numpy versions describe their build differently
        return "unknown"


def machine() -> dict[str, Any]:
    """Where the benchmark runs: CPU model, logical CPUs (and those this process may use), the OS,
    Python, numpy and its BLAS, the BLAS thread settings of the environment, and the load average
    (1, 5 and 15 minutes) now."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 0
    try:
        load = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        load = []
    threads = {
        k: os.environ[k]
        for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
        if k in os.environ
    }
    return {
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": _blas(),
        "blas_threads": threads,
        "load_average": load,
    }


# -- one subset ----------------------------------------------------------------------------------
def ensemble_members(
    proto: Protocol,
    horizon: int,
    *,
    model: str | None = None,
    config: Mapping[str, Any] | None = None,
    members: int | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """The member specs of a subset's ensemble: for each repeat ``r`` (seed ``seed + r``), each
    lookback ``k * horizon`` and each loss, the model ``model`` (default the protocol's) with its
    configuration (the protocol's when the model is the protocol's, updated with ``config``).
    ``members`` keeps the first that many (repeats vary slowest, losses fastest)."""
    name = proto.model if model is None else model
    base = dict(proto.config) if name == proto.model else {}
    base.update(config or {})
    base.setdefault("n_features", 1)
    specs = [
        {
            "model": name,
            "config": {**base, "lookback": int(k * horizon), "horizon": int(horizon)},
            "loss": loss,
            "seed": int(seed + r),
        }
        for r, k, loss in itertools.product(range(proto.repeats), proto.lookbacks, proto.losses)
    ]
    if members is not None:
        if not is_int(members) or not 1 <= members <= len(specs):
            raise ConfigError(
                f"members must be an int from 1 to {len(specs)} (repeats x lookbacks x losses), "
                f"got {members!r}"
            )
        specs = specs[: int(members)]
    return specs


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


def _row(dataset: str, subset: str, method: str, source: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"dataset": dataset, "subset": subset, "method": method}
    for key in METRICS:
        row[key] = values.get(key, math.nan)
    for key in ("members", "steps"):
        row[key] = values.get(key)
    for key in ("cpu_minutes", "wall_minutes"):
        row[key] = values.get(key, math.nan)
    row["source"] = source
    return row


class BenchmarkResult:
    """The rows of a benchmark run, the machine, and the settings of each subset.

    Attributes:
        rows: one mapping per (subset, method) with ``dataset, subset, method``, the metrics
            ``smape, mape, mase, owa`` (NaN where not computed or not published), ``members,
            steps`` (the ensemble), ``cpu_minutes, wall_minutes``, ``source`` (``"swets"``,
            ``"computed by swets"`` or the published table).
        machine: :func:`machine` at the start, with ``load_average_end`` added at the end.
        settings: subset -> the :class:`Protocol` it ran with, as plain data.
        fits: subset -> the ``EnsembleFit`` of its members.
    """

    __slots__ = ("fits", "machine", "rows", "settings")

    def __init__(
        self,
        rows: list[dict[str, Any]],
        machine: dict[str, Any],
        settings: dict[str, dict[str, Any]],
        fits: dict[str, EnsembleFit],
    ) -> None:
        self.rows = rows
        self.machine = machine
        self.settings = settings
        self.fits = fits

    def table(self) -> str:
        """The rows as aligned text, subset by subset (``-`` where a value is not available)."""
        from swets_train.tables import text_table

        head = [
            "subset",
            "method",
            "sMAPE",
            "MAPE",
            "MASE",
            "OWA",
            "members",
            "CPU min",
            "wall min",
        ]
        rows = []
        for r in self.rows:
            rows.append(
                [
                    f"{r['dataset']} {r['subset']}",
                    r["method"],
                    *(_cell(r[k], 2 if k in ("smape", "mape") else 3) for k in METRICS),
                    "-" if r["members"] is None else str(r["members"]),
                    _cell(r["cpu_minutes"], 2),
                    _cell(r["wall_minutes"], 2),
                ]
            )
        return text_table(head, rows, left=2)

    def machine_line(self) -> str:
        """One line describing the machine, the BLAS threads and the load."""
        m = self.machine
        threads = ", ".join(f"{k}={v}" for k, v in m.get("blas_threads", {}).items()) or "unset"
        load = "/".join(str(v) for v in m.get("load_average", []))
        end = "/".join(str(v) for v in m.get("load_average_end", []))
        return (
            f"machine: {m['cpu']}, {m['usable_cpus']} of {m['logical_cpus']} logical CPUs, "
            f"{m['os']}, Python {m['python']}, numpy {m['numpy']} ({m['blas']}), BLAS threads "
            f"{threads}; load average {load} at the start, {end} at the end"
        )

    def to_csv(self) -> str:
        """The rows as CSV text (header :data:`BENCHMARK_HEADER`; empty cells for NaN)."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        fields = BENCHMARK_HEADER.split(",")
        writer.writerow(fields)
        for r in self.rows:
            writer.writerow([_csv_cell(r[f]) for f in fields])
        return buf.getvalue()

    def __repr__(self) -> str:
        return f"BenchmarkResult({len(self.rows)} rows, subsets {', '.join(self.settings)})"


def _cell(value: Any, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def _csv_cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return value


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
    display = {"m1": "M1", "m3": "M3", "tourism": "Tourism", "m4": "M4"}[key]
    points: dict[str, int] = {}
    ours: dict[str, dict[str, float]] = {}
    baselines: dict[str, dict[str, dict[str, float]]] = {"Theta (swets)": {}, "Naive2 (swets)": {}}
    for sub in chosen:
        proto = protos[sub]
        split = _load(key, sub, m4_path, m4_test)
        specs = ensemble_members(
            proto, split.horizon, model=model, config=config, members=members, seed=seed
        )
        c0, w0 = time.process_time(), time.perf_counter()
        naive = naive2(split)
        timings = {"Naive2 (swets)": (time.process_time() - c0, time.perf_counter() - w0)}
        c0, w0 = time.process_time(), time.perf_counter()
        theta_forecast = theta(split)
        timings["Theta (swets)"] = (time.process_time() - c0, time.perf_counter() - w0)
        if progress:
            print(
                f"{display} {sub}: {len(split)} series, horizon {split.horizon}; {len(specs)} "
                f"member(s) x {proto.steps} steps of {proto.batch_size} windows (L_H "
                f"{proto.history_size})",
                file=sys.stderr,
                flush=True,
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
            _row(
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
        for name, f in (("Theta (swets)", theta_forecast), ("Naive2 (swets)", naive)):
            s = score_forecast(split, f, naive)
            baselines[name][sub] = s
            c, w = timings[name]
            result.rows.append(
                _row(
                    display,
                    sub,
                    name,
                    "computed by swets",
                    **s,
                    cpu_minutes=c / 60,
                    wall_minutes=w / 60,
                )
            )
        for name, values in PUBLISHED.get((key, sub), {}).items():
            result.rows.append(_row(display, sub, name, _SOURCES.get(key, "published"), **values))
        result.settings[sub] = attrs.asdict(proto)
        result.fits[sub] = fit
        points[sub] = split.n_points
        ours[sub] = scores
        if progress:
            print(
                f"{display} {sub}: sMAPE {scores['smape']:.2f}, MAPE {scores['mape']:.2f}, OWA "
                f"{scores['owa']:.3f} in {cpu / 60:.1f} CPU min ({wall / 60:.1f} min wall)",
                file=sys.stderr,
                flush=True,
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
        _row(
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
            _row(
                display,
                "average",
                name,
                "computed by swets",
                smape=pooled(table, "smape"),
                mape=pooled(table, "mape"),
            )
        )
    for name, values in PUBLISHED.get((key, "average"), {}).items():
        result.rows.append(_row(display, "average", name, _SOURCES.get(key, "published"), **values))
