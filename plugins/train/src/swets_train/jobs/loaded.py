"""Trained jobs: :func:`load_job` reads a checkpoint written by a job into a :class:`LoadedJob`,
which forecasts, predicts and evaluates on the job's data or on other data.

A job's checkpoint holds, besides the model and its training state (with the scaler), the resolved
job description (``metadata["job"]``: roles, calendar, holiday dates...) and the state of its
static covariates' encoder (``metadata["static_encoder"]``), so a forecast from the file reads the
data, computes the calendar features and encodes each series exactly as training did.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np

from swets_core.checkpoint import field_error
from swets_core.errors import CheckpointError, ConfigError, SwetsError
from swets_core.lazy import exports_of
from swets_train.jobs.evaluate import mase_scales, score_splits
from swets_train.jobs.prepare import scaler_from_state
from swets_train.jobs.sources import load_series, read_future
from swets_train.jobs.spec import JobSpec

__all__ = exports_of(__name__)

STATIC_KEY = "static_encoder"
"""The checkpoint metadata key of the static covariates' encoder state."""
CONFORMAL_KEY = "conformal"
"""The checkpoint metadata key of the model's conformal calibration
(:meth:`swets_train.Conformal.state_dict`)."""


@attrs.define(kw_only=True)
class LoadedJob:
    """A trained job: its spec, model and scaler (from :func:`load_job` or a finished run).

    Methods forecast, predict and evaluate it on the job's data or on other data;
    :func:`~swets_train.jobs.backtest_job` backtests it (``trained=``).
    """

    spec: JobSpec
    model: Any
    scaler: Any
    history: list[dict[str, Any]] = attrs.field(factory=list)
    checkpoint: str | None = None
    metadata: dict[str, Any] = attrs.field(factory=dict)
    static_encoder: Any = None
    conformal: Any = None
    """The model's calibration on its validation windows (:class:`~swets_train.Conformal`), which
    prediction intervals (``levels=``) need; None for a checkpoint without one."""

    def with_data(self, **changes: Any) -> LoadedJob:
        """The same job reading other data: ``dataset=``, ``path=``, ``target=``, ``covariates=``,
        ``timestamp_column=``, ``date_format=``, ``id_column=``, ``policy=`` (None values are
        ignored; a new source replaces the old one, also a job's data given in memory)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            return self
        d = self.spec.to_dict()
        data = dict(d["data"])
        if "dataset" in changes or "path" in changes:
            data.pop("dataset", None)
            data.pop("path", None)
            data.pop("in_memory", None)
        data.update(changes)
        d["data"] = data
        return attrs.evolve(self, spec=JobSpec.from_dict(d))

    def series(self, data: Any = None) -> Any:
        """The job's data (original scale) with its roles and calendar columns (the rows after a
        series' last target value included: its future rows); ``data`` (TimeSeries,
        SeriesCollection, OHLCV) read the job's way instead of the job's own data."""
        return load_series(self.spec, data)[0]

    @property
    def season_length(self) -> int:
        m = self.spec.training.season_length
        return 1 if m is None else m

    def _inputs(self, data: Any) -> tuple[Any, dict[str, Any]]:
        """The data (the job's by default) and how the model reads it: scaler, static encoder,
        geometry, roles."""
        how = {
            "scaler": self.scaler,
            "static_encoder": self.static_encoder,
            **self.spec.data.reading(),
        }
        return self.series(data), how

    def future(self, future: Any, data: Any = None) -> Any:
        """The known covariates over the horizon after each series of the data (the job's by
        default), as a SeriesCollection of ``horizon`` rows per series with the calendar
        columns: from ``future`` (a CSV or Parquet file, a TimeSeries or SeriesCollection with
        the job's known covariates) when given, else from the data's rows after the last target
        value. A known covariate without a value stays NaN there, which :meth:`forecast` names."""
        return self._future(future, self.series(data))

    def _future(self, future: Any, full: Any) -> Any:
        from swets_timeseries import SeriesCollection, TimeSeries
        from swets_timeseries.features import with_calendar
        from swets_timeseries.series import as_collection
        from swets_train.horizon import horizon_timestamps

        d = self.spec.data
        given = None
        if future is not None:
            if isinstance(future, (str, os.PathLike)):
                given = read_future(future, d)
            else:
                try:
                    given = as_collection(future)
                except SwetsError as exc:
                    raise ConfigError(f"future=: {exc}") from None
        known, out = list(d.known_covariates), []
        for s in full:
            history, rows = s.split_future()
            source = "the data"
            if given is not None:
                if s.id in given.ids:
                    rows = given[s.id]
                elif len(full) == 1 and len(given) == 1:
                    rows = given[0]
                else:
                    raise ConfigError(
                        f"future=: no series {s.id!r} (it has {', '.join(given.ids[:10])})"
                    )
                source = "future="
            ts = horizon_timestamps(s.id, history.timestamps, rows.timestamps, d.horizon, source)
            values = {}
            for name in known:
                if name not in rows.values:
                    raise ConfigError(f"{source}: no column {name!r}, a known covariate of the job")
                col = np.full(d.horizon, np.nan)
                n = min(d.horizon, len(rows))
                col[:n] = rows.column(name)[:n]
                values[name] = col
            if not values:  # a series needs a column: the target, unknown
                values = {d.target: np.full(d.horizon, np.nan)}
            target = known[0] if known else d.target
            out.append(TimeSeries(ts, values, target, (), known[1:] if known else (), id=s.id))
        return with_calendar(SeriesCollection(out), d.calendar, d.holidays or None)

    def _intervals(self, levels: Any) -> dict[str, Any]:
        """``conformal=`` and ``levels=`` for a forecast with intervals at ``levels``."""
        if levels is None:
            return {}
        if self.conformal is None:
            where = self.checkpoint or "this job"
            raise ConfigError(
                f"levels: {where} holds no conformal calibration (written before intervals "
                "existed, or trained without validation windows); retrain it with a validation "
                "split"
            )
        return {"conformal": self.conformal, "levels": levels}

    def forecast(self, data: Any = None, future: Any = None, levels: Any = None) -> Any:
        """The forecast beyond the end of each series (:func:`swets_train.forecast`), with the
        known covariates over the horizon from :meth:`future` (``future``: a file, a TimeSeries
        or a SeriesCollection; default: the data's rows after the last target value); with
        ``levels`` (percent), conformal prediction intervals from the stored calibration."""
        from swets_train.predict import forecast

        coll, how = self._inputs(data)
        frame = self._future(future, coll) if how["known_covariates"] else None
        return forecast(self.model, coll, future=frame, **how, **self._intervals(levels))

    def predict(self, data: Any = None, stride: int = 1, levels: Any = None) -> Any:
        """Forecasts from every ``stride``-th window origin with the actuals
        (:func:`swets_train.predict`), with intervals at ``levels`` (percent) when given."""
        from swets_train.predict import predict

        coll, how = self._inputs(data)
        return predict(self.model, coll, stride=stride, **how, **self._intervals(levels))

    def evaluate(
        self, *, whole: bool = False, stride: int = 1, levels: Any = None
    ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, dict[str, float]]]]:
        """Metrics next to the baselines, as :func:`evaluate_prepared` returns them.

        By default the job's validation and test splits are rebuilt from its data (the same rows
        as in training, so the figures match the run's). With ``whole=True`` every window of the
        data (every ``stride`` rows) is scored under the split name ``"all"``, MASE scaled by each
        series' seasonal differences over all its rows. With ``levels`` (percent), the prediction
        intervals from the stored calibration are scored too (coverage, width, pinball, CRPS).
        """
        from swets_timeseries import WindowDataset

        d = self.spec.data
        coll = self.series().split_future()[0]
        m = self.season_length
        if d.lookback < m:
            raise ConfigError(f"season_length {m} is longer than the lookback {d.lookback}")
        ds = WindowDataset(
            coll,
            d.lookback,
            d.horizon,
            stride=stride if whole else 1,
            target=d.target,
            covariates=list(d.covariates),
            known_covariates=list(d.known_columns),
            static_encoder=self.static_encoder,
            dtype="float64",
        )
        if whole:
            parts = [("all", ds)]
            scales = mase_scales(coll, d.target, None, m)
        else:
            splits = ds.split(val=d.val, test=d.test, gap=d.gap)
            parts = [("validation", splits.val), ("test", splits.test)]
            scales = mase_scales(coll, d.target, splits.train.rows, m)
        return score_splits(
            self.model,
            parts,
            scaler=self.scaler,
            season_length=m,
            scales=scales,
            **self._intervals(levels),
        )


def load_job(path: str | os.PathLike[str], *, strict: bool | None = None) -> LoadedJob:
    """Load a checkpoint written by :func:`run_job` (or ``swets train``) as a :class:`LoadedJob`.

    Everything the file holds is checked before it is used: the checkpoint itself
    (:func:`~swets_core.checkpoint.load_checkpoint`), the job description in its metadata (it must
    name the checkpoint's model, and the window geometry of the model's configuration), and the
    training state (:func:`~swets_train.training_state.check_training_state`, the scaler).

    Args:
        strict: refuse (instead of warning about) weights or a scaler that cannot give finite
            forecasts; None reads ``SWETS_STRICT_CHECKPOINTS``.

    Raises:
        CheckpointError: the file is not a readable checkpoint, was not written by a job (its
            metadata holds no ``"job"``), or a field of it is invalid (the message names it).
    """
    from swets_core.checkpoint import load_checkpoint
    from swets_train.training_state import check_training_state

    path = os.fspath(path)
    if not os.path.exists(path):
        raise CheckpointError(f"{path}: no such checkpoint file")
    if os.path.isdir(path):
        raise CheckpointError(f"{path} is a directory, not a checkpoint file")
    ckpt = load_checkpoint(path, strict=strict)
    meta = ckpt.user_metadata
    job = meta.get("job")
    if job is None:
        raise CheckpointError(
            f"{path}: holds model {ckpt.model_name!r} but no job description (it was not written by "
            "swets train / run_job), so its data and scaler are unknown"
        )
    if not isinstance(job, Mapping):
        raise field_error(path, "metadata.user.job", job, "a mapping of job sections")
    model_section = job.get("model")
    named = model_section.get("name") if isinstance(model_section, Mapping) else None
    if isinstance(named, str) and named != ckpt.model_name:
        raise CheckpointError(
            f"{path}: field 'metadata.user.job.model.name' is {named!r:.80} but the checkpoint "
            f"holds model {ckpt.model_name!r}"
        )
    try:
        spec = JobSpec.from_dict(job)
    except Exception as exc:  # a hostile job description may fail anywhere in the validators
        text = str(exc) if isinstance(exc, SwetsError) else f"{type(exc).__name__}: {exc}"
        raise CheckpointError(
            f"{path}: field 'metadata.user.job': the stored job description is invalid: "
            f"{text[:1000]}"
        ) from exc
    _check_job_matches_model(spec, ckpt, path)
    state = ckpt.training_state
    scaler, history = None, []
    if state is not None:
        if not set(state) <= {
            "scaler"
        }:  # a model saved untrained (a baseline) holds its scaler only
            check_training_state(state, path)
            history = [dict(r) for r in state["history"]["records"]]
        scaler = scaler_from_state(state.get("scaler"), source=path, strict=strict)
    return LoadedJob(
        spec=spec,
        model=ckpt.model,
        scaler=scaler,
        history=history,
        checkpoint=path,
        metadata=dict(meta),
        static_encoder=_static_encoder(meta, spec, path),
        conformal=_conformal(meta, ckpt, path),
    )


def _conformal(meta: Mapping[str, Any], ckpt: Any, path: str) -> Any:
    """The conformal calibration a job stored (None when it has none), checked against the
    model's horizon and quantiles."""
    from swets_train.conformal import Conformal

    state = meta.get(CONFORMAL_KEY)
    if state is None:
        return None
    conformal = Conformal.from_state(state, source=f"{path}: metadata.user")
    config = ckpt.config
    if "horizon" in config and config["horizon"] != conformal.horizon:
        raise CheckpointError(
            f"{path}: field 'metadata.user.{CONFORMAL_KEY}' holds scores of {conformal.horizon} "
            f"steps, the model's horizon is {config['horizon']!r:.40}"
        )
    qs = config.get("quantiles")
    if (None if qs is None else list(qs)) != (
        None if conformal.quantiles is None else list(conformal.quantiles)
    ):
        raise CheckpointError(
            f"{path}: field 'metadata.user.{CONFORMAL_KEY}' was calibrated for quantiles "
            f"{conformal.quantiles}, the model has {qs!r:.80}"
        )
    return conformal


def _static_encoder(meta: Mapping[str, Any], spec: JobSpec, path: str) -> Any:
    """The static covariates' encoder a job stored (None for a job without them)."""
    from swets_timeseries import StaticEncoder

    state = meta.get(STATIC_KEY)
    static = list(spec.data.static_covariates)
    if state is None:
        if static:
            raise CheckpointError(
                f"{path}: the job has static covariates ({', '.join(static)}) but field "
                f"'metadata.user.{STATIC_KEY}' is missing, so they cannot be encoded as in training"
            )
        return None
    try:
        encoder = StaticEncoder.from_state(state)
    except Exception as exc:  # a hostile state may fail anywhere in the checks
        text = str(exc) if isinstance(exc, SwetsError) else f"{type(exc).__name__}: {exc}"
        raise CheckpointError(f"{path}: field 'metadata.user.{STATIC_KEY}': {text[:1000]}") from exc
    if list(encoder.columns or ()) != static:
        raise CheckpointError(
            f"{path}: field 'metadata.user.{STATIC_KEY}' encodes {list(encoder.columns or ())}, "
            f"the job's static covariates are {static}"
        )
    return encoder


def _check_job_matches_model(spec: JobSpec, ckpt: Any, path: str) -> None:
    """The job must describe the checkpoint's model: its name, and the lookback and horizon of the
    model's configuration when it has them."""
    if spec.model.name != ckpt.model_name:
        raise CheckpointError(
            f"{path}: field 'metadata.user.job' describes model {spec.model.name!r} but the "
            f"checkpoint holds {ckpt.model_name!r}"
        )
    config = ckpt.config
    for key, want in (("lookback", spec.data.lookback), ("horizon", spec.data.horizon)):
        if key in config and config[key] != want:
            raise CheckpointError(
                f"{path}: field 'metadata.user.job.data.{key}' is {want} but the model's "
                f"configuration ('model.config.{key}') says {config[key]!r:.40}"
            )
