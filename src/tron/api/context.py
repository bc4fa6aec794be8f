"""Small helpers every route uses: the daemon of a request, JSON responses, the time view."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request
from starlette.responses import JSONResponse

from tron.api.shapes import View
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


def view_for(daemon: Daemon, job: JobView | None = None) -> View:
    zone_name = job.config.schedule.time_zone if job else daemon.config.time_zone
    return View(
        now=daemon.now(),
        zone=_zone(zone_name) or _zone(daemon.default_time_zone) or ZoneInfo("UTC"),
        nodes=dict(daemon.config.nodes),
        published=daemon.published_set(),
    )
