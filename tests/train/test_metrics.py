"""Metrics against hand-computed values, edge cases included (acceptance 4)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from swets_core import Tensor, registry
from swets_core.errors import ConfigError, ShapeError, UnknownComponentError
from swets_core.protocols import Metric
from swets_train.metrics import (
    MAE,
    MAPE,
    MASE,
    R2,
    RMSE,
    SMAPE,
    Coverage,
    DirectionalAccuracy,
    Pinball,
    evaluate,
    in_sample_scale,
)

Y = np.array([1.0, 2.0, 3.0, 4.0])
P = np.array([2.0, 2.0, 1.0, 5.0])  # errors -1, 0, 2, -1


def test_every_metric_is_registered_and_satisfies_the_protocol():
    names = registry.names("metrics")
    for name in (
        "mae",
        "rmse",
        "mape",
        "smape",
        "mase",
        "r2",
        "directional_accuracy",
        "pinball",
        "coverage",
    ):
        assert name in names
        metric = registry.get("metrics", name)
        assert isinstance(metric, Metric)
        assert metric.name == name
    assert registry.info("metrics", "mae").distribution == "swets-train"
    assert registry.get("metrics", "r2").greater_is_better is True
    assert registry.get("metrics", "mae").greater_is_better is False


def test_mae_rmse_hand_values():
    assert MAE()(Y, P) == pytest.approx((1 + 0 + 2 + 1) / 4)
    assert RMSE()(Y, P) == pytest.approx(math.sqrt((1 + 0 + 4 + 1) / 4))
    # 2-d input pools every element; Tensors are accepted
    assert MAE()(Tensor(Y.reshape(2, 2)), Tensor(P.reshape(2, 2))) == pytest.approx(1.0)


def test_mask_leaves_elements_out():
    mask = np.array([True, True, False, True])
    assert MAE()(Y, P, mask=mask) == pytest.approx(2 / 3)
    assert math.isnan(MAE()(Y, P, mask=np.zeros(4, bool)))


def test_mape_hand_value_and_zero_actuals():
    # |e|/|y| = 1/1, 0/2, 2/3, 1/4
    expected = 100 * (1 + 0 + 2 / 3 + 1 / 4) / 4
    assert MAPE()(Y, P) == pytest.approx(expected)
    # a zero actual is skipped, never inf
    y = np.array([0.0, 2.0, 4.0])
    p = np.array([5.0, 1.0, 5.0])
    assert MAPE()(y, p) == pytest.approx(100 * (0.5 + 0.25) / 2)
    # every actual zero: NaN
    assert math.isnan(MAPE()(np.zeros(3), np.ones(3)))


def test_smape_hand_value_and_zero_denominator():
    # 2|e|/(|y|+|ŷ|): 2/3, 0, 4/4, 2/9
    expected = 100 * (2 / 3 + 0 + 1 + 2 / 9) / 4
    assert SMAPE()(Y, P) == pytest.approx(expected)
    # y = ŷ = 0 counts as a perfect 0, not NaN
    assert SMAPE()(np.array([0.0, 1.0]), np.array([0.0, 3.0])) == pytest.approx(100 * (0 + 1) / 2)
    assert SMAPE()(np.zeros(2), np.zeros(2)) == 0.0
    # maximum of 200 when one side is zero
    assert SMAPE()(np.array([0.0]), np.array([3.0])) == pytest.approx(200.0)


def test_mase_hand_values():
    insample = np.array([1.0, 3.0, 2.0, 5.0])  # |diffs| 2, 1, 3 -> scale 2
    assert in_sample_scale(insample) == pytest.approx(2.0)
    assert MASE()(Y, P, insample=insample) == pytest.approx(1.0 / 2.0)
    # seasonal period 2: |x_t - x_{t-2}| = 1, 2 -> scale 1.5
    assert MASE(m=2)(Y, P, insample=insample) == pytest.approx(1.0 / 1.5)
    # per-row scales: row 0 errors (1, 0) scale 1; row 1 errors (2, 1) scale 3
    y, p = Y.reshape(2, 2), P.reshape(2, 2)
    got = MASE()(y, p, scale=np.array([1.0, 3.0]))
    assert got == pytest.approx((1 + 0 + 2 / 3 + 1 / 3) / 4)
    rows = np.array([[0.0, 1.0, 2.0], [0.0, 3.0, 6.0]])  # scales 1 and 3
    assert MASE()(y, p, insample=rows) == pytest.approx(got)


def test_mase_zero_scale_is_nan_or_skipped_never_inf():
    y, p = Y.reshape(2, 2), P.reshape(2, 2)
    # row 0 has a constant history (scale 0) and is left out
    assert MASE()(y, p, scale=np.array([0.0, 3.0])) == pytest.approx((2 / 3 + 1 / 3) / 2)
    assert math.isnan(MASE()(Y, P, insample=np.ones(5)))


def test_mase_errors():
    with pytest.raises(ConfigError, match="insample"):
        MASE()(Y, P)
    with pytest.raises(ShapeError, match="m=4"):
        MASE(m=4)(Y, P, insample=np.arange(4.0))
    with pytest.raises(ShapeError, match="per-row scales"):
        MASE()(Y.reshape(2, 2), P.reshape(2, 2), scale=np.ones(3))
    with pytest.raises(ConfigError, match="seasonal period"):
        MASE(m=0)


def test_r2_hand_value_and_constant_actuals():
    # ȳ = 2.5, SS_tot = 5, SS_res = 6
    assert R2()(Y, P) == pytest.approx(1 - 6 / 5)
    assert R2()(Y, Y) == 1.0
    assert R2()(np.full(3, 2.0), np.full(3, 2.0)) == 1.0
    assert R2()(np.full(3, 2.0), np.array([2.0, 2.0, 3.0])) == 0.0


def test_directional_accuracy_hand_values():
    y = np.array([1.0, 2.0, 1.0, 1.0])
    p = np.array([0.0, 3.0, 3.0, 1.0])
    # without `last`: steps 1..3 against previous actuals 1, 2, 1
    # actual directions +, -, 0 ; forecast directions (3-1)+, (3-2)+, (1-1)0 -> hit, miss, hit
    assert DirectionalAccuracy()(y, p) == pytest.approx(2 / 3)
    # with `last`=2: step 0 actual 1-2 -, forecast 0-2 - -> hit; 3 of 4
    assert DirectionalAccuracy()(y, p, last=np.float64(2.0)) == pytest.approx(3 / 4)
    # rows are scored separately along the last axis
    y2 = np.stack([y, y])
    p2 = np.stack([p, y])
    assert DirectionalAccuracy()(y2, p2) == pytest.approx((2 + 3) / 6)
    with pytest.raises(ShapeError, match="last"):
        DirectionalAccuracy()(np.ones((3, 1)), np.ones((3, 1)))
    with pytest.raises(ShapeError, match="last must have shape"):
        DirectionalAccuracy()(y2, p2, last=np.ones(3))


def test_pinball_hand_values():
    y = np.array([1.0, 3.0])
    p = np.array([[0.0, 2.0], [4.0, 3.0]])  # columns: q=0.1, q=0.9
    # y - ŷ: (1, q=.1) 1 -> 0.1 ; (1, q=.9) -1 -> 0.1 ; (3, q=.1) -1 -> 0.9 ; (3, q=.9) 0 -> 0
    expected = (0.1 + 0.1 + 0.9 + 0.0) / 4
    assert Pinball()(y, p, quantiles=[0.1, 0.9]) == pytest.approx(expected)
    assert Pinball(quantiles=[0.1, 0.9])(y, p) == pytest.approx(expected)
    # the median level gives half the MAE
    yy = np.array([1.0, 2.0, 3.0])
    pp = np.array([[2.0], [2.0], [0.0]])
    assert Pinball()(yy, pp, quantiles=[0.5]) == pytest.approx(0.5 * MAE()(yy, pp[:, 0]))


def test_pinball_errors():
    with pytest.raises(ConfigError, match="quantiles="):
        Pinball()(np.ones(2), np.ones((2, 2)))
    with pytest.raises(ShapeError, match="2 quantile levels"):
        Pinball()(np.ones(2), np.ones((2, 3)), quantiles=[0.1, 0.9])
    with pytest.raises(ConfigError, match=r"\(0, 1\)"):
        Pinball()(np.ones(2), np.ones((2, 2)), quantiles=[0.0, 0.9])
    with pytest.raises(ShapeError, match="last axis of quantiles"):
        Pinball()(np.ones(2), np.ones(2), quantiles=[0.5])


def test_coverage_hand_values():
    y = np.array([1.5, 5.0, 3.0, 2.0])
    p = np.array(
        [
            [0.0, 1.0, 2.0],  # inside (bounds 0..2), above the median
            [1.0, 2.0, 4.0],  # above
            [3.0, 3.0, 3.0],  # on both bounds: inside
            [3.0, 2.5, 1.0],  # crossed interval: not covered
        ]
    )
    qs = [0.1, 0.5, 0.9]
    assert Coverage()(y, p, quantiles=qs) == pytest.approx(2 / 4)
    # explicit inner intervals
    assert Coverage(lower=0.1, upper=0.5)(y, p, quantiles=qs) == pytest.approx(1 / 4)
    assert Coverage(lower=0.5, upper=0.9)(y, p, quantiles=qs) == pytest.approx(2 / 4)
    with pytest.raises(ConfigError, match="not among"):
        Coverage(lower=0.2)(y, p, quantiles=qs)
    with pytest.raises(ConfigError, match="below upper"):
        Coverage(lower=0.9, upper=0.1)


def test_nan_propagates():
    y = np.array([1.0, np.nan])
    p = np.array([1.0, 2.0])
    for metric in (MAE(), RMSE(), MAPE(), SMAPE(), R2(), DirectionalAccuracy()):
        assert math.isnan(metric(y, p)), metric
    assert math.isnan(Coverage()(y, np.ones((2, 2)), quantiles=[0.1, 0.9]))
    # masking the missing value gives a number again
    assert MAE()(y, p, mask=~np.isnan(y)) == 0.0


def test_shape_mismatch_and_empty_input():
    with pytest.raises(
        ShapeError, match=r"mae: y_true has shape \(4,\) but y_pred has shape \(3,\)"
    ):
        MAE()(Y, P[:3])
    with pytest.raises(ShapeError, match="empty"):
        RMSE()(np.array([]), np.array([]))
    with pytest.raises(ShapeError, match="mask has shape"):
        MAE()(Y, P, mask=np.ones(3, bool))
    with pytest.raises(ConfigError, match="bool"):
        MAE()(Y, P, mask=np.ones(4))


def test_evaluate_scores_median_of_quantile_forecasts():
    y = np.array([1.0, 2.0])
    p = np.array([[0.0, 1.5, 3.0], [1.0, 2.0, 3.0]])
    out = evaluate(["mae", "pinball", "coverage"], y, p, quantiles=[0.1, 0.5, 0.9])
    assert out["mae"] == pytest.approx(0.25)
    assert out["coverage"] == 1.0
    assert set(out) == {"mae", "pinball", "coverage"}
    with pytest.raises(ConfigError, match=r"0\.5 level"):
        evaluate(["mae"], y, p, quantiles=[0.1, 0.2, 0.9])
    with pytest.raises(UnknownComponentError, match="did you mean"):
        evaluate(["maee"], y, y)
    assert evaluate([MASE(m=1)], Y, P, insample=np.array([1.0, 3.0, 2.0, 5.0])) == {"mase": 0.5}


def test_metrics_compare_by_configuration():
    assert MASE(m=2) == MASE(m=2)
    assert MASE(m=2) != MASE(m=3)
    assert repr(MASE(m=48)) == "MASE(m=48)"
