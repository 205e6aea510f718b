"""Training jobs as plain data: :class:`JobSpec`, :func:`prepare`, :func:`run_job` and :class:`JobResult`.

A job is everything a training run needs, written as plain data (the ``[data]``, ``[model]``,
``[training]`` and ``[output]`` sections of a TOML file), so the same description drives
``swets train``, a Python call and a distributed run::

    from swets_train.jobs import JobSpec, run_job

    spec = JobSpec.from_dict({
        "data": {"dataset": "electricity", "lookback": 336, "horizon": 48},
        "model": {"name": "nbeats", "num_blocks": 2, "num_layers": 2, "layer_width": 128},
        "training": {"epochs": 10, "patience": 3},
    })
    result = run_job(spec)          # trains, evaluates against baselines, writes the checkpoint
    print(result.table())

:func:`prepare` turns a spec into ready objects (data, splits, scaler, loaders, model, loss, optimizer,
scheduler), deterministically for a seed; :func:`run_job` trains with :class:`~swets_train.Trainer`
(early stopping on the validation loss, best weights restored), scores the validation and test windows
in the original scale next to the naive and seasonal-naive baselines, and saves a checkpoint holding the
full training state (scaler included) and the resolved spec in its metadata, from which
:func:`load_job` later rebuilds everything. See docs/cli.md for every key.
"""

from __future__ import annotations

import difflib
import inspect
import math
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from swets_core import registry
from swets_core.checks import is_int
from swets_core.errors import (
    CheckpointError,
    ConfigError,
    DuplicateComponentError,
    SwetsError,
    UnknownComponentError,
)

__all__ = [
    "DataSpec",
    "JobResult",
    "JobSpec",
    "LoadedJob",
    "ModelSpec",
    "OutputSpec",
    "Prepared",
    "TrainingSpec",
    "build_model",
    "default_season_length",
    "evaluate_prepared",
    "evaluate_windows",
    "fit_prepared",
    "format_table",
    "load_job",
    "load_series",
    "mase_scales",
    "prepare",
    "resolve_season_length",
    "run_job",
    "write_forecast_csv",
]

SECTIONS = ("data", "model", "training", "output")
METRICS = ("mae", "rmse", "smape", "mase")
BASELINES = ("naive", "seasonal_naive")
_TIMESTAMP_HEADERS = ("timestamp", "date", "time", "datetime", "ts")
_SCALERS = ("standard", "minmax", "robust")
# keys the job passes to a model when its factory takes them, so they may not be model options
_AUTO_MODEL_KEYS = {
    "lookback": "set data.lookback instead",
    "input_size": "set data.lookback instead",  # another name of the lookback (NeuralForecast's)
    "horizon": "set data.horizon instead",
    "n_features": "the job counts the input features (1 + the number of data.covariates)",
    "seed": "set training.seed instead",
}


def _auto_model_config(factory: Any, lookback: int, horizon: int, n_features: int, seed: int):
    """What the job gives a model factory itself: each of ``lookback`` (or ``input_size`` for a
    factory taking that name only), ``horizon``, ``n_features`` and ``seed`` that it takes."""
    values = {"lookback": lookback, "horizon": horizon, "n_features": n_features, "seed": seed}
    out = {k: v for k, v in values.items() if _takes(factory, k)}
    if "lookback" not in out and _takes(factory, "input_size"):
        out["input_size"] = lookback
    return out


# -- validation helpers -----------------------------------------------------------------------------
def _suggest(name: str, known: Sequence[str], noun: str = "keys") -> str:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    if close:
        return "; did you mean " + " or ".join(repr(c) for c in close) + "?"
    return f"; known {noun}: {', '.join(known)}"


def _is_plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False


