"""PNG plots of a trained job: forecasts against the actual values, the forecast beyond the data,
and the training history.

matplotlib is an optional extra (``pip install "swets[plot]"``); without it :func:`plot_job` raises
:class:`~swets_timeseries.MissingDependencyError` (a SwetsError) saying what to install. The figure is
drawn with the Agg canvas directly, so no display and no global pyplot state are involved. The file
is always a PNG written at exactly the path given (matplotlib would otherwise add ``.png`` to a name
without one), with ``swets`` in its ``Software`` text (:data:`swets_train.outputs.PLOT_SOFTWARE`), by
which a later run knows it may replace it.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from swets_core.checks import check_count
from swets_core.errors import ConfigError, DataValidationError

__all__ = ["plot_forecasts", "plot_job", "require_matplotlib"]


def require_matplotlib() -> tuple[Any, Any]:
    """``(Figure, FigureCanvasAgg)``, or a MissingDependencyError naming the extra."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        from swets_timeseries.pandas_io import MissingDependencyError

        raise MissingDependencyError(
            'plots need matplotlib, an optional extra: pip install "swets[plot]"'
        ) from None
    return Figure, FigureCanvasAgg


def _history_series(history: Sequence[Mapping[str, Any]], key: str) -> tuple[list, list]:
    xs, ys = [], []
    for r in history:
        v = r.get(key)
        if isinstance(v, (int, float)) and math.isfinite(v):
            xs.append(int(r.get("epoch", len(xs))) + 1)
            ys.append(float(v))
    return xs, ys


def plot_forecasts(
    path: str | os.PathLike[str],
    *,
    timestamps: np.ndarray,
    actual: np.ndarray,
    forecasts: Any,
    history: Sequence[Mapping[str, Any]] = (),
    title: str = "",
    ylabel: str = "",
    future: Any = None,
) -> str:
    """Draw the actual values with forecasts over them and, when given, the forecast beyond the
    data and the training history.

    Args:
        path: the PNG file to write, exactly there (its directory is created).
        timestamps, actual: ``(T,)`` the observed series to draw.
        forecasts: a :class:`~swets_train.Forecast` (``timestamps`` ``(N, H)``, ``point``; with
            quantiles the band between the lowest and highest level is shaded).
        history: per-epoch records (``loss``, ``val_loss``) for a second panel.
        title, ylabel: the forecast panel's labels.
        future: a :class:`~swets_train.Forecast` of one forecast past the end of the data, drawn
            dashed after the last actual value.

    Returns:
        The path written.
    """
    Figure, Canvas = require_matplotlib()
    from matplotlib.ticker import MaxNLocator

    with_history = any("loss" in r for r in history)
    fig = Figure(figsize=(11, 7.5 if with_history else 4.5), layout="constrained")
    Canvas(fig)
    if with_history:
        ax, ax_hist = fig.subplots(2, 1, height_ratios=(2, 1))
    else:
        ax, ax_hist = fig.subplots(1, 1), None
    ax.plot(timestamps, actual, color="black", linewidth=1.2, label="actual")
    point = forecasts.point
    for i in range(len(forecasts)):
        ax.plot(
            forecasts.timestamps[i],
            point[i],
            color="tab:orange",
            linewidth=1.6,
            label="forecast" if i == 0 else None,
        )
        ax.axvline(forecasts.timestamps[i][0], color="grey", linewidth=0.6, linestyle=":")
        if forecasts.quantiles is not None and len(forecasts.quantiles) > 1:
            lo = np.argmin(forecasts.quantiles)
            hi = np.argmax(forecasts.quantiles)
            ax.fill_between(
                forecasts.timestamps[i],
                forecasts.values[i, :, lo],
                forecasts.values[i, :, hi],
                color="tab:orange",
                alpha=0.25,
                label=(
                    f"q{forecasts.quantiles[lo]:g}..q{forecasts.quantiles[hi]:g}"
                    if i == 0
                    else None
                ),
            )
    if future is not None and len(future):
        ax.plot(
            future.timestamps[0],
            future.point[0],
            color="tab:blue",
            linewidth=1.6,
            linestyle="--",
            label="forecast beyond the data",
        )
        if future.quantiles is not None and len(future.quantiles) > 1:
            lo, hi = np.argmin(future.quantiles), np.argmax(future.quantiles)
            ax.fill_between(
                future.timestamps[0],
                future.values[0, :, lo],
                future.values[0, :, hi],
                color="tab:blue",
                alpha=0.2,
            )
        ax.axvline(future.timestamps[0][0], color="tab:blue", linewidth=0.6, linestyle=":")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    if ax_hist is not None:
        for key, style in (("loss", "-"), ("val_loss", "--")):
            xs, ys = _history_series(history, key)
            if xs:
                ax_hist.plot(xs, ys, style, marker="o", markersize=3, label=key)
        _, ys = _history_series(history, "loss")
        _, vs = _history_series(history, "val_loss")
        values = ys + vs
        if values and min(values) > 0 and max(values) / min(values) > 20:
            ax_hist.set_yscale("log")
        ax_hist.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax_hist.set_xlabel("epoch")
        ax_hist.set_ylabel("loss (scaled data)")
        ax_hist.set_title("training history")
        ax_hist.grid(alpha=0.3)
        ax_hist.legend(loc="upper right")
    path = os.fspath(path)
    try:
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        fig.savefig(path, dpi=110, format="png", metadata={"Software": _software()})
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot write the plot to {path}: {exc}") from exc
    return path


