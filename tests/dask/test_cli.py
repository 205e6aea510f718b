"""``swets sweep``: the console script, an existing cluster by address, and errors."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest

from swets_core.cli import main
from swets_dask.cluster import worker_addresses
from swets_dask.plugin import parse_grid
from swets_train.jobs import parse_value

TOML = """\
[data]
path = "{csv}"
id_column = "id"
target = "y"
lookback = 24
horizon = 6
val = 0.2
test = 0.2

[model]
name = "nbeats"
num_blocks = 1
num_layers = 2
layer_width = 8

[training]
epochs = 1
batch_size = 32
"""


@pytest.fixture
def job_file(series_csv, tmp_path) -> str:
    path = tmp_path / "job.toml"
    path.write_text(TOML.format(csv=series_csv))
    return str(path)


def test_parse_values_and_grids():
    assert parse_value("16") == 16 and parse_value("1e-3") == 0.001
    assert parse_value("true") is True and parse_value("lstm") == "lstm"
    assert parse_value('"a,b"') == "a,b"
    assert parse_grid(["model.layer_width=8,16", "training.lr=1e-3"]) == {
        "model.layer_width": [8, 16],
        "training.lr": [0.001],
    }
    assert parse_grid(None) is None


def test_console_script_runs_a_serial_sweep(job_file, tmp_path):
    out = tmp_path / "out"
    exe = os.path.join(os.path.dirname(sys.executable), "swets")
    proc = subprocess.run(
        [
            exe,
            "sweep",
            job_file,
            "--grid",
            "model.layer_width=4,8",
            "--serial",
            "--quiet",
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "best: configuration" in proc.stdout and "validation mase" in proc.stdout
    with open(out / "sweep.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["model.layer_width"] for r in rows] == ["4", "8"]
    assert all(r["status"] == "ok" and os.path.exists(r["checkpoint"]) for r in rows)


def test_sweep_on_an_existing_cluster_by_address(job_file, tmp_path, client, capsys):
    address = client.scheduler.address
    code = main(
        [
            "sweep",
            job_file,
            "--grid",
            "training.lr=1e-3,2e-3",
            "--address",
            address,
            "--output",
            str(tmp_path / "out"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "[2/2] configuration" in captured.err
    workers = set(worker_addresses(client))
    with open(tmp_path / "out" / "sweep.csv") as fh:
        assert {r["worker"] for r in csv.DictReader(fh)} <= workers


@pytest.mark.parametrize(
    "args, message",
    [
        (["--grid", "model.layer_width"], "write KEY=V1,V2"),
        (["--grid", "model.layer_width="], "no value after '='"),
        (["--grid", "a.b=1", "--grid", "a.b=2"], "'a.b' is given twice"),
        (["--grid", "modle.layer_width=4"], "no section 'modle'"),
        (["--random", "5", "--grid", "model.layer_width=4,8"], "n_random=5 exceeds the 2"),
    ],
)
def test_errors_are_one_line(job_file, tmp_path, capsys, args, message):
    code = main(["sweep", job_file, *args, "--serial", "--output", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1 and message in err and err.startswith("swets: error:")


def test_missing_and_invalid_job_files(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "nope.toml"), "--serial"]) == 1
    assert "nope.toml: no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("[data\n")
    assert main(["sweep", str(bad), "--serial"]) == 1
    assert "not valid TOML" in capsys.readouterr().err


def test_train_dask_reaches_the_executor_through_the_registry(job_file, tmp_path, client, capsys):
    from swets_train.jobs import load_job

    ckpt = tmp_path / "dp.swets"
    address = client.scheduler.address
    code = main(
        ["train", "--config", job_file, "--dask", address, "--output", str(ckpt), "--no-progress"]
    )
    out = capsys.readouterr().out
    assert code == 0 and f"on Dask ({address})" in out and "seasonal_naive" in out
    meta = load_job(ckpt).metadata["data_parallel"]
    assert meta["replicas"] == 2 and set(meta["workers"]) == set(worker_addresses(client))
