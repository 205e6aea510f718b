"""Running a job: :func:`fit_prepared`, :func:`run_job` and :func:`backtest_job`.

:func:`run_job` prepares a job, trains it with :class:`~swets_train.Trainer` (in this process, or on
whatever ``executor=`` says), scores it against the baselines and writes its checkpoint and outputs.
The outputs are checked before anything else happens (:func:`check_job_outputs`) and written through
:class:`swets_train.outputs.StagedWrites`: the forecast CSV and the plot first, the checkpoint last,
each moved into place only once all were written. A model without parameters (a baseline such as
``seasonal_naive``) is not trained: it is evaluated and saved as it is.
:func:`backtest_job` is the one rolling-origin backtest of a job, behind ``swets backtest`` and the
backtests of a sweep.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from swets_core.checks import check_count, is_int
from swets_core.errors import ConfigError
from swets_core.lazy import exports_of
from swets_train.conformal import parse_levels
from swets_train.jobs.evaluate import BASELINES, METRICS, evaluate_prepared
from swets_train.jobs.loaded import CONFORMAL_KEY, STATIC_KEY, LoadedJob
from swets_train.jobs.prepare import (
    Prepared,
    build_model,
    for_model,
    prepare,
    resolve_lookback,
    resolve_season_length,
    trainable,
)
from swets_train.jobs.report import JobResult, _history_records, write_forecast_csv
from swets_train.jobs.sources import load_series
from swets_train.jobs.spec import JobSpec, _plain, as_spec, option
from swets_train.outputs import Output, StagedWrites, check_outputs

__all__ = exports_of(__name__)


def job_outputs(spec: JobSpec) -> list[Output]:
    """The files a job writes, in the order it writes them: the forecast CSV and the plot when
    ``[output]`` asks for them, then the checkpoint."""
    out = spec.output
    files = []
    if out.forecast_csv:
        files.append(Output(out.forecast_csv, "forecast_csv", option("output.forecast_csv")))
    if out.plot:
        files.append(Output(out.plot, "plot", option("output.plot")))
    files.append(Output(spec.checkpoint_path, "checkpoint", option("output.checkpoint")))
    return files


def check_job_outputs(spec: JobSpec | Mapping[str, Any], *, force: bool = False) -> None:
    """Check every file the job writes before it runs (:func:`swets_train.outputs.check_outputs`):
    none is the job's data file, a directory, or a file swets did not write (unless ``force``),
    and each one's directory takes new files.

    Raises:
        ConfigError: naming the output (``output.checkpoint``, or ``--output`` under the command
            line) and the file.
    """
    spec = as_spec(spec)
    path = spec.data.path
    inputs = [(path, f"the data ({option('data.path')})")] if path else []
    check_outputs(job_outputs(spec), force=force, inputs=inputs)


def fit_prepared(
    prepared: Prepared,
    *,
    progress: bool = False,
    callbacks: Sequence[Any] = (),
    executor: Any = None,
    resume_from: Any = None,
) -> tuple[Any, Any]:
    """Train ``prepared.model`` as the job says; returns ``(trainer, history)``.

    Early stopping on the validation loss (``training.patience``; the best epoch's weights are
    restored), the scheduler, gradient clipping, the seed and the scaler (stored in checkpoints the
    trainer writes) come from the spec; ``executor`` says where the gradients are computed (see
    :mod:`swets_train.executor`). With ``progress``, a bar on a terminal, else one line per epoch on
    stderr. A model without parameters (a baseline) is not trained: ``(None, History())``.
    ``resume_from`` (a checkpoint the job wrote, or its training state) continues that run exactly
    (see :meth:`~swets_train.Trainer.fit`); the job's budget may be larger than the one it stopped
    at.
    """
    from swets_train.callbacks import EarlyStopping
    from swets_train.history import History
    from swets_train.trainer import Trainer

    p = prepared
    if p.optimizer is None and not trainable(p.model):
        return None, History()
    t = p.spec.training
    cbs = list(callbacks)
    if t.patience is not None:
        cbs.append(EarlyStopping(patience=t.patience, restore_best_weights=True))
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
        metrics=("mae",),
        callbacks=cbs,
        seed=t.seed,
        progress=progress,
        scaler=p.scaler,
        executor=executor,
        resume_from=resume_from,
    )
    return trainer, history


def run_job(
    spec: JobSpec | Mapping[str, Any] | Prepared,
    *,
    progress: bool = False,
    write: bool = True,
    data: Any = None,
    callbacks: Sequence[Any] = (),
    executor: Any = None,
    force: bool = False,
    levels: Any = None,
) -> JobResult:
    """Train, evaluate and save one job.

    Trains with :class:`~swets_train.Trainer` (early stopping on the validation loss with
    ``training.patience``, best weights restored), scores the validation and test windows in the
    original scale next to the naive and seasonal-naive baselines (:func:`evaluate_prepared`) and,
    with ``write``, saves the forecast CSV and the plot when ``[output]`` asks for them, then the
    checkpoint (model, full training state with the scaler, and in its metadata the resolved spec
    under ``"job"`` plus the metrics and the executor's :attr:`JobResult.execution`). A model
    without parameters (a baseline) is evaluated and saved without training.

    Every output is checked before the data is read (:func:`check_job_outputs`), and nothing is
    moved into place unless every output was written: a run that fails leaves the files as they
    were.

    Args:
        spec: a JobSpec or its plain-data form; or a job already prepared (:func:`prepare`, with
            ``data`` as given to it), whose outputs the caller checked first
            (:func:`check_job_outputs`): a caller that shows the resolved job (lookback, budget,
            notes) before training prepares it first (:func:`run_prepared` is this function).
        progress: show training progress on stderr (a bar on a terminal, else one line per epoch).
        write: write the checkpoint and the other outputs.
        data: already loaded data instead of the spec's data source (the checkpoint then records
            ``data.in_memory``: commands on it need the data again).
        callbacks: extra training callbacks.
        executor: where the gradients are computed: None for this process, or an executor such as
            ``registry.create("executors", "dask")`` (data-parallel on Dask workers). One with a
            ``for_job`` method is given the resolved spec and ``data`` first.
        force: replace existing output files that swets did not write (never the data file).
        levels: prediction intervals' levels in percent (``(80, 95)``) to score: the model is
            calibrated on the validation windows in any case (split conformal, or CQR for a
            quantile model; stored in the checkpoint), and with ``levels`` the metrics add the
            intervals' coverage and width, the pinball loss and the CRPS.

    Raises:
        ConfigError: a problem of the job or of an output file, before training.
    """
    prepared = isinstance(spec, Prepared)
    if not prepared:
        spec = as_spec(spec)
    if levels is not None:
        levels = parse_levels(levels, "levels")
    if prepared:
        p = spec
    else:
        if write:
            check_job_outputs(spec, force=force)
        p = prepare(spec, data=data)
    if callable(getattr(executor, "for_job", None)):
        executor = executor.for_job(p.spec.to_dict(), data)
    if write and p.spec.output.forecast_csv and p.spec.data.known_columns:
        _loaded(p).forecast(p.series, future=p.future)  # the future values are there: fail early
    start = time.perf_counter()
    trainer, history = fit_prepared(p, progress=progress, callbacks=callbacks, executor=executor)
    seconds = time.perf_counter() - start
    describe = getattr(getattr(trainer, "executor", None), "metadata", None)
    execution = dict(describe()) if callable(describe) else {}
    conformal = calibrate_prepared(p)
    if levels is not None and conformal is None:
        raise ConfigError(
            f"levels: prediction intervals are calibrated on the validation windows, and this job "
            f"has none ({option('data.val')} is 0)"
        )
    metrics, baselines = evaluate_prepared(p, conformal=conformal, levels=levels)
    spec_dict = p.spec.to_dict()
    path = p.spec.checkpoint_path if write else None
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
        execution=execution,
        kept=_kept(trainer, len(history)),
        model=p.model,
        scaler=p.scaler,
        conformal=conformal,
    )
    if write:
        metadata = {
            "job": spec_dict,
            "metrics": _plain(metrics),
            "baselines": _plain(baselines),
            "season_length": p.season_length,
            **_plain(execution),
        }
        if p.static_encoder is not None:
            metadata[STATIC_KEY] = p.static_encoder.state_dict()
        if conformal is not None:
            metadata[CONFORMAL_KEY] = conformal.state_dict()
        _write_outputs(p, trainer, result, metadata, conformal)
    return result


run_prepared = run_job
"""The name :func:`run_job` had for a job already prepared: the same function."""


def calibrate_prepared(p: Prepared, model: Any = None) -> Any:
    """The conformal calibration of the trained model (default ``p.model``) on the job's
    validation windows (:func:`swets_train.calibrate_windows`), or None without validation
    windows."""
    from swets_train.predict import calibrate_windows

    if p.splits is None or p.splits.val is None or len(p.splits.val) == 0:
        return None
    return calibrate_windows(p.model if model is None else model, p.splits.val, scaler=p.scaler)


def _kept(trainer: Any, epochs: int) -> dict[str, Any] | None:
    """Which epoch's weights early stopping left in the model (see :attr:`JobResult.kept`)."""
    from swets_train.callbacks import EarlyStopping

    for cb in getattr(trainer, "callbacks", ()):
        if isinstance(cb, EarlyStopping) and cb.restore_best_weights and cb.best_epoch is not None:
            value = cb.best
            return {
                "epoch": cb.best_epoch + 1,
                "monitor": cb.monitor,
                "value": None if value is None else float(value),
                "last": cb.best_epoch + 1 == epochs,
            }
    return None


