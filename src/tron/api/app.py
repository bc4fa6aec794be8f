"""create_app(daemon): the ASGI app trond serves: Tron's API, our extras, the web UI."""

from __future__ import annotations

import hmac
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from tron.api.audit import AuditMiddleware
from tron.api.cache import JobJsonCache
from tron.api.meters import MeterMiddleware, SiteMeters
from tron.api.openapi import openapi
from tron.api.problems import handle_http_error, handle_tron_error, handle_unexpected
from tron.api.routes import alerts, config, events, jobs, metrics
from tron.engine.daemon import Daemon
from tron.errors import TronError

WEB_ROOT = Path(__file__).resolve().parent.parent / "web" / "static"


class TokenAuth(BaseHTTPMiddleware):
    """Bearer-token check, on when trond listens beyond loopback."""

    def __init__(self, app: object, token: str) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.token = token

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        header = request.headers.get("authorization", "")
        given = header[7:] if header.lower().startswith("bearer ") else ""
        given = given or request.query_params.get("token", "")
        if request.url.path.startswith("/web") or request.url.path == "/":
            return await call_next(request)
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return JSONResponse(
                {"error": "Authentication required: send Authorization: Bearer <token>"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return await call_next(request)


async def root(request: Request) -> Response:
    return RedirectResponse("/web/")


async def not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": "No Such Resource"}, status_code=404)


async def method_not_allowed(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": f"Method {request.method} not allowed"}, status_code=405)


def create_app(daemon: Daemon, *, token: str | None = None) -> Starlette:
    routes: list[BaseRoute] = [
        Route("/", root),
        Route("/openapi.json", openapi),
        *alerts.ROUTES,
        *jobs.ROUTES,
        *config.ROUTES,
        *events.ROUTES,
        *metrics.ROUTES,
    ]
    if WEB_ROOT.is_dir():
        routes.append(Mount("/web", StaticFiles(directory=WEB_ROOT, html=True), name="web"))
    meters = SiteMeters()
    middleware = [Middleware(MeterMiddleware, meters=meters)]
    if token:
        middleware.append(Middleware(TokenAuth, token=token))
    middleware.append(Middleware(AuditMiddleware))
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={
            TronError: handle_tron_error,
            HTTPException: handle_http_error,
            404: not_found,
            405: method_not_allowed,
            Exception: handle_unexpected,
        },
    )
    app.state.daemon = daemon
    app.state.job_cache = JobJsonCache()
    app.state.meters = meters
    return app
