"""Bundled real data sets, shipped as package data and loaded by name.

=============== ============================================ ==========================================
name            what                                         returns
=============== ============================================ ==========================================
``msft``        Microsoft daily OHLCV, 1986-03-13..2017-11-10 :class:`~swets_timeseries.OHLCV` (7,983 bars)
``electricity`` England & Wales half-hourly demand (MW),      :class:`~swets_timeseries.TimeSeries`
                2000-06-05..2000-08-27                        (4,032 rows, target ``demand_mw``)
=============== ============================================ ==========================================

Sources and licences are in ``docs/datasets.md``. :func:`sales_example` generates a data set with
covariates (daily sales, temperature, promotions, holidays) from a seed.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from swets_core.errors import UnknownComponentError
from swets_core.lazy import exports_of
from swets_timeseries.datasets.sales import SalesExample
from swets_timeseries.datasets.sales import sales_example as sales_example

_FILES = {
    "msft": "msft_daily_ohlcv.csv",
    "electricity": "taylor_electricity_halfhourly.csv",
}


def dataset_names() -> tuple[str, ...]:
    """Names accepted by :func:`load_dataset`."""
    return tuple(_FILES)


def dataset_path(name: str) -> Any:
    """The bundled file of data set ``name`` (an importlib.resources Traversable)."""
    if name not in _FILES:
        raise UnknownComponentError("data sets", name, _FILES)
    return resources.files(__name__).joinpath(_FILES[name])


def load_dataset(name: str) -> Any:
    """Load a bundled data set by name (see :func:`dataset_names`).

    ``"msft"`` gives an :class:`~swets_timeseries.OHLCV`; ``"electricity"`` a
    :class:`~swets_timeseries.TimeSeries` with id ``"electricity"`` and target ``"demand_mw"``.
    Both are validated with the ``raise`` policy on load.
    """
    from swets_timeseries.csvio import read_csv, read_series_csv

    ref = dataset_path(name)
    with resources.as_file(ref) as path:
        if name == "msft":
            return read_csv(path)
        return read_series_csv(path, target="demand_mw", series_id="electricity")


# the names the package's lazy_exports table lists for this module, and those only it exports
__all__ = [*exports_of(__name__), "SalesExample", "dataset_path"]
