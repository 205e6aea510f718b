"""Windowed datasets: window contents, views (memory), splits without leakage, walk-forward folds."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest

from swets_core.errors import ConfigError, DataValidationError
from swets_timeseries import SeriesCollection, TimeSeries, WindowDataset
from swets_timeseries import features as ft


def ramp_series(sid, n, start_value, covariates=True, known=True):
    """Series whose value at row r is start_value + r in every column (offsets per role), so a
    window's numbers tell exactly which rows it read."""
    ts = np.datetime64("2024-01-01", "ns") + np.arange(n) * np.timedelta64(1, "h")
    rows = start_value + np.arange(n, dtype=np.float64)
    cols = {"y": rows}
    if covariates:
        cols["c"] = rows + 0.25
    if known:
        cols["k"] = rows + 0.5
    return TimeSeries(ts, cols, "y", ["c"] if covariates else [], ["k"] if known else [], id=sid)


def test_window_contents_and_layout():
    s = ramp_series("a", 50, 0)
    ds = WindowDataset(s, lookback=4, horizon=2, stride=3)
    assert ds.past_columns == ("y", "c", "k") and ds.n_features == 3
    assert len(ds) == (50 - 6) // 3 + 1
    x, y, xf = ds[2]  # starts at row 6
    np.testing.assert_array_equal(x[:, 0], [6, 7, 8, 9])
    np.testing.assert_array_equal(x[:, 1], [6.25, 7.25, 8.25, 9.25])
    np.testing.assert_array_equal(y, [10, 11])
    np.testing.assert_array_equal(xf[:, 0], [10.5, 11.5])
    assert x.dtype == np.float32
    xb, yb, xfb = ds.gather(np.array([2, 0]))
    assert xb.shape == (2, 4, 3) and yb.shape == (2, 2) and xfb.shape == (2, 2, 1)
    np.testing.assert_array_equal(xb[0], x)
    # list target -> (horizon, T); past without targets / known
    ds2 = WindowDataset(s, 4, 2, target=["y"], target_in_past=False, known_in_past=False)
    x, y, xf = ds2[0]
    assert ds2.past_columns == ("c",) and y.shape == (2, 1) and xf.shape == (2, 1)


def test_many_series_and_window_info():
    coll = SeriesCollection(
        [ramp_series("a", 20, 0), ramp_series("b", 9, 1000), ramp_series("c", 15, 5000)]
    )
    ds = WindowDataset(coll, 3, 2)
    assert len(ds) == 16 + 5 + 11
    ids, origins = ds.window_info(np.array([0, 15, 16, 20, 21, 31]))
    assert ids.tolist() == ["a", "a", "b", "b", "c", "c"]
    x, y, _ = ds.gather(np.array([16, 21, 31]))
    np.testing.assert_array_equal(x[:, 0, 0], [1000, 5000, 5010])
    np.testing.assert_array_equal(y[:, -1], [1004, 5004, 5014])
    assert origins[2] == coll["b"].timestamps[3]
    x_all, _, _ = ds.series_windows("b")
    assert x_all.shape == (5, 3, 3) and np.shares_memory(x_all, ds.storage())
    with pytest.raises(IndexError, match="window index 32 out of range"):
        ds.gather(np.array([32]))


def test_window_info_in_any_order_over_many_series():
    sizes = [20, 9, 15, 7]
    coll = SeriesCollection(
        [ramp_series(f"s{i}", n, 1000 * i) for i, n in enumerate(sizes)]
        + [ramp_series("late", 12, 0).between("2024-01-01T05:00")]
    )
    ds = WindowDataset(coll, 3, 2)
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(ds))
    ids, origins = ds.window_info(idx)
    x, _, _ = ds.gather(idx)
    for w, sid, origin, first in zip(idx, ids, origins, x[:, 0, 0]):
        series = coll[sid]
        row = int(np.flatnonzero(series.column("y") == first)[0])
        assert origin == series.timestamps[row + 3], w
    assert ds.window_info(idx[:0])[1].shape == (0,)


def test_checks_of_many_series_name_the_series_and_row():
    coll = [ramp_series(f"s{i}", 30, 100.0 * i, known=False) for i in range(4)]
    # an infinity in the data stays an infinity (not an overflow); a finite 1e39 in s2 overflows
    y1 = coll[1].column("y").copy()
    y1[:2] = np.inf  # warm-up rows, skipped
    coll[1] = coll[1].with_columns(y=y1)
    y2 = coll[2].column("y").copy()
    y2[17] = 1e39
    with pytest.raises(
        DataValidationError, match=r"series 's2': row 17 \(2024-01-01T17:00:00Z\), column 'y'"
    ):
        WindowDataset(SeriesCollection([*coll[:2], coll[2].with_columns(y=y2), coll[3]]), 4, 2)
    ds = WindowDataset(SeriesCollection(coll), 4, 2)
    assert ds.rows == {"s0": (0, 30), "s1": (2, 30), "s2": (0, 30), "s3": (0, 30)}
    c3 = coll[3].column("c").copy()
    c3[20] = np.nan
    with pytest.raises(
        DataValidationError, match=r"series 's3': row 20 \(2024-01-01T20:00:00Z\), column 'c'"
    ):
        WindowDataset(SeriesCollection([*coll[:3], coll[3].with_columns(c=c3)]), 4, 2)


