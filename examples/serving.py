"""Serve forecasts of a trained job over HTTP, with the standard library only (docs/serving.md).

    python examples/serving.py runs/demo/nbeats.swets --port 8000
    curl -s localhost:8000/forecast -d '{"id": "a", "timestamps": [...], "values": [...]}'

The checkpoint is loaded once; one :class:`swets_train.Forecaster` keeps the model, its scaler and
its window geometry ready, and every request is one call of it (all the series of a request in one
forward pass). A request's body is one series (``{"id", "timestamps", "values"}``) or several
(``{"series": [...]}``); the answer holds each series' forecast with its timestamps. Bad input gets
status 400 and swets' message, which names what is wrong and where. Requests are answered one at a
time (a model is not shared between threads); run one process per core for more.
"""

from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import numpy as np

from swets_core.errors import DataValidationError, SwetsError
from swets_timeseries import SeriesCollection, TimeSeries
from swets_train import Forecaster
from swets_train.jobs import load_job

MAX_BODY = 16 * 1024 * 1024
"""The largest request body read (bytes)."""


def load_forecaster(checkpoint: str) -> Forecaster:
    """The forecaster of a job's checkpoint (``swets train`` or ``swets demo`` wrote it)."""
    job = load_job(checkpoint)
    return Forecaster(
        job.model,
        scaler=job.scaler,
        static_encoder=job.static_encoder,
        **job.spec.data.reading(),
    )


def forecast_json(forecaster: Forecaster, payload: Any) -> dict[str, Any]:
    """Forecast the series of a decoded JSON request.

    ``payload`` is ``{"id": ..., "timestamps": [ISO 8601 strings], "values": [numbers]}`` or
    ``{"series": [such objects]}``; the answer is ``{"target": name, "forecasts": [{"id",
    "timestamps", "values"}]}`` in the order of the request (``values`` per step, or per step
    and quantile for a quantile model).

    Raises:
        SwetsError: a request that is not such an object, or series that cannot be forecast (too
            short, non-finite values, timestamps out of order...): the message names the series.
    """
    items = payload.get("series", [payload]) if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items:
        raise DataValidationError(
            'the body must be {"id", "timestamps", "values"} or {"series": [...]}'
        )
    target = forecaster.target or "y"
    series = []
    for k, item in enumerate(items):
        if not isinstance(item, dict) or "timestamps" not in item or "values" not in item:
            raise DataValidationError(f"series {k}: needs 'timestamps' and 'values'")
        values = np.asarray(item["values"], dtype=np.float64)
        series.append(
            TimeSeries(item["timestamps"], {target: values}, target, id=item.get("id", str(k)))
        )
    result = forecaster.forecast(SeriesCollection(series))
    stamps = np.datetime_as_string(result.timestamps, unit="s")
    return {
        "target": result.target,
        "forecasts": [
            {
                "id": str(sid),
                "timestamps": [f"{t}Z" for t in stamps[i]],
                "values": result.values[i].tolist(),
            }
            for i, sid in enumerate(result.ids)
        ],
    }


def handler(forecaster: Forecaster) -> type[BaseHTTPRequestHandler]:
    """A request handler class answering ``POST /forecast`` with :func:`forecast_json`."""

    class ForecastHandler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path != "/forecast":
                self._send(404, {"error": f"no such path {self.path!r}; POST /forecast"})
                return
            try:
                size = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                size = -1
            if not 0 < size <= MAX_BODY:
                self._send(400, {"error": f"a body of 1 to {MAX_BODY} bytes is needed"})
                return
            try:
                payload = json.loads(self.rfile.read(size))
                self._send(200, forecast_json(forecaster, payload))
            except (SwetsError, ValueError) as exc:  # bad JSON, or swets' own message
                self._send(400, {"error": str(exc)})

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: a serving process logs what it needs itself

    return ForecastHandler


def make_server(checkpoint: str, host: str = "127.0.0.1", port: int = 8000) -> HTTPServer:
    """An HTTP server holding the checkpoint's forecaster (``serve_forever()`` runs it; port 0
    picks a free port, ``server.server_address`` tells which)."""
    return HTTPServer((host, port), handler(load_forecaster(checkpoint)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", help="a job's checkpoint (swets train, swets demo)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    server = make_server(args.checkpoint, args.host, args.port)
    print(f"serving {args.checkpoint} on http://{args.host}:{server.server_address[1]}/forecast")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
