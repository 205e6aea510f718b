"""The scale suite's swets code paths at a tiny size (the suite itself is a benchmark, run by
``./scripts/bench --suite scale``, never by the tests): training N-BEATS on a generated panel with
the competition sampler, forecasting from the demo's checkpoint, the rolling-origin backtest, the
runner's table with a reference framework, its ratio targets and its absolute limits."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import cases_scale_serving as serving
from benchmarks import cases_scale_training as training
from benchmarks import run as runner
from benchmarks.harness import Case, Result


def test_training_case_trains_and_reports_its_figures(monkeypatch):
    monkeypatch.setattr(training, "STEPS", 5)
    monkeypatch.setattr(training, "WARMUP", 1)
    monkeypatch.setattr(training, "WIDTH", 16)
    got = training._swets(40)()()
    assert set(got) == {"build_s", "steps_per_s", "cpu_s_per_step", "peak", "peak_all"}
    assert got["peak_all"] >= got["peak"]
    assert all(np.isfinite(v) and v > 0 for v in got.values())


def test_generated_demand_is_long_format():
    ids, stamps, values = serving.demand(3, 10)
    assert ids.shape == stamps.shape == values.shape == (30,)
    assert list(ids[:10]) == ["s0"] * 10 and ids[10] == "s1"
    assert (np.diff(stamps[:10]) == np.timedelta64(30, "m")).all()


@pytest.fixture(scope="module")
def demo(tmp_path_factory, monkeypatch_module):
    directory = str(tmp_path_factory.mktemp("demo"))
    real = serving.demo_checkpoint
    monkeypatch_module.setattr(serving.tempfile, "mkdtemp", lambda prefix="": directory)
    return real


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_serving_and_backtest_cases_run(demo, monkeypatch_module):
    monkeypatch_module.setattr(serving, "ORIGINS", 5)
    monkeypatch_module.setattr(serving, "BACKTEST_ROWS", 500)
    one = serving._swets_demo(1)()()
    assert one.values.shape == (1, serving.DEMO_HORIZON)
    many = serving._swets_demo(3)()()
    assert list(many.ids) == ["s0", "s1", "s2"]
    assert np.isfinite(many.values).all() and np.isfinite(one.values).all()
    assert serving._bare_demo()().shape == (1, serving.DEMO_HORIZON)
    report = serving._swets_backtest()()
    assert report.folds == 5
    for case in serving.CASES[3:]:
        assert case.setups["swets"]()().values.shape == (1, 24)
        assert case.setups["bare"]()().shape == (1, 24)


def test_the_runner_prints_a_reference_ratio_targets_and_limits(monkeypatch, capsys):
    def fake_run_case(module, case, rounds, **kwargs):
        if case.kind == "memory":
            values = {
                "swets": {"steps_per_s": 3.0, "peak": 100.0},
                "peer": {"steps_per_s": 1.0, "peak": 150.0},
            }
        else:
            values = {"swets": 0.5, "peer": 10.0, "bare": 0.2}
        return Result(values, {"swets": "x", "peer": "failed with exit code 1"})

    monkeypatch.setattr(runner, "run_case", fake_run_case)
    cases = [
        (
            "m",
            Case(
                "a.train",
                "g1",
                {"swets": None, "peer": None},
                kind="memory",
                extra={"target": {"steps_per_s": ">=2", "peak": 0.5}},
            ),
        ),
        (
            "m",
            Case(
                "a.serve",
                "g2",
                {"swets": None, "peer": None, "bare": None},
                extra={"also": {"bare": 2}, "limit_ms": 0.3},
            ),
        ),
    ]
    limits: dict = {}
    ratios = runner.run_setting(cases, 1, "default", 1, "default", limits)
    out = capsys.readouterr().out
    assert ratios == {
        "a.train.steps_per_s": 3.0,
        "a.train.peak": 0.667,
        "a.serve": 0.05,
        "a.serve/bare": 2.5,
    }
    assert "swets/peer" in out and ">=2" in out and "<=0.5 !" in out
    assert "swets/bare: 2.50 (target <=2: not met)" in out
    assert "limit 0.3 ms: not met" in out
    assert limits == {"a.serve": {"ms": 0.5, "limit_ms": 0.3, "met": False}}
    assert "a.train [peer]: failed with exit code 1" in out
