"""The job specification: :class:`JobSpec` and its sections, validated key by key.

A job is plain data in four sections (``[data]``, ``[model]``, ``[training]``, ``[output]``), read from
a TOML file (:func:`read_job_file`), a mapping or a :class:`JobSpec`. :meth:`JobSpec.from_dict` checks
every key and names the section and key of the first problem. Dotted keys (``model.layer_width``)
change one value of a spec's plain data (:func:`set_dotted`, :func:`apply_overrides`): what
``swets train --set`` and the configurations of a sweep do.

The module holds the sections and :class:`JobSpec`; the checks of single values are in
:mod:`~swets_train.jobs.checks`, the command-line options and :func:`option` in
:mod:`~swets_train.jobs.options`, dotted keys and job files in :mod:`~swets_train.jobs.keys`.
Every public name stays importable from here.
"""

from __future__ import annotations

import difflib
import inspect
import os
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from swets_core import registry
from swets_core.errors import (
    ConfigError,
    DuplicateComponentError,
    SwetsError,
    UnknownComponentError,
)
from swets_core.lazy import exports_of
from swets_train.jobs.checks import (
    _bool,
    _calendar,
    _field,
    _holidays,
    _int,
    _int_or_auto,
    _is_plain,
    _names,
    _number,
    _options,
    _parse_section,
    _plain,
    _scaler,
    _section_dict,
    _suggest,
    _text,
)
from swets_train.jobs.keys import (
    _split_key as _split_key,
)

# re-exported: the names of the modules this one was split into stay importable from here
from swets_train.jobs.keys import apply_overrides as apply_overrides
from swets_train.jobs.keys import get_dotted as get_dotted
from swets_train.jobs.keys import parse_value as parse_value
from swets_train.jobs.keys import read_job_file as read_job_file
from swets_train.jobs.keys import set_dotted as set_dotted
from swets_train.jobs.options import CLI_OPTIONS as CLI_OPTIONS
from swets_train.jobs.options import DATA_OPTIONS as DATA_OPTIONS
from swets_train.jobs.options import SECTIONS, option
from swets_train.jobs.options import cli_spelling as cli_spelling
from swets_train.jobs.options import (
    spelling_cli as spelling_cli,
)

__all__ = [
    *exports_of(__name__),
    *exports_of("swets_train.jobs.options"),
    *exports_of("swets_train.jobs.keys"),
]

_POLICIES = ("raise", "warn", "drop")


# keys the job passes to a model when its factory takes them, so they may not be model options
_AUTO_MODEL_KEYS = {
    "lookback": lambda: f"set {option('data.lookback')} instead",
    "input_size": lambda: f"set {option('data.lookback')} instead",  # NeuralForecast's name
    "horizon": lambda: f"set {option('data.horizon')} instead",
    "n_features": lambda: (
        f"the job counts the input features (1 + the number of {option('data.covariates')})"
    ),
    "seed": lambda: f"set {option('training.seed')} instead",
    "n_future_features": lambda: (
        f"the job counts the known covariates ({option('data.known_covariates')} and "
        f"{option('data.calendar')})"
    ),
    "n_static_features": lambda: f"the job counts the {option('data.static_covariates')}",
    "static_cardinalities": lambda: (
        f"the job counts the categories of the {option('data.static_covariates')}"
    ),
    "instance_norm": lambda: f"set {option('data.instance_norm')} instead",
}


def _auto_model_config(factory: Any, values: Mapping[str, Any]) -> dict[str, Any]:
    """What the job gives a model factory itself: each of ``values`` (``lookback``, ``horizon``,
    ``n_features``, ``seed``, ``n_future_features``, ``n_static_features``,
    ``static_cardinalities``, ``instance_norm``) that it takes, and the lookback as
    ``input_size`` to a factory taking that name only; ``instance_norm`` not to a model that
    scales its windows its own way (``supports_instance_norm = False``, e.g. DeepAR)."""
    out = {k: v for k, v in values.items() if _takes(factory, k)}
    if not getattr(factory, "supports_instance_norm", True):
        out.pop("instance_norm", None)
    if "lookback" not in out and _takes(factory, "input_size"):
        out["input_size"] = values["lookback"]
    return out


