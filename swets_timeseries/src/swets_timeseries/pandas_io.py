"""pandas DataFrame and Parquet IO, behind the optional extras.

``pip install "swets-timeseries[pandas]"`` enables :func:`to_pandas` / :func:`from_pandas`;
``pip install "swets-timeseries[parquet]"`` adds :func:`read_parquet` / :func:`write_parquet`
(pandas + pyarrow). Without them these functions raise :class:`MissingDependencyError`, which says
what to install. Nothing else in swets_timeseries imports pandas.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from swets_core.errors import ConfigError, SwetsError
from swets_timeseries._time import NS, zone
from swets_timeseries.csvio import ALIASES, normalize
from swets_timeseries.ohlcv import OHLCV
from swets_timeseries.series import SeriesCollection, TimeSeries
from swets_timeseries.validation import Policy, check_policy


class MissingDependencyError(SwetsError, ImportError):
    """An optional dependency (pandas, pyarrow) is needed for this function but not installed."""


def _require(module: str, extra: str, what: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{what} needs {module}, which is not installed; install it with "
            f'pip install "swets-timeseries[{extra}]"'
        ) from exc


def _pandas(what: str) -> Any:
    return _require("pandas", "pandas", what)


def _timestamps_from_pandas(values: Any, tz: str | _dt.tzinfo | None, what: str) -> np.ndarray:
    pd = _pandas(what)
    idx = pd.DatetimeIndex(values)
    if idx.tz is None:
        tzinfo = zone(tz)
        if tzinfo is not None:
            idx = idx.tz_localize(tzinfo)
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    return idx.to_numpy().astype(NS)


def _find_timestamps(df: Any, column: str | None, what: str) -> tuple[Any, str | None]:
    """The timestamp values: the named column, a detected column, or a DatetimeIndex."""
    pd = _pandas(what)
    if column is not None:
        if column not in df.columns:
            raise ConfigError(f"{what}: no column {column!r}; columns: {list(df.columns)}")
        return df[column], column
    matches = [c for c in df.columns if normalize(str(c)) in ALIASES["timestamp"]]
    if len(matches) == 1:
        return df[matches[0]], matches[0]
    if len(matches) > 1:
        raise ConfigError(f"{what}: several timestamp columns {matches}; pass timestamp_column=")
    if isinstance(df.index, pd.DatetimeIndex):
        return df.index, None
    raise ConfigError(
        f"{what}: no timestamp column ({', '.join(ALIASES['timestamp'])}) and the index is not a "
        f"DatetimeIndex; columns: {list(df.columns)}"
    )


def _numeric(df: Any, name: Any, what: str) -> np.ndarray:
    col = df[name]
    try:
        return col.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{what}: column {name!r} is not numeric (dtype {col.dtype})") from exc


def from_pandas(
    df: Any,
    *,
    columns: Mapping[str, str] | None = None,
    extra_columns: Sequence[str] = (),
    tz: str | _dt.tzinfo | None = None,
    policy: Policy = "raise",
) -> OHLCV:
    """OHLCV bars from a DataFrame (timestamps from a timestamp/date column or a DatetimeIndex).

    Column names are matched as in :func:`swets_timeseries.read_csv` (``Open``/``open``/``o``...);
    ``columns`` maps fields to column names explicitly. Naive timestamps are in ``tz`` (default
    UTC); aware ones are converted to UTC. The bars are validated with ``policy``.
    """
    what = "from_pandas()"
    _pandas(what)
    check_policy(policy)
    explicit = dict(columns or {})
    ts_values, ts_name = _find_timestamps(df, explicit.pop("timestamp", None), what)
    used = {ts_name}
    fields = {}
    for field in ("open", "high", "low", "close", "volume"):
        if field in explicit:
            if explicit[field] not in df.columns:
                raise ConfigError(f"{what}: columns= maps {field!r} to missing {explicit[field]!r}")
            fields[field] = explicit[field]
            used.add(explicit[field])
            continue
        matches = [c for c in df.columns if c not in used and normalize(str(c)) in ALIASES[field]]
        if len(matches) > 1:
            raise ConfigError(f"{what}: several columns could be {field!r}: {matches}")
        if not matches:
            if field == "volume":
                continue
            raise ConfigError(
                f"{what}: no column for {field!r} (accepted: {', '.join(ALIASES[field])}); "
                f"columns: {list(df.columns)}"
            )
        fields[field] = matches[0]
        used.add(matches[0])
    bars = OHLCV(
        _timestamps_from_pandas(ts_values, tz, what),
        *(_numeric(df, fields[f], what) for f in ("open", "high", "low", "close")),
        _numeric(df, fields["volume"], what) if "volume" in fields else None,
        {str(c): _numeric(df, c, what) for c in extra_columns},
    )
    return bars.validate(policy, source="DataFrame")[0]


def to_pandas(data: OHLCV | TimeSeries | SeriesCollection) -> Any:
    """A DataFrame: OHLCV and TimeSeries get a UTC DatetimeIndex named ``timestamp`` and one column
    per value column; a SeriesCollection gives long format with ``id`` and ``timestamp`` columns."""
    pd = _pandas("to_pandas()")
    if isinstance(data, SeriesCollection):
        ids, ts, vals = data.to_long()
        frame = {"id": ids.astype(str), "timestamp": pd.DatetimeIndex(ts).tz_localize("UTC")}
        frame.update(vals)
        return pd.DataFrame(frame)
    if isinstance(data, OHLCV):
        names = [c for c in data.columns if c != "timestamp"]
    elif isinstance(data, TimeSeries):
        names = list(data.columns)
    else:
        raise ConfigError(
            f"to_pandas() takes OHLCV, TimeSeries or SeriesCollection, got {type(data).__name__}"
        )
    index = pd.DatetimeIndex(data.timestamps, name="timestamp").tz_localize("UTC")
    return pd.DataFrame({c: data.column(c) for c in names}, index=index)


def series_from_pandas(
    df: Any,
    *,
    target: str | Sequence[str],
    covariates: Sequence[str] = (),
    known_covariates: Sequence[str] = (),
    id_column: str | None = None,
    timestamp_column: str | None = None,
    series_id: str = "0",
    tz: str | _dt.tzinfo | None = None,
    policy: Policy = "raise",
) -> TimeSeries | SeriesCollection:
    """General series from a DataFrame (wide for one series, long with ``id_column`` for many)."""
    what = "series_from_pandas()"
    _pandas(what)
    check_policy(policy)
    ts_values, _ = _find_timestamps(df, timestamp_column, what)
    ts = _timestamps_from_pandas(ts_values, tz, what)
    targets = (target,) if isinstance(target, str) else tuple(target)
    names = targets + tuple(covariates) + tuple(known_covariates)
    for name in names:
        if name not in df.columns:
            raise ConfigError(f"{what}: no column {name!r}; columns: {list(df.columns)}")
    values = {n: _numeric(df, n, what) for n in names}
    if id_column is None:
        s = TimeSeries(ts, values, target, covariates, known_covariates, id=series_id)
        return s.validate(policy, source="DataFrame")[0]
    if id_column not in df.columns:
        raise ConfigError(f"{what}: no id column {id_column!r}; columns: {list(df.columns)}")
    coll = SeriesCollection.from_long(
        df[id_column].astype(str).to_numpy(),
        ts,
        values,
        target=target,
        covariates=covariates,
        known_covariates=known_covariates,
    )
    return coll.validate(policy)[0]


def write_parquet(data: OHLCV | TimeSeries | SeriesCollection, path: str | os.PathLike) -> None:
    """Write with pyarrow (the frame of :func:`to_pandas`; timestamps as UTC)."""
    _require("pyarrow", "parquet", "write_parquet()")
    to_pandas(data).to_parquet(path, engine="pyarrow")


def read_parquet(
    path: str | os.PathLike,
    *,
    columns: Mapping[str, str] | None = None,
    extra_columns: Sequence[str] = (),
    tz: str | _dt.tzinfo | None = None,
    policy: Policy = "raise",
) -> OHLCV:
    """Read OHLCV bars from a Parquet file (same column matching as :func:`from_pandas`)."""
    pd = _pandas("read_parquet()")
    _require("pyarrow", "parquet", "read_parquet()")
    df = pd.read_parquet(path, engine="pyarrow")
    return from_pandas(df, columns=columns, extra_columns=extra_columns, tz=tz, policy=policy)


def read_series_parquet(path: str | os.PathLike, **kwargs: Any) -> TimeSeries | SeriesCollection:
    """Read general series from Parquet; keyword arguments as :func:`series_from_pandas`."""
    pd = _pandas("read_series_parquet()")
    _require("pyarrow", "parquet", "read_series_parquet()")
    return series_from_pandas(pd.read_parquet(path, engine="pyarrow"), **kwargs)


__all__ = [
    "MissingDependencyError",
    "from_pandas",
    "read_parquet",
    "read_series_parquet",
    "series_from_pandas",
    "to_pandas",
    "write_parquet",
]
