"""create_app(daemon): the ASGI app trond serves: Tron's API, our extras, the web UI."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from tron.api.audit import AuditMiddleware
from tron.api.auth import TokenAuth
from tron.api.cache import JobJsonCache, RecentCache
from tron.api.guard import SiteGuard
from tron.api.meters import MeterMiddleware, SiteMeters
from tron.api.openapi import openapi
from tron.api.problems import (
    handle_http_error,
    handle_os_error,
    handle_tron_error,
    handle_unexpected,
)
from tron.api.routes import alerts, config, events, glance, jobs, metrics, runs
from tron.api.run_index import RunIndex
from tron.api.site import LOOPBACK_NAMES, HostRule, SitePolicy
from tron.api.standby import StandbyRefusal
from tron.api.tickets import TicketBook
from tron.api.trigger_graph import TriggerGraphs
from tron.engine.daemon import Daemon
from tron.errors import TronError

WEB_ROOT = Path(__file__).resolve().parent.parent / "web" / "static"


async def root(request: Request) -> Response:
    return RedirectResponse("/web/")


async def not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": "No Such Resource"}, status_code=404)


async def method_not_allowed(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": f"Method {request.method} not allowed"}, status_code=405)


# In-process use (tests, benchmarks) knows no port: loopback names on any port.
LOCAL_SITE = SitePolicy(hosts=tuple(HostRule(name) for name in LOOPBACK_NAMES))


def _middleware(
    daemon: Daemon, site: SitePolicy, token: str | None, tickets: TicketBook
) -> list[Middleware]:
    """Outermost first: refuse foreign requests, answer CORS, auth, then a standby's refusal
    of commands (after the token check: a stranger learns nothing, not even who leads)."""
    stack = [Middleware(SiteGuard, policy=site)]
    if site.cors_origins:
        stack.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(site.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
            )
        )
    if token:
        stack.append(Middleware(TokenAuth, token=token, tickets=tickets))
    # Operators' commands are recorded once their sender is known (after the token check).
    stack.append(Middleware(AuditMiddleware))
    stack.append(Middleware(StandbyRefusal, daemon=daemon))
    return stack


def create_app(
    daemon: Daemon, *, token: str | None = None, site: SitePolicy = LOCAL_SITE
) -> Starlette:
    routes: list[BaseRoute] = [
        Route("/", root),
        Route("/openapi.json", openapi),
        *alerts.ROUTES,
        *jobs.ROUTES,
        *runs.ROUTES,
        *glance.ROUTES,
        *config.ROUTES,
        *events.ROUTES,
        *metrics.ROUTES,
    ]
    if WEB_ROOT.is_dir():
        routes.append(Mount("/web", StaticFiles(directory=WEB_ROOT, html=True), name="web"))
    meters = SiteMeters()
    tickets = TicketBook()
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(MeterMiddleware, meters=meters),
            *_middleware(daemon, site, token, tickets),
        ],
        exception_handlers={
            TronError: handle_tron_error,
            HTTPException: handle_http_error,
            404: not_found,
            405: method_not_allowed,
            OSError: handle_os_error,
            Exception: handle_unexpected,
        },
    )
    app.state.daemon = daemon
    app.state.job_cache = JobJsonCache()
    app.state.run_index = RunIndex()
    app.state.trigger_graphs = TriggerGraphs()
    app.state.recent_cache = RecentCache()
    app.state.meters = meters
    app.state.tickets = tickets
    app.state.changes = set()  # uploads running to their end (uninterrupted.py)
    return app
