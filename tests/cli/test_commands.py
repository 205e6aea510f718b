"""Every command of swets-train through the real ``swets`` console script."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest

from swets_train.jobs import load_job

from .conftest import TINY, swets, write_hourly_csv


def _table_rows(text: str) -> dict[tuple[str, str], list[float]]:
    """``{(split, model): [mae, rmse, smape, mase]}`` from a printed job table."""
    rows, split = {}, None
    for line in text.splitlines():
        m = re.match(
            r"^(validation|test|all)?\s+(\w+)\s+([\d.e+-]+)\s+([\d.e+-]+)\s+([\d.e+-]+)\s+([\d.e+-]+)$",
            line,
        )
        if m:
            split = m.group(1) or split
            rows[(split, m.group(2))] = [float(m.group(i)) for i in range(3, 7)]
    return rows


def test_train_prints_metrics_against_baselines_and_writes_a_checkpoint(trained):
    _, ckpt, out = trained
    assert ckpt.exists()
    assert (
        "training nbeats on electricity: lookback 96, horizon 24, instance normalization, up to 12 "
        "steps" in out
    )
    rows = _table_rows(out)
    for split in ("validation", "test"):
        for model in ("nbeats", "naive", "seasonal_naive"):
            assert (split, model) in rows, out
    assert f"checkpoint: ckpt{'/'}tiny.swets" in out
    job = load_job(ckpt)
    # the metadata holds the resolved job and the printed figures
    assert job.spec.data.target == "demand_mw"
    assert job.spec.training.season_length == 48  # half-hourly data: a daily season
    assert job.spec.training.max_steps == 12 and job.spec.training.epochs is None
    assert job.model.config()["layer_width"] == [32]
    assert job.scaler is not None
    assert job.history and job.history[-1]["step"] == 12
    meta = job.metadata["metrics"]["test"]
    assert rows[("test", "nbeats")][0] == pytest.approx(meta["mae"], rel=1e-3)


def test_evaluate_reproduces_the_training_figures(trained):
    work, ckpt, out = trained
    proc = swets("evaluate", ckpt, cwd=work)
    assert _table_rows(proc.stdout) == _table_rows(out)
    assert "validation and test splits" in proc.stdout


def test_evaluate_on_another_file_scores_every_window(trained, tmp_path):
    work, ckpt, _ = trained
    series = load_job(ckpt).series()[0]
    tail = tmp_path / "tail.csv"
    stamps = np.datetime_as_string(series.timestamps[-500:], unit="m")
    values = series.column("demand_mw")[-500:]
    tail.write_text(
        "timestamp,demand_mw\n" + "".join(f"{s}Z,{float(v)!r}\n" for s, v in zip(stamps, values))
    )
    proc = swets("evaluate", ckpt, "--data", tail, "--stride", "24", cwd=work)
    rows = _table_rows(proc.stdout)
    assert {k for k in rows} == {("all", "nbeats"), ("all", "naive"), ("all", "seasonal_naive")}
    assert "every window" in proc.stdout and "tail.csv" in proc.stdout


def test_forecast_to_the_terminal_and_to_csv(trained):
    work, ckpt, _ = trained
    expected = load_job(ckpt).forecast()
    proc = swets("forecast", ckpt, cwd=work)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("2000-")]
    assert len(lines) == 24
    assert lines[0].split()[:2] == ["2000-08-28T00:00:00Z", "1"]
    assert lines[-1].split()[:2] == ["2000-08-28T11:30:00Z", "24"]

    proc = swets("forecast", ckpt, "--output", "out/forecast.csv", cwd=work)
    assert "wrote 1 forecast(s) of 24 steps" in proc.stdout
    with open(work / "out" / "forecast.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["series_id", "timestamp", "step", "forecast"]
    assert len(rows) == 24 and rows[0]["series_id"] == "electricity"
    np.testing.assert_array_equal([float(r["forecast"]) for r in rows], expected.values.reshape(-1))


def test_backtest_of_a_checkpoint(trained):
    work, ckpt, _ = trained
    proc = swets("backtest", ckpt, "--folds", "3", "--per-fold", cwd=work)
    assert "3 folds 24 rows apart, horizon 24" in proc.stdout
    for model in ("nbeats", "naive", "seasonal_naive"):
        assert re.search(rf"^{model}\s+all\s", proc.stdout, re.M), proc.stdout
        assert re.search(rf"^{model}\s+2\s", proc.stdout, re.M), proc.stdout


def test_backtest_trains_a_model_per_fold_with_refit(tmp_path):
    csv_path = write_hourly_csv(tmp_path / "load.csv", n=300)
    proc = swets(
        "backtest",
        "--model",
        "tcn",
        "--data",
        csv_path,
        "--target",
        "load",
        "--lookback",
        "24",
        "--horizon",
        "6",
        "--max-steps",
        "2",
        "--set",
        "model.channels=4",
        "--set",
        "model.levels=2",
        "--folds",
        "2",
        "--stride",
        "12",
        "--refit",
        "--no-progress",
        cwd=tmp_path,
    )
    assert "fold 0: training tcn" in proc.stdout and "fold 1: training tcn" in proc.stdout
    assert re.search(r"^tcn\s", proc.stdout, re.M)
    assert "2 folds 12 rows apart, horizon 6" in proc.stdout
    assert "season length 24" in proc.stdout  # hourly data: a daily season


def test_train_on_a_csv_with_covariates(tmp_path):
    csv_path = write_hourly_csv(tmp_path / "load.csv")
    proc = swets(
        "train",
        "--data",
        csv_path,
        "--target",
        "load",
        "--covariates",
        "temp",
        "--model",
        "lstm",
        "--set",
        "model.hidden_size=8",
        "--set",
        "model.num_layers=1",
        "--lookback",
        "48",
        "--horizon",
        "12",
        "--epochs",
        "1",
        "--output",
        "lstm.swets",
        "--forecast-csv",
        "fc.csv",
        "--no-progress",
        cwd=tmp_path,
    )
    assert "training lstm on load.csv" in proc.stdout
    job = load_job(tmp_path / "lstm.swets")
    assert job.spec.data.covariates == ("temp",)
    assert job.spec.data.calendar == ("hour", "dayofweek")  # hourly data: the default calendar
    # the target, the past covariate and the history of the four calendar columns
    assert job.model.config()["n_features"] == 6 and job.model.config()["n_future_features"] == 4
    assert job.spec.training.season_length == 24
    with open(tmp_path / "fc.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 12 and rows[0]["timestamp"] == "2024-03-17T16:00:00Z"


def test_config_file_with_command_line_overrides(tmp_path):
    (tmp_path / "job.toml").write_text(
        """