def _loaded(
    p: Prepared, history: Any = (), checkpoint: str | None = None, conformal: Any = None
) -> LoadedJob:
    """The prepared job as a :class:`LoadedJob` (what its checkpoint will load as)."""
    return LoadedJob(
        spec=p.spec,
        model=p.model,
        scaler=p.scaler,
        history=list(history),
        checkpoint=checkpoint,
        static_encoder=p.static_encoder,
        conformal=conformal,
    )


def _write_outputs(
    p: Prepared, trainer: Any, result: JobResult, metadata: dict[str, Any], conformal: Any = None
) -> None:
    """The forecast CSV, the plot and the checkpoint, staged: all of them or none."""
    out, path = p.spec.output, p.spec.checkpoint_path
    job = _loaded(p, result.history, path, conformal)
    with StagedWrites() as staged:
        if out.forecast_csv:
            csv_path = staged.path(out.forecast_csv, option("output.forecast_csv"))
            fc = job.forecast(p.series, future=p.future)
            write_forecast_csv(fc, csv_path, name=out.forecast_csv)
        if out.plot:
            from swets_train.plot import plot_job

            where = staged.path(out.plot, option("output.plot"))
            plot_job(job, where, data=p.series, future=p.future)
        staging = staged.path(path, option("output.checkpoint"))
        try:
            if trainer is not None:
                trainer.save_checkpoint(staging, metadata=metadata)
            else:  # nothing was trained: the model as it is, and the scaler forecasts need
                from swets_core.checkpoint import save_checkpoint

                state = {} if p.scaler is None else {"scaler": p.scaler.state_dict()}
                save_checkpoint(staging, p.model, training_state=state, metadata=metadata)
        except OSError as exc:
            raise ConfigError(
                f"{option('output.checkpoint')}: cannot write {path}: {exc.strerror or exc}"
            ) from exc


