"""examples/serving.py (docs/serving.md) runs: a trained job's checkpoint served over HTTP on the
loopback address, answering as the job's own forecast does; bad requests get a 400 and a message;
and the Forecaster behind it equals :func:`swets_train.forecast`."""

from __future__ import annotations

import importlib.util
import json
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest

from swets_timeseries import SeriesCollection, TimeSeries
from swets_train import Forecaster, forecast
from swets_train.cli import demo_spec
from swets_train.jobs import JobSpec, load_job, run_job
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "serving.py"
DOC = ROOT / "docs" / "serving.md"


def _example():
    spec = importlib.util.spec_from_file_location("swets_serving_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    spec = JobSpec.from_dict(demo_spec(str(out), quick=True))
    run_job(spec, progress=False)
    return str(out / "nbeats.swets")


def _series(job, sid: str, n: int = 400, shift: float = 0.0) -> TimeSeries:
    s = job.series()[0]
    return TimeSeries(
        s.timestamps[-n:],
        {job.spec.data.target: s.column(job.spec.data.target)[-n:] + shift},
        job.spec.data.target,
        id=sid,
    )


def _payload(s: TimeSeries) -> dict:
    stamps = np.datetime_as_string(s.timestamps, unit="s")
    return {
        "id": s.id,
        "timestamps": [f"{t}Z" for t in stamps],
        "values": s.column(s.target[0]).tolist(),
    }


def test_the_forecaster_equals_forecast_and_restores_nothing_it_should_not(checkpoint):
    job = load_job(checkpoint)
    data = SeriesCollection([_series(job, "a"), _series(job, "b", shift=500.0)])
    how = {"scaler": job.scaler, **job.spec.data.reading()}
    job.model.train(True)
    expected = forecast(job.model, data, **how)
    assert job.model.training  # forecast() restores the training mode
    fc = Forecaster(job.model, **how)
    assert not job.model.training  # a forecaster keeps the model in eval mode
    got = fc.forecast(data)
    np.testing.assert_array_equal(got.values, expected.values)
    np.testing.assert_array_equal(got.timestamps, expected.timestamps)
    assert list(got.ids) == ["a", "b"]
    # one series at a time gives the forecast of the batch (the batch's rows are independent)
    one = fc.forecast(data["b"])
    np.testing.assert_allclose(one.values[0], got.values[1], rtol=1e-5, atol=1e-3)


def test_the_example_serves_a_checkpoint_over_http(checkpoint):
    example = _example()
    job = load_job(checkpoint)
    a, b = _series(job, "a"), _series(job, "b", shift=-300.0)
    server = example.make_server(checkpoint, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/forecast"

    def post(body: bytes) -> tuple[int, dict]:
        request = urllib.request.Request(url, data=body, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    try:
        status, body = post(json.dumps({"series": [_payload(a), _payload(b)]}).encode())
        assert status == 200
        expected = job.forecast(SeriesCollection([a, b]))
        assert [f["id"] for f in body["forecasts"]] == ["a", "b"]
        assert body["target"] == job.spec.data.target
        for i, f in enumerate(body["forecasts"]):
            np.testing.assert_allclose(f["values"], expected.values[i], rtol=1e-12)
            stamps = np.datetime_as_string(expected.timestamps[i], unit="s")
            assert f["timestamps"] == [f"{t}Z" for t in stamps]
        status, body = post(json.dumps(_payload(a)).encode())  # one series, no list
        assert status == 200 and len(body["forecasts"]) == 1

        short = _payload(_series(job, "short", n=10))
        status, body = post(json.dumps(short).encode())
        assert status == 400 and "'short'" in body["error"] and "lookback" in body["error"]
        status, body = post(b"{not json")
        assert status == 400
        status, body = post(json.dumps({"values": [1.0]}).encode())
        assert status == 400 and "timestamps" in body["error"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_the_guide_shows_the_example_as_it_is():
    """Every Python block of docs/serving.md is part of examples/serving.py, verbatim."""
    from tests.cli.doc_blocks import blocks

    code = EXAMPLE.read_text()
    found = [b for b in blocks(DOC) if b.lang == "python"]
    assert found
    for b in found:
        assert b.code.strip() in code, f"docs/serving.md line {b.line}: not in examples/serving.py"
