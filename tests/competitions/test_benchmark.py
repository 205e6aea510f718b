"""The benchmark: protocols and members, one subset trained, forecast and scored next to Theta,
Naive2 and the published numbers, the ``swets benchmark`` command and its files. Tiny settings:
a benchmark run is not a test."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from swets_competitions import load_competition
from swets_competitions.benchmark import (
    BENCHMARK_HEADER,
    PAPER,
    PROTOCOLS,
    PUBLISHED,
    Protocol,
    ensemble_members,
    forecast_split,
    machine,
    protocol,
    run_benchmark,
)
from swets_competitions.datasets import build_split
from swets_core import Tensor
from swets_core.checkpoint import load_checkpoint
from swets_core.cli import main
from swets_core.errors import ConfigError

TINY = {"num_blocks": 1, "num_layers": 2, "layer_width": 8}
QUICK = {"steps": 2, "batch_size": 32}


def test_presets_cover_every_subset_and_the_paper_ensemble_has_180_members():
    for table in (PROTOCOLS, PAPER):
        for dataset, subsets in table.items():
            for sub, proto in subsets.items():
                assert protocol(dataset, sub, "cpu" if table is PROTOCOLS else "paper") is proto
    assert protocol("M3", "Monthly", "paper").members == 180
    assert protocol("tourism", "yearly", "paper").members == 60
    with pytest.raises(ConfigError, match="unknown preset 'gpu'"):
        protocol("m3", "monthly", "gpu")
    with pytest.raises(ConfigError, match="no subset 'weekly'; its subsets are yearly"):
        protocol("m3", "weekly")


def test_members_vary_repeats_slowest_and_losses_fastest():
    proto = Protocol(
        history_size=5,
        steps=3,
        lookbacks=(2, 3),
        losses=("smape", "mape"),
        repeats=2,
        config={"layer_width": 8},
    )
    specs = ensemble_members(proto, 4, seed=10)
    assert [(s["seed"], s["config"]["lookback"], s["loss"]) for s in specs] == [
        (10, 8, "smape"),
        (10, 8, "mape"),
        (10, 12, "smape"),
        (10, 12, "mape"),
        (11, 8, "smape"),
        (11, 8, "mape"),
        (11, 12, "smape"),
        (11, 12, "mape"),
    ]
    assert specs[0]["config"] == {"layer_width": 8, "n_features": 1, "lookback": 8, "horizon": 4}
    assert len(ensemble_members(proto, 4, members=3)) == 3
    other = ensemble_members(proto, 4, model="lstm", config={"hidden_size": 4})
    assert other[0]["model"] == "lstm" and "layer_width" not in other[0]["config"]
    with pytest.raises(ConfigError, match="members must be an int from 1 to 8"):
        ensemble_members(proto, 4, members=9)


def test_forecast_reads_each_series_last_window_and_sets_negatives_to_zero():
    split = build_split(
        "m3",
        "other",
        [("a", np.arange(1.0, 70.0), np.ones(8)), ("b", np.arange(1.0, 65.0), np.ones(8))],
        source="test",
    )

    class LastMinus66:  # the last value minus 66: series b's forecast is negative
        lookback, dtype, training = 3, "float64", False

        def __call__(self, x):
            assert x.shape == (2, 3, 1)
            return Tensor(np.repeat(x[:, -1:, 0] - 66.0, 8, axis=1))

        def eval(self):
            return self

        def train(self, mode=True):
            return self

    out = forecast_split(LastMinus66(), split)
    np.testing.assert_array_equal(out, [[3.0] * 8, [0.0] * 8])


def test_forecast_of_a_short_series_gives_the_model_the_input_mask():
    split = build_split(
        "m3",
        "other",
        [("a", np.arange(1.0, 12.0), np.ones(8)), ("b", np.arange(1.0, 70.0), np.ones(8))],
        source="test",
    )
    seen = {}

    class Masked:  # the number of observed inputs, as its forecast
        lookback, dtype, training = 16, "float64", False

        def __call__(self, x, mask=None):
            seen["x"], seen["mask"] = x, mask
            return Tensor(np.repeat(mask.sum(axis=1, keepdims=True), 8, axis=1))

        def eval(self):
            return self

        def train(self, mode=True):
            return self

    out = forecast_split(Masked(), split)
    np.testing.assert_array_equal(out[:, 0], [11.0, 16.0])
    assert (seen["x"][0, :5, 0] == 0).all() and (seen["mask"][0, :5] == 0).all()
    np.testing.assert_array_equal(seen["x"][0, 5:, 0], np.arange(1.0, 12.0))


@pytest.fixture(scope="module")
def tourism_yearly():
    return run_benchmark(
        "tourism", "yearly", config=TINY, members=2, overrides=QUICK, progress=False
    )


def test_a_subset_is_trained_forecast_and_scored_beside_the_references(tourism_yearly):
    result = tourism_yearly
    methods = [r["method"] for r in result.rows]
    assert methods == [
        "swets nbeats ensemble",
        "Theta (swets)",
        "Naive2 (swets)",
        "N-BEATS-G (published)",
    ]
    ours, theta_row, naive_row, published = result.rows
    assert ours["members"] == 2 and ours["steps"] == 2 and ours["cpu_minutes"] > 0
    assert all(math.isfinite(ours[k]) for k in ("smape", "mape", "mase", "owa"))
    assert naive_row["owa"] == pytest.approx(1.0)
    split = load_competition("tourism", "yearly")
    from swets_competitions import evaluate, theta

    assert theta_row["mape"] == pytest.approx(evaluate(split, theta(split))["mape"])
    assert published["mape"] == 21.67 and math.isnan(published["smape"])
    assert result.settings["yearly"]["steps"] == 2 and result.fits["yearly"].members[0].steps == 2
    text = result.table()
    assert "Tourism yearly" in text and "N-BEATS-G (published)" in text
    csv_text = result.to_csv()
    assert csv_text.startswith(BENCHMARK_HEADER + "\n")
    assert len(csv_text.splitlines()) == 5
    assert "load average" in result.machine_line()


def test_machine_describes_the_cpu_threads_and_load(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    info = machine()
    assert info["logical_cpus"] >= 1 and info["usable_cpus"] >= 1
    assert info["blas_threads"]["OPENBLAS_NUM_THREADS"] == "1" and len(info["load_average"]) == 3


def test_published_numbers_are_the_papers():
    assert PUBLISHED[("m3", "monthly")]["N-BEATS-G (published)"] == {"smape": 13.19}
    assert PUBLISHED[("m3", "average")]["Theta (published)"] == {"smape": 13.01}
    assert PUBLISHED[("tourism", "monthly")]["N-BEATS-G (published)"] == {"mape": 19.17}


def test_bad_benchmark_arguments_are_named():
    with pytest.raises(ConfigError, match="unknown data set 'm5'"):
        run_benchmark("m5")
    with pytest.raises(ConfigError, match=r"unknown protocol setting\(s\) \['epochs'\]"):
        run_benchmark("tourism", "yearly", overrides={"epochs": 3})
    with pytest.raises(ConfigError, match="give --m4-path"):
        run_benchmark("m4", "yearly", progress=False)


# -- the command ---------------------------------------------------------------------------------
ARGS = [
    "--subset",
    "yearly",
    "--members",
    "2",
    "--steps",
    "2",
    "--batch-size",
    "32",
    "--set",
    "num_blocks=1",
    "--set",
    "layer_width=8",
    "--set",
    "num_layers=2",
]


def test_the_command_prints_the_table_and_writes_csv_and_ensembles(tmp_path, capsys):
    out = tmp_path / "t.csv"
    code = main(
        ["benchmark", "tourism", *ARGS, "--output", str(out), "--save-dir", str(tmp_path / "e")]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "member 2/2 (nbeats, lookback 12, mape, seed 0): step 2/2" in captured.err
    assert "Tourism yearly  swets nbeats ensemble" in captured.out
    assert "machine:" in captured.out and f"table: {out}" in captured.out
    with open(out) as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["method"] == "swets nbeats ensemble"
    ckpt = load_checkpoint(tmp_path / "e" / "tourism-yearly.swets")
    assert ckpt.model.registry_name == "ensemble" and len(ckpt.model.members) == 2
    assert ckpt.user_metadata["benchmark"]["subset"] == "yearly"
    # a second run replaces its own table
    assert (
        main(["benchmark", "--dataset", "tourism", *ARGS, "--no-progress", "--output", str(out)])
        == 0
    )


def test_the_command_never_overwrites_a_file_it_did_not_write(tmp_path, capsys):
    mine = tmp_path / "notes.csv"
    mine.write_text("my,own,data\n")
    assert main(["benchmark", "tourism", *ARGS, "--output", str(mine)]) == 1
    assert "--output" in capsys.readouterr().err and mine.read_text() == "my,own,data\n"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["benchmark"], "name the data set"),
        (["benchmark", "m3", "--dataset", "m1"], "disagree"),
        (["benchmark", "tourism", "--subset", "weekly"], "no subset 'weekly'"),
        (["benchmark", "tourism", "--set", "lookback=3"], "--set lookback"),
        (["benchmark", "tourism", "--steps", "0"], "--steps must be >= 1"),
        (["benchmark", "m4", "--subset", "yearly"], "--m4-path"),
    ],
)
def test_command_errors_are_one_line(tmp_path, capsys, argv, message):
    assert main([*argv, "--output", str(tmp_path / "x.csv")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("swets: error:") and message in err


def test_m4_from_a_tsf_file_written_here(tmp_path, capsys):
    rows = [
        f"Y{k}:1980-01-01 00-00-00:" + ",".join(str(100.0 + 3 * k + t * (k + 1)) for t in range(30))
        for k in range(4)
    ]
    header = (
        "@relation M4\n@attribute series_name string\n@attribute start_timestamp date\n"
        "@frequency yearly\n@horizon 6\n@missing false\n@equallength false\n@data\n"
    )
    (tmp_path / "m4_yearly_dataset.tsf").write_text(header + "\n".join(rows) + "\n")
    code = main(
        [
            "benchmark",
            "m4",
            *ARGS,
            "--m4-path",
            str(tmp_path),
            "--no-progress",
            "--output",
            str(tmp_path / "m4.csv"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "M4 yearly  swets nbeats ensemble" in captured.out
