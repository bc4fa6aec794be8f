"""A standby serves reads from the database and refuses every command, naming the leader.

Commands are the requests that change something (POST, PUT, PATCH, DELETE); a standby's
engine does not run, so it answers them with 409 and where the leader's API is.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from tron.engine.daemon import Daemon

_COMMANDS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class StandbyRefusal:
    """ASGI middleware: 409 `{"error": ..., "leader": URL}` for commands sent to a standby."""

    def __init__(self, app: ASGIApp, daemon: Daemon) -> None:
        self.app = app
        self.daemon = daemon

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in _COMMANDS
            or self.daemon.role != "standby"
        ):
            await self.app(scope, receive, send)
            return
        leader = self.daemon.leader_address()
        where = f"the leader is at {leader}" if leader else "no trond leads right now"
        body = json.dumps(
            {"error": f"this trond is a standby; {where}", "leader": leader}, ensure_ascii=False
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        if leader:
            headers.append((b"x-tron-leader", leader.encode()))
        await send({"type": "http.response.start", "status": 409, "headers": headers})
        await send({"type": "http.response.body", "body": body})
