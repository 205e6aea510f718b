"""Covariates through a job: known-future, past and static covariates, calendar features and
holidays, the model's declared support, forecasting past the end from the data's future rows or a
separate file (Python and the command line, from a checkpoint), and the defaults of a job."""

from __future__ import annotations

import numpy as np
import pytest

from swets_core.errors import ConfigError, DataValidationError
from swets_timeseries import SeriesCollection, TimeSeries, read_series_csv, sales_example
from swets_timeseries import write_series_csv as write_csv
from swets_train.jobs import JobSpec, load_job, prepare, run_job
from tests.cli.conftest import one_error_line, swets

HORIZON = 7
TINY_MODEL = {"nbeats": {"num_blocks": 1, "num_layers": 2, "layer_width": 16}}


def _files(tmp_path, future: int = 14, days: int = 200):
    ex = sales_example(0, days=days, future=future)
    data, holidays = ex.write(tmp_path)
    return data, holidays


def _spec(data, holidays, model: str = "nbeats", **data_keys) -> dict:
    return {
        "data": {
            "path": str(data),
            "target": "sales",
            "covariates": ["temperature"],
            "known_covariates": ["promo"],
            "holidays": str(holidays),
            "lookback": 14,
            "horizon": HORIZON,
            **data_keys,
        },
        "model": {"name": model, **TINY_MODEL.get(model, {})},
        "training": {"max_steps": 3, "batch_size": 16},
    }


def test_a_job_gives_the_model_every_kind_of_covariate(tmp_path):
    data, holidays = _files(tmp_path)
    p = prepare(_spec(data, holidays))
    d = p.spec.data
    assert d.calendar == ("dayofweek", "dayofyear")  # daily data: from the sampling interval
    assert d.holidays[0] == "2021-01-01" and isinstance(d.holidays, tuple)  # read from the file
    known = ["promo", "dayofweek_sin", "dayofweek_cos", "dayofyear_sin", "dayofyear_cos", "holiday"]
    assert list(d.known_columns) == known
    cfg = p.model.config()
    assert cfg["n_features"] == 2 + len(known) and cfg["n_future_features"] == len(known)
    assert cfg["instance_norm"] is True
    batch = next(iter(p.train))
    assert batch.x_future.shape == (16, HORIZON, len(known))
    assert len(p.series[0]) == 200 and len(p.future[0]) == 14  # future rows kept apart
    history = p.series[0]
    np.testing.assert_array_equal(  # the holiday flag is a known covariate of the right days
        history.timestamps[history.column("holiday") == 1].astype("datetime64[D]")[:2],
        np.asarray(["2021-01-01", "2021-04-02"], dtype="datetime64[D]"),
    )


def test_forecast_past_the_end_reads_the_known_covariates_of_the_future_rows(tmp_path):
    data, holidays = _files(tmp_path)
    spec = _spec(data, holidays)
    spec["output"] = {"checkpoint": str(tmp_path / "m.swets")}
    run_job(spec)
    job = load_job(tmp_path / "m.swets")
    fc = job.forecast()
    first = np.datetime64("2021-07-20")  # the day after the last sale (200 days from 2021-01-01)
    assert fc.timestamps[0, 0].astype("datetime64[D]") == first and fc.values.shape == (1, HORIZON)
    # another promotion plan over the horizon changes the forecast; other temperatures do not
    series = read_series_csv(
        data,
        target="sales",
        covariates=["temperature"],
        known_covariates=["promo"],
        future_rows=True,
        series_id="sales",
    )
    plan = series.values["promo"].copy()
    plan[200:] = 1.0 - plan[200:]
    weather = series.values["temperature"].copy()
    weather[200:] = 30.0  # the past covariate beyond the last sale: not an input of the forecast
    other_plan = series.with_columns(promo=plan)
    other_weather = series.with_columns(temperature=weather)
    assert not np.allclose(job.forecast(other_plan).values, fc.values)
    np.testing.assert_array_equal(job.forecast(other_weather).values, fc.values)
    # the same forecast from a separate file of the known covariates
    future = tmp_path / "plan.csv"
    rows = ["date,promo"] + [
        f"{np.datetime_as_string(t, unit='D')},{v}"
        for t, v in zip(series.timestamps[200:], series.values["promo"][200:])
    ]
    future.write_text("\n".join(rows) + "\n")
    np.testing.assert_array_equal(job.forecast(series, future=str(future)).values, fc.values)


