"""Covariates in the data layer: static covariates, future rows, calendar features, the batch."""

from __future__ import annotations

import numpy as np
import pytest

from swets_core.errors import ConfigError, DataValidationError, StateDictError
from swets_timeseries import (
    DataLoader,
    SeriesCollection,
    StaticEncoder,
    TimeSeries,
    WindowDataset,
    read_dates,
    read_series_csv,
    read_static_csv,
    sales_example,
    write_series_csv,
)
from swets_timeseries.features import calendar, calendar_columns, calendar_features, with_calendar


def _days(n: int, start: str = "2024-01-01") -> np.ndarray:
    return (np.datetime64(start, "D") + np.arange(n)).astype("datetime64[ns]")


def _panel() -> SeriesCollection:
    out = []
    for k, (kind, size) in enumerate([("a", 10.0), ("b", 20.0), ("a", 40.0)]):
        values = {"y": np.arange(30.0) + 100 * k, "promo": (np.arange(30) % 5 == 0) * 1.0}
        out.append(
            TimeSeries(
                _days(30),
                values,
                "y",
                known_covariates=["promo"],
                id=f"s{k}",
                static={"kind": kind, "size": size},
            )
        )
    return SeriesCollection(out)


# -- static covariates ------------------------------------------------------------------------------
def test_static_covariates_are_kept_by_series_and_must_agree():
    coll = _panel()
    assert coll.static_covariates == ("kind", "size")
    assert coll["s1"].static == {"kind": "b", "size": 20.0}
    assert coll["s0"][5:10].static == coll["s0"].static  # slicing keeps them
    with pytest.raises(ConfigError, match="static covariates"):
        SeriesCollection([coll["s0"], coll["s1"].with_static(extra=1)])
    with pytest.raises(ConfigError, match="finite"):
        TimeSeries(_days(3), {"y": np.ones(3)}, "y", static={"size": float("nan")})
    with pytest.raises(ConfigError, match="both a column and a static"):
        TimeSeries(_days(3), {"y": np.ones(3)}, "y", static={"y": 1})


def test_static_encoder_codes_categories_and_standardizes_numbers():
    coll = _panel()
    enc = StaticEncoder().fit(coll)
    assert enc.columns == ("kind", "size") and enc.cardinalities == [2, 0]
    arr = enc.transform(coll)
    np.testing.assert_array_equal(arr[:, 0], [0, 1, 0])  # categories sorted: a, b
    sizes = np.array([10.0, 20.0, 40.0])
    np.testing.assert_allclose(arr[:, 1], (sizes - sizes.mean()) / sizes.std())
    again = StaticEncoder.from_state(enc.state_dict())
    np.testing.assert_array_equal(again.transform(coll), arr)
    new = SeriesCollection([coll["s0"].with_static(kind="z")])
    with pytest.raises(DataValidationError, match="'z', a category the model was not trained"):
        enc.transform(new)
    with pytest.raises(StateDictError, match="neither categories nor mean"):
        StaticEncoder.from_state({"columns": ["x"], "categories": {}, "mean": {}, "std": {}})


def test_windows_and_batches_carry_the_static_covariates_of_their_series():
    coll = _panel()
    ds = WindowDataset(coll, 6, 3, dtype="float64")
    assert ds.static_columns == ("kind", "size")
    idx = np.arange(len(ds))
    ids, _ = ds.window_info(idx)
    expected = ds.static_encoder.transform(coll)[[int(i[1]) for i in ids]]
    np.testing.assert_array_equal(ds.gather_static(idx), expected)
    batch = next(iter(DataLoader(ds, batch_size=len(ds), dtype="float64")))
    np.testing.assert_array_equal(batch.static.numpy(), expected)
    assert set(batch.model_inputs()) == {"future", "static"}
    assert batch.x_future.shape == (len(ds), 3, 1)
    one = WindowDataset(coll["s2"], 6, 3, dtype="float64")  # one series: every row the same
    assert one.gather_static(np.arange(4)).shape == (4, 2)


