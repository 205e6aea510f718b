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

The package, one module per concern: :mod:`~swets_train.jobs.spec` (the specification and its
validation), with :mod:`~swets_train.jobs.checks` (the checks of its values),
:mod:`~swets_train.jobs.options` (its sections, the command-line options that set its keys and how a
message names a key) and :mod:`~swets_train.jobs.keys` (dotted keys, job files, command-line
values); :mod:`~swets_train.jobs.sources` (reading the data) with
:mod:`~swets_train.jobs.sampling` (what the sampling interval implies: default calendar features,
seasonal period),
:mod:`~swets_train.jobs.prepare` (the one :func:`prepare`, from a job or from data),
:mod:`~swets_train.jobs.evaluate` (scores against the baselines), :mod:`~swets_train.jobs.report`
(:class:`JobResult`, tables, the forecast CSV), :mod:`~swets_train.jobs.run` (:func:`run_job`,
:func:`backtest_job`) and :mod:`~swets_train.jobs.loaded` (:func:`load_job`). Every public name is
importable from ``swets_train.jobs``.
"""

from __future__ import annotations

from swets_core.lazy import all_exports, lazy_exports

# imported on first use: discovering plugins imports this package (see swets_core.lazy). The one
# list of each module's public names: every module takes its __all__ from it (exports_of).
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "swets_train.jobs.evaluate": (
            "BASELINES",
            "METRICS",
            "evaluate_prepared",
            "evaluate_windows",
            "mase_scales",
            "score_splits",
        ),
        "swets_train.jobs.keys": (
            "apply_overrides",
            "get_dotted",
            "parse_value",
            "read_job_file",
            "set_dotted",
        ),
        "swets_train.jobs.loaded": ("LoadedJob", "load_job"),
        "swets_train.jobs.options": (
            "CLI_OPTIONS",
            "DATA_OPTIONS",
            "SECTIONS",
            "cli_spelling",
            "option",
        ),
        "swets_train.jobs.prepare": (
            "Prepared",
            "build_model",
            "check_covariates",
            "default_lookback",
            "prepare",
            "resolve_budget",
            "resolve_lookback",
            "resolve_season_length",
            "scaler_from_state",
            "supports",
            "trainable",
        ),
        "swets_train.jobs.report": ("JobResult", "format_table", "write_forecast_csv"),
        "swets_train.jobs.run": (
            "JobBacktest",
            "backtest_job",
            "calibrate_prepared",
            "check_job_outputs",
            "fit_prepared",
            "job_outputs",
            "run_job",
            "run_prepared",
        ),
        "swets_train.jobs.sampling": ("default_calendar", "default_season_length"),
        "swets_train.jobs.sources": ("load_series", "read_future"),
        "swets_train.jobs.spec": (
            "DataSpec",
            "JobSpec",
            "ModelSpec",
            "OutputSpec",
            "TrainingSpec",
            "as_spec",
        ),
    },
)

__all__ = all_exports(__name__)
