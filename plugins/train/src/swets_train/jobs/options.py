"""The sections of a job and the command-line options that set its keys.

The command-line options that set one key each are listed once, in :data:`CLI_OPTIONS` and
:data:`DATA_OPTIONS`; a message that suggests an option names it with :func:`option`, which spells
it the command line's way (``--id-column store``) inside :func:`cli_spelling` (the ``swets``
commands run in it) and the job's way (``data.id_column='store'``) everywhere else.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from swets_core.lazy import exports_of

__all__ = [*exports_of(__name__), "spelling_cli"]

SECTIONS = ("data", "model", "training", "output")

CLI_OPTIONS: tuple[tuple[str, str, Any, str | None, str], ...] = (
    # flag, job key, type (bool: a flag without a value), metavar, help
    ("--model", "model.name", str, "NAME", "a registered model (see `swets list models`)"),
    ("--lookback", "data.lookback", int, "N", "input rows per window (from the season)"),
    ("--horizon", "data.horizon", int, "N", "rows to forecast"),
    ("--val", "data.val", float, "F", "validation fraction (0.15)"),
    ("--test", "data.test", float, "F", "test fraction (0.15)"),
    ("--scaler", "data.scaler", str, "NAME", "standard (default), minmax, robust or none"),
    ("--scaler-per-series", "data.scaler_per_series", bool, None, "one scaler fit per series"),
    (
        "--no-instance-norm",
        "data.instance_norm",
        False,
        None,
        "no instance normalization (RevIN) inside the model",
    ),
    ("--epochs", "training.epochs", int, "N", "epoch budget (from the data's size)"),
    ("--max-steps", "training.max_steps", int, "N", "optimizer-step budget"),
    ("--loss", "training.loss", str, "NAME", "a registered loss (mse)"),
    ("--optimizer", "training.optimizer", str, "NAME", "a registered optimizer (adam)"),
    ("--lr", "training.lr", float, "X", "learning rate (1e-3)"),
    ("--batch-size", "training.batch_size", int, "N", "windows per batch (64)"),
    ("--seed", "training.seed", int, "N", "seed of everything random (0)"),
    ("--patience", "training.patience", int, "N", "early-stopping patience (from the data)"),
    ("--scheduler", "training.scheduler", str, "NAME", "a registered LR scheduler"),
    ("--season-length", "training.season_length", int, "N", "seasonal period (derived)"),
    # swets train only
    ("--output", "output.checkpoint", str, "FILE", "the checkpoint (runs/<model>.swets)"),
    ("--plot", "output.plot", str, "FILE.png", "also write a plot (needs matplotlib)"),
    ("--forecast-csv", "output.forecast_csv", str, "FILE.csv", "also the forecast past the end"),
)
"""The command-line options that set one job key each (``swets train``, ``swets backtest``)."""

DATA_OPTIONS: tuple[tuple[str, str, Any, str | None, str], ...] = (
    ("--target", "data.target", str, "COLUMN", "the column to forecast"),
    ("--covariates", "data.covariates", str, "COL,COL", "past covariate columns, comma-separated"),
    (
        "--known-covariates",
        "data.known_covariates",
        str,
        "COL,COL",
        "covariates known in advance for the horizon (promotions, prices), comma-separated",
    ),
    (
        "--static-covariates",
        "data.static_covariates",
        str,
        "COL,COL",
        "columns constant per series (store type, size), comma-separated",
    ),
    ("--static", "data.static_path", str, "FILE", "a CSV of static covariates keyed by series id"),
    (
        "--calendar",
        "data.calendar",
        str,
        "NAME,NAME",
        "calendar features as known covariates: auto (default), none, or hour, dayofweek, "
        "dayofmonth, dayofyear, month",
    ),
    ("--holidays", "data.holidays", str, "FILE|DATES", "holiday dates: a file or comma-separated"),
    ("--timestamp-column", "data.timestamp_column", str, "COLUMN", "the timestamp column"),
    ("--date-format", "data.date_format", str, "FORMAT", "strptime format, unix or unix_ms"),
    ("--id-column", "data.id_column", str, "COLUMN", "series id column of a long-format file"),
    (
        "--data-policy",
        "data.policy",
        str,
        "raise|warn|drop",
        "rows that break a data rule: raise (default), warn and keep them, or drop them",
    ),
)
"""The options that say how to read the data (every command that reads data has them)."""

_FLAGS = {key: flag for flag, key, *_ in (*CLI_OPTIONS, *DATA_OPTIONS)}
_FLAGS["data.dataset"] = _FLAGS["data.path"] = "--data"
_SPELLING = contextvars.ContextVar("swets_cli_spelling", default=False)


@contextmanager
def cli_spelling() -> Iterator[None]:
    """Within the block, :func:`option` spells options the command line's way."""
    token = _SPELLING.set(True)
    try:
        yield
    finally:
        _SPELLING.reset(token)


def spelling_cli() -> bool:
    """Whether messages are being spelled for the command line (inside :func:`cli_spelling`)."""
    return _SPELLING.get()


def option(key: str, value: Any = None) -> str:
    """How a message names the job key ``key`` (with ``value`` when given).

    Inside :func:`cli_spelling` the command-line option: ``--id-column store``, ``--lookback``,
    or ``--set training.clip_grad_norm=1.0`` for a key without an option of its own; elsewhere the
    key: ``data.id_column='store'``, ``data.lookback``.
    """
    if _SPELLING.get():
        flag = _FLAGS.get(key)
        if flag is None:
            return f"--set {key}={'VALUE' if value is None else value}"
        return flag if value is None else f"{flag} {value}"
    return key if value is None else f"{key}={value!r}"
