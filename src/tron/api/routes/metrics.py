"""Metrics: Prometheus text at `/metrics` and `/api/prom-metrics`, Tron's JSON at `/api/metrics`."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tron.api.context import daemon_of, json_response


async def prometheus(request: Request) -> Response:
    daemon = daemon_of(request)
    return Response(generate_latest(daemon.metrics_registry()), media_type=CONTENT_TYPE_LATEST)


async def tron_metrics(request: Request) -> Response:
    daemon = daemon_of(request)
    counters = []
    for family in daemon.metrics_registry().collect():
        if family.type != "counter":
            continue
        for sample in family.samples:
            if sample.name.endswith("_total"):
                entry: dict[str, object] = {"name": sample.name, "count": int(sample.value)}
                if sample.labels:
                    entry["dimensions"] = dict(sample.labels)
                counters.append(entry)
    site = request.app.state.meters.json()
    return json_response(
        {
            "counter": counters,
            "gauge": [],
            "histogram": [],
            "meter": site["meter"],
            "timer": site["timer"],
        }
    )


ROUTES = [
    Route("/metrics", prometheus),
    Route("/api/prom-metrics", prometheus),
    Route("/api/metrics", tron_metrics),
]
