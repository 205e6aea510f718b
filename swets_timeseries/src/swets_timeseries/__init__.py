"""swets_timeseries: where users' data enters swets.

* :class:`OHLCV` price bars and general series (:class:`TimeSeries`, :class:`SeriesCollection`),
  with validation under an explicit policy (raise, warn, drop);
* CSV IO without pandas (:func:`read_csv`, :func:`write_csv`, :func:`read_series_csv`,
  :func:`write_series_csv`, :func:`read_csv_header`), bounded: regular files only, a size bound, and
  reading stops at the first line that cannot be a row; pandas and Parquet IO in
  :mod:`swets_timeseries.pandas_io` behind the optional extras;
* the price-bar rules for general series (:func:`validate_bars`, :func:`bar_columns`) and the id
  column of a long-format panel (:func:`detect_id_column`, :class:`LongFormatError`);
* causal features and calendar features (:mod:`swets_timeseries.features`), scalers, windowed
  datasets with splits and walk-forward folds, and a :class:`DataLoader` yielding swets Tensors;
* static covariates per series (:mod:`swets_timeseries.static`: from a column constant per id or a
  table keyed by id, encoded by a :class:`StaticEncoder`);
* :class:`PanelSampler`: N-BEATS training windows over a panel (a series uniformly, then a cut in
  the last points of its history), as numpy arrays with masks; :class:`PanelLoader` hands its
  batches to the training loop in resumable epochs;
* bundled data sets: :func:`load_dataset` (``"msft"``, ``"electricity"``), and a generated one with
  covariates: :func:`sales_example`.

See docs/timeseries.md.
"""

from __future__ import annotations

__version__ = "0.1.0"

from swets_core.lazy import all_exports, lazy_exports

# module -> its public names, imported on first use: discovering plugins imports this package (see
# swets_core.lazy). The one list of them: the package's and each module's ``__all__`` read it.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "swets_timeseries.bars": ("bar_columns", "validate_bars"),
        "swets_timeseries.csvio": (
            "read_csv",
            "read_csv_header",
            "read_dates",
            "read_series_csv",
            "read_static_csv",
            "write_csv",
            "write_series_csv",
        ),
        "swets_timeseries.datasets": ("dataset_names", "load_dataset", "sales_example"),
        "swets_timeseries.loader": ("Batch", "DataLoader", "gather_batch"),
        "swets_timeseries.ohlcv": ("OHLCV",),
        "swets_timeseries.pandas_io": (
            "MissingDependencyError",
            "from_pandas",
            "read_parquet",
            "read_parquet_columns",
            "read_series_parquet",
            "series_from_pandas",
            "to_pandas",
            "write_parquet",
        ),
        "swets_timeseries.panel": ("LongFormatError", "detect_id_column"),
        "swets_timeseries.sampler": ("PanelBatch", "PanelLoader", "PanelSampler"),
        "swets_timeseries.scalers": (
            "MinMaxScaler",
            "RobustScaler",
            "Scaler",
            "StandardScaler",
            "scaler_from_state",
        ),
        "swets_timeseries.series": ("SeriesCollection", "TimeSeries"),
        "swets_timeseries.static": ("StaticEncoder",),
        "swets_timeseries.validation": ("DataQualityWarning", "Problem", "ValidationReport"),
        "swets_timeseries.windows": (
            "Fold",
            "Splits",
            "WindowDataset",
            "WindowRoles",
            "window_roles",
        ),
    },
    submodules=("features",),
)

__all__ = ["__version__", *all_exports(__name__)]
