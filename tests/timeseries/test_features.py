"""Features: causality for every feature, documented warm-up, reference formulas on the MSFT data."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swets_core.errors import ConfigError, ShapeError
from swets_timeseries import OHLCV
from swets_timeseries import features as ft

from .conftest import random_bars

# name -> (function of bars returning one array or a tuple of arrays, warm-up rows (per output))
FEATURES = {
    "returns": (lambda b: ft.returns(b.close, 3), 3),
    "log_returns": (lambda b: ft.log_returns(b.close), 1),
    "lag": (lambda b: ft.lag(b.close, 2), 2),
    "lags": (lambda b: tuple(ft.lags(b.close, [1, 5]).T), (1, 5)),
    "rolling_mean": (lambda b: ft.rolling_mean(b.close, 10), 9),
    "rolling_std": (lambda b: ft.rolling_std(b.close, 10), 9),
    "rolling_min": (lambda b: ft.rolling_min(b.low, 10), 9),
    "rolling_max": (lambda b: ft.rolling_max(b.high, 10), 9),
    "rolling_2d": (lambda b: ft.rolling_mean(b.to_array(), 4), 3),
    "ema": (lambda b: ft.ema(b.close, 12), 11),
    "ema_2d": (lambda b: ft.ema(b.to_array(), 5), 4),
    "rsi": (lambda b: ft.rsi(b.close, 14), 14),
    "macd": (lambda b: ft.macd(b.close, 12, 26, 9), (25, 33, 33)),
    "bollinger": (lambda b: ft.bollinger(b.close, 20), 19),
    "true_range": (lambda b: ft.true_range(b.high, b.low, b.close), 1),
    "atr": (lambda b: ft.atr(b.high, b.low, b.close, 14), 14),
    "obv": (lambda b: ft.obv(b.close, b.volume), 0),
    "vwap_cumulative": (lambda b: ft.vwap(b.high, b.low, b.close, b.volume), 0),
    "vwap_rolling": (lambda b: ft.vwap(b.high, b.low, b.close, b.volume, 10), 9),
    "vwap_daily": (
        lambda b: ft.vwap(b.high, b.low, b.close, b.volume, timestamps=b.timestamps, reset="day"),
        0,
    ),
    "realized_volatility": (lambda b: ft.realized_volatility(b.close, 20, annualize=252), 20),
    "parkinson": (lambda b: ft.parkinson_volatility(b.high, b.low, 20), 19),
    "garman_klass": (lambda b: ft.garman_klass_volatility(b.open, b.high, b.low, b.close, 20), 19),
    "zscore": (lambda b: ft.rolling_zscore(b.close, 20), 19),
    "calendar": (lambda b: tuple(ft.calendar_features(b.timestamps).values()), 0),
}


def _outputs(fn, bars):
    out = fn(bars)
    return out if isinstance(out, tuple) else (out,)


def _perturbed(bars, t, seed):
    """Bars equal to ``bars`` up to row t and different (still valid) after it, timestamps included."""
    other = random_bars(len(bars), seed=seed)
    cut = slice(t + 1, None)

    def mix(a, b):
        out = a.copy()
        out[cut] = b[cut]
        return out

    ts = bars.timestamps.copy()
    ts[cut] = ts[cut] + np.timedelta64(37, "m")
    return OHLCV(
        ts,
        *(mix(bars.column(c), other.column(c)) for c in ("open", "high", "low", "close", "volume")),
    )


@pytest.mark.parametrize("name", sorted(FEATURES))
def test_causal(name):
    fn, _ = FEATURES[name]
    bars = random_bars(160, seed=1)
    base = _outputs(fn, bars)
    for t in (0, 40, 97, 158):
        changed = _outputs(fn, _perturbed(bars, t, seed=t + 2))
        for a, b in zip(base, changed):
            np.testing.assert_array_equal(a[: t + 1], b[: t + 1], err_msg=f"{name} at t={t}")
        # the perturbation is real: something after t changed
        assert t > 150 or any(
            not np.array_equal(a[t + 1 :], b[t + 1 :], equal_nan=True)
            for a, b in zip(base, changed)
        )


@pytest.mark.parametrize("name", sorted(FEATURES))
def test_warm_up_rows_are_nan_and_nothing_after(name):
    fn, warm = FEATURES[name]
    outs = _outputs(fn, random_bars(160, seed=3))
    warms = warm if isinstance(warm, tuple) else (warm,) * len(outs)
    for out, warm in zip(outs, warms):
        assert np.isnan(out[:warm]).all(), name
        assert np.isfinite(out[warm:]).all(), name


@settings(max_examples=40, deadline=None)
@given(
    decay=st.sampled_from([0.0, 1e-9, 0.01, 0.5, 0.9, 0.999, 0.999999, 1 - 1e-12]),
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 3000),
)
def test_blockwise_recurrence_matches_the_loop(decay, seed, n):
    from swets_timeseries.features import _recurrence

    b = np.random.default_rng(seed).standard_normal(n) * 1e3
    ref, carry = np.empty(n), 5.0
    for i in range(n):
        carry = decay * carry + b[i]
        ref[i] = carry
    got = _recurrence(b, decay, 5.0)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-13 * np.abs(ref).max() + 1e-12)


def test_nan_inside_propagates():
    x = np.arange(1.0, 60.0)
    x[30] = np.nan
    assert (
        np.isnan(ft.rolling_mean(x, 5)[30:35]).all()
        and np.isfinite(ft.rolling_mean(x, 5)[35:]).all()
    )
    assert np.isnan(ft.ema(x, 5)[30:]).all()
    # leading NaN (another feature's warm-up) is skipped
    r = ft.returns(np.arange(1.0, 40.0))
    e = ft.ema(r, 5)
    assert np.isnan(e[:5]).all() and np.isfinite(e[5:]).all()


# -- reference formulas on MSFT ----------------------------------------------------------------
def ref_ema(x, alpha):
    out, prev = [], None
    for v in x:
        prev = v if prev is None else alpha * v + (1 - alpha) * prev
        out.append(prev)
    return np.array(out)


def ref_wilder(values, n):
    """Wilder's average of values[0:], seeded by the mean of the first n."""
    out = [math.nan] * len(values)
    avg = sum(values[:n]) / n
    out[n - 1] = avg
    for i in range(n, len(values)):
        avg = (avg * (n - 1) + values[i]) / n
        out[i] = avg
    return np.array(out)


