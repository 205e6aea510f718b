"""What a new user runs into first: data given in memory, long-format panels, the options of the
data readers, baselines as models, plots of panels, tables and messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from .conftest import SMALL, one_error_line, swets, write_hourly_csv


def write_panel_csv(path: Path, stores=("a", "b", "c"), n: int = 240) -> Path:
    """Three hourly series of ``sales`` in long format, told apart by the text column ``store``."""
    rng = np.random.default_rng(1)
    t = np.datetime64("2024-01-01T00:00") + np.arange(n).astype("timedelta64[h]")
    lines = ["timestamp,store,sales"]
    for k, store in enumerate(stores):
        for i, stamp in enumerate(t):
            value = 100 + 10 * k + 10 * np.sin(2 * np.pi * i / 24) + rng.normal()
            lines.append(f"{np.datetime_as_string(stamp, unit='m')}Z,{store},{value:.3f}")
    path.write_text("\n".join(lines) + "\n")
    return path


def write_bars_csv(path: Path, n: int = 300) -> Path:
    """Daily price bars with one bar whose high is below its low and one negative volume."""
    rng = np.random.default_rng(2)
    day0 = np.datetime64("2020-01-01")
    price, lines = 100.0, ["date,open,high,low,close,volume"]
    for i in range(n):
        o, c = price, price + rng.normal()
        h, lo, v = max(o, c) + 1, min(o, c) - 1, 1000
        if i == 200:
            h, lo = lo - 5, h + 5
        if i == 250:
            v = -3
        lines.append(f"{day0 + i},{o:.2f},{h:.2f},{lo:.2f},{c:.2f},{v}")
        price = c
    path.write_text("\n".join(lines) + "\n")
    return path


# -- data given in memory ---------------------------------------------------------------------------
def test_a_job_on_data_in_memory_says_so_and_its_checkpoint_asks_for_the_data(tmp_path):
    from swets_core.errors import ConfigError
    from swets_timeseries import read_series_csv
    from swets_train.jobs import load_job, run_job

    csv = write_hourly_csv(tmp_path / "load.csv", n=200)
    series = read_series_csv(csv, target="load")
    spec = {
        "data": {"lookback": 24, "horizon": 6, "calendar": "none"},  # the target alone
        "model": {"name": "nbeats", "layer_width": 8, "num_blocks": 1},
        "training": {"max_steps": 2},
        "output": {"checkpoint": str(tmp_path / "mem.swets")},
    }
    result = run_job(spec, data=series)
    assert result.spec["data"]["in_memory"] is True
    assert "dataset" not in result.spec["data"] and "path" not in result.spec["data"]
    job = load_job(tmp_path / "mem.swets")
    assert job.spec.data.dataset is None and job.spec.data.label == "in-memory data"
    with pytest.raises(ConfigError, match="the job was run on data given in memory"):
        job.forecast()
    np.testing.assert_allclose(job.forecast(series).values, result_forecast(result, series))
    proc = swets("forecast", "mem.swets", cwd=tmp_path, rc=None)
    assert one_error_line(proc) == (
        "swets: error: data.in_memory: the job was run on data given in memory, which its "
        "checkpoint does not hold; give the data again: --data PATH"
    )
    out = swets("forecast", "mem.swets", "--data", "load.csv", "--target", "load", cwd=tmp_path)
    assert out.stdout.startswith("forecast of 'load' by nbeats on load.csv, 6 steps:")


def result_forecast(result, series):
    from swets_train import forecast

    return forecast(result.model, series, scaler=result.scaler).values


# -- long-format panels -----------------------------------------------------------------------------
def test_a_long_format_panel_is_read_by_its_id_column_with_a_note(tmp_path):
    write_panel_csv(tmp_path / "panel.csv")
    no_calendar = ["--calendar", "none"]  # (its note is not the one asserted on below)
    out = swets(
        "train", "--data", "panel.csv", *SMALL, *no_calendar, "--output", "p.swets", cwd=tmp_path
    )
    assert (
        "note: panel.csv repeats its timestamps: read it as 3 series in long format, one per "
        "value of column 'store' (set --id-column COLUMN to choose the column)"
    ) in out.stdout.splitlines()
    forecast = swets("forecast", "p.swets", cwd=tmp_path).stdout
    assert [ln.split()[0] for ln in forecast.splitlines()[3::6]] == ["a", "b", "c"]
    explicit = swets(
        "train",
        "--data",
        "panel.csv",
        "--id-column",
        "store",
        *SMALL,
        *no_calendar,
        "--output",
        "q.swets",
        cwd=tmp_path,
    ).stdout
    assert "note:" not in explicit


def test_repeated_timestamps_without_an_id_column_name_the_option(tmp_path):
    lines = ["timestamp,load"] + [f"2024-01-01T{h % 24:02d}:00Z,{h}" for h in range(60)]
    (tmp_path / "dup.csv").write_text("\n".join(lines) + "\n")
    first = one_error_line_or_first(
        swets("train", "--data", "dup.csv", *SMALL, cwd=tmp_path, rc=None)
    )
    assert first.startswith("swets: error: dup.csv: ")
    assert first.endswith("if it holds several series, name their id column (--id-column COLUMN)")


def one_error_line_or_first(proc) -> str:
    """The first line of a failing command's error (its details follow on indented lines)."""
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("swets: error: ")
    assert all(ln.startswith("  ") for ln in lines[1:]), proc.stderr
    return lines[0]


