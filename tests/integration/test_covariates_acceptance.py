"""Known covariates pay, with nothing but the data's keys: on the generated sales data
(``swets_timeseries.sales_example``), ``swets train`` of each model with the promotions as known
covariates beats the seasonal-naive forecast on the rolling-origin backtest (MASE below 1), and is
clearly better than the same job without them. ``pytest -s`` prints the table; so does
``scripts/covariates-benchmark``."""

from __future__ import annotations

import pytest

from benchmarks.covariates import MODELS, run, table


@pytest.mark.slow
def test_each_model_beats_seasonal_naive_and_gains_from_the_promotions(tmp_path):
    results = run(tmp_path, MODELS, seed=0, folds=5)
    print()
    print(table(results))
    for model, r in results.items():
        promo, without = r["promo"]["mase"], r["no_promo"]["mase"]
        assert promo < 1.0, (model, promo)  # beats the seasonal-naive forecast
        assert promo < 0.85 * without, (model, promo, without)  # the promotions clearly help
        assert r["promo"]["mae"] < r["seasonal_naive"]["mae"], model
