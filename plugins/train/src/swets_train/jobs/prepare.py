"""One way to get ready for training: :func:`prepare`, from a job or from data, and its :class:`Prepared`.

The sequence is always the same and free of leakage: chronological train / validation / test splits of
the windows, a scaler fitted on the training rows only, the data scaled with it, a shuffled training
``DataLoader`` (explicit seed) and an ordered validation loader. From a job (``prepare(spec)``) the
data comes from the spec's source and the model, loss, optimizer and scheduler are built through the
registry as well; from data (``prepare(series, lookback, horizon, ...)``) only the data part is done.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from swets_core.checks import is_int
from swets_core.errors import CheckpointError, ConfigError, SwetsError
from swets_core.lazy import exports_of
from swets_train.inference import _quantiles, model_dtype
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

__all__ = [*exports_of(__name__), "for_model"]

_SCALERS = ("standard", "minmax", "robust")

AUTO_STEPS = 1000
"""The optimizer steps an ``"auto"`` epoch budget is about (at least 20 epochs)."""
AUTO_PATIENCE_STEPS = 150
"""The optimizer steps without improvement an ``"auto"`` patience waits (at least 5 epochs)."""


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
        series: the data in its original scale, a ``SeriesCollection`` (with the job's roles), up
            to each series' last target value; ``future`` the rows after it (the known
            covariates of the time to forecast), or None when there are none.
        static_encoder: the :class:`~swets_timeseries.StaticEncoder` of the static covariates,
            or None.
        n_features: F, the number of input features of each window; ``n_future_features`` K,
            the known covariates over the horizon; ``static_cardinalities`` one int per static
            covariate (categories, 0 for a number); lookback, horizon: the geometry.
        spec: the resolved JobSpec (target, covariates, lookback, calendar, budget, loss and
            season length filled in); None when prepared from data.
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
    future: Any = None
    static_encoder: Any = None
    n_future_features: int = 0
    static_cardinalities: list[int] = attrs.field(factory=list)
    spec: JobSpec | None = None
    model: Any = None
    loss: Any = None
    optimizer: Any = None
    scheduler: Any = None
    season_length: int | None = None
    notes: list[str] = attrs.field(factory=list)

    @property
    def n_static_features(self) -> int:
        """S, the number of static covariates."""
        return len(self.static_cardinalities)

    def __repr__(self) -> str:
        val = "none" if self.val is None else f"{len(self.val.dataset)} windows"
        test = "none" if self.test is None else f"{len(self.test)} windows"
        job = "" if self.spec is None else f"model={self.spec.model.name}, "
        return (
            f"Prepared({job}train={len(self.train.dataset)} windows in {len(self.train)} batches, "
            f"val={val}, test={test}, n_features={self.n_features}, "
            f"n_future_features={self.n_future_features}, "
            f"n_static_features={self.n_static_features}, scaler={self.scaler!r})"
        )


_KINDS = (
    ("past", "past", ("data.covariates",)),
    ("future", "known-future", ("data.known_covariates", "data.calendar")),
    ("static", "static", ("data.static_covariates",)),
)


def supports(factory: Any, kind: str) -> bool:
    """Whether a model factory uses covariates of ``kind`` (``"past"``, ``"future"``,
    ``"static"``): its class attribute ``supports_<kind>_covariates``; without one, past
    covariates are supported (they are features of ``x``) and the others when the factory takes
    the job's key for them (``n_future_features``, ``n_static_features``)."""
    declared = getattr(factory, f"supports_{kind}_covariates", None)
    if declared is not None:
        return bool(declared)
    if kind == "past":
        return True
    return _takes(factory, {"future": "n_future_features", "static": "n_static_features"}[kind])


def check_covariates(spec: JobSpec, known: Sequence[str] = ()) -> None:
    """Refuse, in one line naming the model and the columns, a job whose data has a kind of
    covariate its model does not use (``known``: the known-future columns, calendar included).

    Raises:
        ConfigError: e.g. ``model 'naive' uses no known-future covariates, but the job gives it
            promo (data.known_covariates, data.calendar); ...``.
    """
    name = spec.model.name
    factory = _component("models", name, "model.name")
    d = spec.data
    given = {"past": d.covariates, "future": tuple(known), "static": d.static_covariates}
    for kind, words, keys in _KINDS:
        columns = list(given[kind])
        if columns and not supports(factory, kind):
            shown = ", ".join(columns[:8]) + (" ..." if len(columns) > 8 else "")
            raise ConfigError(
                f"model {name!r} uses no {words} covariates, but the job gives it {shown} "
                f"({', '.join(option(k) for k in keys)}); leave them out or choose a model that "
                "uses them (swets list models)"
            )