@attrs.define
class JobBacktest:
    """What :func:`backtest_job` returns.

    Attributes:
        report: the :class:`~swets_train.BacktestReport` (the model under its name, then the naive
            and seasonal-naive baselines; metrics mae, rmse, smape, mase).
        spec: the job with its data roles resolved.
        season_length: the seasonal period of ``seasonal_naive`` and MASE.
        stride: rows between consecutive origins.
        result: the training run of a backtest without refitting that trained the job itself
            (:func:`run_job`'s result), else None.
        in_sample_folds: the folds whose origin falls inside the rows the model was trained on
            (0 with refitting; None for a given trained model, whose training rows are unknown).
    """

    report: Any
    spec: JobSpec
    season_length: int
    stride: int
    result: JobResult | None = None
    in_sample_folds: int | None = None

    def table(self, per_fold: bool = False) -> str:
        """The report's table (see :meth:`BacktestReport.table`)."""
        return self.report.table(per_fold=per_fold)


def backtest_job(
    spec: JobSpec | Mapping[str, Any],
    folds: int = 5,
    stride: int | None = None,
    refit: bool | int = False,
    *,
    trained: LoadedJob | None = None,
    data: Any = None,
    write: bool = False,
    progress: bool = False,
    log: Callable[[str], Any] | None = None,
    force: bool = False,
    levels: Any = None,
) -> JobBacktest:
    """Rolling-origin backtest of a job: ``folds`` forecast origins ``stride`` rows apart (default:
    the horizon), the last fold ending at the end of each series, next to the baselines.

    Which model forecasts:

    * ``refit=False``: one model for every fold: ``trained`` (a :class:`LoadedJob`, e.g. a
      checkpoint, with its scaler), or else the job trained as :func:`run_job` trains it, on its own
      train / validation split (``write`` saves its checkpoint and outputs). ``in_sample_folds``
      counts the folds whose origin lies inside that training split: keep it 0 by giving the job a
      test part (``data.test``) at least ``folds * stride`` rows long.
    * ``refit=True``: a fresh model of the job before every fold, trained on the rows before the
      fold's origin (split into training and validation rows as the job says, no test part).
    * ``refit=n`` (an int): a fresh model every ``n`` folds (``n >= folds``: once, on the rows before
      the first origin).

    Args:
        spec: the job (a JobSpec or its plain data).
        data: already loaded data instead of the spec's data source.
        progress: training progress on stderr.
        force: with ``write``, replace output files swets did not write (see :func:`run_job`).
        log: called with a line before each refit (``"fold 0: training ..."``).
        levels: prediction intervals' levels in percent (``(80, 95)``): the model's conformal
            intervals (from ``trained``'s calibration, the job's run, or with refitting each
            fold's model calibrated on its own validation windows) are scored with their
            coverage, width, pinball loss and CRPS.

    Raises:
        ConfigError: a bad argument, or a problem of the job.
    """
    check_count(folds, "folds", where="backtest_job")
    check_count(stride, "stride", optional=True, where="backtest_job")
    if not isinstance(refit, bool) and not (is_int(refit) and refit >= 1):
        raise ConfigError(f"backtest_job: refit must be a bool or an int >= 1, got {refit!r}")
    if refit and trained is not None:
        raise ConfigError("backtest_job: a trained model is not refitted; give trained= or refit=")
    spec = as_spec(spec)
    if levels is not None:
        levels = parse_levels(levels, "levels")
    result, in_sample, fit, encoder, conformal = None, None, None, None, None
    if refit:
        spec = for_model(spec)
        series, data_spec = load_series(spec, data)
        spec = attrs.evolve(spec, data=data_spec)
        history = series.split_future()[0]
        spec = resolve_lookback(spec, history)  # one lookback for every fold
        season = resolve_season_length(spec, history)
        fit_spec = attrs.evolve(spec, data=attrs.evolve(spec.data, test=0.0))  # train + validation

        def fit(train_data: Any, fold: int) -> Any:
            from swets_timeseries.series import as_collection

            if log is not None:
                rows = sum(len(s) for s in as_collection(train_data))
                log(f"fold {fold}: training {spec.model.name} on the {rows} rows before its origin")
            p = prepare(fit_spec, data=train_data)
            fit_prepared(p, progress=progress)
            if levels is None:
                return p.model, p.scaler, p.static_encoder
            return p.model, p.scaler, p.static_encoder, _calibration_of(p)

        # an untrained model of the job; the backtest replaces it with each fold's trained one
        model, encoder = _untrained(spec, history)
        scaler, in_sample = None, 0
    elif trained is not None:
        series, data_spec = load_series(spec, data)
        spec = attrs.evolve(spec, data=data_spec)
        model, scaler, season = trained.model, trained.scaler, trained.season_length
        encoder, conformal = trained.static_encoder, trained.conformal
    else:
        if write:
            check_job_outputs(spec, force=force)
        p = prepare(spec, data=data)
        result = run_job(p, data=data, progress=progress, write=write)
        spec, series, season = p.spec, p.series, p.season_length
        conformal = result.conformal
        model, scaler, encoder = p.model, p.scaler, p.static_encoder
    d = spec.data
    stride = d.horizon if stride is None else int(stride)
    from swets_train.backtest import backtest

    name, roles = spec.model.name, d.reading()
    options = {"folds": folds, "stride": stride, "refit": refit, "fit": fit, "metrics": METRICS}
    options["baselines"] = tuple(b for b in BASELINES if b != name)  # a baseline model is itself
    if levels is not None:
        if not refit and conformal is None:
            raise ConfigError(
                "levels: the model has no calibration (a checkpoint written before intervals "
                "existed, or a job without validation windows); retrain it with a validation split"
            )
        options.update(levels=levels, conformal=conformal)
    report = backtest(
        {name: model},
        series,
        scaler=scaler,
        static_encoder=encoder,
        season_length=season,
        **options,
        **roles,
    )
    if result is not None:
        in_sample = _in_sample_folds(report, series, p.splits.train.rows)
    return JobBacktest(report, spec, season, stride, result, in_sample)