def _plain(value: Any) -> Any:
    """A copy with tuples as lists and mappings as dicts (TOML/msgpack-friendly)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _int(minimum: int, optional: bool = False) -> Callable[[Any, str], Any]:
    def check(value: Any, where: str) -> Any:
        if optional and (value is None or value == "none"):
            return None
        if not is_int(value) or value < minimum:
            extra = ' or "none"' if optional else ""
            raise ConfigError(f"{where} must be an int >= {minimum}{extra}, got {value!r}")
        return int(value)

    return check


def _number(
    low: float, high: float = math.inf, *, open_low: bool = False, optional: bool = False
) -> Callable[[Any, str], Any]:
    def check(value: Any, where: str) -> Any:
        if optional and (value is None or value == "none"):
            return None
        ok = (
            not isinstance(value, bool)
            and isinstance(value, (int, float, np.integer, np.floating))
            and math.isfinite(float(value))
        )
        if ok:
            v = float(value)
            ok = (v > low if open_low else v >= low) and v < high
        if not ok:
            bound = f"> {low:g}" if open_low else f">= {low:g}"
            if high != math.inf:
                bound += f" and < {high:g}"
            raise ConfigError(f"{where} must be a number {bound}, got {value!r}")
        return float(value)

    return check


def _text(
    optional: bool = False, choices: Sequence[str] | None = None
) -> Callable[[Any, str], Any]:
    def check(value: Any, where: str) -> Any:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where} must be a non-empty string, got {value!r}")
        if choices is not None and value not in choices:
            close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"{where} must be one of {', '.join(choices)}, got {value!r}{hint}")
        return value

    return check


def _names(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where} must be a list of column names, got {value!r}")
    if len(set(value)) != len(value):
        raise ConfigError(f"{where} names a column twice: {list(value)}")
    return tuple(value)


def _options(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not _is_plain(value):
        raise ConfigError(
            f"{where} must be a table of plain values (numbers, strings, booleans, lists), "
            f"got {value!r:.80}"
        )
    return _plain(value)


def _scaler(value: Any, where: str) -> str | None:
    if value is None or value == "none":
        return None
    return _text(choices=(*_SCALERS, "none"))(value, where)


def _field(default: Any, check: Callable[[Any, str], Any], doc: str, **kw: Any) -> Any:
    """An attrs field (immutable default) with its validator and a one-line doc as metadata."""
    return attrs.field(default=default, metadata={"check": check, "doc": doc}, **kw)


def _parse_section(cls: type, section: str, values: Any) -> dict[str, Any]:
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        raise ConfigError(f"[{section}] must be a table of keys, got {type(values).__name__}")
    fields = {f.name: f for f in attrs.fields(cls)}
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in fields:
            raise ConfigError(f"[{section}] unknown key {key!r}" + _suggest(str(key), list(fields)))
        out[key] = fields[key].metadata["check"](value, f"{section}.{key}")
    return out


def _section_dict(obj: Any) -> dict[str, Any]:
    """The fields of a section as plain data. None is left out where it is the default and written
    ``"none"`` where it is not (TOML has no null); empty option tables are left out."""
    out = {}
    for f in attrs.fields(type(obj)):
        value = getattr(obj, f.name)
        if value is None:
            if f.default is not None and not isinstance(f.default, attrs.Factory):
                out[f.name] = "none"
            continue
        if isinstance(value, dict) and not value:
            continue
        out[f.name] = _plain(value)
    return out


# -- the sections -----------------------------------------------------------------------------------
@attrs.frozen(kw_only=True)
class DataSpec:
    """The ``[data]`` section: where the series comes from and the window geometry.

    ``dataset`` (a bundled name, default ``"electricity"``) or ``path`` (a CSV or Parquet file);
    ``target`` (default: the data's target, or the only value column of a file); ``covariates``
    (past covariate columns, fed to the model after the target); ``timestamp_column`` and
    ``id_column`` (long-format files of several series); ``lookback`` and ``horizon`` (rows in and
    out); ``val`` and ``test`` (fractions of each series' rows, chronological); ``gap`` (rows left out
    between parts); ``scaler`` (``"standard"``, ``"minmax"``, ``"robust"`` or ``"none"``, fitted on
    the training rows only).
    """

    dataset: str | None = _field(None, _text(optional=True), "bundled data set name")
    path: str | None = _field(None, _text(optional=True), "CSV or Parquet file")
    target: str | None = _field(None, _text(optional=True), "target column")
    covariates: tuple[str, ...] = _field((), _names, "past covariate columns", converter=tuple)
    timestamp_column: str | None = _field(None, _text(optional=True), "timestamp column")
    id_column: str | None = _field(None, _text(optional=True), "series id column (long format)")
    lookback: int = _field(96, _int(1), "input rows")
    horizon: int = _field(24, _int(1), "forecast rows")
    val: float = _field(0.15, _number(0.0, 1.0, open_low=True), "validation fraction")
    test: float = _field(0.15, _number(0.0, 1.0), "test fraction")
    gap: int = _field(0, _int(0), "rows between parts")
    scaler: str | None = _field("standard", _scaler, "standard, minmax, robust or none")

    @property
    def label(self) -> str:
        """A short name of the data for messages: the data set name or the file name."""
        if self.path is not None:
            return os.path.basename(self.path)
        return self.dataset or "electricity"

    def to_dict(self) -> dict[str, Any]:
        return _section_dict(self)


@attrs.frozen(kw_only=True)
class ModelSpec:
    """The ``[model]`` section: ``name`` (a registered model) and any options of that model.

    The job passes ``lookback`` (or ``input_size``, the same under NeuralForecast's name),
    ``horizon``, ``n_features`` and ``seed`` itself to a model whose factory takes them; every other
    key is given to the factory as is.
    """

    name: str = "nbeats"
    options: dict[str, Any] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, **_plain(self.options)}


@attrs.frozen(kw_only=True)
class TrainingSpec:
    """The ``[training]`` section: loss, optimizer, budget, early stopping, scheduler, seed.

    ``loss`` defaults to ``"mse"`` (``"quantile"`` for a model with quantiles); ``weight_decay``
    to the optimizer's own default. ``patience`` is the early-stopping patience in epochs on the
    validation loss (leave it out or set ``patience = -1`` in the CLI to train the whole budget).
    ``season_length`` is the seasonal period of the seasonal-naive baseline and of MASE; by default
    it is derived from the data's sampling interval (48 for half-hourly data).
    """

    loss: str | None = _field(None, _text(optional=True), "registered loss")
    loss_options: dict[str, Any] = attrs.field(
        factory=dict, metadata={"check": _options, "doc": "loss options"}
    )
    optimizer: str = _field("adam", _text(), "registered optimizer")
    optimizer_options: dict[str, Any] = attrs.field(
        factory=dict, metadata={"check": _options, "doc": "optimizer options"}
    )
    lr: float = _field(1e-3, _number(0.0, open_low=True), "learning rate")
    weight_decay: float | None = _field(None, _number(0.0, optional=True), "weight decay")
    epochs: int | None = _field(20, _int(1, optional=True), "epoch budget")
    max_steps: int | None = _field(None, _int(1, optional=True), "optimizer step budget")
    batch_size: int = _field(64, _int(1), "windows per batch")
    seed: int = _field(0, _int(0), "seed of the model, shuffling and dropout")
    patience: int | None = _field(3, _int(0, optional=True), "early-stopping patience")
    scheduler: str | None = _field(None, _text(optional=True), "registered LR scheduler")
    scheduler_options: dict[str, Any] = attrs.field(
        factory=dict, metadata={"check": _options, "doc": "scheduler options"}
    )
    scheduler_interval: str = _field("epoch", _text(choices=("epoch", "step")), "epoch or step")
    clip_grad_norm: float | None = _field(
        None, _number(0.0, open_low=True, optional=True), "gradient norm clip"
    )
    season_length: int | None = _field(None, _int(1, optional=True), "seasonal period")

    def to_dict(self) -> dict[str, Any]:
        return _section_dict(self)


@attrs.frozen(kw_only=True)
class OutputSpec:
    """The ``[output]`` section: ``checkpoint`` (default ``runs/<model>.swets``), ``forecast_csv``
    (the forecast beyond the end of the data) and ``plot`` (a PNG; needs matplotlib)."""

    checkpoint: str | None = _field(None, _text(optional=True), "checkpoint file")
    forecast_csv: str | None = _field(None, _text(optional=True), "forecast CSV file")
    plot: str | None = _field(None, _text(optional=True), "plot PNG file")

    def to_dict(self) -> dict[str, Any]:
        return _section_dict(self)


_SINGULAR = {"losses": "loss", "models": "model", "optimizers": "optimizer"}


def _component(kind: str, name: str, where: str) -> Any:
    try:
        return registry.get(kind, name)
    except UnknownComponentError as exc:
        what = _SINGULAR.get(kind, kind.rstrip("s"))
        close = difflib.get_close_matches(name, exc.known, n=3, cutoff=0.5)
        if close:
            hint = "; did you mean " + " or ".join(repr(c) for c in close) + "?"
        else:
            hint = f"; known {kind}: {', '.join(exc.known) or 'none (is the plugin installed?)'}"
        raise ConfigError(f"{where}: unknown {what} {name!r}{hint}") from None
    except DuplicateComponentError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _build(
    factory: Any, args: Sequence[Any], kwargs: Mapping[str, Any], where: str, what: str
) -> Any:
    """Call a registry factory; its errors become ConfigErrors naming ``where``."""
    try:
        return factory(*args, **kwargs)
    except SwetsError as exc:
        raise ConfigError(f"{where} {what}: {exc}") from exc
    except TypeError as exc:
        hint = ""
        if "required" in str(exc) and "argument" in str(exc):
            hint = f" (give it in {where}_options)"
        raise ConfigError(f"{where} {what}: {exc}{hint}") from exc


def _check_options(
    factory: Any, options: Mapping[str, Any], where: str, owner: str, reserved: Mapping[str, str]
) -> None:
    """Every option must be a parameter of ``factory`` (unless it takes ``**kwargs``)."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    named = [n for n, p in params.items() if p.kind is not inspect.Parameter.VAR_POSITIONAL]
    for key in options:
        if key in reserved:
            raise ConfigError(f"{where}.{key}: {reserved[key]}")
        if not open_ended and key not in params:
            choices = [n for n in named if n not in reserved]
            raise ConfigError(
                f"{where}.{key}: {owner} has no option {key!r}" + _suggest(key, choices)
            )


@attrs.frozen(kw_only=True)
class JobSpec:
    """A complete training job as plain data (see the module docstring and docs/cli.md).

    Build it with :meth:`from_dict` (which validates every key) and turn it back into plain data
    with :meth:`to_dict`; ``JobSpec.from_dict(spec.to_dict()) == spec``.
    """

    data: DataSpec = attrs.field(factory=DataSpec)
    model: ModelSpec = attrs.field(factory=ModelSpec)
    training: TrainingSpec = attrs.field(factory=TrainingSpec)
    output: OutputSpec = attrs.field(factory=OutputSpec)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None = None) -> JobSpec:
        """Validate a ``{section: {key: value}}`` mapping (a parsed TOML file) into a JobSpec.

        Raises:
            ConfigError: naming the section and key of the first problem: an unknown section or key
                (with "did you mean"), a value of the wrong type or range, an unknown model, loss,
                optimizer or scheduler (with suggestions), or a model option the model does not take.
        """
        d = {} if d is None else d
        if not isinstance(d, Mapping):
            raise ConfigError(f"a job spec must be a mapping of sections, got {type(d).__name__}")
        for key in d:
            if key not in SECTIONS:
                raise ConfigError(
                    f"unknown section [{key}]" + _suggest(str(key), SECTIONS, "sections")
                )
        data = DataSpec(**_parse_section(DataSpec, "data", d.get("data")))
        if data.dataset is not None and data.path is not None:
            raise ConfigError("[data] give dataset or path, not both")
        if data.path is None and data.dataset is None:
            data = attrs.evolve(data, dataset="electricity")
        if data.path is None:
            from swets_timeseries import dataset_names

            names = dataset_names()
            if data.dataset not in names:
                raise ConfigError(
                    f"data.dataset: unknown bundled data set {data.dataset!r}"
                    + _suggest(data.dataset, names, "data sets")
                    + " (use data.path for a file)"
                )
        if data.val + data.test >= 1.0:
            raise ConfigError(
                f"[data] val + test must be < 1 to leave training rows, got {data.val} + {data.test}"
            )
        if data.target is not None and data.target in data.covariates:
            raise ConfigError(f"data.covariates: {data.target!r} is the target")

        model_d = d.get("model") or {}
        if not isinstance(model_d, Mapping):
            raise ConfigError(f"[model] must be a table of keys, got {type(model_d).__name__}")
        name = _text()(model_d.get("name", "nbeats"), "model.name")
        options = {k: v for k, v in model_d.items() if k != "name"}
        for key, value in options.items():
            if not isinstance(key, str) or not _is_plain(value):
                raise ConfigError(
                    f"model.{key}: model options must be plain values (numbers, strings, "
                    f"booleans, lists, tables), got {value!r:.60}"
                )
        factory = _component("models", name, "model.name")
        reserved = {k: v for k, v in _AUTO_MODEL_KEYS.items() if _takes(factory, k)}
        reserved["rng"] = "set training.seed instead (a seed, not a generator)"
        _check_options(factory, options, "model", f"model {name!r}", reserved)
        model = ModelSpec(name=name, options=_plain(options))

        training_d = _parse_section(TrainingSpec, "training", d.get("training"))
        if "max_steps" in training_d and "epochs" not in training_d:
            training_d["epochs"] = None  # a step budget alone
        training = TrainingSpec(**training_d)
        if training.epochs is None and training.max_steps is None:
            raise ConfigError("[training] give epochs, max_steps or both")
        if training.loss is not None:
            _check_options(
                _component("losses", training.loss, "training.loss"),
                training.loss_options,
                "training.loss_options",
                f"loss {training.loss!r}",
                {},
            )
        _check_options(
            _component("optimizers", training.optimizer, "training.optimizer"),
            training.optimizer_options,
            "training.optimizer_options",
            f"optimizer {training.optimizer!r}",
            {
                "params": "the job passes the model's parameters",
                "lr": "set training.lr instead",
                "weight_decay": "set training.weight_decay instead",
            },
        )
        if training.scheduler is not None:
            _check_options(
                _component("schedulers", training.scheduler, "training.scheduler"),
                training.scheduler_options,
                "training.scheduler_options",
                f"scheduler {training.scheduler!r}",
                {"optimizer": "the job passes its optimizer"},
            )
        elif training.scheduler_options:
            raise ConfigError("training.scheduler_options: given without training.scheduler")
        output = OutputSpec(**_parse_section(OutputSpec, "output", d.get("output")))
        return cls(data=data, model=model, training=training, output=output)

    def to_dict(self) -> dict[str, Any]:
        """Plain data accepted by :meth:`from_dict` (TOML has no null: a key at None is left out
        when None is its default and written ``"none"`` otherwise; empty option tables are left
        out)."""
        out = {
            "data": self.data.to_dict(),
            "model": self.model.to_dict(),
            "training": self.training.to_dict(),
        }
        output = self.output.to_dict()
        if output:
            out["output"] = output
        return out

    @property
    def checkpoint_path(self) -> str:
        """``output.checkpoint``, or ``runs/<model>.swets`` by default."""
        return self.output.checkpoint or os.path.join("runs", f"{self.model.name}.swets")


def _takes(factory: Any, name: str) -> bool:
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # pragma: no cover
        return False
    p = params.get(name)
    return p is not None and p.kind not in (
        inspect.Parameter.VAR_POSITIONAL,
        inspect.Parameter.VAR_KEYWORD,
    )


# -- data -------------------------------------------------------------------------------------------
def _header(path: str, delimiter: str = ",") -> list[str]:
    import csv

    with open(path, newline="", encoding="utf-8-sig") as fh:
        for row in csv.reader(fh, delimiter=delimiter):
            if row:
                return [c.strip() for c in row]
    raise ConfigError(f"data.path: {path} is empty")


def _value_columns(columns: Sequence[str], spec: DataSpec) -> list[str]:
    skip = {spec.timestamp_column, spec.id_column}
    out = []
    for c in columns:
        norm = c.strip().lower().replace(" ", "").replace("_", "")
        if c in skip or (spec.timestamp_column is None and norm in _TIMESTAMP_HEADERS):
            continue
        out.append(c)
    return out


def _check_columns(columns: Sequence[str], spec: DataSpec, target: str) -> None:
    """Every column the job names must be in the file's header (with a suggestion if not)."""
    named = [("target", target)] + [("covariates", c) for c in spec.covariates]
    named += [(k, getattr(spec, k)) for k in ("timestamp_column", "id_column") if getattr(spec, k)]
    for role, name in named:
        if name not in columns:
            close = difflib.get_close_matches(name, list(columns), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"data.{role}: {spec.label} has no column {name!r} (columns: "
                f"{', '.join(columns)}){hint}"
            )


def _default_target(columns: Sequence[str], spec: DataSpec) -> str:
    values = _value_columns(columns, spec)
    if len(values) == 1:
        return values[0]
    lowered = {c.strip().lower(): c for c in values}
    if "close" in lowered:
        return lowered["close"]
    raise ConfigError(
        f"data.target: {spec.label} has {len(values)} value columns ({', '.join(values)}); "
        "name the target (--target COLUMN or data.target)"
    )


def _with_roles(coll: Any, target: str, covariates: Sequence[str], label: str) -> Any:
    from swets_timeseries import SeriesCollection, TimeSeries

    out = []
    for s in coll:
        for role, name in [("target", target)] + [("covariates", c) for c in covariates]:
            if name not in s.values:
                close = difflib.get_close_matches(name, list(s.values), n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ConfigError(
                    f"data.{role}: {label} has no column {name!r} (columns: "
                    f"{', '.join(s.values)}){hint}"
                )
        if s.target == (target,) and s.covariates == tuple(covariates) and not s.known_covariates:
            out.append(s)
        else:
            out.append(
                TimeSeries(s.timestamps, s.values, (target,), tuple(covariates), (), id=s.id)
            )
    return SeriesCollection(out)


def load_series(spec: DataSpec | JobSpec, data: Any = None) -> tuple[Any, DataSpec]:
    """Load the data of a job as a ``SeriesCollection`` with the job's target and covariates.

    Args:
        spec: the job (or its data section).
        data: already loaded data (TimeSeries / SeriesCollection / OHLCV) to use instead of reading
            ``dataset`` / ``path``; its own target and covariates are kept unless the spec names them.

    Returns:
        ``(collection, resolved data section)``: the section with ``target`` (and, for given data,
        ``covariates``) filled in and ``path`` made absolute.

    Raises:
        ConfigError: an unreadable or unsupported file, a missing column (named with the file's
            columns), several value columns and no target.
    """
    from swets_timeseries.series import as_collection

    ds = spec.data if isinstance(spec, JobSpec) else spec
    label = ds.label
    if data is not None:
        coll = as_collection(data)
        target = ds.target or coll.target[0]
        covs = ds.covariates or tuple(c for c in coll.covariates + coll.known_covariates)
        covs = tuple(c for c in covs if c != target)
        label = "the data"
    elif ds.path is not None:
        loaded, target, covs = _read_file(ds)
        coll = as_collection(loaded)
    else:
        from swets_timeseries import OHLCV, load_dataset

        loaded = load_dataset(ds.dataset)
        if isinstance(loaded, OHLCV):
            from swets_timeseries import TimeSeries

            names = [c for c in loaded.columns if c != "timestamp"]
            loaded = TimeSeries(
                loaded.timestamps,
                {c: loaded.column(c) for c in names},
                "close",
                id=ds.dataset,
            )
        coll = as_collection(loaded)
        target = ds.target or coll.target[0]
        covs = ds.covariates
    coll = _with_roles(coll, target, covs, label)
    resolved = attrs.evolve(ds, target=target, covariates=tuple(covs))
    if data is None and ds.path is not None:  # so a checkpoint finds its data from anywhere
        resolved = attrs.evolve(resolved, path=os.path.abspath(ds.path))
    return coll, resolved


def _read_file(ds: DataSpec) -> tuple[Any, str, tuple[str, ...]]:
    path = os.fspath(ds.path)
    if not os.path.exists(path):
        raise ConfigError(f"data.path: cannot read {path}: no such file")
    if os.path.isdir(path):
        raise ConfigError(f"data.path: {path} is a directory, not a CSV or Parquet file")
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext in (".parquet", ".pq"):
            from swets_timeseries.pandas_io import MissingDependencyError, series_from_pandas

            try:
                import pandas as pd
                import pyarrow  # noqa: F401
            except ImportError:
                raise MissingDependencyError(
                    f"data.path: reading {os.path.basename(path)} needs pandas and pyarrow: "
                    'pip install "swets-timeseries[parquet]"'
                ) from None
            df = pd.read_parquet(path, engine="pyarrow")
            cols = [str(c) for c in df.columns]
            target = ds.target or _default_target(cols, ds)
            _check_columns(cols, ds, target)
            data = series_from_pandas(
                df,
                target=target,
                covariates=ds.covariates,
                id_column=ds.id_column,
                timestamp_column=ds.timestamp_column,
                series_id=os.path.splitext(os.path.basename(path))[0],
            )
        elif ext in (".csv", ".txt", ".tsv"):
            from swets_timeseries import read_series_csv

            delimiter = "\t" if ext == ".tsv" else ","
            header = _header(path, delimiter)
            target = ds.target or _default_target(header, ds)
            _check_columns(header, ds, target)
            data = read_series_csv(
                path,
                target=target,
                covariates=ds.covariates,
                id_column=ds.id_column,
                timestamp_column=ds.timestamp_column,
                series_id=os.path.splitext(os.path.basename(path))[0],
                delimiter=delimiter,
            )
        else:
            raise ConfigError(
                f"data.path: cannot read {path}: unsupported file type {ext or '(none)'!r}; "
                "use a .csv or .parquet file"
            )
    except SwetsError:
        raise
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"data.path: cannot read {path}: {exc}") from exc
    except Exception as exc:  # pyarrow raises its own error types for corrupt files
        raise ConfigError(f"data.path: cannot read {path}: {type(exc).__name__}: {exc}") from exc
    return data, target, ds.covariates


def default_season_length(timestamps: np.ndarray) -> int:
    """The seasonal period implied by the sampling interval of ``timestamps``.

    Sub-daily data: one day (48 for half-hourly, 24 for hourly); daily data: a week (5 when only
    weekdays occur, as in market data, else 7); weekly 52, monthly 12, quarterly 4; otherwise 1.
    """
    ts = np.asarray(timestamps, dtype="datetime64[ns]")
    if ts.shape[0] < 3:
        return 1
    diffs = np.diff(ts[-5000:]).astype(np.int64)
    diffs = diffs[diffs > 0]
    if diffs.size == 0:
        return 1
    values, counts = np.unique(diffs, return_counts=True)
    step = int(values[np.argmax(counts)])
    day = 86_400 * 10**9
    if step < day:
        return day // step if day % step == 0 else 1
    if step == day:
        weekday = (ts.astype("datetime64[D]").astype(np.int64) + 3) % 7  # Monday = 0
        return 5 if bool((weekday < 5).all()) else 7
    days = step / day
    if 6.5 <= days <= 7.5:
        return 52
    if 27.5 <= days <= 31.5:
        return 12
    if 89 <= days <= 92.5:
        return 4
    return 1


# -- preparing a job ----------------------------------------------------------------------------------
def build_model(spec: JobSpec, n_features: int) -> Any:
    """Create the job's model through the registry with its options, the window geometry, the number
    of input features and the seed (each passed when the model's factory takes it).

    Raises:
        ConfigError: the model rejects its configuration (the message names the model).
    """
    name = spec.model.name
    factory = _component("models", name, "model.name")
    d = spec.data
    config = _auto_model_config(factory, d.lookback, d.horizon, n_features, spec.training.seed)
    config.update(spec.model.options)
    try:
        return factory(**config)
    except SwetsError as exc:
        raise ConfigError(f"model {name!r}: {exc}") from exc
    except TypeError as exc:
        raise ConfigError(
            f"model {name!r} cannot be built from {sorted(config)}: {exc}; add the missing "
            "options to [model] (or --set model.KEY=VALUE)"
        ) from exc


def _model_quantiles(model: Any) -> list[float] | None:
    config = model.config() if callable(getattr(model, "config", None)) else {}
    qs = config.get("quantiles")
    return None if qs is None else [float(q) for q in qs]


@attrs.define(kw_only=True)
class Prepared:
    """Everything a job trains with, built by :func:`prepare`.

    Attributes:
        spec: the resolved JobSpec (target, covariates, loss and season length filled in).
        series: the data in its original scale, a ``SeriesCollection`` with the job's roles.
        dataset: the unscaled float64 ``WindowDataset`` over ``series``; ``splits`` its
            chronological train / validation / test splits (``splits.train.rows`` are the rows the
            scaler was fitted on).
        scaler: the fitted scaler, or None.
        train, val: the training DataLoader (shuffled with the seed) and the validation DataLoader,
            both over scaled windows; ``test`` the scaled test WindowDataset or None.
        model, loss, optimizer, scheduler: built through the registry (scheduler None when not set).
        season_length: the seasonal period of the seasonal-naive baseline and of MASE.
        notes: remarks about choices made (printed by the CLI).
    """

    spec: JobSpec
    series: Any
    dataset: Any
    splits: Any
    scaler: Any
    train: Any
    val: Any
    test: Any
    model: Any
    loss: Any
    optimizer: Any
    scheduler: Any
    season_length: int
    notes: list[str] = attrs.field(factory=list)


def resolve_season_length(spec: JobSpec, series: Any, notes: list[str] | None = None) -> int:
    """The job's seasonal period: ``training.season_length``, else :func:`default_season_length` of
    the first series (1 when that is longer than the lookback; a note is appended to ``notes``).

    Raises:
        ConfigError: an explicit season length longer than the lookback.
    """
    coll = series
    notes = [] if notes is None else notes
    lookback = spec.data.lookback
    m = spec.training.season_length
    if m is not None:
        if m > lookback:
            raise ConfigError(
                f"training.season_length ({m}) is longer than data.lookback ({lookback}): the "
                "seasonal-naive baseline repeats the last season of the input window; raise "
                "data.lookback or lower training.season_length"
            )
        return m
    m = default_season_length(coll[0].timestamps)
    if m > lookback:
        notes.append(
            f"the data's natural season ({m} rows) is longer than the lookback ({lookback}); the "
            "seasonal-naive baseline and MASE use season_length 1 (set training.season_length)"
        )
        return 1
    return m


def prepare(spec: JobSpec | Mapping[str, Any], *, data: Any = None) -> Prepared:
    """Build the job's data, splits, scaler, loaders, model, loss, optimizer and scheduler.

    Deterministic for a seed: two calls with the same spec give identical models and batches.

    Args:
        spec: a JobSpec or its plain-data form.
        data: already loaded data to use instead of the spec's ``dataset`` / ``path`` (see
            :func:`load_series`).
    """
    from swets_timeseries import WindowDataset
    from swets_train.data import prepare as prepare_data
    from swets_train.predict import model_dtype

    if not isinstance(spec, JobSpec):
        spec = JobSpec.from_dict(spec)
    coll, data_spec = load_series(spec, data)
    ds = data_spec
    try:
        dataset = WindowDataset(
            coll,
            ds.lookback,
            ds.horizon,
            target=ds.target,
            covariates=ds.covariates,
            dtype="float64",
        )
        splits = dataset.split(val=ds.val, test=ds.test, gap=ds.gap)
    except ConfigError as exc:
        if "no complete window" not in str(exc):
            raise
        raise ConfigError(
            f"{ds.label}: {exc}; lower data.lookback ({ds.lookback}) or data.horizon "
            f"({ds.horizon}), or use more data"
        ) from exc
    notes: list[str] = []
    season = resolve_season_length(spec, coll, notes)
    model = build_model(spec, dataset.n_features)
    dtype = model_dtype(model)
    if dtype.kind != "f":  # pragma: no cover - models have float parameters
        dtype = np.dtype(np.float32)
    loaders = prepare_data(
        coll,
        ds.lookback,
        ds.horizon,
        val=ds.val,
        test=ds.test,
        gap=ds.gap,
        batch_size=spec.training.batch_size,
        seed=spec.training.seed,
        scaler=ds.scaler,
        dtype=str(dtype),
        target=ds.target,
        covariates=ds.covariates,
    )

    t = spec.training
    quantiles = _model_quantiles(model)
    loss_name = t.loss or ("quantile" if quantiles is not None else "mse")
    loss_options = dict(t.loss_options)
    if loss_name == "quantile" and quantiles is not None:
        given = loss_options.setdefault("quantiles", quantiles)
        if [float(q) for q in given] != quantiles:
            raise ConfigError(
                f"training.loss_options.quantiles {list(given)} differ from the model's quantiles "
                f"{quantiles}"
            )
    loss = _build(
        _component("losses", loss_name, "training.loss"),
        (),
        loss_options,
        "training.loss",
        repr(loss_name),
    )
    opt_kwargs = {"lr": t.lr, **t.optimizer_options}
    if t.weight_decay is not None:
        opt_kwargs["weight_decay"] = t.weight_decay
    optimizer = _build(
        _component("optimizers", t.optimizer, "training.optimizer"),
        (model.parameters(),),
        opt_kwargs,
        "training.optimizer",
        repr(t.optimizer),
    )
    scheduler = None
    if t.scheduler is not None:
        scheduler = _build(
            _component("schedulers", t.scheduler, "training.scheduler"),
            (optimizer,),
            t.scheduler_options,
            "training.scheduler",
            repr(t.scheduler),
        )
    resolved = attrs.evolve(
        spec,
        data=data_spec,
        training=attrs.evolve(t, loss=loss_name, loss_options=loss_options, season_length=season),
    )
    return Prepared(
        spec=resolved,
        series=coll,
        dataset=dataset,
        splits=splits,
        scaler=loaders.scaler,
        train=loaders.train,
        val=loaders.val,
        test=loaders.test,
        model=model,
        loss=loss,
        optimizer=optimizer,
        scheduler=scheduler,
        season_length=season,
        notes=notes,
    )


# -- evaluation -------------------------------------------------------------------------------------
def mase_scales(
    series: Any, target: str, rows: Mapping[str, tuple[int, int]] | None, m: int
) -> dict:
    """The MASE scale of each series: ``mean |z_t - z_{t-m}|`` of its target over ``rows``
    (``{id: (start, stop)}``, e.g. the training rows; None: every row). NaN when the rows hold no
    seasonal difference."""
    out = {}
    for s in series:
        z = np.asarray(s.column(target), dtype=np.float64)
        lo, hi = (0, z.shape[0]) if rows is None else rows.get(s.id, (0, 0))
        z = z[lo:hi]
        out[s.id] = float(np.mean(np.abs(z[m:] - z[:-m]))) if z.shape[0] > m else math.nan
    return out


class _Scaling:
    __slots__ = ("columns", "per_series", "scaler", "target")

    def __init__(self, scaler: Any, columns: Sequence[str], target: str) -> None:
        self.scaler, self.columns, self.target = scaler, list(columns), target
        self.per_series = bool(getattr(scaler, "per_series", False))

    def inputs(self, x: np.ndarray, sid: str) -> np.ndarray:
        if self.scaler is None:
            return x
        return self.scaler.transform(
            x, columns=self.columns, series_id=sid if self.per_series else None
        )

    def outputs(self, y: np.ndarray, sid: str) -> np.ndarray:
        if self.scaler is None:
            return y
        if y.ndim == 2:
            return self.scaler.inverse_transform(
                y[..., None], columns=[self.target], series_id=sid if self.per_series else None
            )[..., 0]
        # (N, H, Q): every quantile level is a value of the target
        n, h, q = y.shape
        flat = y.transpose(0, 2, 1).reshape(n * q, h)
        back = self.outputs(flat, sid)
        return back.reshape(n, q, h).transpose(0, 2, 1)


def evaluate_windows(
    model: Any,
    windows: Any,
    *,
    scaler: Any,
    season_length: int,
    scales: Mapping[str, float],
    baselines: Sequence[str] = BASELINES,
    chunk: int = 4096,
) -> dict[str, dict[str, float]]:
    """Score ``model`` and the baselines on every window of ``windows`` in the original scale.

    Args:
        model: the trained forecaster (inputs scaled with ``scaler``, outputs mapped back).
        windows: an unscaled WindowDataset (a split of :attr:`Prepared.dataset`).
        scaler: the fitted scaler, or None.
        season_length: the period of ``seasonal_naive`` and of MASE.
        scales: the MASE scale of each series id (:func:`mase_scales`).
        baselines: registered baseline models run on the unscaled inputs.

    Returns:
        ``{name: {"mae", "rmse", "smape", "mase"}}`` for the model (under its registry name) and
        each baseline. A quantile model is scored on its 0.5 level.
    """
    from swets_train.metrics import MASE, evaluate
    from swets_train.predict import run_model

    name = getattr(model, "registry_name", type(model).__name__.lower())
    quantiles = _model_quantiles(model)
    horizon = windows.horizon
    base_models = {}
    for b in baselines:
        config: dict[str, Any] = {"horizon": horizon}
        if b == "seasonal_naive":
            config["season_length"] = season_length
        base_models[b] = registry.create("models", b, **config)
    if len(windows.target_columns) != 1:
        raise ConfigError(f"a job forecasts one target, the windows have {windows.target_columns}")
    scaling = _Scaling(scaler, windows.past_columns, windows.target_columns[0])
    n = len(windows)
    ys, preds = [], {k: [] for k in [name, *base_models]}
    row_scales = np.empty(n)
    for lo in range(0, n, chunk):
        idx = np.arange(lo, min(n, lo + chunk), dtype=np.int64)
        x, y, _ = windows.gather(idx)
        x = np.asarray(x, dtype=np.float64)
        ids, _ = windows.window_info(idx)
        ys.append(np.asarray(y, dtype=np.float64))
        out = np.empty((idx.shape[0], horizon) + ((len(quantiles),) if quantiles else ()))
        for sid in np.unique(ids):
            rows = np.flatnonzero(ids == sid)
            pred = run_model(model, scaling.inputs(x[rows], sid))
            if pred.shape[1:] != out.shape[1:]:
                raise ConfigError(
                    f"model {name!r} returned shape {pred.shape}, expected "
                    f"{(rows.shape[0], *out.shape[1:])} (batch, horizon[, quantiles])"
                )
            out[rows] = scaling.outputs(pred, sid)
            row_scales[idx[rows]] = scales.get(sid, math.nan)
        preds[name].append(out)
        for b, bm in base_models.items():
            preds[b].append(run_model(bm, x))
    y_all = np.concatenate(ys)
    metric_objs = ["mae", "rmse", "smape", MASE(m=season_length)]
    result = {}
    for key, parts in preds.items():
        p = np.concatenate(parts)
        context: dict[str, Any] = {"scale": row_scales}
        if key == name and quantiles is not None:
            context["quantiles"] = quantiles
        result[key] = {k: float(v) for k, v in evaluate(metric_objs, y_all, p, **context).items()}
    return result


def evaluate_prepared(
    prepared: Prepared, model: Any = None
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, dict[str, float]]]]:
    """Score the trained model (default ``prepared.model``) on the validation and test splits.

    Returns:
        ``(metrics, baselines)``: ``metrics[split][metric]`` for the model and
        ``baselines[name][split][metric]``, with ``split`` in ``"validation"``, ``"test"`` (when the
        job has a test part). MASE is scaled by each series' seasonal-naive error on the training rows.
    """
    model = prepared.model if model is None else model
    name = getattr(model, "registry_name", type(model).__name__.lower())
    target = prepared.spec.data.target
    scales = mase_scales(
        prepared.series, target, prepared.splits.train.rows, prepared.season_length
    )
    metrics: dict[str, dict[str, float]] = {}
    baselines: dict[str, dict[str, dict[str, float]]] = {b: {} for b in BASELINES}
    for split, windows in (("validation", prepared.splits.val), ("test", prepared.splits.test)):
        if windows is None:
            continue
        scores = evaluate_windows(
            model,
            windows,
            scaler=prepared.scaler,
            season_length=prepared.season_length,
            scales=scales,
        )
        metrics[split] = scores.pop(name)
        for b, s in scores.items():
            baselines[b][split] = s
    return metrics, baselines