# -- the options of the readers ---------------------------------------------------------------------
def test_timestamp_column_date_format_and_data_policy_on_the_command_line(tmp_path):
    day0 = np.datetime64("2020-01-01")
    rows = []
    for i in range(200):
        d = (day0 + i).astype(object)
        rows.append(f"{d.day:02d}.{d.month:02d}.{d.year},{np.sin(i / 7) + 0.01 * i:.4f}")
    (tmp_path / "eu.csv").write_text("Datum,x\n" + "\n".join(rows) + "\n")
    line = one_error_line(swets("train", "--data", "eu.csv", *SMALL, cwd=tmp_path, rc=None))
    assert line.endswith("map it with --timestamp-column COLUMN")
    line = one_error_line(
        swets(
            "train",
            "--data",
            "eu.csv",
            "--timestamp-column",
            "Datum",
            *SMALL,
            cwd=tmp_path,
            rc=None,
        )
    )
    assert "cannot read '01.01.2020'" in line
    assert line.endswith("give the timestamps' format with --date-format FORMAT (e.g. %d.%m.%Y)")
    args = ["--timestamp-column", "Datum", "--date-format", "%d.%m.%Y", "--scaler-per-series"]
    swets("train", "--data", "eu.csv", *args, *SMALL, "--output", "eu.swets", cwd=tmp_path)
    from swets_train.jobs import load_job

    job = load_job(tmp_path / "eu.swets")
    d = job.spec.data
    assert (d.timestamp_column, d.date_format, d.scaler_per_series) == ("Datum", "%d.%m.%Y", True)
    assert job.scaler.per_series
    swets("evaluate", "eu.swets", cwd=tmp_path)  # the checkpoint reads its file the same way


def test_an_ohlcv_file_is_checked_with_the_bar_rules(tmp_path):
    write_bars_csv(tmp_path / "bars.csv")
    proc = swets("train", "--data", "bars.csv", *SMALL, cwd=tmp_path, rc=None)
    first = one_error_line_or_first(proc)
    assert first == (
        "swets: error: bars.csv: 4 problem(s) in 2 of 300 rows (high_below_low: 1, "
        "high_below_body: 1, low_above_body: 1, negative_volume: 1)"
    )
    assert proc.stderr.strip().splitlines()[-1] == (
        "  (use --data-policy warn to keep the rows or --data-policy drop to remove them)"
    )
    out = swets(
        "train",
        "--data",
        "bars.csv",
        "--data-policy",
        "drop",
        *SMALL,
        "--output",
        "b.swets",
        cwd=tmp_path,
    )
    assert out.stderr.splitlines()[0].startswith("swets: warning: bars.csv: 4 problem(s)")
    assert out.stderr.splitlines()[-1] == "  dropped 2 row(s) (--data-policy drop): rows 200, 250"


def test_the_python_api_names_the_job_key(tmp_path):
    from swets_core.errors import DataValidationError
    from swets_train.jobs import prepare

    write_bars_csv(tmp_path / "bars.csv")
    spec = {"data": {"path": str(tmp_path / "bars.csv"), "lookback": 24, "horizon": 6}}
    with pytest.raises(DataValidationError) as info:
        prepare(spec)
    assert "(use data.policy='warn' to keep the rows or data.policy='drop'" in str(info.value)


