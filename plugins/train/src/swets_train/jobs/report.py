"""What a job reports: :class:`JobResult`, its metrics table and the forecast CSV.

Every table goes through :mod:`swets_train.tables` (one rule for numbers, one layout).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np

from swets_core.errors import ConfigError
from swets_core.lazy import exports_of
from swets_train.jobs.evaluate import METRICS
from swets_train.jobs.spec import _plain
from swets_train.tables import text_table

__all__ = exports_of(__name__)


def format_table(
    metrics: Mapping[str, Mapping[str, float]],
    baselines: Mapping[str, Mapping[str, Mapping[str, float]]],
    model_name: str,
) -> str:
    """The text table of :meth:`JobResult.table`: one row per split and model, one column per metric."""
    rows = []
    columns = list(METRICS)
    for scores in metrics.values():  # the interval scores of a model with intervals, in order
        columns += [k for k in scores if k not in columns]
    for split in ("validation", "test", "all"):
        if split not in metrics:
            continue
        named = [(model_name, metrics[split])]
        named += [(b, baselines[b][split]) for b in baselines if split in baselines[b]]
        for i, (name, scores) in enumerate(named):
            rows.append([split if i == 0 else "", name, *(scores.get(m) for m in columns)])
    return text_table(["split", "model", *columns], rows, left=2)


@attrs.define(kw_only=True)
class JobResult:
    """What :func:`run_job` returns.

    Attributes:
        metrics: ``{split: {metric: value}}`` of the trained model in the original scale
            (``split`` in ``"validation"``, ``"test"``; metrics mae, rmse, smape, mase).
        baselines: ``{"naive" | "seasonal_naive": {split: {metric: value}}}``.
        checkpoint: the checkpoint path, or None when nothing was written.
        history: the per-epoch records (``epoch``, ``step``, ``loss``, ``lr``, ``val_loss``...).
        spec: the resolved spec as plain data.
        stop_reason: why training stopped before its budget (early stopping), or None.
        seconds: wall time of the training loop.
        windows: the number of windows per split (``train``, ``validation``, ``test``).
        notes: remarks about choices made (a season length that did not fit...).
        execution: where training ran, as plain data from the executor (``{}`` in this process;
            ``{"data_parallel": {"replicas", "global_batch", "workers", "digest"}}`` on Dask).
        kept: the epoch whose weights the model kept, ``{"epoch" (counted from 1, as the
            progress lines), "monitor", "value", "last" (whether it is the last epoch run)}``
            (early stopping restores the best epoch's weights), or None without early stopping.
        model, scaler: the trained model and the fitted scaler (not part of :meth:`to_dict`).
        conformal: the model's calibration on the validation windows
            (:class:`~swets_train.Conformal`; stored in the checkpoint; not part of
            :meth:`to_dict`), or None without a validation split.
    """

    metrics: dict[str, dict[str, float]]
    baselines: dict[str, dict[str, dict[str, float]]]
    checkpoint: str | None
    history: list[dict[str, Any]]
    spec: dict[str, Any]
    stop_reason: str | None = None
    seconds: float = 0.0
    windows: dict[str, int] = attrs.field(factory=dict)
    notes: list[str] = attrs.field(factory=list)
    execution: dict[str, Any] = attrs.field(factory=dict)
    kept: dict[str, Any] | None = None
    model: Any = attrs.field(default=None, eq=False, repr=False)
    scaler: Any = attrs.field(default=None, eq=False, repr=False)
    conformal: Any = attrs.field(default=None, eq=False, repr=False)

    @property
    def model_name(self) -> str:
        """The model's registry name."""
        return str(self.spec.get("model", {}).get("name", "model"))

    @property
    def epochs(self) -> int:
        """Epochs run (recorded in the history)."""
        return len(self.history)

    @property
    def steps(self) -> int:
        """Optimizer steps done."""
        return int(self.history[-1]["step"]) if self.history else 0

    def table(self) -> str:
        """Validation and test metrics of the model next to the naive and seasonal-naive baselines."""
        return format_table(self.metrics, self.baselines, self.model_name)

    def kept_weights(self) -> str:
        """Which weights the model kept, for people: ``"restored the weights of epoch 7, val_loss
        0.0296"`` ("" without early stopping)."""
        k = self.kept
        if not k:
            return ""
        if k.get("last"):
            return f"kept the weights of the last epoch, {k['epoch']} ({k['monitor']} {k['value']:.4g})"
        return f"restored the weights of epoch {k['epoch']}, {k['monitor']} {k['value']:.4g}"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (msgpack-friendly; the model and scaler are left out)."""
        return {
            "metrics": _plain(self.metrics),
            "baselines": _plain(self.baselines),
            "checkpoint": self.checkpoint,
            "history": _plain(self.history),
            "spec": _plain(self.spec),
            "stop_reason": self.stop_reason,
            "seconds": float(self.seconds),
            "windows": dict(self.windows),
            "notes": list(self.notes),
            "execution": _plain(self.execution),
            "kept": None if self.kept is None else dict(self.kept),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> JobResult:
        """Rebuild from :meth:`to_dict`."""
        required = ("metrics", "baselines", "checkpoint", "history", "spec")
        missing = [k for k in required if k not in d]
        if missing:
            raise ConfigError(f"a job result lacks {', '.join(missing)}")
        return cls(
            metrics=dict(d["metrics"]),
            baselines=dict(d["baselines"]),
            checkpoint=d["checkpoint"],
            history=[dict(r) for r in d["history"]],
            spec=dict(d["spec"]),
            stop_reason=d.get("stop_reason"),
            seconds=float(d.get("seconds", 0.0)),
            windows=dict(d.get("windows", {})),
            notes=list(d.get("notes", [])),
            execution=dict(d.get("execution", {})),
            kept=None if d.get("kept") is None else dict(d["kept"]),
        )


def write_forecast_csv(
    forecast: Any, path: str | os.PathLike[str], *, name: str | None = None
) -> None:
    """Write a :class:`~swets_train.Forecast` in long format: ``series_id, timestamp, step``, the
    forecast (``forecast`` or one ``q<level>`` column per quantile) and ``actual`` when known.
    Timestamps are UTC ISO 8601 (``2000-08-28T00:00:00Z``). ``name`` is the file messages name
    (default ``path``; a caller writing a temporary file first names the final one)."""
    cols = forecast.to_columns()
    cols.pop("origin", None)
    names = list(cols)
    text = {}
    for k, v in cols.items():
        if np.issubdtype(np.asarray(v).dtype, np.datetime64):
            text[k] = np.char.add(np.datetime_as_string(v, unit="s").astype(str), "Z")
        elif np.asarray(v).dtype.kind == "f":
            text[k] = np.array([repr(float(x)) for x in v], dtype=object)
        else:
            text[k] = np.asarray(v).astype(str)
    directory = os.path.dirname(os.fspath(path))
    try:
        if directory:
            os.makedirs(directory, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(",".join(names) + "\n")
            for i in range(len(cols[names[0]])):
                fh.write(",".join(str(text[k][i]) for k in names) + "\n")
    except OSError as exc:
        where = os.fspath(path) if name is None else name
        raise ConfigError(f"cannot write the forecast to {where}: {exc.strerror or exc}") from exc


def _history_records(history: Any) -> list[dict[str, Any]]:
    return [
        {k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in r.items()}
        for r in history
    ]