def _calibration_of(p: Prepared) -> Any:
    """A refitted fold's calibration, which intervals need."""
    conformal = calibrate_prepared(p)
    if conformal is None:
        raise ConfigError(
            f"levels: each fold's model is calibrated on its validation windows, and "
            f"{option('data.val')} gives none"
        )
    return conformal


def _untrained(spec: JobSpec, history: Any) -> tuple[Any, Any]:
    """An untrained model of the job for ``history`` (its input geometry) and the encoder of its
    static covariates."""
    from swets_timeseries import StaticEncoder

    d = spec.data
    encoder = None
    if d.static_covariates:
        encoder = StaticEncoder(d.static_covariates).fit(history)
    known = d.known_columns
    model = build_model(
        spec,
        1 + len(d.covariates) + len(known),
        n_future_features=len(known),
        static_cardinalities=[] if encoder is None else encoder.cardinalities,
    )
    return model, encoder


def _in_sample_folds(report: Any, series: Any, train_rows: Mapping[str, tuple[int, int]]) -> int:
    """The folds of ``report`` with an origin at or before the last training row of its series."""
    import numpy as np

    last = {s.id: s.timestamps[train_rows[s.id][1] - 1] for s in series if s.id in train_rows}
    return int(
        sum(
            any(sid in last and np.datetime64(t) <= last[sid] for sid, t in origins.items())
            for origins in report.origins
        )
    )
