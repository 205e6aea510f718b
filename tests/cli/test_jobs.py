"""The jobs API behind the commands: JobSpec validation, prepare, run_job and load_job (in process)."""

from __future__ import annotations

import numpy as np
import pytest

from swets_core.errors import ConfigError
from swets_timeseries import TimeSeries
from swets_train.jobs import (
    JobResult,
    JobSpec,
    default_season_length,
    load_job,
    mase_scales,
    prepare,
    run_job,
)

from .conftest import write_hourly_csv


def hourly_series(n: int = 240, seed: int = 0, covariates: tuple[str, ...] = ()) -> TimeSeries:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 50 + 10 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 1.0, n)
    x = np.cos(2 * np.pi * t / 24) + rng.normal(0, 0.1, n)
    stamps = np.datetime64("2024-01-01T00:00") + t.astype("timedelta64[h]")
    return TimeSeries(stamps, {"y": y, "x": x}, target="y", covariates=covariates, id="s")


SMALL = {
    "data": {"lookback": 24, "horizon": 6, "val": 0.2, "test": 0.2},
    "model": {"name": "nbeats", "num_blocks": 1, "num_layers": 2, "layer_width": 16},
    "training": {"max_steps": 6, "batch_size": 16},
}


def test_defaults_and_round_trip():
    spec = JobSpec.from_dict({})
    assert spec.data.dataset == "electricity" and spec.data.path is None
    assert (spec.data.lookback, spec.data.horizon, spec.data.scaler) == ("auto", 24, "standard")
    assert spec.data.calendar == "auto" and spec.data.instance_norm
    assert spec.model.name == "nbeats" and spec.training.epochs == "auto"
    assert spec.training.patience == "auto"
    assert spec.checkpoint_path.endswith("nbeats.swets")
    full = JobSpec.from_dict(
        {
            "data": {"path": "x.csv", "target": "y", "covariates": ["a"], "scaler": "none"},
            "model": {"name": "tcn", "channels": [8, 8]},
            "training": {
                "max_steps": 5,
                "patience": "none",
                "scheduler": "step_lr",
                "scheduler_options": {"step_size": 2},
                "loss": "huber",
                "loss_options": {"delta": 0.5},
            },
            "output": {"plot": "p.png"},
        }
    )
    assert full.data.scaler is None and full.training.patience is None
    assert full.training.epochs is None  # a step budget alone
    d = full.to_dict()
    assert d["data"]["scaler"] == "none" and d["training"]["patience"] == "none"
    assert d["training"]["epochs"] == "none" and d["model"] == {"name": "tcn", "channels": [8, 8]}
    assert JobSpec.from_dict(d) == full
    assert JobSpec.from_dict(spec.to_dict()) == spec


@pytest.mark.parametrize(
    ("d", "message"),
    [
        ({"dat": {}}, "unknown section [dat]; did you mean 'data'?"),
        ({"data": {"lookbak": 3}}, "[data] unknown key 'lookbak'; did you mean 'lookback'?"),
        ({"data": {"lookback": 0}}, 'data.lookback must be an int >= 1 or "auto", got 0'),
        ({"data": {"lookback": 2.5}}, "data.lookback must be an int >= 1"),
        ({"data": {"val": 0}}, "data.val must be a number > 0 and < 1"),
        ({"data": {"val": 0.5, "test": 0.5}}, "val + test must be < 1"),
        ({"data": {"dataset": "msft", "path": "a.csv"}}, "give dataset or path, not both"),
        ({"data": {"dataset": "elec"}}, "data.dataset: unknown bundled data set 'elec'"),
        ({"data": {"scaler": "zscore"}}, "data.scaler must be one of standard, minmax, robust"),
        ({"data": {"covariates": "a,a"}}, "data.covariates names a column twice"),
        ({"model": {"name": "nbeast"}}, "did you mean 'nbeats'?"),
        ({"model": {"name": "nbeats", "widht": 3}}, "model.widht: model 'nbeats' has no option"),
        ({"model": {"name": "nbeats", "horizon": 3}}, "model.horizon: set data.horizon instead"),
        ({"model": {"name": "nbeats", "seed": 3}}, "model.seed: set training.seed instead"),
        ({"training": {"epoch": 3}}, "[training] unknown key 'epoch'; did you mean 'epochs'?"),
        ({"training": {"lr": 0}}, "training.lr must be a number > 0, got 0"),
        ({"training": {"lr": "fast"}}, "training.lr must be a number > 0, got 'fast'"),
        ({"training": {"epochs": True}}, "training.epochs must be an int >= 1"),
        ({"training": {"epochs": "none"}}, "give training.epochs, training.max_steps or both"),
        ({"training": {"loss": "hubber"}}, "unknown loss 'hubber'; did you mean 'huber'?"),
        ({"training": {"loss": "huber", "loss_options": {"delta_": 1}}}, "did you mean 'delta'?"),
        ({"training": {"optimizer_options": {"lr": 1}}}, "set training.lr instead"),
        ({"training": {"scheduler": "cosine_annealing"}}, "did you mean 'cosine_annealing_lr'"),
        ({"training": {"scheduler_options": {"gamma": 1}}}, "given without training.scheduler"),
        ({"training": {"scheduler_interval": "batch"}}, "must be one of epoch, step"),
        ({"output": {"checkpont": "a"}}, "did you mean 'checkpoint'?"),
    ],
)
def test_from_dict_names_the_section_and_key(d, message):
    with pytest.raises(ConfigError) as info:
        JobSpec.from_dict(d)
    assert message in str(info.value)


