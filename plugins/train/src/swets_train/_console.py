"""What the ``swets`` commands of swets-train print: lines flushed at once, a job's training summary
and a forecast's table (:mod:`swets_train.cli`, :mod:`swets_train.demo`)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["forecast_table", "say", "summary"]


def say(*parts: Any) -> None:
    """Print a line at once (the commands' output interleaves with training progress)."""
    print(*parts, flush=True)


def summary(result: Any) -> str:
    """How a job's training went, for a command's output (``result``: a ``JobResult``)."""
    if result.epochs == 0:
        return f"nothing to train: model {result.model_name!r} has no parameters"
    why = result.stop_reason or "budget reached"
    kept = result.kept_weights()
    return (
        f"trained {result.epochs} epoch(s), {result.steps} steps in {result.seconds:.1f} s ({why})"
        + (f"\n{kept}" if kept else "")
    )


def forecast_table(fc: Any, limit: int | None = None) -> str:
    """A :class:`~swets_train.Forecast` as a text table, one row per step (its first ``limit``
    rows)."""
    from swets_train.tables import text_table

    cols = fc.to_columns()
    many = len(set(cols["series_id"].tolist())) > 1
    value_cols = [
        k for k in cols if k == "forecast" or (k.startswith(("q", "lo", "hi")) and k != "origin")
    ]
    head = (["series"] if many else []) + ["timestamp", "step", *value_cols]
    n = len(cols["timestamp"])
    rows = []
    for i in range(n if limit is None else min(n, limit)):
        ts = np.datetime_as_string(cols["timestamp"][i], unit="s") + "Z"
        row = ([str(cols["series_id"][i])] if many else []) + [ts, str(cols["step"][i])]
        rows.append(row + [float(cols[k][i]) for k in value_cols])
    text = text_table(head, rows, left=len(head) - len(value_cols) - 1)
    if limit is not None and n > limit:
        text += f"\n... {n - limit} more rows"
    return text
