"""No command overwrites the user's data or a file swets did not write, and outputs are checked
before any work: the rules of docs/cli.md, "Files swets writes"."""

from __future__ import annotations

import subprocess

import pytest

from .conftest import SMALL as SMALL_JOB
from .conftest import SWETS, one_error_line, swets, write_hourly_csv

SMALL = ["--target", "load", *SMALL_JOB]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A directory with ``load.csv`` and a checkpoint ``m.swets`` trained on it."""
    d = tmp_path_factory.mktemp("outputs")
    write_hourly_csv(d / "load.csv", n=200)
    swets("train", "--data", "load.csv", *SMALL, "--output", "m.swets", cwd=d)
    return d


def test_train_never_writes_over_its_data_file_not_even_with_force(work):
    before = (work / "load.csv").read_bytes()
    for extra in ([], ["--force"]):
        proc = swets(
            "train", "--data", "load.csv", *SMALL, "--output", "load.csv", *extra, cwd=work, rc=None
        )
        assert one_error_line(proc) == (
            "swets: error: --output: load.csv is the data (--data), which this command reads; "
            "swets never overwrites its input (--force does not change that)"
        )
        assert proc.stdout == ""  # stopped before reading the data or training
    assert (work / "load.csv").read_bytes() == before


def test_train_writes_over_a_file_swets_did_not_write_only_with_force(work, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    data = work / "load.csv"
    proc = swets("train", "--data", data, *SMALL, "--output", notes, cwd=tmp_path, rc=None)
    assert one_error_line(proc) == (
        f"swets: error: --output: {notes} exists and is not a swets checkpoint; swets does not "
        "overwrite a file it did not write (--force overwrites it)"
    )
    assert notes.read_text() == "my notes\n"
    swets("train", "--data", data, *SMALL, "--output", notes, "--force", cwd=tmp_path)
    assert notes.read_bytes().startswith(b"\x89SWETS")
    # a checkpoint is replaced by the next run without --force
    swets("train", "--data", data, *SMALL, "--output", notes, cwd=tmp_path)


def test_forecast_and_plot_follow_the_same_rule(work, tmp_path):
    (tmp_path / "table.csv").write_text("a,b\n1,2\n")
    ckpt = work / "m.swets"
    proc = swets("forecast", ckpt, "--output", "table.csv", cwd=tmp_path, rc=None)
    assert "table.csv exists and is not a forecast CSV written by swets" in one_error_line(proc)
    assert (tmp_path / "table.csv").read_text() == "a,b\n1,2\n"
    swets("forecast", ckpt, "--output", "f.csv", cwd=tmp_path)
    swets("forecast", ckpt, "--output", "f.csv", cwd=tmp_path)  # its own file: replaced
    for target, what in ((ckpt, "the checkpoint"), (work / "load.csv", "the data")):
        proc = swets("forecast", ckpt, "--output", target, "--force", cwd=tmp_path, rc=None)
        assert f"is {what}, which this command reads" in one_error_line(proc)
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\nnot a plot of swets")
    proc = swets("plot", ckpt, "--output", "photo.png", cwd=tmp_path, rc=None)
    assert "photo.png exists and is not a plot written by swets" in one_error_line(proc)
    swets("plot", ckpt, "--output", "p.png", cwd=tmp_path)
    swets("plot", ckpt, "--output", "p.png", cwd=tmp_path)  # its own plot: replaced


def test_plot_writes_exactly_the_path_it_reports_and_refuses_a_directory(work, tmp_path):
    ckpt = work / "m.swets"
    (tmp_path / "plots").mkdir()
    proc = swets("plot", ckpt, "--output", "plots", cwd=tmp_path, rc=None)
    assert one_error_line(proc) == (
        "swets: error: --output: plots is a directory; give a file name (e.g. plots/plot.png)"
    )
    assert list(tmp_path.iterdir()) == [tmp_path / "plots"]
    assert list((tmp_path / "plots").iterdir()) == []
    out = swets("plot", ckpt, "--output", "figure", cwd=tmp_path).stdout
    assert out.strip() == "wrote figure"
    assert (tmp_path / "figure").read_bytes().startswith(b"\x89PNG")
    assert not (tmp_path / "figure.png").exists()


def test_a_closed_pipe_ends_the_command_quietly(work):
    proc = subprocess.Popen(
        [str(SWETS), "forecast", str(work / "m.swets")],
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # the reader is gone before swets writes a byte (as `| head` that exits)
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141
    assert err == b""


def test_outputs_are_checked_before_training_and_a_failure_replaces_nothing(work, tmp_path):
    (tmp_path / "fc").mkdir()
    existing = work / "m.swets"
    before = existing.read_bytes()
    data = work / "load.csv"
    proc = swets(
        "train",
        "--data",
        data,
        *SMALL,
        "--output",
        existing,
        "--forecast-csv",
        "fc",
        cwd=tmp_path,
        rc=None,
    )
    assert one_error_line(proc) == (
        "swets: error: --forecast-csv: fc is a directory; give a file name (e.g. fc/forecast.csv)"
    )
    assert proc.stdout == ""  # nothing was read or trained
    assert existing.read_bytes() == before
    (tmp_path / "file").write_text("x")
    proc = swets("train", "--data", data, *SMALL, "--output", "file/m.swets", cwd=tmp_path, rc=None)
    assert one_error_line(proc) == (
        f"swets: error: --output: cannot write file/m.swets: {tmp_path / 'file'} is a file, not "
        "a directory"
    )
    assert proc.stdout == ""
    proc = swets(
        "train", "--data", data, *SMALL, "--output", "/proc/m.swets", cwd=tmp_path, rc=None
    )
    assert one_error_line(proc).startswith(  # a place that takes no files, even for root
        "swets: error: --output: cannot write /proc/m.swets: /proc does not take new files"
    )
    assert proc.stdout == ""
    proc = swets(
        "train",
        "--data",
        data,
        *SMALL,
        "--output",
        "a.swets",
        "--forecast-csv",
        "a.swets",
        cwd=tmp_path,
        rc=None,
    )
    assert "--output: a.swets is also --forecast-csv" in one_error_line(proc)


def test_a_run_that_fails_while_writing_leaves_the_old_checkpoint(tmp_path, monkeypatch):
    from swets_train import plot as plot_module
    from swets_train.jobs import run_job

    spec = {
        "data": {
            "path": str(write_hourly_csv(tmp_path / "load.csv", n=200)),
            "target": "load",
            "lookback": 24,
            "horizon": 6,
        },
        "model": {"name": "nbeats", "layer_width": 8, "num_blocks": 1},
        "training": {"max_steps": 2},
        "output": {"checkpoint": str(tmp_path / "m.swets")},
    }
    run_job(spec)
    before = (tmp_path / "m.swets").read_bytes()

    def broken_plot(*args, **kwargs):
        raise OSError("the disk is full")

    monkeypatch.setattr(plot_module, "plot_job", broken_plot)
    spec["output"] |= {"forecast_csv": str(tmp_path / "f.csv"), "plot": str(tmp_path / "p.png")}
    with pytest.raises(OSError, match="the disk is full"):
        run_job(spec)
    assert (tmp_path / "m.swets").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["load.csv", "m.swets"]


def test_a_sweep_checks_its_outputs_before_it_runs(tmp_path):
    pytest.importorskip("swets_dask")
    job = tmp_path / "job.toml"
    job.write_text(
        '[data]\npath = "load.csv"\ntarget = "load"\nlookback = 24\nhorizon = 6\n'
        '[model]\nname = "naive"\n[training]\nmax_steps = 1\n'
    )
    write_hourly_csv(tmp_path / "load.csv", n=200)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "sweep.csv").write_text("my,own\ntable,here\n")
    proc = swets("sweep", job, "--serial", "--quiet", "--output", "out", cwd=tmp_path, rc=None)
    line = one_error_line(proc)
    assert "sweep.csv exists and is not a table written by swets" in line
    assert (tmp_path / "out" / "sweep.csv").read_text() == "my,own\ntable,here\n"
    swets("sweep", job, "--serial", "--quiet", "--output", "out", "--force", cwd=tmp_path)
    swets("sweep", job, "--serial", "--quiet", "--output", "out", cwd=tmp_path)  # its own now


def test_python_api_keeps_the_rule(tmp_path):
    from swets_core.errors import ConfigError
    from swets_train.jobs import run_job

    (tmp_path / "notes.txt").write_text("keep me")
    spec = {
        "model": {"name": "naive"},
        "training": {"max_steps": 1},
        "output": {"checkpoint": str(tmp_path / "notes.txt")},
    }
    with pytest.raises(
        ConfigError, match=r"^output.checkpoint: .*notes.txt exists and is not a swets"
    ):
        run_job(spec)
    assert (tmp_path / "notes.txt").read_text() == "keep me"
