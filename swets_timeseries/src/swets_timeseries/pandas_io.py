"""pandas DataFrame and Parquet IO, behind the optional extras.

``pip install "swets-timeseries[pandas]"`` enables :func:`to_pandas` / :func:`from_pandas`;
``pip install "swets-timeseries[parquet]"`` adds :func:`read_parquet` / :func:`write_parquet`
(pandas + pyarrow). Without them these functions raise :class:`MissingDependencyError`, which says
what to install. Nothing else in swets_timeseries imports pandas.

The Parquet readers open their file as the CSV readers do: a regular file only (a FIFO, a device or
a link to one is refused before it is opened) of at most ``max_bytes`` bytes (default 1 GiB); a file
pyarrow cannot read raises DataValidationError naming it.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from swets_core.errors import ConfigError, DataValidationError, SwetsError
from swets_core.lazy import exports_of
from swets_timeseries._columns import ALIASES, match_fields, normalize
from swets_timeseries._files import DEFAULT_MAX_BYTES, open_regular
from swets_timeseries._time import NS, zone
from swets_timeseries.ohlcv import OHLCV
from swets_timeseries.panel import SeriesRoles
from swets_timeseries.series import SeriesCollection, TimeSeries
from swets_timeseries.validation import Policy, check_policy, listing


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
            raise ConfigError(f"{what}: no column {column!r}; columns: {listing(df.columns)}")
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
        f"DatetimeIndex; columns: {listing(df.columns)}"
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
    names = {str(c): c for c in df.columns}
    found = match_fields(
        list(names),
        ("open", "high", "low", "close", "volume"),
        explicit,
        required=("open", "high", "low", "close"),
        source=what,
        exclude=() if ts_name is None else (str(ts_name),),
    )
    fields = {field: names[str(header)] for field, header in found.items()}
    bars = OHLCV(
        _timestamps_from_pandas(ts_values, tz, what),
        *(_numeric(df, fields[f], what) for f in ("open", "high", "low", "close")),
        _numeric(df, fields["volume"], what) if "volume" in fields else None,
        {str(c): _numeric(df, c, what) for c in extra_columns},
    )
    return bars.validate(policy, source="DataFrame")[0]


def to_pandas(data: OHLCV | TimeSeries | SeriesCollection) -> Any:
    """A DataFrame: OHLCV and TimeSeries get a UTC DatetimeIndex named ``timestamp`` and one column
    per value column; a SeriesCollection gives long format with ``id`` and ``timestamp`` columns
    (and its static covariates repeated on every row of their series)."""
    pd = _pandas("to_pandas()")
    if isinstance(data, SeriesCollection):
        ids, ts, vals = data.to_long()
        frame = {"id": ids.astype(str), "timestamp": pd.DatetimeIndex(ts).tz_localize("UTC")}
        frame.update(vals)
        for name in data.static_covariates:  # repeated on every row of its series
            frame[name] = np.concatenate(
                [np.full(len(s), s.static[name], dtype=object) for s in data]
            )
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
    static_covariates: Sequence[str] = (),
    id_column: str | None = None,
    timestamp_column: str | None = None,
    series_id: str = "0",
    tz: str | _dt.tzinfo | None = None,
    policy: Policy = "raise",
    source: str = "DataFrame",
    future_rows: bool = False,
) -> TimeSeries | SeriesCollection:
    """General series from a DataFrame (wide for one series, long with ``id_column`` for many).

    Arguments as :func:`~swets_timeseries.read_series_csv` (repeated timestamps without
    ``id_column`` name the column that looks like the series id); ``source`` is the name used in
    messages."""
    what = "series_from_pandas()"
    _pandas(what)
    check_policy(policy)
    ts_values, ts_name = _find_timestamps(df, timestamp_column, what)
    ts = _timestamps_from_pandas(ts_values, tz, what)
    roles = SeriesRoles(
        target, covariates, known_covariates, static_covariates, id_column, series_id
    )
    names = roles.value_columns(df.columns, source=what)
    values = {n: _numeric(df, n, what) for n in names}
    ids = None if id_column is None else df[id_column].astype(str).to_numpy()
    return roles.series(
        ts,
        values,
        ids,
        lambda c: df[c].to_numpy(),
        df.columns,
        (ts_name,),
        policy=policy,
        source=source,
        future_rows=future_rows,
    )


def write_parquet(data: OHLCV | TimeSeries | SeriesCollection, path: str | os.PathLike) -> None:
    """Write with pyarrow (the frame of :func:`to_pandas`; timestamps as UTC)."""
    _require("pyarrow", "parquet", "write_parquet()")
    to_pandas(data).to_parquet(path, engine="pyarrow")


def _read_frame(path: str | os.PathLike, what: str, max_bytes: int) -> Any:
    """The DataFrame of a Parquet file, opened as a bounded regular file."""
    pd = _pandas(what)
    _require("pyarrow", "parquet", what)
    with open_regular(path, "Parquet file", max_bytes) as fh:
        try:
            return pd.read_parquet(fh, engine="pyarrow")
        except (OSError, ValueError, TypeError, KeyError) as exc:
            # pyarrow's ArrowInvalid / ArrowIOError derive from ValueError / OSError
            raise DataValidationError(
                f"{os.fspath(path)}: cannot read it as Parquet: {type(exc).__name__}: {exc}"
            ) from exc


def read_parquet_columns(
    path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> dict[str, str]:
    """The columns of a Parquet file with the numpy dtype kind of each (``"f"``, ``"i"``, ``"M"``
    for timestamps, ``"O"`` for text...), in file order, read from its footer (no data is read);
    the file is checked as in :func:`read_parquet`."""
    _require("pandas", "parquet", "read_parquet_columns()")
    pq = _require("pyarrow.parquet", "parquet", "read_parquet_columns()")
    with open_regular(path, "Parquet file", max_bytes) as fh:
        try:
            schema = pq.read_schema(fh)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise DataValidationError(
                f"{os.fspath(path)}: cannot read it as Parquet: {type(exc).__name__}: {exc}"
            ) from exc
    meta = schema.pandas_metadata or {}
    index = {str(c) for c in meta.get("index_columns", []) if isinstance(c, str)}
    out = {}
    for field in schema:
        if field.name in index:
            continue
        try:
            kind = np.dtype(field.type.to_pandas_dtype()).kind
        except (NotImplementedError, TypeError, ValueError):
            kind = "O"
        out[str(field.name)] = kind
    return out


def read_parquet(
    path: str | os.PathLike,
    *,
    columns: Mapping[str, str] | None = None,
    extra_columns: Sequence[str] = (),
    tz: str | _dt.tzinfo | None = None,
    policy: Policy = "raise",
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> OHLCV:
    """Read OHLCV bars from a Parquet file (same column matching as :func:`from_pandas`).

    ``path`` must be a regular file (or a link to one) of at most ``max_bytes`` bytes (default
    1 GiB); otherwise, or when pyarrow cannot read it, DataValidationError names the file."""
    df = _read_frame(path, "read_parquet()", max_bytes)
    return from_pandas(df, columns=columns, extra_columns=extra_columns, tz=tz, policy=policy)


def read_series_parquet(
    path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_BYTES, **kwargs: Any
) -> TimeSeries | SeriesCollection:
    """Read general series from Parquet; keyword arguments as :func:`series_from_pandas`, the
    file checked as in :func:`read_parquet`."""
    df = _read_frame(path, "read_series_parquet()", max_bytes)
    kwargs.setdefault("source", os.path.basename(os.fspath(path)))
    return series_from_pandas(df, **kwargs)


__all__ = exports_of(__name__)  # listed once, in the package's table of lazy exports