def test_prepare_errors_name_what_is_wrong(tmp_path):
    csv_path = write_hourly_csv(tmp_path / "load.csv", n=80)
    cases = [
        ({"data": {"path": str(csv_path)}}, "load.csv has 2 value columns (load, temp)"),
        ({"data": {"path": str(csv_path), "target": "lod"}}, "did you mean 'load'?"),
        ({"data": {"target": "price"}}, "electricity has no column 'price'"),
        (
            {"data": {"lookback": 24, "horizon": 6}, "training": {"season_length": 48}},
            "training.season_length (48) is longer than data.lookback (24)",
        ),
        ({"training": {"scheduler": "step_lr"}}, "give it in training.scheduler_options"),
        (
            {"data": {"covariates": []}, "model": {"name": "nbeats", "stack_types": ["x"]}},
            "model 'nbeats'",
        ),
    ]
    (tmp_path / "notes.md").write_text("# no data here\n")
    cases.append(({"data": {"path": str(tmp_path / "notes.md")}}, "unsupported file type '.md'"))
    for d, message in cases:
        with pytest.raises(ConfigError) as info:
            prepare(d)
        assert message in str(info.value), (d, str(info.value))


def test_covariates_on_nbeats_are_exogenous_inputs_of_every_block():
    spec = {"data": {"lookback": 24, "horizon": 6, "covariates": ["x"], "calendar": "none"}}
    p = prepare(spec, data=hourly_series(covariates=("x",)))
    assert p.model.config()["n_features"] == 2  # NBEATSx: the target and its past covariate
    # each block reads the residual window and the covariate's window
    assert all(b.layers[0].in_features == 24 + 24 for b in p.model.blocks)
    with pytest.raises(ConfigError, match=r"model 'naive' uses no known-future covariates"):
        prepare(
            {**spec, "model": {"name": "naive"}, "data": {**spec["data"], "calendar": ["hour"]}},
            data=hourly_series(),
        )


def test_default_season_length_from_the_sampling_interval():
    def every(step, n=50, start="2024-01-01"):
        return np.datetime64(start) + np.arange(n) * np.timedelta64(step, "s")

    assert default_season_length(every(1800)) == 48
    assert default_season_length(every(3600)) == 24
    assert default_season_length(every(900)) == 96
    assert default_season_length(every(86400)) == 7
    weekdays = np.array(
        [
            d
            for d in np.arange("2024-01-01", "2024-03-01", dtype="datetime64[D]")
            if (d.astype(np.int64) + 3) % 7 < 5
        ]
    ).astype("datetime64[ns]")
    assert default_season_length(weekdays) == 5
    assert default_season_length(every(7 * 86400)) == 52
    months = np.arange("2020-01", "2024-01", dtype="datetime64[M]").astype("datetime64[ns]")
    assert default_season_length(months) == 12
    assert default_season_length(every(7)) == 1  # 7 s does not divide a day


def test_prepare_is_deterministic_for_a_seed():
    spec = {**SMALL, "model": {"name": "tcn", "channels": 4, "levels": 2, "dropout": 0.2}}
    series = hourly_series(covariates=("x",))
    a, b = prepare(spec, data=series), prepare(spec, data=series)
    for (na, pa), (nb, pb) in zip(a.model.named_parameters(), b.model.named_parameters()):
        assert na == nb
        np.testing.assert_array_equal(pa.numpy(), pb.numpy())
    ba, bb = next(iter(a.train)), next(iter(b.train))
    np.testing.assert_array_equal(ba.x_past.numpy(), bb.x_past.numpy())
    assert a.season_length == 24 and a.spec.training.loss == "mse"
    assert a.spec.data.target == "y" and a.spec.data.covariates == ("x",)  # the data's own roles
    # the target, its covariate and the history of the hourly calendar (hour, day of the week)
    assert a.model.config()["n_features"] == 6 and a.model.config()["n_future_features"] == 4
    # the scaler saw the training rows only
    lo, hi = a.splits.train.rows["s"]
    y = hourly_series().column("y")
    assert a.scaler.state_dict()["stats"]["*"]["offset"][0] == pytest.approx(y[lo:hi].mean())