# -- results ----------------------------------------------------------------------------------------
def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    v = float(value)
    if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-3):
        return f"{v:.3e}"
    if abs(v) >= 100:
        return f"{v:.1f}"
    return f"{v:.4f}"


def format_table(
    metrics: Mapping[str, Mapping[str, float]],
    baselines: Mapping[str, Mapping[str, Mapping[str, float]]],
    model_name: str,
) -> str:
    """The text table of :meth:`JobResult.table`: one row per split and model, one column per metric."""
    head = ["split", "model", *METRICS]
    rows = []
    for split in ("validation", "test", "all"):
        if split not in metrics:
            continue
        first = True
        for name, scores in [(model_name, metrics[split])] + [
            (b, baselines[b][split]) for b in baselines if split in baselines[b]
        ]:
            rows.append([split if first else "", name] + [_fmt(scores.get(m)) for m in METRICS])
            first = False
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = [
        "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
        for r in [head, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@attrs.define(kw_only=True)
class JobResult:
    """What :func:`run_job` returns.

    Attributes:
        metrics: ``{split: {metric: value}}`` of the trained model in the original scale
            (``split`` in ``"validation"``, ``"test"``; metrics mae, rmse, smape, mase).
        baselines: ``{"naive" | "seasonal_naive": {split: {metric: value}}}``.
        checkpoint: the checkpoint path, or None when nothing was written.
        history: the per-epoch records (``epoch``, ``step``, ``loss``, ``lr``, ``val_loss``...).
        spec: the resolved spec as plain data.
        stop_reason: why training stopped before its budget (early stopping), or None.
        seconds: wall time of the training loop.
        windows: the number of windows per split (``train``, ``validation``, ``test``).
        notes: remarks about choices made (a season length that did not fit...).
        model, scaler: the trained model and the fitted scaler (not part of :meth:`to_dict`).
    """

    metrics: dict[str, dict[str, float]]
    baselines: dict[str, dict[str, dict[str, float]]]
    checkpoint: str | None
    history: list[dict[str, Any]]
    spec: dict[str, Any]
    stop_reason: str | None = None
    seconds: float = 0.0
    windows: dict[str, int] = attrs.field(factory=dict)
    notes: list[str] = attrs.field(factory=list)
    model: Any = attrs.field(default=None, eq=False, repr=False)
    scaler: Any = attrs.field(default=None, eq=False, repr=False)

    @property
    def model_name(self) -> str:
        """The model's registry name."""
        return str(self.spec.get("model", {}).get("name", "model"))

    def table(self) -> str:
        """Validation and test metrics of the model next to the naive and seasonal-naive baselines."""
        return format_table(self.metrics, self.baselines, self.model_name)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (msgpack-friendly; the model and scaler are left out)."""
        return {
            "metrics": _plain(self.metrics),
            "baselines": _plain(self.baselines),
            "checkpoint": self.checkpoint,
            "history": _plain(self.history),
            "spec": _plain(self.spec),
            "stop_reason": self.stop_reason,
            "seconds": float(self.seconds),
            "windows": dict(self.windows),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> JobResult:
        """Rebuild from :meth:`to_dict`."""
        required = ("metrics", "baselines", "checkpoint", "history", "spec")
        missing = [k for k in required if k not in d]
        if missing:
            raise ConfigError(f"a job result lacks {', '.join(missing)}")
        return cls(
            metrics=dict(d["metrics"]),
            baselines=dict(d["baselines"]),
            checkpoint=d["checkpoint"],
            history=[dict(r) for r in d["history"]],
            spec=dict(d["spec"]),
            stop_reason=d.get("stop_reason"),
            seconds=float(d.get("seconds", 0.0)),
            windows=dict(d.get("windows", {})),
            notes=list(d.get("notes", [])),
        )


class _EpochLog:
    """Prints one line per epoch to a stream (progress when stderr is not a terminal)."""

    def __init__(self, epochs: int | None, stream: Any) -> None:
        self.epochs, self.stream = epochs, stream

    def on_epoch_end(self, trainer: Any, epoch: int, logs: Mapping[str, Any]) -> None:
        total = f"/{self.epochs}" if self.epochs else ""
        shown = "  ".join(
            f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
            for k, v in logs.items()
            if k != "epoch"
        )
        print(f"epoch {epoch + 1}{total}  {shown}", file=self.stream, flush=True)


def write_forecast_csv(forecast: Any, path: str | os.PathLike[str]) -> None:
    """Write a :class:`~swets_train.Forecast` in long format: ``series_id, timestamp, step``, the
    forecast (``forecast`` or one ``q<level>`` column per quantile) and ``actual`` when known.
    Timestamps are UTC ISO 8601 (``2000-08-28T00:00:00Z``)."""
    cols = forecast.to_columns()
    cols.pop("origin", None)
    names = list(cols)
    text = {}
    for k, v in cols.items():
        if np.issubdtype(np.asarray(v).dtype, np.datetime64):
            text[k] = np.char.add(np.datetime_as_string(v, unit="s").astype(str), "Z")
        elif np.asarray(v).dtype.kind == "f":
            text[k] = np.array([repr(float(x)) for x in v], dtype=object)
        else:
            text[k] = np.asarray(v).astype(str)
    directory = os.path.dirname(os.fspath(path))
    try:
        if directory:
            os.makedirs(directory, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(",".join(names) + "\n")
            for i in range(len(cols[names[0]])):
                fh.write(",".join(str(text[k][i]) for k in names) + "\n")
    except OSError as exc:
        raise ConfigError(f"cannot write the forecast to {os.fspath(path)}: {exc}") from exc


def _history_records(history: Any) -> list[dict[str, Any]]:
    return [
        {k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in r.items()}
        for r in history
    ]


def fit_prepared(
    prepared: Prepared, *, progress: bool = False, callbacks: Sequence[Any] = ()
) -> tuple[Any, Any]:
    """Train ``prepared.model`` as the job says; returns ``(trainer, history)``.

    Early stopping on the validation loss (``training.patience``; the best epoch's weights are
    restored), the scheduler, gradient clipping, the seed and the scaler (stored in checkpoints the
    trainer writes) come from the spec. With ``progress``, a bar on a terminal, else one line per
    epoch on stderr.
    """
    from swets_train.callbacks import EarlyStopping
    from swets_train.trainer import Trainer

    p = prepared
    t = p.spec.training
    cbs = list(callbacks)
    if t.patience is not None:
        cbs.append(EarlyStopping(patience=t.patience, restore_best_weights=True))
    stream = sys.stderr
    if progress and not (callable(getattr(stream, "isatty", None)) and stream.isatty()):
        cbs.append(_EpochLog(t.epochs, stream))
    trainer = Trainer()
    history = trainer.fit(
        p.model,
        p.loss,
        p.optimizer,
        p.train,
        p.val,
        epochs=t.epochs,
        max_steps=t.max_steps,
        scheduler=p.scheduler,
        scheduler_interval=t.scheduler_interval,
        clip_grad_norm=t.clip_grad_norm,
        metrics=() if _model_quantiles(p.model) is not None else ("mae",),
        callbacks=cbs,
        seed=t.seed,
        progress=progress,
        scaler=p.scaler,
    )
    return trainer, history


def run_job(
    spec: JobSpec | Mapping[str, Any],
    *,
    progress: bool = False,
    write: bool = True,
    data: Any = None,
    callbacks: Sequence[Any] = (),
) -> JobResult:
    """Train, evaluate and save one job.

    Trains with :class:`~swets_train.Trainer` (early stopping on the validation loss with
    ``training.patience``, best weights restored), scores the validation and test windows in the
    original scale next to the naive and seasonal-naive baselines (:func:`evaluate_prepared`) and,
    with ``write``, saves the checkpoint (model, full training state with the scaler, and in its
    metadata the resolved spec under ``"job"`` plus the metrics), then the forecast CSV and the plot
    when ``[output]`` asks for them.

    Args:
        spec: a JobSpec or its plain-data form.
        progress: show training progress on stderr (a bar on a terminal, else one line per epoch).
        write: write the checkpoint and the other outputs.
        data: already loaded data instead of the spec's data source.
        callbacks: extra training callbacks.
    """
    if not isinstance(spec, JobSpec):
        spec = JobSpec.from_dict(spec)
    p = prepare(spec, data=data)
    start = time.perf_counter()
    trainer, history = fit_prepared(p, progress=progress, callbacks=callbacks)
    seconds = time.perf_counter() - start
    metrics, baselines = evaluate_prepared(p)
    spec_dict = p.spec.to_dict()
    path = None
    if write:
        path = p.spec.checkpoint_path
        directory = os.path.dirname(path)
        try:
            if directory:
                os.makedirs(directory, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"output.checkpoint: cannot create {directory}: {exc}") from exc
        try:
            trainer.save_checkpoint(
                path,
                metadata={
                    "job": spec_dict,
                    "metrics": _plain(metrics),
                    "baselines": _plain(baselines),
                    "season_length": p.season_length,
                },
            )
        except OSError as exc:
            raise ConfigError(f"output.checkpoint: cannot write {path}: {exc}") from exc
    result = JobResult(
        metrics=metrics,
        baselines=baselines,
        checkpoint=path,
        history=_history_records(history),
        spec=spec_dict,
        stop_reason=history.stop_reason,
        seconds=seconds,
        windows={
            split: len(part)
            for split, part in (
                ("train", p.splits.train),
                ("validation", p.splits.val),
                ("test", p.splits.test),
            )
            if part is not None
        },
        notes=list(p.notes),
        model=p.model,
        scaler=p.scaler,
    )
    if write and (p.spec.output.forecast_csv or p.spec.output.plot):
        job = LoadedJob(
            spec=p.spec,
            model=p.model,
            scaler=p.scaler,
            history=result.history,
            checkpoint=path,
        )
        if p.spec.output.forecast_csv:
            write_forecast_csv(job.forecast(p.series), p.spec.output.forecast_csv)
        if p.spec.output.plot:
            from swets_train.plot import plot_job

            plot_job(job, p.spec.output.plot, data=p.series)
    return result


# -- checkpoints of jobs ----------------------------------------------------------------------------
@attrs.define(kw_only=True)
class LoadedJob:
    """A trained job: its spec, model and scaler (from :func:`load_job` or a finished run).

    Methods forecast, evaluate and backtest it on the job's data or on other data.
    """

    spec: JobSpec
    model: Any
    scaler: Any
    history: list[dict[str, Any]] = attrs.field(factory=list)
    checkpoint: str | None = None
    metadata: dict[str, Any] = attrs.field(factory=dict)

    def with_data(self, **changes: Any) -> LoadedJob:
        """The same job reading other data: ``dataset=``, ``path=``, ``target=``, ``covariates=``,
        ``timestamp_column=``, ``id_column=`` (None values are ignored; a new source replaces the
        old one)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            return self
        d = self.spec.to_dict()
        data = dict(d["data"])
        if "dataset" in changes or "path" in changes:
            data.pop("dataset", None)
            data.pop("path", None)
        data.update(changes)
        d["data"] = data
        return attrs.evolve(self, spec=JobSpec.from_dict(d))

    def series(self) -> Any:
        """The job's data (original scale) with its roles."""
        return load_series(self.spec)[0]

    @property
    def season_length(self) -> int:
        m = self.spec.training.season_length
        return 1 if m is None else m

    def forecast(self, data: Any = None) -> Any:
        """The forecast beyond the end of each series (:func:`swets_train.forecast`)."""
        from swets_train.predict import forecast

        coll = self.series() if data is None else data
        d = self.spec.data
        return forecast(
            self.model,
            coll,
            scaler=self.scaler,
            lookback=d.lookback,
            horizon=d.horizon,
            target=d.target,
            covariates=list(d.covariates),
        )

    def predict(self, data: Any = None, stride: int = 1) -> Any:
        """Forecasts from every ``stride``-th window origin with the actuals (:func:`swets_train.predict`)."""
        from swets_train.predict import predict

        coll = self.series() if data is None else data
        d = self.spec.data
        return predict(
            self.model,
            coll,
            scaler=self.scaler,
            lookback=d.lookback,
            horizon=d.horizon,
            stride=stride,
            target=d.target,
            covariates=list(d.covariates),
        )

    def evaluate(
        self, *, whole: bool = False, stride: int = 1
    ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, dict[str, float]]]]:
        """Metrics next to the baselines, as :func:`evaluate_prepared` returns them.

        By default the job's validation and test splits are rebuilt from its data (the same rows
        as in training, so the figures match the run's). With ``whole=True`` every window of the
        data (every ``stride`` rows) is scored under the split name ``"all"``, MASE scaled by each
        series' seasonal differences over all its rows.
        """
        from swets_timeseries import WindowDataset

        d = self.spec.data
        coll = self.series()
        m = self.season_length
        name = getattr(self.model, "registry_name", self.spec.model.name)
        metrics: dict[str, dict[str, float]] = {}
        baselines: dict[str, dict[str, dict[str, float]]] = {b: {} for b in BASELINES}
        if d.lookback < m:
            raise ConfigError(f"season_length {m} is longer than the lookback {d.lookback}")
        ds = WindowDataset(
            coll,
            d.lookback,
            d.horizon,
            stride=stride if whole else 1,
            target=d.target,
            covariates=list(d.covariates),
            dtype="float64",
        )
        if whole:
            parts = [("all", ds)]
            scales = mase_scales(coll, d.target, None, m)
        else:
            splits = ds.split(val=d.val, test=d.test, gap=d.gap)
            parts = [("validation", splits.val), ("test", splits.test)]
            scales = mase_scales(coll, d.target, splits.train.rows, m)
        for split, windows in parts:
            if windows is None:
                continue
            scores = evaluate_windows(
                self.model, windows, scaler=self.scaler, season_length=m, scales=scales
            )
            metrics[split] = scores.pop(name)
            for b, s in scores.items():
                baselines[b][split] = s
        return metrics, baselines