[data]
dataset = "electricity"
lookback = 48
horizon = 12
scaler = "minmax"

[model]
name = "tcn"
channels = 4
levels = 2

[training]
max_steps = 50
optimizer = "sgd"
optimizer_options = { momentum = 0.9 }
lr = 0.01

[output]
checkpoint = "from-file.swets"
"""
    )
    swets(
        "train",
        "--config",
        "job.toml",
        "--horizon",
        "6",
        "--max-steps",
        "3",
        "--set",
        "training.clip_grad_norm=1.0",
        "--no-progress",
        cwd=tmp_path,
    )
    job = load_job(tmp_path / "from-file.swets")
    assert (job.spec.data.lookback, job.spec.data.horizon) == (48, 6)  # file, then the option
    assert job.spec.data.scaler == "minmax" and type(job.scaler).__name__ == "MinMaxScaler"
    assert job.spec.model.name == "tcn" and job.model.config()["channels"] == [4, 4]
    t = job.spec.training
    assert (t.optimizer, t.optimizer_options, t.lr) == ("sgd", {"momentum": 0.9}, 0.01)
    assert (t.max_steps, t.clip_grad_norm) == (3, 1.0)


def test_plot_writes_a_png(trained):
    pytest.importorskip("matplotlib")
    work, ckpt, _ = trained
    proc = swets("plot", ckpt, "--output", "plots/tiny.png", "--windows", "2", cwd=work)
    png = work / "plots" / "tiny.png"
    assert proc.stdout.strip() == f"wrote plots{'/'}tiny.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000


def test_demo_quick_runs_the_main_job_end_to_end(tmp_path):
    proc = swets("demo", "--quick", "--output-dir", "demo", "--no-progress", cwd=tmp_path)
    out = proc.stdout
    rows = _table_rows(out)
    for split in ("validation", "test"):
        for model in ("nbeats", "naive", "seasonal_naive"):
            assert (split, model) in rows, out
    assert "forecasts equal the trained model's, bit for bit" in out
    assert "rolling-origin backtest over the last 7 days" in out
    demo = tmp_path / "demo"
    job = load_job(demo / "nbeats.swets")
    assert (job.spec.data.lookback, job.spec.data.horizon) == (336, 48)
    with open(demo / "forecast.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 48
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "plot skipped" in out and 'pip install "swets[plot]"' in out
    else:
        assert (demo / "demo.png").read_bytes()[:4] == b"\x89PNG"


def test_progress_lines_when_stderr_is_not_a_terminal(tmp_path):
    proc = swets(
        "train", *[a for a in TINY if a != "--no-progress"], "--output", "x.swets", cwd=tmp_path
    )
    assert re.search(r"^epoch 1\s+step 12\s+loss \S+\s+lr 0.001\s+val_loss", proc.stderr, re.M)


def test_a_third_party_model_trains_saves_and_forecasts_from_the_cli(tmp_path):
    """The example plugin (its DLinear takes ``input_size``, not ``lookback``) through every step."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(site),
            str(ROOT / "plugins" / "example-dlinear"),
        ],
        check=True,
        capture_output=True,
    )
    env = {"PYTHONPATH": str(site)}
    listing = swets("list", "models", cwd=tmp_path, env=env).stdout
    # the built-in DLinear and the example's, side by side
    assert re.search(r"^\s*dlinear\b", listing, re.M) and "example_dlinear" in listing
    proc = swets(
        "train",
        "--model",
        "example_dlinear",
        "--max-steps",
        "5",
        "--no-progress",
        "--output",
        "dl.swets",
        cwd=tmp_path,
        env=env,
    )
    assert re.search(r"^test\s+example_dlinear\s", proc.stdout, re.M)
    proc = swets("forecast", "dl.swets", cwd=tmp_path, env=env)
    assert len([ln for ln in proc.stdout.splitlines() if ln.startswith("2000-08-28")]) == 24
    # without the plugin the checkpoint names what is missing
    line = swets("forecast", "dl.swets", cwd=tmp_path, rc=1).stderr.strip()
    assert "needs model 'example_dlinear', which no installed plugin provides" in line
    assert "swets-example-dlinear" in line


