"""Bundled data sets: loaded by name from package data, never from outside the package."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from swets_core.errors import UnknownComponentError
from swets_timeseries import OHLCV, TimeSeries, dataset_names, load_dataset

ROOT = Path(__file__).resolve().parents[2]


def test_names():
    assert dataset_names() == ("msft", "electricity")
    with pytest.raises(UnknownComponentError, match="'msf'; did you mean 'msft'"):
        load_dataset("msf")


def test_msft(msft):
    assert isinstance(msft, OHLCV) and len(msft) == 7983
    assert msft.timestamps[0] == np.datetime64("1986-03-13", "ns")
    assert msft.timestamps[-1] == np.datetime64("2017-11-10", "ns")
    assert msft.validate()[1].ok
    flat = (msft.open == msft.high) & (msft.high == msft.low) & (msft.low == msft.close)
    assert int(flat.sum()) == 248
    gaps = np.diff(msft.timestamps).astype("timedelta64[D]").astype(int)
    assert gaps.min() == 1 and gaps.max() == 7


def test_electricity(electricity):
    assert isinstance(electricity, TimeSeries) and len(electricity) == 4032
    assert electricity.id == "electricity" and electricity.target == ("demand_mw",)
    steps = np.diff(electricity.timestamps)
    assert np.all(steps == np.timedelta64(30, "m"))
    assert electricity.timestamps[0] == np.datetime64("2000-06-05T00:00", "ns")


def test_package_data_comes_from_the_package():
    import swets_timeseries.datasets as ds

    for name in dataset_names():
        path = Path(str(ds.dataset_path(name)))
        assert path.is_file() and Path(ds.__file__).parent in path.parents


@pytest.mark.slow
@pytest.mark.wheelhouse
def test_wheel_ships_the_csv_files(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(
        ROOT / "swets_timeseries",
        src,
        ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"),
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(src),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("swets_timeseries-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "swets_timeseries/datasets/msft_daily_ohlcv.csv" in names
    assert "swets_timeseries/datasets/taylor_electricity_halfhourly.csv" in names
    assert "swets_timeseries/py.typed" in names
