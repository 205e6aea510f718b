"""The ``swets`` commands of swets-train: train, evaluate, forecast, backtest, plot and demo.

They are added to the core ``swets`` console script through the ``swets_register_commands`` hook
(:func:`register_commands`). Every problem is raised as a :class:`~swets_core.errors.SwetsError`, which
``swets`` prints as one ``swets: error: ...`` line with exit code 1 (``--debug`` shows the traceback).
See docs/cli.md.
"""

from __future__ import annotations

import argparse
import difflib
import os
from typing import Any

from swets_core.errors import ConfigError
from swets_train._console import forecast_table, say, summary
from swets_train.demo import DEMO_DIR, run_demo
from swets_train.demo import demo_spec as demo_spec
from swets_train.jobs.spec import CLI_OPTIONS, DATA_OPTIONS, cli_spelling

__all__ = ["register_commands", "spec_from_args"]


# -- options shared by the commands ----------------------------------------------------------------
def _add_force(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--force",
        action="store_true",
        help="replace output files swets did not write (never the data or the checkpoint read)",
    )


def _add_levels(p: Any) -> None:
    p.add_argument(
        "--levels",
        metavar="L1,L2",
        help="conformal prediction intervals at these levels in percent (80,95), from the "
        "model's calibration on its validation windows; tables add coverage, width, pinball "
        "and CRPS",
    )


def _levels(args: argparse.Namespace) -> Any:
    """``--levels`` parsed (None when not given)."""
    from swets_train.conformal import parse_levels

    value = getattr(args, "levels", None)
    return None if value is None else parse_levels(value, "--levels")


def _dest(flag: str) -> str:
    return flag[2:].replace("-", "_")


def _add_option(g: Any, flag: str, kind: Any, metavar: str | None, text: str) -> None:
    if kind is bool:
        g.add_argument(flag, action="store_true", default=None, help=text)
    elif kind is False:  # a flag that sets the key to false
        g.add_argument(flag, action="store_const", const=False, default=None, help=text)
    else:
        g.add_argument(flag, type=kind, metavar=metavar, help=text)


def _add_data_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data")
    g.add_argument(
        "--data",
        metavar="NAME|PATH",
        help="a bundled data set (electricity, msft) or a CSV / Parquet file",
    )
    for flag, _, kind, metavar, text in DATA_OPTIONS:
        _add_option(g, flag, kind, metavar, text)


def _add_spec_options(p: argparse.ArgumentParser) -> None:
    _add_data_options(p)
    g = p.add_argument_group("job")
    g.add_argument(
        "--config", metavar="FILE.toml", help="a job file; command-line options override it"
    )
    for flag, key, kind, metavar, text in CLI_OPTIONS:
        if not key.startswith("output."):
            _add_option(g, flag, kind, metavar, text)
    g.add_argument("--no-early-stopping", action="store_true", help="train the whole budget")
    g.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="any job key, e.g. model.layer_width=128 or training.scheduler_options.factor=0.5 "
        "(VALUE is read as TOML, else as text); repeatable",
    )