def test_windows_are_views_of_the_series():
    s = ramp_series("a", 100, 0, covariates=False, known=False)
    ds = WindowDataset(s, 10, 5, stride=2, dtype="float64")
    x, y, xf = ds.series_windows(0)
    assert xf is None
    assert x.shape == (43, 10, 1) and y.shape == (43, 5)
    assert np.shares_memory(x, s.column("y")) and np.shares_memory(y, s.column("y"))
    np.testing.assert_array_equal(x[7, :, 0], np.arange(14, 24))


def windows_with_peak(series, lookback, horizon):
    """(dataset, the windows of its first series, peak bytes traced while making both)."""
    tracemalloc.start()
    try:
        ds = WindowDataset(series, lookback, horizon)
        x, _, _ = ds.series_windows(0)
        return ds, x, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_ten_million_rows_allocate_no_per_window_copies():
    n, lookback, horizon = 10_000_000, 96, 24
    ts = np.datetime64("2000-01-01", "ns") + np.arange(n, dtype=np.int64) * np.timedelta64(1, "m")
    values = np.linspace(0.0, 1.0, n, dtype=np.float32)
    single = TimeSeries(ts, {"y": values}, "y", id="big")
    ds, x, peak = windows_with_peak(single, lookback, horizon)
    assert len(ds) == n - lookback - horizon + 1 and x.shape == (len(ds), lookback, 1)
    assert np.shares_memory(x, values)
    per_window_copies = len(ds) * (lookback + horizon) * 4
    # far below one copy of the series (the finite check's boolean masks), let alone per window
    assert peak < values.nbytes < per_window_copies / 100, peak

    # two columns: the series is stored once (one copy in float32), nothing per window
    two = TimeSeries(ts, {"y": values, "c": values}, "y", ["c"], id="big2")
    ds, x, peak = windows_with_peak(two, lookback, horizon)
    storage = ds.storage().nbytes
    assert storage == n * 2 * 4
    assert peak < 1.5 * storage
    assert x.shape == (len(ds), lookback, 2) and np.shares_memory(x, ds.storage())


def _rows_seen(ds):
    """Every source value (= row id) any window of ds reads, inputs and targets."""
    idx = np.arange(len(ds))
    x, y, xf = ds.gather(idx)
    parts = [x[..., 0].ravel(), y.ravel()]
    if xf is not None:
        parts.append(xf[..., 0].ravel() - 0.5)
    return set(np.concatenate(parts).astype(np.int64).tolist())


@pytest.mark.parametrize("gap", [0, 7])
@pytest.mark.parametrize("spec", ["fractions", "counts", "timestamps"])
def test_split_has_no_leakage(gap, spec):
    coll = SeriesCollection([ramp_series("a", 400, 0), ramp_series("b", 260, 100_000)])
    ds = WindowDataset(coll, lookback=12, horizon=5, stride=2)
    if spec == "fractions":
        parts = ds.split(0.2, 0.2, gap=gap)
    elif spec == "counts":
        parts = ds.split(60, 50, gap=gap)
    else:
        parts = ds.split(np.datetime64("2024-01-09T00:00"), "2024-01-12T00:00", gap=gap)
    train, val, test = parts
    seen = {name: _rows_seen(d) for name, d in (("train", train), ("val", val), ("test", test))}
    assert not seen["train"] & seen["val"]
    assert not seen["train"] & seen["test"]
    assert not seen["val"] & seen["test"]
    for sid, base in (("a", 0), ("b", 100_000)):
        t_rows = {r - base for r in seen["train"] if base <= r < base + 100_000}
        v_rows = {r - base for r in seen["val"] if base <= r < base + 100_000}
        s_rows = {r - base for r in seen["test"] if base <= r < base + 100_000}
        assert t_rows and v_rows
        assert max(t_rows) < min(v_rows) - gap
        if s_rows:  # series b ends before the test timestamp
            assert max(v_rows) < min(s_rows) - gap
        # row ranges reported for scalers match what the windows read
        lo, hi = train.rows[sid]
        assert lo == 0 and max(t_rows) < hi
    # chronological: every training origin precedes every validation origin
    ids_t, t_orig = train.window_info(np.arange(len(train)))
    ids_v, v_orig = val.window_info(np.arange(len(val)))
    assert len(train) and len(val) and len(test)
    assert t_orig[ids_t == "a"].max() < v_orig[ids_v == "a"].min()