def test_missing_or_short_future_values_are_errors_naming_the_column_and_timestamp(tmp_path):
    data, holidays = _files(tmp_path, future=4)  # 4 future rows, a horizon of 7
    spec = _spec(data, holidays)
    spec["output"] = {"checkpoint": str(tmp_path / "m.swets")}
    run_job(spec)
    job = load_job(tmp_path / "m.swets")
    with pytest.raises(DataValidationError) as info:
        job.forecast()
    msg = str(info.value)
    assert (
        "known covariate 'promo' has no value for 2021-07-24T00:00:00Z (step 5 of the horizon"
        in msg
    )
    series = read_series_csv(
        data,
        target="sales",
        covariates=["temperature"],
        known_covariates=["promo"],
        future_rows=True,
        series_id="sales",
    )
    gap = series.values["promo"].copy()
    gap[201] = np.nan  # the second future row has no promotion plan
    with pytest.raises(DataValidationError, match="'promo' has no value for 2021-07-21T00:00:00Z"):
        job.forecast(series.with_columns(promo=gap))
    # a job that writes the forecast CSV checks it before training
    spec["output"] = {
        "checkpoint": str(tmp_path / "n.swets"),
        "forecast_csv": str(tmp_path / "f.csv"),
    }
    with pytest.raises(DataValidationError, match="'promo' has no value"):
        run_job(spec)
    assert not (tmp_path / "n.swets").exists()


def test_forecast_with_known_covariates_from_the_command_line(tmp_path):
    data, holidays = _files(tmp_path, future=0)
    swets(
        "train",
        "--data",
        data,
        "--target",
        "sales",
        "--covariates",
        "temperature",
        "--known-covariates",
        "promo",
        "--holidays",
        holidays,
        "--lookback",
        "14",
        "--horizon",
        str(HORIZON),
        "--max-steps",
        "2",
        "--set",
        "model.layer_width=16",
        "--set",
        "model.num_blocks=1",
        "--output",
        "m.swets",
        "--no-progress",
        cwd=tmp_path,
    )
    line = one_error_line(swets("forecast", "m.swets", cwd=tmp_path, rc=None))
    assert "known covariate 'promo' has no value for 2021-07-20T00:00:00Z (step 1" in line
    plan = tmp_path / "plan.csv"
    days = np.datetime64("2021-07-20") + np.arange(HORIZON)
    plan.write_text("date,promo\n" + "".join(f"{d},{i % 2}\n" for i, d in enumerate(days)))
    out = swets("forecast", "m.swets", "--future", plan, "--output", "fc.csv", cwd=tmp_path)
    assert "wrote 1 forecast(s) of 7 steps" in out.stdout
    text = (tmp_path / "fc.csv").read_text().splitlines()
    assert text[1].startswith("sales,2021-07-20T00:00:00Z,1,") and len(text) == 1 + HORIZON
    short = tmp_path / "short.csv"
    short.write_text("date,promo\n2021-07-20,1\n2021-07-21,0\n")
    line = one_error_line(swets("forecast", "m.swets", "--future", short, cwd=tmp_path, rc=None))
    assert "'promo' has no value for 2021-07-22T00:00:00Z (step 3 of the horizon of 7)" in line
    pytest.importorskip("matplotlib")
    # a plot without the plan draws the rest and says why it has no forecast beyond the data
    drawn = swets("plot", "m.swets", "--output", "m.png", cwd=tmp_path)
    assert (tmp_path / "m.png").stat().st_size > 0
    assert "swets: warning: plot: no forecast beyond the data" in drawn.stderr


def _panel_file(tmp_path, regions=("north", "south", "north")):
    series = []
    for k, region in enumerate(regions):
        s = sales_example(k, days=150).series
        series.append(s.with_static(region=region, size=float(100 + 50 * k)).with_columns())
        series[-1] = TimeSeries(
            s.timestamps,
            s.values,
            "sales",
            ["temperature"],
            ["promo"],
            id=f"store{k}",
            static=series[-1].static,
        )
    path = tmp_path / "panel.csv"
    write_csv(SeriesCollection(series), path)
    return path