def load_job(path: str | os.PathLike[str]) -> LoadedJob:
    """Load a checkpoint written by :func:`run_job` (or ``swets train``) as a :class:`LoadedJob`.

    Raises:
        CheckpointError: the file is not a readable checkpoint, or was not written by a job (its
            metadata holds no ``"job"``).
    """
    from swets_core.checkpoint import load_checkpoint
    from swets_train.data import scaler_from_state

    path = os.fspath(path)
    if not os.path.exists(path):
        raise CheckpointError(f"{path}: no such checkpoint file")
    if os.path.isdir(path):
        raise CheckpointError(f"{path} is a directory, not a checkpoint file")
    try:
        ckpt = load_checkpoint(path)
    except SwetsError:
        raise
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot read the checkpoint: {exc}") from exc
    meta = ckpt.user_metadata
    job = meta.get("job") if isinstance(meta, Mapping) else None
    if not isinstance(job, Mapping):
        raise CheckpointError(
            f"{path}: holds model {ckpt.model_name!r} but no job description (it was not written by "
            "swets train / run_job), so its data and scaler are unknown"
        )
    try:
        spec = JobSpec.from_dict(job)
    except ConfigError as exc:
        raise CheckpointError(f"{path}: the stored job description is invalid: {exc}") from exc
    state = ckpt.training_state or {}
    scaler = scaler_from_state(state.get("scaler"))
    history = []
    hist = state.get("history")
    if isinstance(hist, Mapping):
        history = [dict(r) for r in hist.get("records", [])]
    return LoadedJob(
        spec=spec,
        model=ckpt.model,
        scaler=scaler,
        history=history,
        checkpoint=path,
        metadata=dict(meta),
    )
