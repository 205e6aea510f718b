"""Conformal intervals of N-BEATS and TCN on the electricity backtest cover what they promise.

Each model is trained as ``swets train --model NAME --max-steps 40`` trains it (the job's defaults
on the bundled data: lookback 96, horizon 24, chronological train / validation / test windows, seed
0), calibrated on the job's validation windows (split conformal per horizon step) and scored on
the held-out test windows: a forecast from every origin of the test rows (486 windows of 24 steps),
which neither training nor calibration saw. The 80 % and 95 % intervals must cover 75-85 % and
91-98 % of those points. Run with ``-s`` to see the figures.
"""

from __future__ import annotations

import pytest

from swets_train.jobs import run_job


@pytest.mark.slow
@pytest.mark.parametrize("name", ["nbeats", "tcn"])
def test_conformal_intervals_cover_the_electricity_test_windows(name):
    spec = {
        "data": {"dataset": "electricity"},
        "model": {"name": name},
        "training": {"max_steps": 40, "seed": 0},
    }
    result = run_job(spec, write=False, levels=(80, 95))
    assert result.conformal is not None and result.conformal.size == result.windows["validation"]
    test = result.metrics["test"]
    print(f"\n{result.table()}")
    assert 0.75 <= test["coverage80"] <= 0.85, test
    assert 0.91 <= test["coverage95"] <= 0.98, test
    assert test["width80"] < test["width95"]