def test_static_covariates_from_a_column_and_from_a_table(tmp_path):
    path = _panel_file(tmp_path)
    base = {
        "data": {
            "path": str(path),
            "target": "sales",
            "known_covariates": ["promo"],
            "static_covariates": ["region", "size"],
            "lookback": 14,
            "horizon": HORIZON,
            "calendar": "none",
        },
        "model": {"name": "tcn", "channels": 4},
        "training": {"max_steps": 2},
        "output": {"checkpoint": str(tmp_path / "s.swets")},
    }
    result = run_job(base)
    assert result.model.config()["static_cardinalities"] == [2, 0]
    job = load_job(tmp_path / "s.swets")
    assert job.static_encoder.categories == {"region": ["north", "south"]}
    assert len(job.predict(stride=20)) > 0
    table = tmp_path / "stores.csv"
    table.write_text("id,region,size\nstore0,east,1\nstore1,south,2\nstore2,north,3\n")
    # the stored encoder has never seen "east": an error naming it, not a silent code
    with pytest.raises(DataValidationError, match="'region' is 'east', a category the model"):
        job.with_data(static_path=str(table)).predict(stride=20)
    from_table = {**base, "data": {**base["data"], "static_path": str(table)}}
    from_table["output"] = {"checkpoint": str(tmp_path / "t.swets")}
    assert run_job(from_table).model.config()["static_cardinalities"] == [3, 0]


def test_a_model_that_cannot_use_a_kind_of_covariate_fails_in_one_line(tmp_path):
    data, holidays = _files(tmp_path)
    with pytest.raises(ConfigError) as info:
        prepare(_spec(data, holidays, model="seasonal_naive"))
    text = str(info.value)
    assert "\n" not in text
    assert (
        "model 'seasonal_naive' uses no known-future covariates, but the job gives it promo" in text
    )
    # a baseline gets no calendar by default, and past covariates are allowed (it reads the target)
    ok = _spec(data, holidays, model="seasonal_naive")
    ok["data"].pop("known_covariates")
    ok["data"].pop("holidays")
    assert prepare(ok).spec.data.calendar == ()


def test_the_defaults_of_a_job_follow_the_data(tmp_path):
    data, _ = _files(tmp_path, future=0, days=1095)
    spec = {"data": {"path": str(data), "target": "sales"}, "model": {"name": "tcn"}}
    p = prepare(spec)
    d, t = p.spec.data, p.spec.training
    assert (d.lookback, d.horizon) == (49, 24)  # seven weeks of daily data for 24 days ahead
    assert p.model.receptive_field >= 49 and p.model.config()["instance_norm"]
    steps = len(p.train)
    assert t.epochs == max(20, -(-1000 // steps)) and t.patience == max(5, -(-150 // steps))
    assert any("lookback 49 rows (7 seasons of 7 rows)" in n for n in p.notes)
    spec["model"] = {"name": "tcn", "levels": 2}
    with pytest.warns(UserWarning, match="sees the last 13 of its 49 input rows"):
        prepare(spec)
    electricity = prepare({"model": {"name": "nbeats", "layer_width": 8}})
    assert electricity.spec.data.lookback == 96  # half-hourly data, a horizon of 24: two days
    assert electricity.spec.data.calendar == ("hour", "dayofweek")


def test_the_kept_weights_are_reported(tmp_path):
    data, holidays = _files(tmp_path, future=0)
    spec = _spec(data, holidays)
    spec["training"] = {"epochs": 4, "patience": 1, "lr": 0.5, "batch_size": 64}
    result = run_job(spec, write=False)
    k = result.kept
    assert k["monitor"] == "val_loss" and k["epoch"] == 1 + int(
        np.argmin([r["val_loss"] for r in result.history])
    )
    text = result.kept_weights()
    assert text.startswith(("restored the weights of epoch", "kept the weights of the last epoch"))
    assert f"epoch {k['epoch']}" in text or f"epoch, {k['epoch']}" in text
    assert JobSpec.from_dict(result.spec).training.patience == 1
