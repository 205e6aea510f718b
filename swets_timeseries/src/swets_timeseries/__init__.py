"""swets_timeseries: where users' data enters swets.

* :class:`OHLCV` price bars and general series (:class:`TimeSeries`, :class:`SeriesCollection`),
  with validation under an explicit policy (raise, warn, drop);
* CSV IO without pandas (:func:`read_csv`, :func:`write_csv`, :func:`read_series_csv`,
  :func:`write_series_csv`); pandas and Parquet IO in :mod:`swets_timeseries.pandas_io` behind the
  optional extras;
* causal features (:mod:`swets_timeseries.features`), scalers, windowed datasets with splits and
  walk-forward folds, and a :class:`DataLoader` yielding swets Tensors;
* bundled data sets: :func:`load_dataset` (``"msft"``, ``"electricity"``).

See docs/timeseries.md.
"""

from __future__ import annotations

__version__ = "0.1.0"

from swets_timeseries import features
from swets_timeseries.csvio import read_csv, read_series_csv, write_csv, write_series_csv
from swets_timeseries.datasets import dataset_names, load_dataset
from swets_timeseries.loader import Batch, DataLoader
from swets_timeseries.ohlcv import OHLCV
from swets_timeseries.pandas_io import (
    MissingDependencyError,
    from_pandas,
    read_parquet,
    read_series_parquet,
    series_from_pandas,
    to_pandas,
    write_parquet,
)
from swets_timeseries.scalers import MinMaxScaler, RobustScaler, Scaler, StandardScaler
from swets_timeseries.series import SeriesCollection, TimeSeries
from swets_timeseries.validation import DataQualityWarning, Problem, ValidationReport
from swets_timeseries.windows import Fold, Splits, WindowDataset

__all__ = [
    "OHLCV",
    "Batch",
    "DataLoader",
    "DataQualityWarning",
    "Fold",
    "MinMaxScaler",
    "MissingDependencyError",
    "Problem",
    "RobustScaler",
    "Scaler",
    "SeriesCollection",
    "Splits",
    "StandardScaler",
    "TimeSeries",
    "ValidationReport",
    "WindowDataset",
    "__version__",
    "dataset_names",
    "features",
    "from_pandas",
    "load_dataset",
    "read_csv",
    "read_parquet",
    "read_series_csv",
    "read_series_parquet",
    "series_from_pandas",
    "to_pandas",
    "write_csv",
    "write_parquet",
    "write_series_csv",
]
