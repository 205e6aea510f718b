"""Entry point of swets-dask in the ``swets`` group: the ``swets sweep`` command, the executor
``dask`` (data-parallel training, what ``swets train --dask`` uses) and the function
``dask_runner`` (independent tasks such as an ensemble's members, what ``swets benchmark --dask``
uses)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from swets_core import hookimpl
from swets_core.errors import ConfigError

_SWEEP_HELP = "train many configurations of a job in parallel on Dask and rank them"


def parse_grid(items: list[str] | None) -> dict[str, list[Any]] | None:
    """``["model.hidden_size=16,32", "training.lr=1e-3,3e-3"]`` -> ``{key: [values]}``.

    Raises:
        ConfigError: an item without ``=``, an empty value list, or a key given twice.
    """
    from swets_train.jobs import parse_value

    if not items:
        return None
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(
                f"--grid {item!r}: write KEY=V1,V2,... (e.g. --grid model.hidden_size=16,32)"
            )
        if key in grid:
            raise ConfigError(f"--grid: {key!r} is given twice")
        parts = [v for v in values.split(",") if v.strip()]
        if not parts:
            raise ConfigError(f"--grid {item!r}: no value after '='")
        grid[key] = [parse_value(v) for v in parts]
    return grid


def _configure_sweep(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="the base job: a TOML file with [data], [model], [training]")
    p.add_argument(
        "--grid",
        action="append",
        metavar="KEY=V1,V2",
        help="values of one dotted key (repeat for more keys; every combination runs)",
    )
    p.add_argument(
        "--random", type=int, metavar="N", help="random search: N combinations of the grid"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random draw (default 0)")
    p.add_argument("--per-series", action="store_true", help="one model per series of the data")
    p.add_argument(
        "--address", help="scheduler of an existing Dask cluster (default: a local cluster)"
    )
    p.add_argument(
        "--workers", type=int, default=2, help="worker processes of the local cluster (default 2)"
    )
    p.add_argument(
        "--output", default="runs/sweep", help="directory of the results (default runs/sweep)"
    )
    p.add_argument(
        "--metric",
        default="mase",
        choices=("mae", "rmse", "smape", "mase"),
        help="what ranks the configurations (default mase)",
    )
    p.add_argument(
        "--split",
        default="validation",
        choices=("validation", "test"),
        help="the split the metric is taken on (default validation)",
    )
    p.add_argument("--retries", type=int, default=3, help="retries of a task that errored")
    p.add_argument("--serial", action="store_true", help="run in this process, one at a time")
    p.add_argument(
        "--force", action="store_true", help="replace files in --output swets did not write"
    )
    p.add_argument("--quiet", action="store_true", help="no per-configuration progress lines")


def _run_sweep(args: argparse.Namespace) -> int:
    from swets_train.jobs import cli_spelling

    with cli_spelling():  # messages name options as the command line spells them
        return _sweep(args)


def _sweep(args: argparse.Namespace) -> int:
    from swets_dask.sweep import sweep
    from swets_train.jobs import read_job_file

    spec = read_job_file(args.config, "swets sweep")
    grid = parse_grid(args.grid)
    result = sweep(
        spec,
        grid,
        n_random=args.random,
        seed=args.seed,
        per_series=args.per_series,
        address=args.address,
        n_workers=args.workers,
        output_dir=args.output,
        metric=args.metric,
        split=args.split,
        retries=args.retries,
        serial=args.serial,
        progress=not args.quiet,
        force=args.force,
    )
    print(result.table())
    try:
        best = result.best
    except Exception as exc:
        print(f"swets: error: {exc}", file=sys.stderr)
        return 1
    print(
        f"\nbest: configuration {best['index']} {best['config']}  "
        f"{result.split} {result.metric} {result.score(best):.6g}  {best['checkpoint']}"
    )
    print(f"table: {os.path.join(result.output_dir, 'sweep.csv')}")
    if result.failed:
        for r in result.failed:
            print(
                f"failed: configuration {r['index']} {r['config']}: {r['error']}", file=sys.stderr
            )
        return 1
    return 0


@hookimpl
def swets_register_commands(cli: Any) -> None:
    """Add ``swets sweep``."""
    cli.add_command("sweep", _run_sweep, help=_SWEEP_HELP, configure=_configure_sweep)


@hookimpl
def swets_register_executors(register: Any) -> None:
    """Register ``dask``: data-parallel training on Dask workers."""
    from swets_dask.dataparallel import DataParallel

    register("dask", DataParallel, doc="Data-parallel training on Dask workers (replicas).")


@hookimpl
def swets_register_functions(register: Any) -> None:
    """Register ``dask_runner``: independent tasks (an ensemble's members) on Dask."""
    from swets_dask.tasks import dask_runner

    register(
        "dask_runner",
        dask_runner,
        doc="A runner of independent tasks (ensemble members) on a Dask cluster.",
    )