def build_model(
    spec: JobSpec,
    n_features: int,
    season_length: int | None = None,
    *,
    n_future_features: int = 0,
    static_cardinalities: Sequence[int] = (),
) -> Any:
    """Create the job's model through the registry with its options, the window geometry, the
    numbers of input features (``n_features`` F, ``n_future_features`` K, ``n_static_features``
    S with their ``static_cardinalities``), ``instance_norm`` and the seed (each passed when the
    model's factory takes it), and the job's ``season_length`` to a model that takes one and was
    given none (``seasonal_naive``).

    Raises:
        ConfigError: the model rejects its configuration, or asks for more memory than there is
            (the message names the model and its options).
    """
    name = spec.model.name
    factory = _component("models", name, "model.name")
    d = spec.data
    if d.lookback == "auto":
        raise ConfigError("build_model: the job's lookback is not resolved yet (prepare it)")
    values = {
        "lookback": d.lookback,
        "horizon": d.horizon,
        "n_features": n_features,
        "seed": spec.training.seed,
        "n_future_features": n_future_features,
        "n_static_features": len(static_cardinalities),
        "static_cardinalities": [int(c) for c in static_cardinalities],
        "instance_norm": d.instance_norm,
    }
    config = _auto_model_config(factory, values)
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


def default_lookback(season: int, horizon: int, rows: int | None = None) -> int:
    """The lookback of a job that leaves it to the data (``data.lookback = "auto"``): a multiple of
    the season ``season`` covering at least two seasons and twice the horizon,
    ``season * max(2, ceil(2 * horizon / season))`` (96 for half-hourly data and a horizon of 24,
    49 for daily data: seven weeks). With ``rows``, the fewest rows of a split of a series, it is
    capped so that a window (lookback + horizon rows) fits in every split: the largest multiple of
    the season that fits, else what fits."""
    lookback = season * max(2, -(-2 * horizon // season))
    if rows is not None and lookback + horizon > rows:
        room = rows - horizon
        if room >= season:
            lookback = season * (room // season)
        elif room >= 1:
            lookback = room
    return lookback


def _split_rows(series: Any, ds: Any) -> int:
    """The fewest rows any split (train, validation, test) of any series gets, as
    ``WindowDataset.split`` cuts them."""
    fewest = None
    for s in series:
        n = len(s)
        test = round(ds.test * n) if ds.test else 0
        val = round(ds.val * n) if ds.val else 0
        parts = [n - test - val - (ds.gap if val else 0) - (ds.gap if test else 0)]
        parts += [p for p in (val, test) if p]
        low = min(parts)
        fewest = low if fewest is None else min(fewest, low)
    return fewest or 0


def resolve_season_length(
    spec: JobSpec, series: Any, notes: list[str] | None = None, lookback: int | None = None
) -> int:
    """The job's seasonal period: ``training.season_length``, else :func:`default_season_length` of
    the first series (1 when that is longer than the lookback; a note is appended to ``notes``).
    ``lookback`` is the resolved lookback (default: ``data.lookback``).

    Raises:
        ConfigError: an explicit season length longer than the lookback.
    """
    notes = [] if notes is None else notes
    lookback = spec.data.lookback if lookback is None else lookback
    m = spec.training.season_length
    if m is not None:
        if lookback != "auto" and m > lookback:
            raise ConfigError(
                f"training.season_length ({m}) is longer than data.lookback ({lookback}): the "
                "seasonal-naive baseline repeats the last season of the input window; raise "
                f"{option('data.lookback')} or lower {option('training.season_length')}"
            )
        return m
    m = default_season_length(series[0].timestamps)
    if lookback != "auto" and m > lookback:
        notes.append(
            f"the data's natural season ({m} rows) is longer than the lookback ({lookback}); the "
            f"seasonal-naive baseline and MASE use season_length 1 (set "
            f"{option('training.season_length')})"
        )
        return 1
    return m


def resolve_lookback(spec: JobSpec, series: Any, notes: list[str] | None = None) -> JobSpec:
    """The job with ``data.lookback`` resolved: ``"auto"`` becomes :func:`default_lookback` of the
    season and of the fewest rows a split of a series gets (a note says so)."""
    d = spec.data
    if d.lookback != "auto":
        return spec
    notes = [] if notes is None else notes
    season = spec.training.season_length or default_season_length(series[0].timestamps)
    lookback = default_lookback(season, d.horizon, _split_rows(series, d))
    seasons = f"{lookback // season} seasons of {season} rows" if lookback % season == 0 else ""
    notes.append(
        f"lookback {lookback} rows"
        + (f" ({seasons})" if seasons and season > 1 else "")
        + f" for a horizon of {d.horizon} (set {option('data.lookback')} to choose)"
    )
    return attrs.evolve(spec, data=attrs.evolve(d, lookback=lookback))


def resolve_budget(spec: JobSpec, steps_per_epoch: int, notes: list[str] | None = None) -> JobSpec:
    """The job with ``training.epochs`` and ``training.patience`` resolved from the number of
    optimizer steps an epoch takes: ``"auto"`` epochs are about :data:`AUTO_STEPS` steps, at least
    20 and at most 300 epochs; ``"auto"`` patience about :data:`AUTO_PATIENCE_STEPS` steps, at
    least 5 epochs (small data gives short epochs, whose validation loss is noisy)."""
    t = spec.training
    steps = max(1, int(steps_per_epoch))
    changes: dict[str, Any] = {}
    if t.epochs == "auto":
        changes["epochs"] = min(300, max(20, -(-AUTO_STEPS // steps)))
    if t.patience == "auto":
        changes["patience"] = max(5, -(-AUTO_PATIENCE_STEPS // steps))
    if not changes:
        return spec
    if notes is not None and "epochs" in changes and changes["epochs"] > 20:
        notes.append(
            f"up to {changes['epochs']} epochs of {steps} steps (about {AUTO_STEPS} steps; set "
            f"{option('training.epochs')} to choose)"
        )
    return attrs.evolve(spec, training=attrs.evolve(t, **changes))


def _split(coll: Any, dtype: str, o: Mapping[str, Any], static_encoder: Any = None) -> Any:
    """The windows of ``coll`` in ``dtype`` (``o``: the options) and their chronological splits."""
    from swets_timeseries import WindowDataset

    dataset = WindowDataset(
        coll,
        o["lookback"],
        o["horizon"],
        target=o["target"],
        covariates=o["covariates"],
        known_covariates=o["known_covariates"],
        static_encoder=static_encoder,
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
        parts = _split(scaled, dtype, o, dataset.static_encoder)[1]
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
    encoder = dataset.static_encoder
    return Prepared(
        train=train,
        val=val,
        test=parts.test,
        dataset=dataset,
        splits=splits,
        scaler=scaler,
        series=coll,
        n_features=dataset.n_features,
        n_future_features=len(dataset.known_columns),
        static_cardinalities=[] if encoder is None else encoder.cardinalities,
        static_encoder=encoder,
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
    known_covariates: Sequence[str] | None = None,
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
        data: TimeSeries / SeriesCollection / OHLCV in the original scale (rows after a series'
            last target value are its future rows, kept apart in :attr:`Prepared.future`).
        lookback, horizon: window geometry.
        val, test, gap: the sizes of the validation and test parts (fractions, row counts or start
            timestamps) and the rows left out between parts, as ``WindowDataset.split``.
        batch_size, seed, drop_last, prefetch: the training loader (shuffled with ``seed``).
        scaler: ``"standard"``, ``"minmax"``, ``"robust"``, None (no scaling), or a scaler object
            (fitted on the training rows here unless it is already fitted).
        dtype: float32 (default) or float64 windows and batches.
        target, covariates, known_covariates: column roles (default: the data's); the static
            covariates are the data's.
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
        "known_covariates": known_covariates,
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

    history, future = _history(as_collection(source))
    p = _load(history, *_split(history, dtype, o), scaler, dtype, o)
    p.future = future
    return p


def _history(coll: Any) -> tuple[Any, Any]:
    """``(history, future rows or None)`` of a collection."""
    history, future = coll.split_future()
    return history, (future if any(len(s) for s in future) else None)


def for_model(spec: JobSpec) -> JobSpec:
    """The job with ``data.calendar = "auto"`` turned into no calendar for a model that uses no
    known-future covariates (a baseline): the default calendar is for models that read it."""
    if spec.data.calendar != "auto":
        return spec
    factory = _component("models", spec.model.name, "model.name")
    if supports(factory, "future"):
        return spec
    return attrs.evolve(spec, data=attrs.evolve(spec.data, calendar=()))


def _prepare_job(spec: JobSpec, data: Any, o: dict[str, Any]) -> Prepared:
    notes: list[str] = []
    spec = for_model(spec)
    coll, ds = load_series(spec, data, notes)
    spec = attrs.evolve(spec, data=ds)
    check_covariates(spec, ds.known_columns)
    history, future = _history(coll)
    spec = resolve_lookback(spec, history, notes)
    ds = spec.data
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
        known_covariates=ds.known_columns,
    )
    try:
        dataset, splits = _split(history, "float64", o)
    except ConfigError as exc:
        if "no complete window" not in str(exc):
            raise
        raise ConfigError(
            f"{ds.label}: {exc}; lower {option('data.lookback')} ({ds.lookback}) or "
            f"{option('data.horizon')} ({ds.horizon}), or use more data"
        ) from exc
    season = resolve_season_length(spec, history, notes)
    encoder = dataset.static_encoder
    model = build_model(
        spec,
        dataset.n_features,
        season,
        n_future_features=len(dataset.known_columns),
        static_cardinalities=[] if encoder is None else encoder.cardinalities,
    )
    _check_receptive_field(model, spec)
    dtype = model_dtype(model)
    if dtype.kind != "f":  # a model without parameters (a baseline) works in float32
        dtype = np.dtype(np.float32)
    scaler = None
    if ds.scaler is not None:
        scaler = _scaler_classes()[ds.scaler](per_series=ds.scaler_per_series)
    p = _load(history, dataset, splits, scaler, str(dtype), o)
    p.future = future
    spec = resolve_budget(spec, len(p.train), notes)
    t = spec.training

    quantiles = _quantiles(model)
    quantiles = None if quantiles is None else list(quantiles)
    if quantiles is not None and not any(abs(q - 0.5) <= 1e-9 for q in quantiles):
        raise ConfigError(
            f"model.quantiles: {quantiles} has no 0.5 level; a job scores a quantile "
            "model on its median (add 0.5)"
        )
    head = getattr(model, "distribution", None)  # a distribution head (DeepAR): its likelihood
    likelihood = None if head is None else f"{head.name}_nll"
    if likelihood is not None and t.loss is not None and t.loss != likelihood:
        raise ConfigError(
            f"training.loss: model {spec.model.name!r} has a {head.name} head and trains on its "
            f"likelihood, {likelihood!r}, not {t.loss!r}"
        )
    if head is not None and head.discrete and spec.data.scaler is not None:
        raise ConfigError(
            f"{option('data.scaler')}: a {head.name} head forecasts counts, which a scaler would "
            f"turn into fractions; set it to none (the model scales each window itself)"
        )
    loss_name = t.loss or likelihood or ("quantile" if quantiles is not None else "mse")
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
        training=attrs.evolve(t, loss=loss_name, loss_options=loss_options, season_length=season),
    )
    p.model, p.loss, p.optimizer, p.scheduler = model, loss, optimizer, scheduler
    p.season_length, p.notes = season, notes
    return p


def _check_receptive_field(model: Any, spec: JobSpec) -> None:
    """A one-line warning when a model that says how far back it sees (``receptive_field``)
    does not see the whole lookback."""
    field = getattr(model, "receptive_field", None)
    lookback = spec.data.lookback
    if is_int(field) and field < lookback:
        warnings.warn(
            f"model {spec.model.name!r} sees the last {field} of its {lookback} input rows (its "
            f"receptive field); raise {option('model.levels')} or {option('model.kernel_size')}, "
            f"or lower {option('data.lookback')}",
            UserWarning,
            stacklevel=2,
        )


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