def test_static_covariates_from_a_column_constant_per_series(tmp_path):
    path = tmp_path / "panel.csv"
    rows = ["store,date,sales,region,size"]
    for store, region, size in (("x", "north", 3), ("y", "south", 5)):
        rows += [f"{store},2024-01-0{d},{d}.5,{region},{size}" for d in range(1, 6)]
    path.write_text("\n".join(rows) + "\n")
    coll = read_series_csv(
        path, target="sales", id_column="store", static_covariates=["region", "size"]
    )
    assert coll["x"].static == {"region": "north", "size": 3.0}
    assert coll["y"].static == {"region": "south", "size": 5.0}
    path.write_text(path.read_text().replace("y,2024-01-04,4.5,south", "y,2024-01-04,4.5,east"))
    with pytest.raises(DataValidationError, match="'region' is not constant within the series"):
        read_series_csv(path, target="sales", id_column="store", static_covariates=["region"])


def test_static_covariates_from_a_table_keyed_by_id(tmp_path):
    table = tmp_path / "stores.csv"
    table.write_text("id,kind,size\ns0,a,1\ns1,b,2\ns2,a,3\n")
    static = read_static_csv(table, id_column="id")
    assert static == {
        "s0": {"kind": "a", "size": 1.0},
        "s1": {"kind": "b", "size": 2.0},
        "s2": {"kind": "a", "size": 3.0},
    }
    bare = SeriesCollection([s.with_static() for s in _panel()]).map(
        lambda s: TimeSeries(s.timestamps, s.values, s.target, id=s.id)
    )
    assert bare.with_static(static)["s1"].static == {"kind": "b", "size": 2.0}
    with pytest.raises(ConfigError, match="no row for series s2"):
        bare.with_static({k: v for k, v in static.items() if k != "s2"})
    table.write_text("id,kind\ns0,a\ns0,b\n")
    with pytest.raises(DataValidationError, match="'s0' appears twice"):
        read_static_csv(table, id_column="id")


# -- future rows ------------------------------------------------------------------------------------
def test_future_rows_are_accepted_on_request_and_split_off(tmp_path):
    ex = sales_example(0, days=60, future=10)
    path = tmp_path / "sales.csv"
    write_series_csv(ex.series, path)
    roles = {"target": "sales", "covariates": ["temperature"], "known_covariates": ["promo"]}
    with pytest.raises(DataValidationError, match="non_finite_value"):
        read_series_csv(path, **roles)  # empty targets are errors unless they are future rows
    s = read_series_csv(path, future_rows=True, **roles)
    assert len(s) == 70 and s.history_length() == 60
    history, future = s.split_future()
    assert len(history) == 60 and len(future) == 10
    assert np.isnan(future.column("sales")).all()
    np.testing.assert_array_equal(future.column("promo"), ex.series.column("promo")[60:])
    gap = s.values["sales"].copy()
    gap[30] = np.nan  # a missing target inside the history is still an error
    bad = TimeSeries(s.timestamps, {**s.values, "sales": gap}, "sales", known_covariates=["promo"])
    with pytest.raises(DataValidationError, match="sales=nan"):
        bad.validate(future_rows=True)


def test_sales_example_is_deterministic_and_has_what_drives_sales():
    a, b = sales_example(3), sales_example(3)
    np.testing.assert_array_equal(a.series.column("sales"), b.series.column("sales"))
    assert len(a.series) == 1095 and a.holidays == b.holidays
    s = a.series
    promo = s.column("promo") == 1
    assert 0.05 < promo.mean() < 0.3
    ratio = s.column("sales")[promo].mean() / s.column("sales")[~promo].mean()
    assert 1.2 < ratio < 1.7  # promotions sell more
    days = s.timestamps.astype("datetime64[D]")
    holiday = np.isin(days, np.asarray(a.holidays, dtype="datetime64[D]"))
    assert holiday.sum() == 21  # seven a year
    assert s.column("sales")[holiday].mean() < 0.6 * s.column("sales")[~holiday].mean()
    assert not np.array_equal(sales_example(4).series.column("sales"), s.column("sales"))


