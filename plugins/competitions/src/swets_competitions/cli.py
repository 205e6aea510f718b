"""``swets benchmark``: an ensemble trained with the N-BEATS protocol on a competition, scored next
to Theta, Naive2 and the published numbers (:mod:`swets_competitions.benchmark`)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from swets_core.errors import ConfigError

__all__ = ["register_commands"]

HELP = (
    "train an ensemble with the N-BEATS protocol on M1, M3, Tourism or M4, print its accuracy "
    "and CPU time next to Theta, Naive2 and the published numbers, write a CSV"
)


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers separated by commas, got {text!r}"
        ) from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(
            f"expected integers >= 1 separated by commas, got {text!r}"
        )
    return values


def _name_list(text: str) -> list[str]:
    values = [v.strip() for v in text.split(",") if v.strip()]
    if not values:
        raise argparse.ArgumentTypeError(f"expected names separated by commas, got {text!r}")
    return values


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "dataset",
        nargs="?",
        metavar="DATASET",
        help="m1, m3, tourism or m4 (or --dataset)",
    )
    p.add_argument("--dataset", dest="dataset_option", metavar="NAME", help="the same as DATASET")
    p.add_argument(
        "--subset", default="all", help="yearly, quarterly, monthly, other... or all (default)"
    )
    p.add_argument("--m4-path", metavar="PATH", help="M4: a .tsf file, or a directory of them")
    p.add_argument("--m4-test", metavar="PATH", help="M4: the test values (.tsf or the M4 CSV)")
    g = p.add_argument_group("the ensemble")
    g.add_argument(
        "--preset",
        default="cpu",
        choices=("cpu", "paper"),
        help="cpu: settings for 30 minutes on 2 cores per subset (default); paper: as published",
    )
    g.add_argument("--model", metavar="NAME", help="the members' registered model (nbeats)")
    g.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a member model option (repeat): --set layer_width=512 --set num_blocks=30",
    )
    g.add_argument(
        "--lookbacks", type=_int_list, metavar="K,K", help="member lookbacks in horizons (2,3,4)"
    )
    g.add_argument("--losses", type=_name_list, metavar="NAME,NAME", help="member losses")
    g.add_argument("--repeats", type=int, metavar="N", help="seeds per (lookback, loss)")
    g.add_argument("--members", type=int, metavar="N", help="keep the first N members")
    g.add_argument("--combine", default="median", choices=("median", "mean"))
    g.add_argument("--seed", type=int, default=0, help="the first member seed (0)")
    t = p.add_argument_group("training")
    t.add_argument("--steps", type=int, metavar="N", help="optimizer steps per member")
    t.add_argument("--batch-size", type=int, metavar="N", help="windows per step")
    t.add_argument(
        "--history-size", type=float, metavar="L_H", help="cuts in the last L_H * H points"
    )
    t.add_argument("--lr", type=float, help="Adam's learning rate")
    t.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="members trained at once in N processes (1); each gets one BLAS thread unless "
        "OPENBLAS_NUM_THREADS/OMP_NUM_THREADS/MKL_NUM_THREADS is set",
    )
    t.add_argument(
        "--dask",
        nargs="?",
        const="",
        default=None,
        metavar="ADDRESS",
        help="train the members on Dask: a local cluster of --workers processes, or the "
        "scheduler at ADDRESS (needs swets-dask)",
    )
    o = p.add_argument_group("output")
    o.add_argument(
        "--output", metavar="CSV", help="the table as CSV (default benchmark-DATASET.csv)"
    )
    o.add_argument(
        "--save-dir", metavar="DIR", help="save each subset's ensemble as DIR/DATASET-SUBSET.swets"
    )
    o.add_argument(
        "--force",
        action="store_true",
        help="replace output files swets did not write",
    )
    o.add_argument("--no-progress", action="store_true", help="no progress lines")


def _dask_runner(address: str | None, workers: int) -> Any:
    """The Dask runner of swets-dask, found through the registry (as ``swets train --dask`` finds
    the ``dask`` executor)."""
    from swets_train.cli import dask_component

    return dask_component("functions", "dask_runner")(address=address, n_workers=workers)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for option, key in (
        ("steps", "steps"),
        ("batch_size", "batch_size"),
        ("history_size", "history_size"),
        ("lr", "lr"),
        ("repeats", "repeats"),
    ):
        value = getattr(args, option)
        if value is not None:
            if key != "history_size" and key != "lr" and value < 1:
                raise ConfigError(f"--{option.replace('_', '-')} must be >= 1, got {value}")
            if key in ("history_size", "lr") and not value > 0:
                raise ConfigError(f"--{option.replace('_', '-')} must be > 0, got {value}")
            out[key] = value
    if args.lookbacks is not None:
        out["lookbacks"] = tuple(args.lookbacks)
    if args.losses is not None:
        out["losses"] = tuple(args.losses)
    return out


def _member_config(items: list[str]) -> dict[str, Any]:
    from swets_train.jobs import parse_value

    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: write KEY=VALUE (e.g. --set layer_width=512)")
        if key in ("lookback", "horizon", "seed", "rng"):
            raise ConfigError(
                f"--set {key}: the benchmark sets each member's {key} (use --lookbacks, --seed)"
            )
        out[key] = parse_value(value)
    return out


def _run(args: argparse.Namespace) -> int:
    from swets_competitions.benchmark import run_benchmark
    from swets_competitions.results import BLAS_THREAD_VARIABLES
    from swets_core.checkpoint import save_checkpoint
    from swets_train.outputs import Output, StagedWrites, check_outputs

    dataset = args.dataset or args.dataset_option
    if args.dataset and args.dataset_option and args.dataset != args.dataset_option:
        raise ConfigError(
            f"DATASET {args.dataset!r} and --dataset {args.dataset_option!r} disagree; give one"
        )
    if not dataset:
        raise ConfigError("name the data set: swets benchmark m3 (m1, m3, tourism or m4)")
    dataset = dataset.lower()
    if args.workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {args.workers}")
    output = args.output or f"benchmark-{dataset}.csv"
    outputs = [Output(output, "benchmark_csv", "--output")]
    from swets_competitions.datasets import subsets

    chosen = list(subsets(dataset)) if args.subset == "all" else [args.subset.lower()]
    if args.save_dir:
        for sub in chosen:
            outputs.append(
                Output(
                    os.path.join(args.save_dir, f"{dataset}-{sub}.swets"),
                    "checkpoint",
                    "--save-dir",
                )
            )
    inputs = [(p, "M4 data") for p in (args.m4_path, args.m4_test) if p]
    check_outputs(outputs, force=args.force, inputs=inputs)
    if args.workers > 1 and not any(v in os.environ for v in BLAS_THREAD_VARIABLES):
        for v in BLAS_THREAD_VARIABLES:  # the worker processes inherit these
            os.environ[v] = "1"
    runner = None
    if args.dask is not None:
        runner = _dask_runner(args.dask or None, args.workers)

    def on_subset(result: Any, sub: str, ensemble: Any) -> None:
        with StagedWrites() as staged:
            with open(staged.path(output, "--output"), "w", encoding="utf-8") as fh:
                fh.write(result.to_csv())
            if args.save_dir:
                path = os.path.join(args.save_dir, f"{dataset}-{sub}.swets")
                save_checkpoint(
                    staged.path(path, "--save-dir"),
                    ensemble,
                    metadata={
                        "benchmark": {"dataset": dataset, "subset": sub, **result.settings[sub]}
                    },
                )

    result = run_benchmark(
        dataset,
        "all" if args.subset == "all" else args.subset,
        preset=args.preset,
        model=args.model,
        config=_member_config(args.set),
        members=args.members,
        overrides=_overrides(args),
        combine=args.combine,
        seed=args.seed,
        workers=args.workers,
        runner=runner,
        progress=not args.no_progress,
        m4_path=args.m4_path,
        m4_test=args.m4_test,
        on_subset=on_subset,
    )
    # the last write adds the average and the load at the end
    with (
        StagedWrites() as staged,
        open(staged.path(output, "--output"), "w", encoding="utf-8") as fh,
    ):
        fh.write(result.to_csv())
    print(result.table())
    print()
    print(result.machine_line())
    print(f"table: {output}")
    if args.save_dir:
        print(f"ensembles: {os.path.join(args.save_dir, f'{dataset}-*.swets')}")
    sys.stdout.flush()
    return 0


def register_commands(cli: Any) -> None:
    """Add ``swets benchmark``."""
    cli.add_command("benchmark", _run, help=HELP, configure=_configure)