# -- the sections -----------------------------------------------------------------------------------
@attrs.frozen(kw_only=True)
class DataSpec:
    """The ``[data]`` section: where the series comes from and the window geometry.

    ``dataset`` (a bundled name, default ``"electricity"``) or ``path`` (a CSV or Parquet file), or
    ``in_memory`` (the job was run on data given in memory, ``run_job(spec, data=...)``: commands
    on its checkpoint need the data again); ``target`` (default: the data's target, or the only
    value column of a file); ``covariates`` (past covariate columns, fed to the model after the
    target); ``timestamp_column`` (default: detected) and ``date_format`` (a strptime format,
    ``"unix"`` or ``"unix_ms"``; default: ISO 8601 detection); ``id_column`` (long-format files of
    several series; detected when timestamps repeat and a column tells the series apart);
    ``policy`` (rows that break a data rule: ``"raise"``, ``"warn"`` or ``"drop"``); ``lookback``
    and ``horizon`` (rows in and out); ``val`` and ``test`` (fractions of each series' rows,
    chronological); ``gap`` (rows left out between parts); ``scaler`` (``"standard"``,
    ``"minmax"``, ``"robust"`` or ``"none"``, fitted on the training rows only) and
    ``scaler_per_series`` (one fit per series of a panel).

    Covariates (docs/training.md): ``known_covariates`` (columns known in advance for the horizon:
    promotions, planned prices; their values for the time to forecast come from the rows after
    the last target value, or from a separate file); ``static_covariates`` (columns constant
    within each series, or columns of ``static_path``, a CSV keyed by the series id);
    ``calendar`` (calendar features of the timestamps as known covariates: ``"auto"`` picks them
    from the sampling interval, ``"none"`` or ``[]`` none, or names among hour, dayofweek,
    dayofmonth, dayofyear, month); ``holidays`` (dates, or a file of dates: a holiday flag as one
    more known covariate). ``instance_norm`` (default true) gives the model instance
    normalization (RevIN). ``lookback = "auto"`` (the default) takes a multiple of the season.
    """

    dataset: str | None = _field(None, _text(optional=True), "bundled data set name")
    path: str | None = _field(None, _text(optional=True), "CSV or Parquet file")
    target: str | None = _field(None, _text(optional=True), "target column")
    covariates: tuple[str, ...] = _field((), _names, "past covariate columns", converter=tuple)
    known_covariates: tuple[str, ...] = _field(
        (), _names, "columns known in advance", converter=tuple
    )
    static_covariates: tuple[str, ...] = _field(
        (), _names, "columns constant per series", converter=tuple
    )
    static_path: str | None = _field(None, _text(optional=True), "static covariates by id (CSV)")
    calendar: tuple[str, ...] | str = _field("auto", _calendar, "calendar features (auto or names)")
    holidays: tuple[str, ...] | str = _field((), _holidays, "holiday dates or a file of them")
    in_memory: bool = _field(False, _bool, "the data was given in memory")
    timestamp_column: str | None = _field(None, _text(optional=True), "timestamp column")
    date_format: str | None = _field(None, _text(optional=True), "timestamp format")
    id_column: str | None = _field(None, _text(optional=True), "series id column (long format)")
    policy: str = _field("raise", _text(choices=_POLICIES), "raise, warn or drop")
    lookback: int | str = _field("auto", _int_or_auto(1), "input rows (auto: from the season)")
    horizon: int = _field(24, _int(1), "forecast rows")
    val: float = _field(0.15, _number(0.0, 1.0, open_low=True), "validation fraction")
    test: float = _field(0.15, _number(0.0, 1.0), "test fraction")
    gap: int = _field(0, _int(0), "rows between parts")
    scaler: str | None = _field("standard", _scaler, "standard, minmax, robust or none")
    scaler_per_series: bool = _field(False, _bool, "one scaler fit per series")
    instance_norm: bool = _field(True, _bool, "instance normalization (RevIN) in the model")

    @property
    def label(self) -> str:
        """A short name of the data for messages: the data set name, the file name, or
        ``in-memory data``."""
        if self.path is not None:
            return os.path.basename(self.path)
        if self.in_memory:
            return "in-memory data"
        return self.dataset or "electricity"

    @property
    def known_columns(self) -> tuple[str, ...]:
        """The model's known-future inputs: the known covariates, then the calendar columns (the
        calendar resolved: not ``"auto"``)."""
        from swets_timeseries.features import calendar_columns

        names = () if self.calendar == "auto" else tuple(self.calendar)
        if self.holidays:
            names += ("holiday",)
        return self.known_covariates + tuple(calendar_columns(names))

    def reading(self) -> dict[str, Any]:
        """How a model of the job reads data: ``lookback``, ``horizon``, ``target``,
        ``covariates`` and ``known_covariates`` (:attr:`known_columns`), the keyword arguments of
        ``predict``, ``forecast`` and ``backtest``."""
        roles = {
            "target": self.target,
            "covariates": list(self.covariates),
            "known_covariates": list(self.known_columns),
        }
        return {"lookback": self.lookback, "horizon": self.horizon, **roles}

    def to_dict(self) -> dict[str, Any]:
        return _section_dict(self)


@attrs.frozen(kw_only=True)
class ModelSpec:
    """The ``[model]`` section: ``name`` (a registered model) and any options of that model.

    The job passes ``lookback`` (or ``input_size``, the same under NeuralForecast's name),
    ``horizon``, ``n_features``, ``n_future_features``, ``n_static_features``,
    ``static_cardinalities``, ``instance_norm`` and ``seed`` itself to a model whose factory takes
    them; every other key is given to the factory as is.
    """

    name: str = "nbeats"
    options: dict[str, Any] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, **_plain(self.options)}