def _software() -> str:
    import matplotlib

    from swets_core import __version__  # every swets distribution has the same version
    from swets_train.outputs import PLOT_SOFTWARE

    return f"{PLOT_SOFTWARE} {__version__} (matplotlib {matplotlib.__version__})"


def plot_job(
    job: Any,
    path: str | os.PathLike[str],
    *,
    data: Any = None,
    windows: int = 4,
    series_id: str | None = None,
    future: Any = None,
) -> str:
    """Plot a trained job (a :class:`~swets_train.jobs.LoadedJob`): its forecasts from the last
    ``windows`` origins of the data, one horizon apart, against the actual values, with the lookback
    before them for context; its forecast of the horizon after the data ends; and its training
    history.

    Args:
        job: the trained job.
        path: the PNG to write.
        data: the data to plot (default: the job's data), a SeriesCollection with the job's roles.
        windows: how many consecutive forecasts to draw.
        series_id: which series of a collection (default: the first; the error lists the ids).
        future: the known covariates over the horizon after the data, as
            :meth:`LoadedJob.forecast <swets_train.jobs.LoadedJob.forecast>` takes them (default:
            the data's rows after its last target value). Without them, a job with known
            covariates draws no forecast beyond the data (a warning says why).

    Returns:
        The path written.
    """
    require_matplotlib()  # fail before any work when matplotlib is missing
    check_count(windows, "windows", where="plot")
    coll = job.series() if data is None else data
    sid = coll.ids[0] if series_id is None else series_id
    if sid not in coll.ids:
        shown = ", ".join(coll.ids[:10]) + (
            f" ... ({len(coll.ids)} series)" if len(coll.ids) > 10 else ""
        )
        raise ConfigError(f"plot: no series {sid!r} in the data; series: {shown}")
    full = coll[sid]
    s = full.split_future()[0]  # the rows up to the last target value
    d = job.spec.data
    lookback, horizon = d.lookback, d.horizon
    n = len(s)
    k = min(windows, (n - lookback) // horizon)
    if k < 1:
        raise DataValidationError(
            f"plot: series {sid!r} has {n} rows; a forecast needs lookback + horizon = "
            f"{lookback + horizon}"
        )
    tail = s[n - (lookback + k * horizon) :]
    from swets_timeseries import SeriesCollection

    fc = job.predict(SeriesCollection([tail]), stride=horizon)
    try:
        beyond = job.forecast(SeriesCollection([full]), future=future)
    except DataValidationError as exc:
        if not d.known_covariates:
            raise
        # the known covariates' plan does not reach past the data: the rest is still worth drawing
        warnings.warn(f"plot: no forecast beyond the data: {exc}", UserWarning, stacklevel=2)
        beyond = None
    target = d.target
    name = job.spec.model.name
    span = f"{k} forecast{'s' if k > 1 else ''} of {horizon} steps"
    more = f", series {sid!r}" if len(coll.ids) > 1 else ""
    return plot_forecasts(
        path,
        timestamps=tail.timestamps,
        actual=np.asarray(tail.column(target), dtype=np.float64),
        forecasts=fc,
        history=job.history,
        title=f"{name} on {d.label}{more}: {span} against the actual {target}, and beyond",
        ylabel=target,
        future=beyond,
    )
