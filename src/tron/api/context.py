"""Small helpers every route uses: the daemon of a request, JSON responses, the time view."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request
from starlette.responses import JSONResponse

from tron.api.shapes import View
from tron.api.trigger_graph import TriggerGraphs
from tron.engine.daemon import Daemon
from tron.engine.facade import JobView


def daemon_of(request: Request) -> Daemon:
    daemon: Daemon = request.app.state.daemon
    return daemon


def json_response(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def trigger_graphs_of(request: Request) -> TriggerGraphs:
    graphs: TriggerGraphs = request.app.state.trigger_graphs
    return graphs


def view_for(
    daemon: Daemon, job: JobView | None = None, graphs: TriggerGraphs | None = None
) -> View:
    """`graphs` when the job's action graph is shown (it names other jobs' actions)."""
    zone_name = job.config.schedule.time_zone if job else daemon.config.time_zone
    triggers = graphs.of(daemon.config).for_job(job.config) if graphs and job else {}
    return View(
        now=daemon.now(),
        zone=_zone(zone_name) or _zone(daemon.default_time_zone) or ZoneInfo("UTC"),
        nodes=daemon.config.nodes,
        published=daemon.published_set(),
        triggers=triggers,
    )