# -- baselines as models ----------------------------------------------------------------------------
def test_a_baseline_model_is_evaluated_and_saved_without_training(tmp_path):
    write_hourly_csv(tmp_path / "load.csv", n=400)
    common = ["--data", "load.csv", "--target", "load", "--lookback", "48", "--horizon", "6"]
    out = swets("train", "--model", "seasonal_naive", *common, "--output", "s.swets", cwd=tmp_path)
    lines = out.stdout.splitlines()
    assert "nothing to train: model 'seasonal_naive' has no parameters" in lines
    assert "checkpoint: s.swets (the model as it is: nothing was trained)" in lines
    table = [ln.split() for ln in lines if ln.startswith(("validation", "test", "  "))]
    assert [row[-5] for row in table] == ["seasonal_naive", "naive"] * 2
    assert out.stderr == ""
    from swets_train.jobs import load_job

    job = load_job(tmp_path / "s.swets")
    assert job.model.config()["season_length"] == 24  # the job's season (hourly data: a day)
    evaluated = swets("evaluate", "s.swets", cwd=tmp_path).stdout
    assert evaluated.split("\n\n", 1)[1].strip() == out.stdout.split("\n\n")[1].strip()
    swets("forecast", "s.swets", cwd=tmp_path)
    swets("backtest", "s.swets", "--folds", "2", cwd=tmp_path)


# -- plots of panels --------------------------------------------------------------------------------
def test_plot_draws_the_series_asked_for_and_the_forecast_beyond_the_data(tmp_path, monkeypatch):
    from swets_core.errors import ConfigError
    from swets_train import plot as plot_module
    from swets_train.jobs import load_job

    write_panel_csv(tmp_path / "panel.csv")
    swets("train", "--data", "panel.csv", *SMALL, "--output", "p.swets", cwd=tmp_path)
    swets("plot", "p.swets", "--series", "b", "--output", "b.png", cwd=tmp_path)
    line = one_error_line(
        swets("plot", "p.swets", "--series", "z", "--output", "z.png", cwd=tmp_path, rc=None)
    )
    assert line == "swets: error: plot: no series 'z' in the data; series: a, b, c"
    drawn = {}
    monkeypatch.setattr(plot_module, "plot_forecasts", lambda path, **kw: drawn.update(kw))
    job = load_job(tmp_path / "p.swets")
    plot_module.plot_job(job, tmp_path / "c.png", series_id="c")
    series = job.series()["c"]
    assert np.array_equal(drawn["timestamps"][-1:], series.timestamps[-1:])
    future = drawn["future"]
    assert future.ids.tolist() == ["c"]
    assert future.timestamps[0][0] == series.timestamps[-1] + np.timedelta64(1, "h")
    assert "series 'c'" in drawn["title"]
    with pytest.raises(ConfigError, match="no series 'z'"):
        plot_module.plot_job(job, tmp_path / "z.png", series_id="z")


# -- tables and numbers -----------------------------------------------------------------------------
def test_every_table_has_the_same_columns_in_the_same_order_and_timestamps_end_in_z(tmp_path):
    write_hourly_csv(tmp_path / "load.csv", n=200)
    common = ["--data", "load.csv", "--target", "load"]
    swets("train", *common, *SMALL, "--output", "m.swets", cwd=tmp_path)
    evaluated = swets("evaluate", "m.swets", cwd=tmp_path).stdout.splitlines()
    backtested = swets("backtest", "m.swets", "--folds", "2", cwd=tmp_path).stdout.splitlines()
    head = next(ln for ln in evaluated if ln.startswith("split"))
    assert head.split()[2:] == ["mae", "rmse", "smape", "mase"]
    head = next(ln for ln in backtested if ln.startswith("model"))
    assert head.split()[1:] == ["mae", "rmse", "smape", "mase"]
    origin = next(ln for ln in backtested if "first origin" in ln)
    assert origin.split("first origin ")[1].split(",")[0].endswith(":00Z")

    from swets_timeseries import read_series_csv
    from swets_train import backtest

    report = backtest(
        {},
        read_series_csv(tmp_path / "load.csv", target="load"),
        lookback=24,
        horizon=6,
        folds=2,
        season_length=24,
    )
    assert report.table().splitlines()[0].split() == ["model", "mae", "rmse", "smape", "mase"]


