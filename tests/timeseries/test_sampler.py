"""The N-BEATS panel sampler: window contents, padding and masks, and the distribution of its draws
over series and cut points (seeded generators, chi-square bounds)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from swets_core.errors import ArgumentTypeError, ConfigError, DataValidationError, StateDictError
from swets_timeseries import PanelLoader, PanelSampler, SeriesCollection, TimeSeries

# Upper 0.1 % points of the chi-square distribution (df -> value): a uniform draw exceeds them
# with probability 0.001.
CHI2_999 = {3: 16.266, 9: 27.877, 28: 56.892}


def chi_square(counts: np.ndarray) -> float:
    expected = counts.sum() / counts.size
    return float(((counts - expected) ** 2 / expected).sum())


def panel(lengths, start=0.0):
    """Series whose values encode (series, position): v = 1000 * i + t + 1 (never zero)."""
    return {
        f"s{i}": 1000.0 * i + np.arange(n, dtype=np.float64) + 1 + start
        for i, n in enumerate(lengths)
    }


def expected_window(values, cut, lookback, horizon):
    """The window at ``cut`` written out element by element."""
    x = np.zeros(lookback)
    xm = np.zeros(lookback)
    for j in range(lookback):
        p = cut - lookback + j
        if p >= 0:
            x[j], xm[j] = values[p], 1.0
    y = np.zeros(horizon)
    ym = np.zeros(horizon)
    for j in range(horizon):
        p = cut + j
        if p < len(values):
            y[j], ym[j] = values[p], 1.0
    return x, xm, y, ym


def test_windows_hold_the_values_before_and_after_the_cut_with_padding_masks():
    data = panel([3, 8, 40])
    sampler = PanelSampler(
        data, lookback=6, horizon=4, rng=np.random.default_rng(0), batch_size=500, dtype="float64"
    )
    batch = sampler.sample()
    x, x_mask, y, y_mask = batch
    assert x.shape == x_mask.shape == (500, 6) and y.shape == y_mask.shape == (500, 4)
    assert x.dtype == y.dtype == x_mask.dtype == np.float64
    values = list(data.values())
    for k in range(500):
        ex = expected_window(values[batch.series[k]], batch.cut[k], 6, 4)
        np.testing.assert_array_equal(x[k], ex[0])
        np.testing.assert_array_equal(x_mask[k], ex[1])
        np.testing.assert_array_equal(y[k], ex[2])
        np.testing.assert_array_equal(y_mask[k], ex[3])
    # the short series produced left padding and the horizon ran past ends
    assert (x_mask == 0).any() and (y_mask == 0).any()
    assert ((x == 0) == (x_mask == 0)).all()  # padding is zero, values never are here


def test_explicit_windows_short_series_padding():
    sampler = PanelSampler(
        [np.array([5.0, 6.0, 7.0])], lookback=4, horizon=3, rng=np.random.default_rng(1)
    )
    b = sampler.windows([0], [2])
    np.testing.assert_array_equal(b.x, [[0, 0, 5, 6]])
    np.testing.assert_array_equal(b.x_mask, [[0, 0, 1, 1]])
    np.testing.assert_array_equal(b.y, [[7, 0, 0]])
    np.testing.assert_array_equal(b.y_mask, [[1, 0, 0]])
    assert b.x.dtype == np.float32
    with pytest.raises(ConfigError, match="cut 0 is out of range for series '0'"):
        sampler.windows([0], [0])
    with pytest.raises(ConfigError, match="series index 3"):
        sampler.windows([3], [1])


def test_every_series_counts_equally_however_long():
    lengths = [2, 3, 10, 50, 100, 500, 1000, 4000, 7, 20]
    sampler = PanelSampler(
        panel(lengths), lookback=8, horizon=4, rng=np.random.default_rng(2024), batch_size=5000
    )
    counts = np.zeros(len(lengths))
    for _ in range(10):
        counts += np.bincount(sampler.sample().series, minlength=len(lengths))
    assert counts.sum() == 50_000
    assert chi_square(counts) < CHI2_999[len(lengths) - 1]
    # each share within 5 standard deviations of 1/10
    sd = np.sqrt(50_000 * 0.1 * 0.9)
    assert np.all(np.abs(counts - 5000) < 5 * sd)


def test_cuts_are_uniform_over_the_last_history_size_times_horizon_points():
    # horizon 5, history_size 2: the last 10 points of the 60-long series, all 4 cuts of the short one
    sampler = PanelSampler(
        {"long": np.arange(1.0, 61.0), "short": np.arange(1.0, 6.0)},
        lookback=10,
        horizon=5,
        history_size=2,
        rng=np.random.default_rng(7),
        batch_size=4000,
    )
    np.testing.assert_array_equal(sampler.first_cut, [50, 1])
    cuts = {0: [], 1: []}
    for _ in range(10):
        b = sampler.sample()
        for s in (0, 1):
            cuts[s].append(b.cut[b.series == s])
    long_cuts = np.concatenate(cuts[0])
    short_cuts = np.concatenate(cuts[1])
    assert long_cuts.min() >= 50 and long_cuts.max() <= 59
    assert short_cuts.min() >= 1 and short_cuts.max() <= 4
    long_counts = np.bincount(long_cuts - 50, minlength=10)
    short_counts = np.bincount(short_cuts - 1, minlength=4)
    assert long_counts.size == 10 and short_counts.size == 4
    assert chi_square(long_counts) < CHI2_999[9]
    assert chi_square(short_counts) < CHI2_999[3]


def test_fractional_history_size_and_whole_history():
    # the paper's L_H = 1.5 for yearly data: int(1.5 * 6) = 9 points
    lengths = [30, 12, 9, 4]
    s = PanelSampler(
        panel(lengths), lookback=12, horizon=6, history_size=1.5, rng=np.random.default_rng(0)
    )
    np.testing.assert_array_equal(s.first_cut, [21, 3, 1, 1])
    whole = PanelSampler(panel(lengths), lookback=12, horizon=6, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(whole.first_cut, [1, 1, 1, 1])
    cuts = whole.sample(20_000)
    c0 = cuts.cut[cuts.series == 0]
    assert c0.min() == 1 and c0.max() == 29
    assert chi_square(np.bincount(c0 - 1, minlength=29)) < CHI2_999[28]


def test_seeded_generators_give_identical_batches():
    data = panel([15, 30, 45])
    a = PanelSampler(data, lookback=5, horizon=3, rng=np.random.default_rng(11), batch_size=64)
    b = PanelSampler(data, lookback=5, horizon=3, rng=np.random.default_rng(11), batch_size=64)
    c = PanelSampler(data, lookback=5, horizon=3, rng=np.random.default_rng(12), batch_size=64)
    for batch_a, batch_b, batch_c, _ in zip(a, b, c, range(3)):
        for u, v in zip(batch_a, batch_b):
            np.testing.assert_array_equal(u, v)
        assert not np.array_equal(batch_a.cut, batch_c.cut)


def test_series_collection_input_and_last_windows():
    ts = np.arange(5).astype("datetime64[D]")
    coll = SeriesCollection(
        [
            TimeSeries(ts, {"y": [1.0, 2, 3, 4, 5]}, target="y", id="a"),
            TimeSeries(ts[:3], {"y": [7.0, 8, 9]}, target="y", id="b"),
        ]
    )
    s = PanelSampler(coll, lookback=4, horizon=2, rng=np.random.default_rng(0))
    assert s.ids == ("a", "b")
    np.testing.assert_array_equal(s.lengths, [5, 3])
    x, m = s.last_windows()
    np.testing.assert_array_equal(x, [[2, 3, 4, 5], [0, 7, 8, 9]])
    np.testing.assert_array_equal(m, [[1, 1, 1, 1], [0, 1, 1, 1]])


def test_storage_grows_with_the_data_not_with_the_windows():
    short = PanelSampler([np.ones(1000)], lookback=100, horizon=10, rng=np.random.default_rng(0))
    # one series of 1000 values has about 1000 windows; ten of 10_000 have about 100_000
    longer = PanelSampler(
        [np.ones(10_000)] * 10, lookback=100, horizon=10, rng=np.random.default_rng(0)
    )
    assert short.nbytes == 1000 * 4 + 3 * 8
    assert longer.nbytes == 100_000 * 4 + 10 * 3 * 8


def test_bad_arguments_and_data_raise_named_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ArgumentTypeError, match="default_rng"):
        PanelSampler([np.ones(5)], lookback=2, horizon=1, rng=0)
    with pytest.raises(ConfigError, match="lookback must be an int >= 1"):
        PanelSampler([np.ones(5)], lookback=0, horizon=1, rng=rng)
    with pytest.raises(ConfigError, match="leaves no point"):
        PanelSampler([np.ones(5)], lookback=2, horizon=2, history_size=0.4, rng=rng)
    with pytest.raises(DataValidationError, match="series 'x' has 1 value"):
        PanelSampler({"ok": np.ones(4), "x": np.ones(1)}, lookback=2, horizon=1, rng=rng)
    with pytest.raises(
        DataValidationError, match=r"series 'b' has a non-finite value .* position 2"
    ):
        PanelSampler(
            {"a": np.ones(4), "b": np.array([1.0, 2.0, np.nan])}, lookback=2, horizon=1, rng=rng
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy overflow warning leaks
        with pytest.raises(
            DataValidationError,
            match=r"series 'b' has the value 1e\+39 at position 1, beyond the range of float32",
        ):
            PanelSampler({"a": [1.0, 2.0], "b": [3.0, 1e39]}, lookback=2, horizon=1, rng=rng)
    wide = PanelSampler(
        {"a": [1, 2], "b": ["3.5", "1e39"]}, lookback=1, horizon=1, rng=rng, dtype="float64"
    )
    assert wide.windows([1], [1]).x.tolist() == [[3.5]] and wide.windows([1], [2]).x[0, 0] == 1e39
    two = TimeSeries(
        np.arange(3).astype("datetime64[D]"),
        {"u": [1.0, 2, 3], "v": [1.0, 2, 3]},
        target=["u", "v"],
    )
    with pytest.raises(ConfigError, match="column="):
        PanelSampler(two, lookback=2, horizon=1, rng=rng)
    s = PanelSampler(two, lookback=2, horizon=1, rng=rng, column="v")
    assert s.lengths.tolist() == [3]


def test_scales_go_with_each_window_of_their_series():
    data = panel([6, 9, 12])
    sampler = PanelSampler(
        data, lookback=4, horizon=2, rng=np.random.default_rng(3), scales=[0.5, 2.0, 8.0]
    )
    batch = sampler.sample(64)
    assert batch.scale.dtype == np.float32
    np.testing.assert_array_equal(batch.scale, np.array([0.5, 2.0, 8.0])[batch.series])
    assert sampler.windows([2, 0], [5, 3]).scale.tolist() == [8.0, 0.5]
    assert (
        PanelSampler(data, lookback=4, horizon=2, rng=np.random.default_rng(3)).sample().scale
        is None
    )
    with pytest.raises(ConfigError, match="one number per series"):
        PanelSampler(data, lookback=4, horizon=2, rng=np.random.default_rng(3), scales=[1.0])
    with pytest.raises(ConfigError, match="series 's1' must be a positive finite"):
        PanelSampler(
            data, lookback=4, horizon=2, rng=np.random.default_rng(3), scales=[1.0, 0.0, np.nan]
        )


def loader(seed=5, steps=4, batch=8):
    sampler = PanelSampler(
        panel([7, 20, 33]), lookback=5, horizon=3, rng=np.random.default_rng(seed), batch_size=batch
    )
    return PanelLoader(sampler, steps_per_epoch=steps)


def test_loader_cuts_the_draws_into_epochs_of_model_shaped_batches():
    ld = loader()
    twin = PanelSampler(
        panel([7, 20, 33]), lookback=5, horizon=3, rng=np.random.default_rng(5), batch_size=8
    )
    assert len(ld) == 4 and ld.batch_size == 8 and ld.generator is ld.sampler.rng
    for epoch in range(2):
        batches = list(ld)
        assert len(batches) == 4 and ld.epoch == epoch + 1 and ld.position == 0
        for b in batches:
            expected = twin.sample()
            assert b.x.shape == (8, 5, 1) and b.x_mask.shape == (8, 5)
            np.testing.assert_array_equal(b.x[:, :, 0], expected.x)
            np.testing.assert_array_equal(b.y, expected.y)
            np.testing.assert_array_equal(b.y_mask, expected.y_mask)


def test_loader_resumes_mid_epoch_and_after_an_epochs_last_batch_exactly():
    reference = loader()
    whole = [b.cut.copy() for _ in range(3) for b in reference]  # 3 epochs of 4 batches
    for stop in (1, 4, 6):  # mid-epoch, after an epoch's last batch (not closed yet), mid-epoch 2
        ld = loader()
        seen, it = [], iter(ld)
        for _ in range(stop):
            if len(seen) and len(seen) % 4 == 0:
                it = iter(ld)
            seen.append(next(it).cut.copy())
        state = ld.state_dict()
        assert state["position"] == (stop - 1) % 4 + 1
        resumed = loader(seed=99)  # another generator state: the loaded state replaces it
        resumed.load_state_dict(state)
        rest = []
        while len(seen) + len(rest) < len(whole):
            rest += [b.cut.copy() for b in resumed]
        for got, expected in zip(seen + rest, whole):
            np.testing.assert_array_equal(got, expected)
        assert resumed.epoch == 3


def test_loader_abandoned_epoch_counts_as_finished_and_bad_states_are_named():
    ld = loader()
    it = iter(ld)
    next(it)
    it.close()
    list(ld)
    assert ld.epoch == 2
    state = ld.state_dict()
    other = PanelLoader(
        PanelSampler(panel([7, 20, 33]), lookback=6, horizon=3, rng=np.random.default_rng(0)),
        steps_per_epoch=3,
    )
    with pytest.raises(StateDictError) as info:
        other.load_state_dict(state)
    text = str(info.value)
    assert "steps_per_epoch: saved 4, this loader has 3" in text
    assert "lookback: saved 5, this loader has 6" in text
    with pytest.raises(StateDictError, match="missing key 'rng_state'"):
        ld.load_state_dict({k: v for k, v in state.items() if k != "rng_state"})
    with pytest.raises(StateDictError, match="position 9 outside"):
        ld.load_state_dict({**state, "position": 9})
    with pytest.raises(StateDictError, match=r"(?s)PanelLoader.*expected a mapping, got list"):
        ld.load_state_dict([state])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="steps_per_epoch must be an int >= 1"):
        PanelLoader(ld.sampler, steps_per_epoch=0)
    with pytest.raises(ArgumentTypeError, match="must be a PanelSampler"):
        PanelLoader([np.ones(3)])
