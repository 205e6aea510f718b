"""Errors reach the user as one ``swets: error: ...`` line with exit code 1; --debug adds the traceback."""

from __future__ import annotations

import pytest

from .conftest import one_error_line, swets, write_hourly_csv


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["train", "--model", "nbeast"],
            "model.name: unknown model 'nbeast'; did you mean 'nbeats'?",
        ),
        (["train", "--data", "electrcity"], "did you mean 'electricity'?"),
        (["train", "--data", "missing.csv"], "data.path: cannot read missing.csv: no such file"),
        (["train", "--data", "."], "data.path: . is a directory"),
        (["train", "--target", "price"], "data.target: electricity has no column 'price'"),
        (
            ["train", "--data", "load.csv", "--target", "load", "--covariates", "tmp"],
            "did you mean 'temp'?",
        ),
        (["train", "--set", "model.layer_widht=8"], "did you mean 'layer_width'?"),
        (["train", "--set", "trainig.lr=0.1"], "did you mean 'training'?"),
        (["train", "--config", "nope.toml"], "--config: cannot read nope.toml: no such file"),
        (["train", "--config", "bad.toml"], "--config: bad.toml is not valid TOML"),
        (["train", "--config", "typo.toml"], "unknown section [traning]; did you mean 'training'?"),
        (["evaluate", "nope.swets"], "nope.swets: no such checkpoint file"),
        (["forecast", "load.csv"], "load.csv: not a swets msgpack checkpoint"),
        (["backtest"], "give a CHECKPOINT, or --model NAME / --config FILE"),
    ],
)
def test_one_line_errors(tmp_path, args, expected):
    write_hourly_csv(tmp_path / "load.csv", n=60)
    (tmp_path / "bad.toml").write_text("[data\nlookback = 3\n")
    (tmp_path / "typo.toml").write_text("[traning]\nepochs = 3\n")
    line = one_error_line(swets(*args, cwd=tmp_path, rc=None))
    assert expected in line


def test_checkpoint_commands_on_another_files_missing_column(tmp_path):
    swets(
        "train",
        "--data",
        write_hourly_csv(tmp_path / "load.csv", n=200),
        "--target",
        "load",
        "--lookback",
        "24",
        "--horizon",
        "6",
        "--max-steps",
        "1",
        "--set",
        "model.layer_width=8",
        "--set",
        "model.num_blocks=1",
        "--output",
        "m.swets",
        "--no-progress",
        cwd=tmp_path,
    )
    line = one_error_line(
        swets("forecast", "m.swets", "--data", "electricity", cwd=tmp_path, rc=None)
    )
    assert "data.target: electricity has no column 'load'" in line
    line = one_error_line(
        swets("evaluate", "m.swets", "--data", "nowhere.csv", cwd=tmp_path, rc=None)
    )
    assert "nowhere.csv: no such file" in line
    # a checkpoint written outside a job names what it lacks
    swets("plugins", cwd=tmp_path)
    from swets_core import registry
    from swets_core.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "bare.swets", registry.create("models", "naive", horizon=6))
    line = one_error_line(swets("evaluate", "bare.swets", cwd=tmp_path, rc=None))
    assert "holds model 'naive' but no job description" in line


def test_debug_shows_the_traceback_before_the_line(tmp_path):
    for args in (
        ["--debug", "train", "--model", "nbeast"],
        ["train", "--model", "nbeast", "--debug"],
    ):
        proc = swets(*args, cwd=tmp_path, rc=1)
        assert "Traceback (most recent call last)" in proc.stderr
        assert "ConfigError" in proc.stderr
        assert proc.stderr.strip().splitlines()[-1].startswith("swets: error: model.name")


def test_plot_without_matplotlib_says_which_extra_to_install(tmp_path):
    block = tmp_path / "block"
    (block / "matplotlib").mkdir(parents=True)
    (block / "matplotlib" / "__init__.py").write_text(
        "raise ImportError('matplotlib is blocked')\n"
    )
    line = one_error_line(
        swets(
            "plot",
            "any.swets",
            "--output",
            "x.png",
            cwd=tmp_path,
            env={"PYTHONPATH": str(block)},
            rc=None,
        )
    )
    # the missing extra is reported before the checkpoint is even read
    assert (
        line == 'swets: error: plots need matplotlib, an optional extra: pip install "swets[plot]"'
    )


def test_dask_without_swets_dask_says_which_extra_to_install(tmp_path):
    block = tmp_path / "block"
    (block / "swets_dask").mkdir(parents=True)
    (block / "swets_dask" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'swets_dask'\", name='swets_dask')\n"
    )
    env = {"PYTHONPATH": str(block), "SWETS_DISABLE_PLUGINS": "swets-dask"}
    line = one_error_line(
        swets("train", "--dask", "--max-steps", "1", cwd=tmp_path, env=env, rc=None)
    )
    assert (
        line
        == 'swets: error: --dask needs swets-dask, which is not installed: pip install "swets[dask]"'
    )


def test_argument_errors_exit_2_with_usage(tmp_path):
    proc = swets("plot", "x.swets", cwd=tmp_path, rc=2)
    assert "the following arguments are required: --output" in proc.stderr
    proc = swets("train", "--lookback", "many", cwd=tmp_path, rc=2)
    assert "invalid int value: 'many'" in proc.stderr