def test_returns_lags_rolling_reference(msft):
    c = msft.close
    assert ft.returns(c)[5] == pytest.approx(c[5] / c[4] - 1, rel=1e-15)
    assert ft.log_returns(c, 2)[7] == pytest.approx(math.log(c[7] / c[5]), rel=1e-14)
    np.testing.assert_array_equal(ft.lag(c, 3)[3:], c[:-3])
    np.testing.assert_array_equal(ft.lags(c, [1, 2])[2:, 1], c[:-2])
    for t in (19, 500, len(c) - 1):
        win = c[t - 19 : t + 1]
        assert ft.rolling_mean(c, 20)[t] == pytest.approx(sum(win) / 20, rel=1e-13)
        mean = sum(win) / 20
        std = math.sqrt(sum((v - mean) ** 2 for v in win) / 19)
        assert ft.rolling_std(c, 20)[t] == pytest.approx(std, rel=1e-12)
        assert ft.rolling_min(c, 20)[t] == min(win)
        assert ft.rolling_max(c, 20)[t] == max(win)
        assert ft.rolling_zscore(c, 20)[t] == pytest.approx(
            (c[t] - mean) / std, rel=1e-9, abs=1e-12
        )


def test_ema_macd_reference(msft):
    c = msft.close
    e = ft.ema(c, 12)
    ref = ref_ema(c.tolist(), 2 / 13)
    np.testing.assert_allclose(e[11:], ref[11:], rtol=1e-12)
    m = ft.macd(c)
    line = ref_ema(c.tolist(), 2 / 13) - ref_ema(c.tolist(), 2 / 27)
    np.testing.assert_allclose(m.macd[25:], line[25:], rtol=1e-10, atol=1e-13)
    sig = ref_ema(line[25:].tolist(), 0.2)
    np.testing.assert_allclose(m.signal[33:], sig[8:], rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(m.histogram[33:], line[33:] - sig[8:], rtol=1e-9, atol=1e-12)


def test_ema_matches_pandas(msft):
    pd = pytest.importorskip("pandas")
    for span in (5, 26, 200):
        expected = pd.Series(msft.close).ewm(span=span, adjust=False, min_periods=span).mean()
        np.testing.assert_allclose(ft.ema(msft.close, span), expected.to_numpy(), rtol=1e-12)
    expected = pd.Series(msft.close).rolling(30).std().to_numpy()
    np.testing.assert_allclose(ft.rolling_std(msft.close, 30), expected, rtol=1e-8)


def test_rsi_reference(msft):
    c = msft.close.tolist()
    n = 14
    deltas = [c[i] - c[i - 1] for i in range(1, len(c))]
    gain = ref_wilder([max(d, 0.0) for d in deltas], n)
    loss = ref_wilder([max(-d, 0.0) for d in deltas], n)
    expected = []
    for g, lo in zip(gain, loss):
        if math.isnan(g):
            expected.append(math.nan)
        elif lo == 0:
            expected.append(100.0 if g > 0 else 50.0)
        else:
            expected.append(100 - 100 / (1 + g / lo))
    got = ft.rsi(msft.close, n)
    assert np.isnan(got[:n]).all()
    np.testing.assert_allclose(got[1:], expected, rtol=1e-9, atol=1e-9)
    assert np.all((got[n:] >= 0) & (got[n:] <= 100))


def test_atr_obv_vwap_reference(msft):
    h, lo, c, v = msft.high.tolist(), msft.low.tolist(), msft.close.tolist(), msft.volume.tolist()
    tr = [max(h[i] - lo[i], abs(h[i] - c[i - 1]), abs(lo[i] - c[i - 1])) for i in range(1, len(c))]
    np.testing.assert_allclose(ft.true_range(msft.high, msft.low, msft.close)[1:], tr, rtol=1e-15)
    np.testing.assert_allclose(
        ft.atr(msft.high, msft.low, msft.close)[1:], ref_wilder(tr, 14), rtol=1e-9
    )
    obv, total = [0.0], 0.0
    for i in range(1, len(c)):
        total += v[i] if c[i] > c[i - 1] else -v[i] if c[i] < c[i - 1] else 0.0
        obv.append(total)
    np.testing.assert_allclose(ft.obv(msft.close, msft.volume), obv, rtol=1e-12)
    tp = [(h[i] + lo[i] + c[i]) / 3 for i in range(len(c))]
    got = ft.vwap(msft.high, msft.low, msft.close, msft.volume)
    for t in (0, 10, 5000, len(c) - 1):
        num = sum(tp[i] * v[i] for i in range(t + 1))
        assert got[t] == pytest.approx(num / sum(v[: t + 1]), rel=1e-10)
    got = ft.vwap(msft.high, msft.low, msft.close, msft.volume, 5)
    for t in (4, 3000):
        rows = range(t - 4, t + 1)
        expected = sum(tp[i] * v[i] for i in rows) / sum(v[i] for i in rows)
        assert got[t] == pytest.approx(expected, rel=1e-12)


def test_vwap_daily_reset_and_zero_volume():
    ts = np.array(
        ["2024-01-02T10:00", "2024-01-02T11:00", "2024-01-03T10:00", "2024-01-03T11:00"],
        dtype="M8[ns]",
    )
    p = np.array([10.0, 20.0, 30.0, 40.0])
    v = np.array([1.0, 3.0, 0.0, 2.0])
    got = ft.vwap(p, p, p, v, timestamps=ts, reset="day")
    np.testing.assert_allclose(got[[0, 1, 3]], [10.0, 17.5, 40.0])
    assert np.isnan(got[2])  # no volume yet in that session
    with pytest.raises(ConfigError, match="needs timestamps"):
        ft.vwap(p, p, p, v, reset="day")


def test_volatility_estimators_reference(msft):
    o, h, lo, c = (msft.column(k).tolist() for k in ("open", "high", "low", "close"))
    n, t = 20, 4000
    r = [math.log(c[i] / c[i - 1]) for i in range(t - n + 1, t + 1)]
    mean = sum(r) / n
    cc = math.sqrt(sum((x - mean) ** 2 for x in r) / (n - 1)) * math.sqrt(252)
    assert ft.realized_volatility(msft.close, n, annualize=252)[t] == pytest.approx(cc, rel=1e-10)
    rows = range(t - n + 1, t + 1)
    pk = math.sqrt(sum(math.log(h[i] / lo[i]) ** 2 for i in rows) / (4 * n * math.log(2)))
    assert ft.parkinson_volatility(msft.high, msft.low, n)[t] == pytest.approx(pk, rel=1e-12)
    gk = math.sqrt(
        sum(
            0.5 * math.log(h[i] / lo[i]) ** 2 - (2 * math.log(2) - 1) * math.log(c[i] / o[i]) ** 2
            for i in rows
        )
        / n
    )
    got = ft.garman_klass_volatility(msft.open, msft.high, msft.low, msft.close, n)
    assert got[t] == pytest.approx(gk, rel=1e-12)


def test_bollinger_reference(msft):
    c = msft.close
    b = ft.bollinger(c, 20, 2.0)
    t = 1234
    win = c[t - 19 : t + 1].tolist()
    mean = sum(win) / 20
    std = math.sqrt(sum((x - mean) ** 2 for x in win) / 20)
    assert b.middle[t] == pytest.approx(mean, rel=1e-13)
    assert b.upper[t] == pytest.approx(mean + 2 * std, rel=1e-12)
    assert b.lower[t] == pytest.approx(mean - 2 * std, rel=1e-12)
    assert b.percent_b[t] == pytest.approx((c[t] - (mean - 2 * std)) / (4 * std), rel=1e-9)


def test_calendar_reference(electricity):
    feats = ft.calendar_features(electricity.timestamps)
    for i in (0, 13, 1000, 4031):
        d = dt.datetime.fromisoformat(str(electricity.timestamps[i].astype("M8[s]")))
        hour = d.hour + d.minute / 60
        assert feats["hour_sin"][i] == pytest.approx(math.sin(2 * math.pi * hour / 24), abs=1e-12)
        assert feats["hour_cos"][i] == pytest.approx(math.cos(2 * math.pi * hour / 24), abs=1e-12)
        assert feats["dow_sin"][i] == pytest.approx(
            math.sin(2 * math.pi * d.weekday() / 7), abs=1e-12
        )
        assert feats["dow_cos"][i] == pytest.approx(
            math.cos(2 * math.pi * d.weekday() / 7), abs=1e-12
        )
        assert feats["month_sin"][i] == pytest.approx(
            math.sin(2 * math.pi * (d.month - 1) / 12), abs=1e-12
        )
        assert feats["month_cos"][i] == pytest.approx(
            math.cos(2 * math.pi * (d.month - 1) / 12), abs=1e-12
        )


def test_argument_errors():
    x = np.arange(10.0)
    with pytest.raises(ConfigError, match="window must be an int >= 1"):
        ft.rolling_mean(x, 0)
    with pytest.raises(ConfigError, match="window must be an int >= 2"):
        ft.rolling_std(x, 1)
    with pytest.raises(ConfigError, match="exactly one of span= and alpha="):
        ft.ema(x)
    with pytest.raises(ConfigError, match="fast < slow"):
        ft.macd(x, 26, 12)
    with pytest.raises(ShapeError, match="same length"):
        ft.obv(x, x[:5])
    with pytest.raises(ShapeError, match="dimension"):
        ft.rsi(np.ones((3, 3)))
    assert np.isnan(ft.rolling_mean(x, 20)).all()  # shorter than the window: all warm-up