def _data_source(value: str) -> dict[str, str]:
    from swets_timeseries import dataset_names

    names = dataset_names()
    if value in names:
        return {"dataset": value}
    looks_like_file = os.sep in value or "." in os.path.basename(value) or os.path.exists(value)
    if looks_like_file:
        return {"path": value}
    close = difflib.get_close_matches(value, names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ConfigError(
        f"--data: {value!r} is neither a bundled data set ({', '.join(names)}) nor a file{hint}"
    )


def _data_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The ``[data]`` keys the data options of the command line set."""
    changes: dict[str, Any] = {}
    if getattr(args, "data", None) is not None:
        changes.update(_data_source(args.data))
    for flag, key, *_ in DATA_OPTIONS:
        value = getattr(args, _dest(flag), None)
        if value is None:
            continue
        if key in ("data.covariates", "data.known_covariates", "data.static_covariates"):
            value = [c.strip() for c in value.split(",") if c.strip()]
        changes[key.split(".", 1)[1]] = value
    return changes


def _apply_data_options(d: dict[str, Any], args: argparse.Namespace) -> None:
    data = d.setdefault("data", {})
    if not isinstance(data, dict):
        raise ConfigError(f"[data] must be a table of keys, got {type(data).__name__}")
    changes = _data_changes(args)
    if "dataset" in changes or "path" in changes:
        for key in ("dataset", "path", "in_memory"):
            data.pop(key, None)
    data.update(changes)


def spec_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The plain-data job of ``swets train`` / ``swets backtest``: the ``--config`` file, then the
    options given on the command line, then the ``--set`` keys (later ones win)."""
    from swets_train.jobs import parse_value, read_job_file, set_dotted

    d: dict[str, Any] = {}
    if getattr(args, "config", None):
        d = read_job_file(args.config, "--config")
    _apply_data_options(d, args)
    for section in ("model", "training", "output"):
        if section in d and not isinstance(d[section], dict):
            raise ConfigError(
                f"[{section}] must be a table of keys, got {type(d[section]).__name__}"
            )
    for flag, key, *_ in CLI_OPTIONS:
        value = getattr(args, _dest(flag), None)
        if value is not None:
            set_dotted(d, key, value)
    if args.max_steps is not None and args.epochs is None:
        d["training"]["epochs"] = "none"  # --max-steps alone: a step budget
    if args.no_early_stopping:
        d.setdefault("training", {})["patience"] = "none"
    for item in args.set:
        if "=" not in item:
            raise ConfigError(f"--set {item}: expected SECTION.KEY=VALUE")
        key, raw = item.split("=", 1)
        try:
            set_dotted(d, key.strip(), parse_value(raw))
        except ConfigError as exc:
            raise ConfigError(f"--set {item}: {exc}") from None
    return d


def _inputs(job: Any) -> list[tuple[str, str]]:
    """The files a command on a checkpoint reads: the checkpoint and the data file."""
    inputs = [(job.checkpoint, "the checkpoint")]
    if job.spec.data.path:
        inputs.append((job.spec.data.path, "the data"))
    return inputs


# -- train ------------------------------------------------------------------------------------------
def _conf_train(p: argparse.ArgumentParser) -> None:
    _add_spec_options(p)
    g = p.add_argument_group("output")
    for flag, key, kind, metavar, text in CLI_OPTIONS:
        if key.startswith("output."):
            _add_option(g, flag, kind, metavar, text)
    _add_force(g)
    _add_levels(g)
    g.add_argument("--no-progress", action="store_true", help="no progress output")
    g.add_argument(
        "--dask",
        nargs="?",
        const="",
        default=None,
        metavar="ADDRESS",
        help="train data-parallel on Dask: a local cluster, or the scheduler at ADDRESS "
        "(needs swets-dask)",
    )


def dask_component(kind: str, name: str) -> Any:
    """The factory swets-dask registered as ``name`` in ``kind`` (``executors``/``dask``,
    ``functions``/``dask_runner``), for a command's ``--dask`` option.

    Raises:
        ConfigError: swets-dask is not installed, or failed to load (its error).
    """
    from swets_core import registry
    from swets_core.errors import UnknownComponentError

    try:
        return registry.get(kind, name)
    except UnknownComponentError:
        failed = [r for r in registry.plugins() if r.distribution == "swets-dask" and r.error]
        if failed:
            raise ConfigError(f"--dask: swets-dask failed to load: {failed[0].error}") from None
        raise ConfigError(
            '--dask needs swets-dask, which is not installed: pip install "swets[dask]"'
        ) from None


def _dask_executor(address: str | None) -> Any:
    """The data-parallel executor of swets-dask, found through the registry."""
    return dask_component("executors", "dask")(address=address)


def _inputs_line(d: Any) -> str:
    """The model's inputs besides the target, for the first line of a command."""
    parts = []
    if d.covariates:
        parts.append(f"past covariates {', '.join(d.covariates)}")
    known = list(d.known_covariates)
    calendar = list(d.calendar) if d.calendar != "auto" else []
    if d.holidays:
        calendar.append("holiday")
    if known or calendar:
        parts.append("known covariates " + ", ".join(known + [f"calendar {c}" for c in calendar]))
    if d.static_covariates:
        parts.append(f"static covariates {', '.join(d.static_covariates)}")
    return "; ".join(parts)


def _run_train(args: argparse.Namespace) -> int:
    from swets_train.jobs import JobSpec, check_job_outputs, prepare, run_job

    spec = JobSpec.from_dict(spec_from_args(args))
    levels = _levels(args)
    check_job_outputs(spec, force=args.force)  # before the data is read or anything trains
    executor = None if args.dask is None else _dask_executor(args.dask or None)
    prepared = prepare(spec)
    d, t = prepared.spec.data, prepared.spec.training
    budget = []
    if t.epochs is not None:
        budget.append(f"up to {t.epochs} epochs")
    if t.max_steps is not None:
        budget.append(f"up to {t.max_steps} steps")
    where = "" if args.dask is None else f" on Dask ({args.dask or 'local cluster'})"
    config = prepared.model.config() if callable(getattr(prepared.model, "config", None)) else {}
    norm = ", instance normalization" if config.get("instance_norm") else ""
    say(
        f"training {spec.model.name} on {d.label}{where}: lookback {d.lookback}, horizon "
        f"{d.horizon}{norm}, {' and '.join(budget)}"
    )
    inputs = _inputs_line(d)
    if inputs:
        say(f"inputs: {inputs}")
    for note in prepared.notes:
        say(f"note: {note}")
    result = run_job(prepared, progress=not args.no_progress, executor=executor, levels=levels)
    if result.windows:
        say("windows: " + ", ".join(f"{n} {split}" for split, n in result.windows.items()))
    say(summary(result))
    say("")
    say(result.table())
    say("")
    if result.checkpoint:
        trained = "" if result.epochs else " (the model as it is: nothing was trained)"
        say(f"checkpoint: {result.checkpoint}{trained}")
    out = result.spec.get("output", {})
    if out.get("forecast_csv"):
        say(f"forecast: {out['forecast_csv']}")
    if out.get("plot"):
        say(f"plot: {out['plot']}")
    return 0


# -- commands on a checkpoint -----------------------------------------------------------------------
def _load(args: argparse.Namespace) -> Any:
    from swets_train.jobs import load_job

    return load_job(args.checkpoint).with_data(**_data_changes(args))


def _conf_checkpoint(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="a checkpoint written by swets train")
    _add_data_options(p)


def _conf_evaluate(p: argparse.ArgumentParser) -> None:
    _conf_checkpoint(p)
    p.add_argument(
        "--stride",
        type=int,
        default=1,
        metavar="N",
        help="with --data: score every N-th window (1)",
    )
    _add_levels(p)


def _run_evaluate(args: argparse.Namespace) -> int:
    from swets_train.jobs import format_table

    job = _load(args)
    whole = args.data is not None
    if args.stride < 1:
        raise ConfigError(f"--stride must be >= 1, got {args.stride}")
    metrics, baselines = job.evaluate(whole=whole, stride=args.stride, levels=_levels(args))
    d = job.spec.data
    what = "every window" if whole else "the validation and test splits of training"
    say(
        f"{job.spec.model.name} from {job.checkpoint} on {d.label} ({what}; lookback {d.lookback}, "
        f"horizon {d.horizon}, season length {job.season_length})"
    )
    say("")
    say(format_table(metrics, baselines, job.spec.model.name))
    return 0


def _conf_forecast(p: argparse.ArgumentParser) -> None:
    _conf_checkpoint(p)
    p.add_argument(
        "--future",
        metavar="FILE",
        help="the known covariates over the horizon (a CSV or Parquet file with the timestamp, "
        "the id of a panel and the job's known covariates); default: the data's rows after its "
        "last target value",
    )
    p.add_argument("--output", metavar="FILE.csv", help="write the forecast to a CSV file")
    _add_levels(p)
    _add_force(p)


def _run_forecast(args: argparse.Namespace) -> int:
    from swets_train.jobs import write_forecast_csv
    from swets_train.outputs import Output, StagedWrites, check_outputs

    levels = _levels(args)
    job = _load(args)
    if args.output:
        out = Output(args.output, "forecast_csv", "--output")
        inputs = _inputs(job) + ([(args.future, "--future")] if args.future else [])
        check_outputs([out], force=args.force, inputs=inputs)
    fc = job.forecast(future=args.future, levels=levels)
    d = job.spec.data
    if args.output:
        with StagedWrites() as staged:
            write_forecast_csv(fc, staged.path(args.output, "--output"), name=args.output)
        say(f"wrote {len(fc)} forecast(s) of {d.horizon} steps of {d.target!r} to {args.output}")
        return 0
    say(f"forecast of {d.target!r} by {job.spec.model.name} on {d.label}, {d.horizon} steps:")
    say(forecast_table(fc))
    return 0


def _conf_plot(p: argparse.ArgumentParser) -> None:
    _conf_checkpoint(p)
    p.add_argument("--output", required=True, metavar="FILE.png", help="the PNG file to write")
    p.add_argument(
        "--windows", type=int, default=4, metavar="N", help="consecutive forecasts to draw (4)"
    )
    p.add_argument(
        "--series", metavar="ID", help="which series of a panel to draw (default: the first)"
    )
    _add_force(p)


def _run_plot(args: argparse.Namespace) -> int:
    from swets_train.outputs import Output, StagedWrites, check_outputs
    from swets_train.plot import plot_job, require_matplotlib

    require_matplotlib()  # before reading anything
    job = _load(args)
    check_outputs([Output(args.output, "plot", "--output")], force=args.force, inputs=_inputs(job))
    with StagedWrites() as staged:
        where = staged.path(args.output, "--output")
        plot_job(job, where, windows=args.windows, series_id=args.series)
    say(f"wrote {args.output}")
    return 0


# -- backtest ---------------------------------------------------------------------------------------
def _conf_backtest(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "checkpoint",
        nargs="?",
        metavar="CHECKPOINT",
        help="a checkpoint written by swets train (or give --model / --config to train one)",
    )
    _add_spec_options(p)
    g = p.add_argument_group("backtest")
    g.add_argument("--folds", type=int, default=5, metavar="N", help="forecast origins (5)")
    g.add_argument(
        "--stride", type=int, metavar="N", help="rows between origins (default: the horizon)"
    )
    g.add_argument(
        "--refit",
        action="store_true",
        help="train a fresh model on the data before every fold's origin",
    )
    g.add_argument("--per-fold", action="store_true", help="a row per fold as well")
    _add_levels(g)
    g.add_argument("--no-progress", action="store_true", help="no training progress output")


def _run_backtest(args: argparse.Namespace) -> int:
    from swets_train.jobs import JobSpec, backtest_job

    if args.folds < 1:
        raise ConfigError(f"--folds must be >= 1, got {args.folds}")
    if args.stride is not None and args.stride < 1:
        raise ConfigError(f"--stride must be >= 1, got {args.stride}")
    levels = _levels(args)
    if args.checkpoint is not None:
        trained = [a for a in ("model", "config") if getattr(args, a) is not None]
        if trained:
            raise ConfigError(
                f"give a CHECKPOINT or --{trained[0]}, not both (the checkpoint names its model)"
            )
        job = _load(args)
        overrides = spec_from_args(args)
        fixed = sorted({"lookback", "horizon"} & set(overrides.get("data", {})))
        if fixed:
            raise ConfigError(
                f"data.{fixed[0]}: the checkpoint's model has a fixed lookback and horizon "
                f"({job.spec.data.lookback}, {job.spec.data.horizon})"
            )
        changed = [s for s in ("model", "training") if overrides.get(s)]
        if changed and not args.refit:
            key = next(iter(overrides[changed[0]]))
            raise ConfigError(
                f"{changed[0]}.{key}: training options apply when the backtest trains; add "
                "--refit to retrain the checkpoint's job before every fold"
            )
        merged = job.spec.to_dict()
        for section, values in overrides.items():
            merged.setdefault(section, {}).update(values)
        spec = JobSpec.from_dict(merged)
    elif args.model is not None or args.config is not None:
        spec = JobSpec.from_dict(spec_from_args(args))
        job = None
    else:
        raise ConfigError("give a CHECKPOINT, or --model NAME / --config FILE to train one")

    name, label = spec.model.name, spec.data.label
    if job is None or args.refit:
        what = "before every fold" if args.refit else "once, on the rows before the first fold"
        say(f"backtest of {name} on {label}: training {what}")
        refit: bool | int = True if args.refit else args.folds
        bt = backtest_job(
            spec,
            args.folds,
            args.stride,
            refit,
            progress=not args.no_progress,
            log=say,
            levels=levels,
        )
    else:
        say(f"backtest of {name} from {job.checkpoint} on {label}")
        bt = backtest_job(spec, args.folds, args.stride, trained=job, levels=levels)
    report, d = bt.report, bt.spec.data
    first = min(str(t) for o in report.origins[:1] for t in o.values())
    say(
        f"{report.folds} folds {bt.stride} rows apart, horizon {d.horizon}, first origin "
        f"{first[:19]}Z, season length {bt.season_length}"
    )
    say("")
    say(bt.table(per_fold=args.per_fold))
    return 0


# -- demo -------------------------------------------------------------------------------------------
def _conf_demo(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--quick", action="store_true", help="a small model and a few steps (seconds, for tests)"
    )
    p.add_argument(
        "--output-dir", default=DEMO_DIR, metavar="DIR", help=f"where to write ({DEMO_DIR})"
    )
    p.add_argument("--no-progress", action="store_true", help="no training progress output")
    _add_force(p)


# -- the hook ---------------------------------------------------------------------------------------
def _speaking_cli(run: Any) -> Any:
    """``run`` with messages that suggest an option spelling it the command line's way."""

    def wrapper(args: argparse.Namespace) -> int:
        with cli_spelling():
            return int(run(args) or 0)

    return wrapper


def register_commands(cli: Any) -> None:
    """Add train, evaluate, forecast, backtest, plot and demo to the ``swets`` command."""
    for name, run, configure, text in (
        (
            "train",
            _run_train,
            _conf_train,
            "train a model on bundled data or a file, print its metrics next to the naive and "
            "seasonal-naive baselines, save a checkpoint",
        ),
        (
            "evaluate",
            _run_evaluate,
            _conf_evaluate,
            "metrics of a checkpoint next to the baselines, on its own splits or on other data",
        ),
        (
            "forecast",
            _run_forecast,
            _conf_forecast,
            "forecast past the end of the data from a checkpoint, to the terminal or a CSV",
        ),
        (
            "backtest",
            _run_backtest,
            _conf_backtest,
            "rolling-origin backtest of a checkpoint or of a model trained per fold",
        ),
        (
            "plot",
            _run_plot,
            _conf_plot,
            "a PNG of a checkpoint's forecasts against the actuals, its forecast beyond the data, "
            "and its training history",
        ),
        (
            "demo",
            run_demo,
            _conf_demo,
            "the main job end to end: train on bundled data, compare with baselines, save, "
            "reload, forecast, backtest, plot",
        ),
    ):
        cli.add_command(name, _speaking_cli(run), help=text, configure=configure)
