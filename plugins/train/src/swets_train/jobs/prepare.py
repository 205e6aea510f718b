"""One way to get ready for training: :func:`prepare`, from a job or from data, and its :class:`Prepared`.

The sequence is always the same and free of leakage: chronological train / validation / test splits of
the windows, a scaler fitted on the training rows only, the data scaled with it, a shuffled training
``DataLoader`` (explicit seed) and an ordered validation loader. From a job (``prepare(spec)``) the
data comes from the spec's source and the model, loss, optimizer and scheduler are built through the
registry as well; from data (``prepare(series, lookback, horizon, ...)``) only the data part is done.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from swets_core.errors import CheckpointError, ConfigError, SwetsError
from swets_train.jobs.sources import default_season_length, load_series
from swets_train.jobs.spec import (
    JobSpec,
    _auto_model_config,
    _build,
    _component,
    _takes,
    as_spec,
    option,
)
from swets_train.predict import _quantiles, model_dtype

__all__ = [
    "Prepared",
    "build_model",
    "prepare",
    "resolve_season_length",
    "scaler_from_state",
    "trainable",
]

_SCALERS = ("standard", "minmax", "robust")


def _scaler_classes() -> dict[str, Any]:
    from swets_timeseries import MinMaxScaler, RobustScaler, StandardScaler

    return {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}


def scaler_from_state(
    state: Mapping[str, Any] | None, *, source: str = "", strict: bool | None = None
) -> Any:
    """Rebuild a swets-timeseries scaler from its ``state_dict()``; None gives None.

    :func:`swets_timeseries.scaler_from_state` (where scalers live) rebuilds it; here, beside
    :func:`prepare`, which fits them, the state is read as a checkpoint's: a problem names the field
    ``training.scaler``, and a scaler whose offsets or scales are NaN or infinite, or whose scale is
    0, would give non-finite forecasts, so it is rebuilt with a
    :class:`~swets_core.checkpoint.CheckpointWarning` naming the value, or refused when loading is
    strict (``strict=True`` or ``SWETS_STRICT_CHECKPOINTS=1``, see
    :func:`swets_core.checkpoint.strict_loading`).

    Args:
        source: where the state comes from (a checkpoint's path), for messages.

    Raises:
        CheckpointError: an unknown scaler kind, a state that does not load, or (strict) a value
            that cannot give finite forecasts.
    """
    from swets_core.checkpoint import report_suspect
    from swets_timeseries import scaler_from_state as rebuild

    if state is None:
        return None
    try:
        scaler = rebuild(state)
    except CheckpointError as exc:
        where = f"{source}: " if source else ""
        raise CheckpointError(f"{where}field 'training.scaler': {exc}") from exc
    report_suspect(_suspect_scaler(state), source or "the scaler state", strict)
    return scaler


def _suspect_scaler(state: Mapping[str, Any]) -> list[str]:
    """The offsets and scales that would make forecasts non-finite: NaN, infinite, a 0 scale."""
    columns = state.get("columns")
    out = []
    for sid, stats in state["stats"].items():
        for part in ("offset", "scale"):
            values = np.asarray(stats[part], dtype=np.float64).reshape(-1)
            bad = ~np.isfinite(values)
            if part == "scale":
                bad |= values == 0
            for i in np.flatnonzero(bad)[:20]:
                col = (
                    f" (column {columns[i]!r})" if columns is not None and i < len(columns) else ""
                )
                who = "" if sid == "*" else f" of series {sid!r}"
                out.append(f"scaler {part}[{i}]{col}{who} is {float(values[i])!r}")
    return out


@attrs.define(kw_only=True, repr=False)
class Prepared:
    """What :func:`prepare` returns.

    Attributes:
        train: the shuffled training DataLoader (scaled windows).
        val: the validation DataLoader, or None; ``test`` the scaled test WindowDataset, or None.
        dataset: the unscaled ``WindowDataset`` over ``series`` (float64 for a job);
            ``splits`` its chronological train / validation / test splits (``splits.train.rows``
            are the rows the scaler was fitted on).
        scaler: the scaler fitted on the training rows, or None.
        series: the data in its original scale, a ``SeriesCollection`` (with the job's roles).
        n_features: F, the number of input features of each window; lookback, horizon: the geometry.
        spec: the resolved JobSpec (target, covariates, loss and season length filled in); None
            when prepared from data.
        model, loss, optimizer, scheduler: built through the registry from the job (None from data;
            scheduler None when the job sets none; optimizer and scheduler None for a model without
            parameters, such as a baseline, which is evaluated without training).
        season_length: the seasonal period of the seasonal-naive baseline and of MASE (jobs).
        notes: remarks about choices made (printed by the CLI).
    """

    train: Any
    val: Any
    test: Any
    dataset: Any
    splits: Any
    scaler: Any
    series: Any
    n_features: int
    lookback: int
    horizon: int
    spec: JobSpec | None = None
    model: Any = None
    loss: Any = None
    optimizer: Any = None
    scheduler: Any = None
    season_length: int | None = None
    notes: list[str] = attrs.field(factory=list)

    def __repr__(self) -> str:
        val = "none" if self.val is None else f"{len(self.val.dataset)} windows"
        test = "none" if self.test is None else f"{len(self.test)} windows"
        job = "" if self.spec is None else f"model={self.spec.model.name}, "
        return (
            f"Prepared({job}train={len(self.train.dataset)} windows in {len(self.train)} batches, "
            f"val={val}, test={test}, n_features={self.n_features}, scaler={self.scaler!r})"
        )


def build_model(spec: JobSpec, n_features: int, season_length: int | None = None) -> Any:
    """Create the job's model through the registry with its options, the window geometry, the number
    of input features and the seed (each passed when the model's factory takes it), and the job's
    ``season_length`` to a model that takes one and was given none (``seasonal_naive``).

    Raises:
        ConfigError: the model rejects its configuration, or asks for more memory than there is
            (the message names the model and its options).
    """
    name = spec.model.name
    factory = _component("models", name, "model.name")
    d = spec.data
    config = _auto_model_config(factory, d.lookback, d.horizon, n_features, spec.training.seed)
    if season_length is not None and _takes(factory, "season_length"):
        config["season_length"] = season_length
    config.update(spec.model.options)
    try:
        return factory(**config)
    except SwetsError as exc:
        raise ConfigError(f"model {name!r}: {exc}") from exc
    except TypeError as exc:
        raise ConfigError(
            f"model {name!r} cannot be built from {sorted(config)}: {exc}; add the missing "
            f"options ({option('model.KEY', 'VALUE')})"
        ) from exc
    except MemoryError as exc:
        options = ", ".join(f"{k}={v!r}" for k, v in spec.model.options.items()) or "its defaults"
        raise ConfigError(
            f"model {name!r} with {options} needs more memory than there is: "
            f"{_lower_first(str(exc)) or 'out of memory'}"
        ) from None


def _lower_first(text: str) -> str:
    text = text.strip()
    return text[:1].lower() + text[1:]


def resolve_season_length(spec: JobSpec, series: Any, notes: list[str] | None = None) -> int:
    """The job's seasonal period: ``training.season_length``, else :func:`default_season_length` of
    the first series (1 when that is longer than the lookback; a note is appended to ``notes``).

    Raises:
        ConfigError: an explicit season length longer than the lookback.
    """
    notes = [] if notes is None else notes
    lookback = spec.data.lookback
    m = spec.training.season_length
    if m is not None:
        if m > lookback:
            raise ConfigError(
                f"training.season_length ({m}) is longer than data.lookback ({lookback}): the "
                "seasonal-naive baseline repeats the last season of the input window; raise "
                f"{option('data.lookback')} or lower {option('training.season_length')}"
            )
        return m
    m = default_season_length(series[0].timestamps)
    if m > lookback:
        notes.append(
            f"the data's natural season ({m} rows) is longer than the lookback ({lookback}); the "
            f"seasonal-naive baseline and MASE use season_length 1 (set "
            f"{option('training.season_length')})"
        )
        return 1
    return m


def _split(coll: Any, dtype: str, o: Mapping[str, Any]) -> Any:
    """The windows of ``coll`` in ``dtype`` (``o``: the options) and their chronological splits."""
    from swets_timeseries import WindowDataset

    dataset = WindowDataset(
        coll,
        o["lookback"],
        o["horizon"],
        target=o["target"],
        covariates=o["covariates"],
        dtype=dtype,
    )
    return dataset, dataset.split(val=o["val"], test=o["test"], gap=o["gap"])


def _load(
    coll: Any, dataset: Any, splits: Any, scaler: Any, dtype: str, o: Mapping[str, Any]
) -> Prepared:
    """Fit ``scaler`` on the training rows (unless fitted), scale, and load in ``dtype``: the data
    part of a :class:`Prepared`."""
    from swets_timeseries import DataLoader

    if isinstance(scaler, str):
        classes = _scaler_classes()
        if scaler not in classes:
            raise ConfigError(
                f"prepare: scaler must be one of {', '.join(_SCALERS)} or None, got {scaler!r}"
            )
        scaler = classes[scaler]()
    scaled = coll
    if scaler is not None:
        if not getattr(scaler, "fitted", False):
            scaler.fit(coll, rows=splits.train.rows)
        scaled = scaler.transform(coll)
    parts = splits
    if scaler is not None or dataset.dtype != np.dtype(dtype):
        parts = _split(scaled, dtype, o)[1]
    train = DataLoader(
        parts.train,
        o["batch_size"],
        shuffle=True,
        seed=o["seed"],
        dtype=dtype,
        drop_last=o["drop_last"],
        prefetch=o["prefetch"],
    )
    val = None if parts.val is None else DataLoader(parts.val, o["val_batch_size"], dtype=dtype)
    return Prepared(
        train=train,
        val=val,
        test=parts.test,
        dataset=dataset,
        splits=splits,
        scaler=scaler,
        series=coll,
        n_features=dataset.n_features,
        lookback=o["lookback"],
        horizon=o["horizon"],
    )


def prepare(
    source: Any,
    lookback: int | None = None,
    horizon: int | None = None,
    *,
    data: Any = None,
    val: Any = 0.15,
    test: Any = 0.0,
    gap: int = 0,
    batch_size: int = 64,
    seed: int = 0,
    scaler: Any = "standard",
    dtype: str = "float32",
    target: str | Sequence[str] | None = None,
    covariates: Sequence[str] | None = None,
    val_batch_size: int = 512,
    drop_last: bool = False,
    prefetch: int = 0,
) -> Prepared:
    """Split, scale (fitted on the training rows only) and load data for training, from a job or
    from data.

    ``prepare(spec, *, data=None)``: ``spec`` a :class:`JobSpec` or its plain data. The data comes
    from the spec (or ``data``, already loaded, see :func:`load_series`), every option from its
    sections (the unscaled windows are float64, the loaders in the model's dtype), and the model,
    loss, optimizer and scheduler are built too. Deterministic for ``training.seed``: two calls give
    identical models and batches.

    ``prepare(data, lookback, horizon, ...)``: the data part only, with these options:

    Args:
        data: TimeSeries / SeriesCollection / OHLCV in the original scale.
        lookback, horizon: window geometry.
        val, test, gap: the sizes of the validation and test parts (fractions, row counts or start
            timestamps) and the rows left out between parts, as ``WindowDataset.split``.
        batch_size, seed, drop_last, prefetch: the training loader (shuffled with ``seed``).
        scaler: ``"standard"``, ``"minmax"``, ``"robust"``, None (no scaling), or a scaler object
            (fitted on the training rows here unless it is already fitted).
        dtype: float32 (default) or float64 windows and batches.
        target, covariates: column roles (default: the data's).
        val_batch_size: windows per validation batch.

    Raises:
        ConfigError: a bad option, or (jobs) a problem of the data, the model or the components,
            naming the section and key.
    """
    o = {
        "lookback": lookback,
        "horizon": horizon,
        "val": val,
        "test": test,
        "gap": gap,
        "batch_size": batch_size,
        "seed": seed,
        "target": target,
        "covariates": covariates,
        "val_batch_size": val_batch_size,
        "drop_last": drop_last,
        "prefetch": prefetch,
    }
    if isinstance(source, (JobSpec, Mapping)):
        defaults = {"lookback": None, "horizon": None, **(prepare.__kwdefaults__ or {})}
        options = {**o, "scaler": scaler, "dtype": dtype}
        given = [k for k, v in options.items() if _differs(v, defaults[k])]
        if given:
            raise ConfigError(
                f"prepare: a job takes its options from its sections, not from {', '.join(given)}="
            )
        return _prepare_job(as_spec(source), data, o)
    if data is not None:
        raise ConfigError("prepare: data= goes with a job spec; pass the data first instead")
    if lookback is None or horizon is None:
        raise ConfigError("prepare: give lookback and horizon (or a job spec)")
    from swets_timeseries.series import as_collection

    coll = as_collection(source)
    return _load(coll, *_split(coll, dtype, o), scaler, dtype, o)


def _prepare_job(spec: JobSpec, data: Any, o: dict[str, Any]) -> Prepared:
    notes: list[str] = []
    coll, ds = load_series(spec, data, notes)
    t = spec.training
    o.update(
        lookback=ds.lookback,
        horizon=ds.horizon,
        val=ds.val,
        test=ds.test,
        gap=ds.gap,
        batch_size=t.batch_size,
        seed=t.seed,
        target=ds.target,
        covariates=ds.covariates,
    )
    try:
        dataset, splits = _split(coll, "float64", o)
    except ConfigError as exc:
        if "no complete window" not in str(exc):
            raise
        raise ConfigError(
            f"{ds.label}: {exc}; lower {option('data.lookback')} ({ds.lookback}) or "
            f"{option('data.horizon')} ({ds.horizon}), or use more data"
        ) from exc
    season = resolve_season_length(spec, coll, notes)
    model = build_model(spec, dataset.n_features, season)
    dtype = model_dtype(model)
    if dtype.kind != "f":  # a model without parameters (a baseline) works in float32
        dtype = np.dtype(np.float32)
    scaler = None
    if ds.scaler is not None:
        scaler = _scaler_classes()[ds.scaler](per_series=ds.scaler_per_series)
    p = _load(coll, dataset, splits, scaler, str(dtype), o)

    quantiles = _quantiles(model)
    quantiles = None if quantiles is None else list(quantiles)
    if quantiles is not None and not any(abs(q - 0.5) <= 1e-9 for q in quantiles):
        raise ConfigError(
            f"model.quantiles: {quantiles} has no 0.5 level; a job scores a quantile "
            "model on its median (add 0.5)"
        )
    loss_name = t.loss or ("quantile" if quantiles is not None else "mse")
    loss_options = dict(t.loss_options)
    if loss_name == "quantile" and quantiles is not None:
        given = loss_options.setdefault("quantiles", quantiles)
        if [float(q) for q in given] != quantiles:
            raise ConfigError(
                f"training.loss_options.quantiles {list(given)} differ from the model's quantiles "
                f"{quantiles}"
            )
    loss = _create("losses", loss_name, (), loss_options, "training.loss")
    optimizer = scheduler = None
    if trainable(model):  # a model without parameters (a baseline) is evaluated as it is
        opt_kwargs = {"lr": t.lr, **t.optimizer_options}
        if t.weight_decay is not None:
            opt_kwargs["weight_decay"] = t.weight_decay
        params = (model.parameters(),)
        optimizer = _create("optimizers", t.optimizer, params, opt_kwargs, "training.optimizer")
        if t.scheduler is not None:
            options = t.scheduler_options
            scheduler = _create(
                "schedulers", t.scheduler, (optimizer,), options, "training.scheduler"
            )
    p.spec = attrs.evolve(
        spec,
        data=ds,
        training=attrs.evolve(t, loss=loss_name, loss_options=loss_options, season_length=season),
    )
    p.model, p.loss, p.optimizer, p.scheduler = model, loss, optimizer, scheduler
    p.season_length, p.notes = season, notes
    return p


def trainable(model: Any) -> bool:
    """Whether ``model`` has parameters to train (the baselines have none)."""
    parameters = getattr(model, "parameters", None)
    return callable(parameters) and any(True for _ in parameters())


def _differs(value: Any, default: Any) -> bool:
    try:
        return bool(value != default)
    except (TypeError, ValueError):  # an array compared with a default
        return True


def _create(kind: str, name: str, args: tuple[Any, ...], options: Any, where: str) -> Any:
    """The registered ``kind`` ``name`` built with ``args`` and ``options``; errors name ``where``."""
    return _build(_component(kind, name, where), args, options, where, repr(name))