# -- calendar ---------------------------------------------------------------------------------------
def test_calendar_features_are_cycles_and_holiday_flags():
    ts = _days(14, "2024-12-23")  # a Monday
    names = ["dayofweek", "month", "dayofyear", "hour", "holiday"]
    out = calendar(ts, names, holidays=["2024-12-25"])
    assert list(out) == calendar_columns(names)
    np.testing.assert_allclose(out["dayofweek_sin"][:7], np.sin(2 * np.pi * np.arange(7) / 7))
    np.testing.assert_allclose(out["dayofweek_cos"][7:], np.cos(2 * np.pi * np.arange(7) / 7))
    np.testing.assert_allclose(out["month_sin"][:9], np.sin(2 * np.pi * 11 / 12))  # December
    np.testing.assert_allclose(out["month_sin"][9:], 0.0, atol=1e-15)  # January
    np.testing.assert_allclose(out["hour_cos"], 1.0)  # midnight
    np.testing.assert_array_equal(np.flatnonzero(out["holiday"]), [2])
    old = calendar_features(ts)  # the named trio, one definition
    np.testing.assert_array_equal(old["dow_sin"], out["dayofweek_sin"])
    with pytest.raises(ConfigError, match="unknown feature 'weekday'"):
        calendar(ts, ["weekday"])
    with pytest.raises(ConfigError, match="needs the holiday dates"):
        calendar(ts, ["holiday"])


def test_calendar_columns_join_the_known_covariates_and_can_be_added_twice():
    coll = with_calendar(_panel(), ["dayofweek"], holidays=["2024-01-03"])
    assert coll.known_covariates == ("promo", "dayofweek_sin", "dayofweek_cos", "holiday")
    assert with_calendar(coll, ["dayofweek"], ["2024-01-03"]).known_covariates == (
        coll.known_covariates
    )
    clash = coll.map(lambda s: s.with_columns(holiday=np.zeros(len(s))))
    with pytest.raises(ConfigError, match="already has a column 'holiday'"):
        with_calendar(clash, [], holidays=["2024-01-03"])


def test_holiday_dates_read_from_a_file_with_or_without_a_header(tmp_path):
    f = tmp_path / "h.csv"
    f.write_text("date,name\n2024-12-25,Christmas\n2024-01-01,New Year\n2024-12-25,again\n")
    assert read_dates(f) == ["2024-01-01", "2024-12-25"]
    f.write_text("2024-05-01\n2024-01-01\n")
    assert read_dates(f) == ["2024-01-01", "2024-05-01"]
    f.write_text("date\n2024-13-01\n")
    with pytest.raises(DataValidationError, match="line 2: '2024-13-01' is not a date"):
        read_dates(f)


def test_static_covariates_and_future_rows_from_a_dataframe():
    pd = pytest.importorskip("pandas")
    from swets_timeseries import series_from_pandas

    frame = pd.DataFrame(
        {
            "store": ["x"] * 4 + ["y"] * 4,
            "date": list(pd.date_range("2024-01-01", periods=4)) * 2,
            "sales": [1.0, 2.0, 3.0, np.nan, 5.0, 6.0, np.nan, np.nan],
            "promo": [0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0],
            "region": ["n"] * 4 + ["s"] * 4,
        }
    )
    coll = series_from_pandas(
        frame,
        target="sales",
        known_covariates=["promo"],
        static_covariates=["region"],
        id_column="store",
        future_rows=True,
    )
    assert coll["x"].static == {"region": "n"} and coll["y"].static == {"region": "s"}
    assert [s.history_length() for s in coll] == [3, 2]
