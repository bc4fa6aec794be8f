"""Refuses requests a browser was tricked into sending: foreign Host (DNS rebinding) and
state-changing requests from another origin (cross-site request forgery).

A web page can make the operator's browser send a form POST or a `no-cors` fetch to trond
without any CORS preflight; only `Origin` and `Sec-Fetch-Site` tell such a request apart.
Clients that are not browsers (our CLIs, Tron's, curl) send neither and are unaffected.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from tron.api.site import SitePolicy

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FOREIGN_SITES = ("cross-site", "same-site")  # same-site: another port or subdomain


def refusal(policy: SitePolicy, method: str, scheme: str, headers: Headers) -> str | None:
    """Why this request must be refused, or None when it may go on."""
    host = headers.get("host")
    if not policy.accepts_host(host, scheme):
        return (
            f"Host {host!r} is not a name this trond serves; add it with trond --allowed-host NAME"
        )
    if method in SAFE_METHODS:
        return None
    origin = headers.get("origin")
    if origin is not None and policy.trusts_origin(origin):
        return None
    if origin is not None and not policy.is_own_origin(origin, host, scheme):
        return f"cross-origin {method} from {origin!r} refused; trust it with trond --cors-origin"
    site = headers.get("sec-fetch-site")
    if site in _FOREIGN_SITES:
        return f"cross-site {method} refused (Sec-Fetch-Site: {site})"
    return None


class SiteGuard:
    """403 with a JSON message for every request `refusal` names a reason for."""

    def __init__(self, app: ASGIApp, policy: SitePolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            reason = refusal(self.policy, scope["method"], scope["scheme"], Headers(scope=scope))
            if reason is not None:
                await JSONResponse({"error": reason}, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)