def test_run_job_scores_in_the_original_scale_against_baselines():
    series = hourly_series()
    spec = {**SMALL, "data": {**SMALL["data"], "target": "y", "covariates": []}}
    result = run_job(spec, write=False, data=series)
    assert result.checkpoint is None and len(result.history) == 1
    assert set(result.metrics) == {"validation", "test"}
    assert result.windows == {"train": 115, "validation": 19, "test": 19}
    # the naive baseline on the test windows, computed here from the raw values
    p = prepare(spec, data=series)
    lo, hi = p.splits.test.rows["s"]
    y = series.column("y")
    starts = np.arange(lo, hi - 24 - 6 + 1)
    targets = y[starts[:, None] + 24 + np.arange(6)]
    naive = np.repeat(y[starts + 23][:, None], 6, axis=1)
    mae = np.abs(targets - naive).mean()
    assert result.baselines["naive"]["test"]["mae"] == pytest.approx(mae, rel=1e-12)
    # MASE: scaled by the seasonal-naive error of the training rows (m = 24)
    scale = mase_scales(p.series, "y", p.splits.train.rows, 24)["s"]
    a, b = p.splits.train.rows["s"]
    assert scale == pytest.approx(np.abs(y[a + 24 : b] - y[a : b - 24]).mean())
    assert result.baselines["naive"]["test"]["mase"] == pytest.approx(mae / scale, rel=1e-12)
    snaive = y[starts[:, None] + np.arange(6)]  # one season (24) before each target
    assert result.baselines["seasonal_naive"]["test"]["rmse"] == pytest.approx(
        np.sqrt(((targets - snaive) ** 2).mean()), rel=1e-12
    )
    table = result.table()
    assert table.splitlines()[0].split() == ["split", "model", "mae", "rmse", "smape", "mase"]
    assert JobResult.from_dict(result.to_dict()) == result


def test_checkpoint_round_trip_and_quantile_models(tmp_path):
    csv_path = write_hourly_csv(tmp_path / "load.csv", n=240)
    spec = {
        "data": {"path": str(csv_path), "target": "load", "lookback": 24, "horizon": 6},
        "model": {"name": "lstm", "hidden_size": 8, "num_layers": 1, "quantiles": [0.1, 0.5, 0.9]},
        "training": {"max_steps": 3},
        "output": {"checkpoint": str(tmp_path / "q.swets")},
    }
    result = run_job(spec)
    assert result.spec["training"]["loss"] == "quantile"
    assert result.spec["training"]["loss_options"] == {"quantiles": [0.1, 0.5, 0.9]}
    job = load_job(result.checkpoint)
    metrics, baselines = job.evaluate()
    assert metrics == result.metrics and baselines == result.baselines
    fc = job.forecast()
    assert fc.values.shape == (1, 6, 3) and fc.quantiles == (0.1, 0.5, 0.9)
    assert job.metadata["metrics"] == result.metrics


def test_parquet_files_are_read_with_the_extra(tmp_path):
    pytest.importorskip("pyarrow")
    from swets_timeseries import write_parquet

    path = tmp_path / "hourly.parquet"
    write_parquet(hourly_series(), path)
    p = prepare({**SMALL, "data": {**SMALL["data"], "path": str(path), "target": "y"}})
    assert p.spec.data.target == "y" and p.spec.data.covariates == ()
    assert len(p.series[0]) == 240 and p.season_length == 24
    with pytest.raises(ConfigError, match=r"has 2 value columns \(y, x\)"):
        prepare({**SMALL, "data": {**SMALL["data"], "path": str(path)}})


def test_a_job_s_quantile_model_needs_a_median_and_validates_on_it():
    from swets_train.jobs import run_job

    base = {
        "data": {"lookback": 48, "horizon": 6},
        "model": {"name": "nbeats", "num_blocks": 1, "num_layers": 1, "layer_width": 8},
        "training": {"max_steps": 3},
    }
    base["model"]["quantiles"] = [0.1, 0.9]
    with pytest.raises(ConfigError, match=r"model.quantiles: \[0.1, 0.9\] has no 0.5 level"):
        prepare(base)
    base["model"]["quantiles"] = [0.1, 0.5, 0.9]
    result = run_job(base, write=False)
    assert all(np.isfinite(r["val_mae"]) for r in result.history)  # fit took the model's levels


def test_a_model_that_scales_its_windows_itself_is_built_without_the_default_instance_norm():
    # DeepAR refuses instance_norm=True (it mean-scales each window, section 3.3 of its paper);
    # the job's default data.instance_norm=true must not stop it from training with the defaults
    series = hourly_series()
    spec = {
        "data": {**SMALL["data"], "target": "y", "covariates": []},
        "model": {"name": "deepar", "hidden_size": 4, "num_layers": 1, "num_samples": 8},
        "training": SMALL["training"],
    }
    assert JobSpec.from_dict(spec).data.instance_norm  # the default stays on for other models
    result = run_job(spec, write=False, data=series)
    assert result.model.config()["instance_norm"] is False
    assert np.isfinite(result.metrics["test"]["mae"])
