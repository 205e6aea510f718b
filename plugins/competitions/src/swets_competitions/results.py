"""What a benchmark run reports: its rows (as a text table and as CSV), the published numbers they
are printed next to, and the machine they ran on. Everything here is importable from
:mod:`swets_competitions.benchmark` as well.
"""

from __future__ import annotations

import csv
import io
import math
import os
import platform
from typing import Any

import attrs
import numpy as np

from swets_competitions.metrics import METRICS
from swets_train.ensemble import EnsembleFit

__all__ = [
    "BENCHMARK_HEADER",
    "BLAS_THREAD_VARIABLES",
    "PUBLISHED",
    "BenchmarkResult",
    "machine",
    "published_rows",
    "result_row",
]

BENCHMARK_HEADER = (
    "dataset,subset,method,smape,mape,mase,owa,members,steps,cpu_minutes,wall_minutes,source"
)
"""How every benchmark CSV swets writes begins."""

_M3_METHODS = ("Theta (published)", "N-BEATS-G (published)", "N-BEATS-I+G (published)")
_M3_SMAPE = {
    "yearly": (16.90, 16.2, 15.93),
    "quarterly": (8.96, 8.92, 8.84),
    "monthly": (13.85, 13.19, 13.11),
    "other": (4.41, 4.19, 4.24),
    "average": (13.01, 12.47, 12.37),
}
_TOURISM_MAPE = {"yearly": 21.67, "quarterly": 14.71, "monthly": 19.17}

PUBLISHED: dict[tuple[str, str], dict[str, dict[str, float]]] = {
    **{
        ("m3", subset): {method: {"smape": v} for method, v in zip(_M3_METHODS, values)}
        for subset, values in _M3_SMAPE.items()
    },
    **{
        ("tourism", subset): {"N-BEATS-G (published)": {"mape": v}}
        for subset, v in _TOURISM_MAPE.items()
    },
}
"""Published accuracy next to which swets' results are printed: the N-BEATS paper (Oreshkin et al.,
ICLR 2020), Table 14 (M3 sMAPE, with Theta from the M3 results) and Table 15 (Tourism MAPE)."""

_SOURCES = {"m3": "N-BEATS paper, Table 14", "tourism": "N-BEATS paper, Table 15"}


def result_row(
    dataset: str, subset: str, method: str, source: str, **values: Any
) -> dict[str, Any]:
    """One row of a :class:`BenchmarkResult`: ``values`` gives the metrics, ``members``, ``steps``,
    ``cpu_minutes`` and ``wall_minutes`` it has (the others are NaN, or None for the counts)."""
    row: dict[str, Any] = {"dataset": dataset, "subset": subset, "method": method}
    for key in METRICS:
        row[key] = values.get(key, math.nan)
    for key in ("members", "steps"):
        row[key] = values.get(key)
    for key in ("cpu_minutes", "wall_minutes"):
        row[key] = values.get(key, math.nan)
    row["source"] = source
    return row


def published_rows(key: str, display: str, subset: str) -> list[dict[str, Any]]:
    """The rows of :data:`PUBLISHED` for competition ``key`` (``"m3"``), shown as ``display``
    (``"M3"``), and ``subset`` (``"average"`` too): none where nothing is published."""
    source = _SOURCES.get(key, "published")
    return [
        result_row(display, subset, method, source, **values)
        for method, values in PUBLISHED.get((key, subset), {}).items()
    ]


# -- the machine ---------------------------------------------------------------------------------
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""The environment variables that set how many threads the BLAS libraries use."""


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas() -> str:
    try:
        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{info.get('name', '?')} {info.get('version', '')}".strip()
    except Exception:  # numpy versions describe their build differently
        return "unknown"


def machine() -> dict[str, Any]:
    """Where the benchmark runs: CPU model, logical CPUs (and those this process may use), the OS,
    Python, numpy and its BLAS, the BLAS thread settings of the environment, and the load average
    (1, 5 and 15 minutes) now."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 0
    try:
        load = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        load = []
    threads = {k: os.environ[k] for k in BLAS_THREAD_VARIABLES if k in os.environ}
    return {
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": _blas(),
        "blas_threads": threads,
        "load_average": load,
    }


# -- the result ----------------------------------------------------------------------------------
_COLUMNS = (
    ("sMAPE", "smape", 2),
    ("MAPE", "mape", 2),
    ("MASE", "mase", 3),
    ("OWA", "owa", 3),
    ("members", "members", None),
    ("CPU min", "cpu_minutes", 2),
    ("wall min", "wall_minutes", 2),
)
"""The text table's columns after the subset and the method: title, row key, decimals (None: a
count)."""


@attrs.define(eq=False, repr=False)
class BenchmarkResult:
    """The rows of a benchmark run, the machine, and the settings of each subset.

    Attributes:
        rows: one mapping per (subset, method) with ``dataset, subset, method``, the metrics
            ``smape, mape, mase, owa`` (NaN where not computed or not published), ``members,
            steps`` (the ensemble), ``cpu_minutes, wall_minutes``, ``source`` (``"swets"``,
            ``"computed by swets"`` or the published table).
        machine: :func:`machine` at the start, with ``load_average_end`` added at the end.
        settings: subset -> the :class:`~swets_competitions.benchmark.Protocol` it ran with, as
            plain data.
        fits: subset -> the ``EnsembleFit`` of its members.
    """

    rows: list[dict[str, Any]]
    machine: dict[str, Any]
    settings: dict[str, dict[str, Any]]
    fits: dict[str, EnsembleFit]

    def table(self) -> str:
        """The rows as aligned text, subset by subset (``-`` where a value is not available)."""
        from swets_train.tables import text_table

        head = ["subset", "method", *(title for title, _, _ in _COLUMNS)]
        rows = [
            [
                f"{r['dataset']} {r['subset']}",
                r["method"],
                *(_cell(r[key], digits) for _, key, digits in _COLUMNS),
            ]
            for r in self.rows
        ]
        return text_table(head, rows, left=2)

    def machine_line(self) -> str:
        """One line describing the machine, the BLAS threads and the load."""
        m = self.machine
        threads = ", ".join(f"{k}={v}" for k, v in m.get("blas_threads", {}).items()) or "unset"
        load = "/".join(str(v) for v in m.get("load_average", []))
        end = "/".join(str(v) for v in m.get("load_average_end", []))
        return (
            f"machine: {m['cpu']}, {m['usable_cpus']} of {m['logical_cpus']} logical CPUs, "
            f"{m['os']}, Python {m['python']}, numpy {m['numpy']} ({m['blas']}), BLAS threads "
            f"{threads}; load average {load} at the start, {end} at the end"
        )

    def to_csv(self) -> str:
        """The rows as CSV text (header :data:`BENCHMARK_HEADER`; empty cells for NaN)."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        fields = BENCHMARK_HEADER.split(",")
        writer.writerow(fields)
        for r in self.rows:
            writer.writerow([_csv_cell(r[f]) for f in fields])
        return buf.getvalue()

    def __repr__(self) -> str:
        return f"BenchmarkResult({len(self.rows)} rows, subsets {', '.join(self.settings)})"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _cell(value: Any, digits: int | None) -> str:
    if _missing(value):
        return "-"
    return str(value) if digits is None else f"{value:.{digits}f}"


def _csv_cell(value: Any) -> Any:
    if _missing(value):
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return value
