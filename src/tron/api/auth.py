"""Bearer-token check, on when trond listens beyond loopback.

The token is read from the Authorization header only: a token in a query string lands in
access logs and shell history. The event stream alone also opens with a one-use ticket
(`tickets.py`), since a browser's EventSource cannot send headers.
"""

from __future__ import annotations

import hmac

from starlette.datastructures import Headers, QueryParams
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from tron.api.tickets import TicketBook

STREAM_PATH = "/api/stream"


def _is_open(path: str) -> bool:
    """The web UI's own files: the page must load to ask for the token."""
    return path in ("/", "/web") or path.startswith("/web/")


class TokenAuth:
    """401 for API requests without `Authorization: Bearer <token>` (or a stream ticket)."""

    def __init__(self, app: ASGIApp, token: str, tickets: TicketBook) -> None:
        self.app = app
        self.token = token.encode()
        self.tickets = tickets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_open(scope["path"]) or self._admits(scope):
            await self.app(scope, receive, send)
            return
        response = JSONResponse(
            {"error": "Authentication required: send Authorization: Bearer <token>"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
        await response(scope, receive, send)

    def _admits(self, scope: Scope) -> bool:
        header = Headers(scope=scope).get("authorization", "")
        given = header[7:] if header.lower().startswith("bearer ") else ""
        if given and hmac.compare_digest(given.encode(), self.token):
            return True
        if scope["path"] != STREAM_PATH or scope["method"] not in ("GET", "HEAD"):
            return False
        ticket = QueryParams(scope["query_string"]).get("ticket", "")
        return bool(ticket) and self.tickets.redeem(ticket)