def test_epochs_are_counted_from_one_in_every_message(tmp_path):
    write_hourly_csv(tmp_path / "load.csv", n=300)
    budget = ["--epochs", "8", "--patience", "0", "--lr", "0.5", "--output", "m.swets"]
    small = [a for a in SMALL if a not in ("--max-steps", "2", "--no-progress")]
    proc = swets("train", "--data", "load.csv", "--target", "load", *small, *budget, cwd=tmp_path)
    progress = [ln for ln in proc.stderr.splitlines() if ln.startswith("epoch ")]
    losses = {
        int(ln.split()[1].split("/")[0]): float(ln.split("val_loss ")[1].split()[0])
        for ln in progress
    }
    summary = next(ln for ln in proc.stdout.splitlines() if ln.startswith("trained "))
    assert "early stopping" in summary, summary
    best = int(summary.split(" at epoch ")[1].rstrip(")"))
    assert best == min(losses, key=losses.get)  # the epoch the progress line showed as best


# -- messages ---------------------------------------------------------------------------------------
def test_numpy_warnings_do_not_reach_the_command_line(tmp_path):
    write_hourly_csv(tmp_path / "load.csv", n=200)
    proc = swets(
        "train",
        "--data",
        "load.csv",
        "--target",
        "load",
        *SMALL,
        "--lr",
        "1e30",
        cwd=tmp_path,
        rc=None,
    )
    line = one_error_line(proc)
    assert line.startswith("swets: error: non-finite values in training at step ")
    assert "RuntimeWarning" not in proc.stderr


def test_memory_errors_are_one_line_naming_the_model_and_the_size(tmp_path):
    # so large that not even the first layer is allocated (nothing is touched, on any machine)
    width = "1000000000000000"
    proc = swets(
        "train",
        "--set",
        f"model.layer_width={width}",
        "--max-steps",
        "1",
        "--calendar",
        "none",  # the target's 96 rows are the first layer's inputs
        cwd=tmp_path,
        rc=None,
    )
    line = one_error_line(proc)
    assert line.startswith(
        f"swets: error: model 'nbeats' with layer_width={width} needs more memory than there "
        "is: unable to allocate "
    )
    assert f"shape ({width}, 96)" in line


def test_errors_that_list_problems_put_them_after_one_first_line(tmp_path):
    source = """
import swets_core
from swets_core.errors import StateDictError


def _run(args):
    raise StateDictError("Model", [f"'layer{i}.weight': missing" for i in range(30)])


@swets_core.hookimpl
def swets_register_commands(cli):
    cli.add_command("broken", _run, help="raises a state-dict error")
"""
    from .conftest import fake_distribution

    env = fake_distribution(
        tmp_path / "site",
        "acme-broken",
        "acme_broken",
        source,
        {"swets": {"broken": "acme_broken"}, "swets.commands": {"broken": "acme_broken"}},
    )
    proc = swets("broken", cwd=tmp_path, env=env, rc=1)
    lines = proc.stderr.splitlines()
    assert lines[0] == "swets: error: cannot load state into Model: 30 problem(s):"
    assert lines[1:21] == [f"  'layer{i}.weight': missing" for i in range(20)]
    assert lines[21:] == ["  ... and 10 more line(s) (--debug shows all)"]
    assert "(from acme-broken)" in swets("--help", cwd=tmp_path, env=env).stdout
    # every command takes --debug after its name, also one whose plugin does not declare it
    shown = swets("broken", "--debug", cwd=tmp_path, env=env, rc=1).stderr
    assert "Traceback (most recent call last)" in shown and "'layer29.weight': missing" in shown


def test_a_command_s_own_debug_option_replaces_the_host_s():
    import argparse

    from swets_core.cli import CommandRegistry

    parser = argparse.ArgumentParser(prog="swets")
    cli = CommandRegistry(parser.add_subparsers(dest="command"))
    cli.add_command("plain", lambda a: 0, help="no options")
    cli.add_command(
        "own",
        lambda a: 0,
        help="its own --debug",
        configure=lambda p: p.add_argument("--debug", action="store_true", help="mine"),
    )
    assert parser.parse_args(["plain", "--debug"]).debug is True
    assert parser.parse_args(["own", "--debug"]).debug is True
    assert parser.parse_args(["own"]).debug is False