def test_backtest_of_a_checkpoint_refuses_options_it_cannot_honour(trained):
    work, ckpt, _ = trained
    proc = swets("backtest", ckpt, "--lookback", "48", cwd=work, rc=1)
    assert "data.lookback: the checkpoint's model has a fixed lookback and horizon (96, 24)" in (
        proc.stderr
    )
    proc = swets("backtest", ckpt, "--epochs", "3", cwd=work, rc=1)
    assert "training.epochs: training options apply when the backtest trains; add --refit" in (
        proc.stderr
    )


def test_intervals_from_the_checkpoints_calibration(trained):
    """A trained job stores its calibration: --levels on forecast, evaluate and backtest."""
    work, ckpt, _ = trained
    job = load_job(ckpt)
    assert job.conformal is not None and job.conformal.horizon == 24
    expected = job.forecast(levels=(80, 95))
    proc = swets("forecast", ckpt, "--levels", "80,95", cwd=work)
    head = next(ln for ln in proc.stdout.splitlines() if ln.startswith("timestamp"))
    assert head.split() == ["timestamp", "step", "forecast", "lo80", "hi80", "lo95", "hi95"]
    first = next(ln for ln in proc.stdout.splitlines() if ln.startswith("2000-")).split()
    lo80, hi80 = expected.interval(80)
    assert float(first[3]) == pytest.approx(lo80[0, 0], abs=0.06)
    assert float(first[4]) == pytest.approx(hi80[0, 0], abs=0.06)

    proc = swets("forecast", ckpt, "--levels", "80", "--output", "out/ivl.csv", cwd=work)
    with open(work / "out" / "ivl.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["series_id", "timestamp", "step", "forecast", "lo80", "hi80"]
    assert all(float(r["lo80"]) < float(r["forecast"]) < float(r["hi80"]) for r in rows)

    proc = swets("evaluate", ckpt, "--levels", "80,95", cwd=work)
    header = next(ln for ln in proc.stdout.splitlines() if ln.startswith("split")).split()
    assert header[-6:] == ["coverage80", "width80", "coverage95", "width95", "pinball", "crps"]
    metrics, _ = job.evaluate(levels=(80, 95))
    assert 0.0 <= metrics["test"]["coverage80"] <= metrics["test"]["coverage95"] <= 1.0

    proc = swets("backtest", ckpt, "--folds", "3", "--levels", "90", cwd=work)
    assert re.search(r"^model\s.*coverage90\s+width90\s+pinball\s+crps$", proc.stdout, re.M)
    assert re.search(r"^naive\s.*nan\s+nan\s+nan\s+nan$", proc.stdout, re.M)


def test_bad_levels_are_one_line(trained):
    from .conftest import one_error_line

    work, ckpt, _ = trained
    line = one_error_line(swets("forecast", ckpt, "--levels", "80,120", cwd=work, rc=1))
    assert "--levels: an interval level is a percentage strictly between 0 and 100" in line
    line = one_error_line(swets("evaluate", ckpt, "--levels", "eighty", cwd=work, rc=1))
    assert "--levels: expected interval levels in percent" in line