@attrs.frozen(kw_only=True)
class TrainingSpec:
    """The ``[training]`` section: loss, optimizer, budget, early stopping, scheduler, seed.

    ``loss`` defaults to ``"mse"`` (``"quantile"`` for a model with quantiles); ``weight_decay``
    to the optimizer's own default. ``epochs = "auto"`` (the default) is a budget of at least 20
    epochs and about 1000 optimizer steps (at most 300 epochs); ``patience`` is the
    early-stopping patience in epochs on the validation loss (``"auto"``: about 150 steps, at
    least 5 epochs; ``"none"``, or ``--no-early-stopping``, trains the whole budget).
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
    epochs: int | str | None = _field("auto", _int_or_auto(1, optional=True), "epoch budget")
    max_steps: int | None = _field(None, _int(1, optional=True), "optimizer step budget")
    batch_size: int = _field(64, _int(1), "windows per batch")
    seed: int = _field(0, _int(0), "seed of the model, shuffling and dropout")
    patience: int | str | None = _field(
        "auto", _int_or_auto(0, optional=True), "early-stopping patience"
    )
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
# what the job passes to a component itself, so it may not be one of its options
_PASSED = {
    "losses": {},
    "optimizers": {
        "params": "the job passes the model's parameters",
        "lr": lambda: f"set {option('training.lr')} instead",
        "weight_decay": lambda: f"set {option('training.weight_decay')} instead",
    },
    "schedulers": {"optimizer": "the job passes its optimizer"},
}


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
            hint = f" (give it in {option(where + '_options.NAME')})"
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
            why = reserved[key]
            raise ConfigError(f"{where}.{key}: {why() if callable(why) else why}")
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
        if data.in_memory and (data.dataset is not None or data.path is not None):
            raise ConfigError(
                "data.in_memory: a job run on data given in memory has no dataset or path"
            )
        if data.path is None and data.dataset is None and not data.in_memory:
            data = attrs.evolve(data, dataset="electricity")
        if data.path is None and not data.in_memory:
            from swets_timeseries import dataset_names

            names = dataset_names()
            if data.dataset not in names:
                raise ConfigError(
                    f"data.dataset: unknown bundled data set {data.dataset!r}"
                    + _suggest(data.dataset, names, "data sets")
                    + f" (use {option('data.path')} for a file)"
                )
        if data.val + data.test >= 1.0:
            raise ConfigError(
                f"[data] val + test must be < 1 to leave training rows, got {data.val} + {data.test}"
            )
        roles = [("covariates", c) for c in data.covariates]
        roles += [("known_covariates", c) for c in data.known_covariates]
        roles += [("static_covariates", c) for c in data.static_covariates]
        seen: dict[str, str] = {} if data.target is None else {data.target: "target"}
        for role, c in roles:
            if c in seen:
                raise ConfigError(
                    f"{option('data.' + role)}: {c!r} is already "
                    + ("the target" if seen[c] == "target" else f"one of data.{seen[c]}")
                )
            seen[c] = role
        if data.scaler_per_series and data.scaler is None:
            raise ConfigError(
                f"{option('data.scaler_per_series')}: there is no scaler to fit per series "
                f"({option('data.scaler')} is none)"
            )

        model_d = {} if d.get("model") is None else d["model"]  # an array has no truth value
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
        reserved["rng"] = lambda: f"set {option('training.seed')} instead (a seed, not a generator)"
        _check_options(factory, options, "model", f"model {name!r}", reserved)
        model = ModelSpec(name=name, options=_plain(options))

        training_d = _parse_section(TrainingSpec, "training", d.get("training"))
        if "max_steps" in training_d and "epochs" not in training_d:
            training_d["epochs"] = None  # a step budget alone
        training = TrainingSpec(**training_d)
        if training.epochs is None and training.max_steps is None:
            raise ConfigError(
                f"[training] give {option('training.epochs')}, {option('training.max_steps')} "
                "or both"
            )
        if training.scheduler is None and training.scheduler_options:
            raise ConfigError(
                f"training.scheduler_options: given without {option('training.scheduler')}"
            )
        t = training
        for kind, what, name, options in (
            ("losses", "loss", t.loss, t.loss_options),
            ("optimizers", "optimizer", t.optimizer, t.optimizer_options),
            ("schedulers", "scheduler", t.scheduler, t.scheduler_options),
        ):
            if name is not None:
                factory = _component(kind, name, f"training.{what}")
                where, owner = f"training.{what}_options", f"{what} {name!r}"
                _check_options(factory, options, where, owner, _PASSED[kind])
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


def as_spec(spec: Any) -> JobSpec:
    """``spec`` as a validated :class:`JobSpec` (a JobSpec is returned as it is).

    Raises:
        ConfigError: neither a JobSpec nor a mapping of sections, or a problem
            :meth:`JobSpec.from_dict` reports.
    """
    if isinstance(spec, JobSpec):
        return spec
    if not isinstance(spec, Mapping):
        raise ConfigError(
            f"a job specification must be a JobSpec or a mapping of sections, got "
            f"{type(spec).__name__}"
        )
    return JobSpec.from_dict(spec)
