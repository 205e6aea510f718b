"""The configurations of a sweep: dotted keys, grids, random draws, stable ids."""

from __future__ import annotations

import itertools

import pytest

from swets_core.errors import ConfigError
from swets_train.jobs import apply_overrides, get_dotted, set_dotted
from swets_train.sweep import config_id, configurations, expand_grid, grid_size, sample_grid


def test_expand_grid_is_the_cartesian_product_in_order():
    grid = {"a.x": [1, 2, 3], "b.y": ["p", "q"], "c.z": [True]}
    got = expand_grid(grid)
    want = [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]
    assert got == want and grid_size(grid) == 6


def test_sample_grid_draws_distinct_configurations_reproducibly():
    grid = {"a.x": list(range(10)), "b.y": list(range(7))}
    a = sample_grid(grid, 12, seed=3)
    assert a == sample_grid(grid, 12, seed=3)
    assert a != sample_grid(grid, 12, seed=4)
    assert len({(c["a.x"], c["b.y"]) for c in a}) == 12
    everything = expand_grid(grid)
    assert [everything.index(c) for c in a] == sorted(everything.index(c) for c in a)
    assert sample_grid(grid, 70, seed=0) == everything
    with pytest.raises(ConfigError, match="n_random=71 exceeds the 70"):
        sample_grid(grid, 71)
    with pytest.raises(ConfigError, match="n_random must be an int >= 1"):
        sample_grid(grid, 0)


@pytest.mark.parametrize(
    "grid, message",
    [
        ({}, "the grid has no key"),
        ({"a.x": []}, r"grid\['a.x'\] is empty"),
        ({"a.x": "abc"}, "must be a list of values"),
        ({"a..x": [1]}, "dotted name"),
        ([("a.x", [1])], "must map dotted keys"),
    ],
)
def test_bad_grids(grid, message):
    with pytest.raises(ConfigError, match=message):
        expand_grid(grid)


def test_dotted_keys():
    spec = {"model": {"name": "lstm"}, "training": {"lr": 0.1}}
    out = apply_overrides(spec, {"model.hidden_size": 8, "training.lr": 0.5})
    assert out == {"model": {"name": "lstm", "hidden_size": 8}, "training": {"lr": 0.5}}
    assert spec == {"model": {"name": "lstm"}, "training": {"lr": 0.1}}  # not modified
    assert get_dotted(out, "model.hidden_size") == 8
    with pytest.raises(ConfigError, match="no section 'modle'"):
        apply_overrides(spec, {"modle.hidden_size": 8})
    with pytest.raises(ConfigError, match=r"training\.lr is a float, not a section"):
        set_dotted(dict(spec), "training.lr.x", 1)
    with pytest.raises(ConfigError, match=r"training has no 'epochs'.*lr"):
        get_dotted(spec, "training.epochs")


def test_config_ids_are_stable_and_order_free():
    a = config_id({"model.hidden_size": 8, "training.lr": 0.001})
    assert a == config_id({"training.lr": 0.001, "model.hidden_size": 8})
    assert a != config_id({"model.hidden_size": 16, "training.lr": 0.001})
    assert a == "50bafc32fb"  # the same on every machine and run: directory names rely on it
    with pytest.raises(ConfigError, match="plain data"):
        config_id({"x.y": object()})


def test_configurations_combine_lists_and_grids():
    base = {"model": {"name": "nbeats"}}
    out = configurations(base, {"training.lr": [1, 2]}, configs=[{"model.layer_width": 4}, {}])
    assert out == [
        {"model.layer_width": 4, "training.lr": 1},
        {"model.layer_width": 4, "training.lr": 2},
        {"training.lr": 1},
        {"training.lr": 2},
    ]
    assert configurations(base) == [{}]
    with pytest.raises(ConfigError, match="configurations 0 and 1 are the same"):
        configurations(base, configs=[{"a.b": 1}, {"a.b": 1}])
    with pytest.raises(ConfigError, match="n_random draws from a grid"):
        configurations(base, n_random=3)
    with pytest.raises(ConfigError, match="empty"):
        configurations(base, configs=[])
