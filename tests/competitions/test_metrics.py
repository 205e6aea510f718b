"""The competitions' metrics against hand computations: sMAPE (0-200), MAPE, MASE with the seasonal
in-sample scale, OWA against Naive2, the pooled average, and a whole split's evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from swets_competitions import (
    evaluate,
    mape,
    mase,
    naive2,
    owa,
    pooled_average,
    seasonal_scale,
    smape,
)
from swets_competitions.datasets import build_split
from swets_core.errors import ConfigError, DataValidationError, ShapeError

Y = np.array([[100.0, 200.0], [50.0, 50.0]])
F = np.array([[110.0, 180.0], [50.0, 100.0]])


def test_smape_is_200_over_h_per_series_then_averaged():
    # series 1: 200/2 (10/210 + 20/380); series 2: 200/2 (0/100 + 50/150)
    s1 = 100 * (10 / 210 + 20 / 380)
    s2 = 100 * (0 + 50 / 150)
    assert smape(Y, F) == pytest.approx((s1 + s2) / 2, rel=1e-12)
    assert smape(Y, Y) == 0.0
    # a term with y = ŷ = 0 is a perfect forecast
    assert smape([[0.0, 1.0]], [[0.0, 1.0]]) == 0.0
    # the maximum: opposite signs or a zero forecast
    assert smape([[1.0, 2.0]], [[0.0, 0.0]]) == pytest.approx(200.0)


def test_mape_in_percent_and_zero_actuals_refused():
    # series 1: 100/2 (10/100 + 20/200) = 10; series 2: 100/2 (0 + 50/50) = 50
    assert mape(Y, F) == pytest.approx(30.0, rel=1e-12)
    with pytest.raises(DataValidationError, match="series 'b' has an actual value of 0 at step 2"):
        mape([[1.0, 2.0], [3.0, 0.0]], [[1.0, 2.0], [3.0, 1.0]], ids=["a", "b"])


def test_seasonal_scale_is_the_in_sample_seasonal_naive_mae():
    x = [1.0, 3.0, 2.0, 5.0, 4.0, 6.0]
    # m = 1: |3-1|, |2-3|, |5-2|, |4-5|, |6-4| -> 9 / 5
    # m = 2: |2-1|, |5-3|, |4-2|, |6-5| -> 6 / 4
    np.testing.assert_allclose(seasonal_scale([x], 1), [1.8])
    np.testing.assert_allclose(seasonal_scale([x, x[:4]], 2), [1.5, 1.5])
    with pytest.raises(DataValidationError, match="series 'flat' has a seasonal scale of 0"):
        seasonal_scale([x, [1.0, 2.0, 1.0, 2.0]], 2, ids=["ok", "flat"])
    with pytest.raises(DataValidationError, match="series 1 has 2 training value"):
        seasonal_scale([x, [1.0, 2.0]], 2)
    with pytest.raises(ConfigError, match="season_length"):
        seasonal_scale([x], 0)


def test_mase_divides_each_series_mae_by_its_own_scale_then_averages():
    y = np.array([[10.0, 12.0], [5.0, 5.0]])
    f = np.array([[11.0, 10.0], [6.0, 8.0]])
    # series 1: (1 + 2) / 2 / 1.5 = 1; series 2: (1 + 3) / 2 / 4 = 0.5
    assert mase(y, f, [1.5, 4.0]) == pytest.approx(0.75, rel=1e-12)
    with pytest.raises(ShapeError, match="need a \\(N,\\) scale"):
        mase(y, f, [1.0])
    with pytest.raises(DataValidationError, match="scales must be > 0"):
        mase(y, f, [1.0, 0.0])


def test_owa_and_pooled_average():
    assert owa(10.0, 1.0, 20.0, 2.0) == pytest.approx(0.5)
    assert owa(13.0, 0.9, 13.0, 0.9) == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="Naive2 totals"):
        owa(1.0, 1.0, 0.0, 1.0)
    # every forecast value weighs the same: 645 yearly series x 6 and 756 quarterly x 8
    expected = (16.90 * 645 * 6 + 8.96 * 756 * 8) / (645 * 6 + 756 * 8)
    assert pooled_average([16.90, 8.96], [645 * 6, 756 * 8]) == pytest.approx(expected)
    with pytest.raises(ShapeError):
        pooled_average([1.0], [1, 2])


def test_bad_shapes_and_values_are_named():
    with pytest.raises(ShapeError, match="smape: y_true and y_pred must both be"):
        smape([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(DataValidationError, match=r"y_pred\[1, 0\] = nan"):
        smape(Y, [[1.0, 1.0], [np.nan, 1.0]])


def small_split():
    """An M3 yearly-shaped split (horizon 6, season length 1) of two series."""
    a = np.array([10.0, 12, 11, 13, 15, 14, 16, 18])
    b = np.array([100.0, 90, 95, 85, 80, 82, 78, 70])
    return build_split(
        "m3",
        "yearly",
        [
            ("a", a, np.array([17.0, 19, 20, 19, 21, 22])),
            ("b", b, np.array([72.0, 69, 65, 66, 60, 58])),
        ],
        source="test",
    )


def test_evaluate_a_split_by_hand():
    split = small_split()
    y = split.test_values()
    f = y * 1.1
    out = evaluate(split, f, metrics=["smape", "mape", "mase", "owa"])
    # sMAPE of a forecast 10 % high: 200 * 0.1 y / 2.1 y on every term
    assert out["smape"] == pytest.approx(200 * 0.1 / 2.1, rel=1e-12)
    assert out["mape"] == pytest.approx(10.0, rel=1e-12)
    scale = np.array([np.mean(np.abs(np.diff(x))) for x in split.train_values()])
    expected_mase = np.mean(np.mean(0.1 * y, axis=1) / scale)
    assert out["mase"] == pytest.approx(expected_mase, rel=1e-12)
    # Naive2 on non-seasonal yearly data is the last value
    n2 = np.array([[18.0] * 6, [70.0] * 6])
    np.testing.assert_array_equal(naive2(split), n2)
    s2 = smape(y, n2)
    m2 = np.mean(np.mean(np.abs(y - n2), axis=1) / scale)
    assert out["smape_naive2"] == pytest.approx(s2, rel=1e-12)
    assert out["mase_naive2"] == pytest.approx(m2, rel=1e-12)
    assert out["owa"] == pytest.approx(0.5 * (out["smape"] / s2 + expected_mase / m2), rel=1e-12)
    # the competition's own metric list, Naive2 scoring 1 against itself, a perfect forecast 0
    assert list(evaluate(split, n2)) == ["smape", "mase", "owa", "smape_naive2", "mase_naive2"]
    assert evaluate(split, n2)["owa"] == pytest.approx(1.0)
    assert evaluate(split, y)["owa"] == 0.0


def test_evaluate_takes_a_mapping_and_names_what_is_missing():
    split = small_split()
    y = split.test_values()
    by_id = {"a": y[0], "b": y[1]}
    assert evaluate(split, by_id, metrics=["smape"]) == {"smape": 0.0}
    with pytest.raises(DataValidationError, match=r"no forecast for 1 series .*\(first: b\)"):
        evaluate(split, {"a": y[0]})
    with pytest.raises(ShapeError, match=r"expected \(2, 6\)"):
        evaluate(split, y[:, :4])
    with pytest.raises(ConfigError, match="unknown metric"):
        evaluate(split, y, metrics=["rmse"])