def test_split_sizes_and_errors():
    ds = WindowDataset(ramp_series("a", 1000, 0), 10, 5)
    train, val, test = ds.split(0.1, 0.2, gap=5)
    assert test.rows["a"] == (800, 1000)
    assert val.rows["a"] == (695, 795)  # 100 rows; the gap comes off the earlier part
    assert train.rows["a"] == (0, 690)
    only = ds.split(0.25, 0)
    assert only.test is None and only.val.rows["a"] == (750, 1000)
    with pytest.raises(ConfigError, match="the test split has no complete window"):
        ds.split(0.1, 10)
    with pytest.raises(ConfigError, match="fraction must be in"):
        ds.split(1.5, 0.1)


def test_walk_forward_folds():
    ds = WindowDataset(ramp_series("a", 600, 0), 24, 6)
    folds = ds.walk_forward(4, test_size=30, gap=6)
    assert [f.index for f in folds] == [0, 1, 2, 3]
    origins = [
        int(
            f.origins["a"].astype("M8[h]").astype(np.int64)
            - np.datetime64("2024-01-01T00", "h").astype(np.int64)
        )
        for f in folds
    ]
    assert origins == [480, 510, 540, 570]
    for f, o in zip(folds, origins):
        x, y, _ = f.test.gather(np.arange(len(f.test)))
        targets = set(y.ravel().astype(int).tolist())
        assert min(targets) == o and max(targets) == o + 29
        assert x[0, 0, 0] == o - 24  # inputs may precede the origin
        train_rows = _rows_seen(f.train)
        assert max(train_rows) < o - 6  # gap before the origin
        assert not train_rows & targets
    rolling = ds.walk_forward(2, test_size=30, train_size=100)
    assert rolling[1].train.rows["a"] == (470, 570)
    with pytest.raises(ConfigError, match="less than lookback"):
        ds.walk_forward(30, test_size=30)
    with pytest.raises(ConfigError, match="must be >= horizon"):
        ds.walk_forward(2, test_size=3)


def test_feature_warm_up_is_skipped_and_later_nan_rejected(msft):
    s = msft.to_series().with_columns(covariates=["rsi"], rsi=ft.rsi(msft.close, 14))
    ds = WindowDataset(s, 10, 2)
    assert ds.rows["0"] == (14, len(msft))
    x, _, _ = ds[0]
    assert np.isfinite(x).all()
    broken = s.with_columns(rsi=np.where(np.arange(len(msft)) == 3000, np.nan, s.column("rsi")))
    stamp = str(msft.timestamps[3000])[:10]
    with pytest.raises(
        DataValidationError, match=rf"row 3000 \({stamp}\), column 'rsi' is nan after"
    ):
        WindowDataset(broken, 10, 2)
    assert len(WindowDataset(broken, 10, 2, allow_nan=True)) == len(msft) - 11


def test_config_errors(msft):
    with pytest.raises(ConfigError, match="lookback must be an int >= 1"):
        WindowDataset(msft, 0, 1)
    with pytest.raises(ConfigError, match="no complete window"):
        WindowDataset(msft[:10], 8, 4)
    with pytest.raises(ConfigError, match="two roles"):
        WindowDataset(msft, 8, 4, covariates=["close"])
    with pytest.raises(ConfigError, match="expected a TimeSeries"):
        WindowDataset(np.zeros((10, 2)), 2, 2)


@pytest.mark.parametrize("columns", [("y",), ("y", "c")])
def test_values_beyond_float32_are_named_not_turned_into_infinities(columns):
    # 1e39 is finite in float64 and beyond float32 (max 3.4e38): stored as float32 it would become
    # inf with a numpy RuntimeWarning, and then "no complete window ... length 0"
    s = ramp_series("a", 40, 0.0, covariates=len(columns) > 1, known=False)
    big = s.column(columns[-1]).copy()
    big[12] = big[30] = -1e39
    s = s.with_columns(**{columns[-1]: big})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy warning leaks
        with pytest.raises(
            DataValidationError,
            match=rf"series 'a': row 12 \(2024-01-01T12:00:00Z\), column '{columns[-1]}' is "
            r"-1e\+39, beyond the range of float32 .*2 value\(s\) of the column overflow\); "
            r"build the dataset with dtype=float64, which reads them",
        ):
            WindowDataset(s, 4, 2)
        ds = WindowDataset(s, 4, 2, dtype="float64")
    assert ds.gather(np.array([10]))[0][0, 2, -1] == -1e39
    # float32 and float64 data that fits are stored as before
    WindowDataset(ramp_series("b", 40, 3e38), 4, 2)
