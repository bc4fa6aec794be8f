"""The operators' audit log: every state-changing request (POST) to the API is recorded with
who sent it, what it asked, when, and what came of it.

Who: the `X-Tron-User` header the CLIs send (the user running them), else `token` when the
API asks for one, else `anonymous`; with the client's address. It wraps the app as plain
ASGI so it sees the body as the route reads it and the answer as it is sent.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import parse_qs, unquote

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tron.core.alerts.model import AuditEntry

logger = logging.getLogger(__name__)
_KEEP = 4096  # bytes of the request and of the answer kept to describe them
_USER = "x-tron-user"
_AGENT_USER = re.compile(r"\(([^()]+)\)\s*$")


def who_of(request: Request) -> str:
    return _who(request.scope)


def _who(scope: Scope) -> str:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    user = headers.get(_USER, "").strip()[:100]
    if not user:
        # tronctl (ours and Tron's) names its user in its User-Agent: `tron/1.0 (alice)`.
        found = _AGENT_USER.search(headers.get("user-agent", ""))
        user = found.group(1)[:100] if found else ""
    if not user:
        user = "token" if "authorization" in headers else "anonymous"
    client = scope.get("client")
    return f"{user}@{client[0]}" if client else user


# Commands posted to a path of their own under a job (`/api/jobs/ns.job/silence`): they act on
# the job, and their name is the command. A run is a number or HEAD, never one of these.
_JOB_COMMAND_PATHS = frozenset({"silence"})


def _target(path: str) -> str:
    """`/api/jobs/ns.job/3/load` -> `ns.job.3.load`, `/api/jobs/ns.job/silence` -> `ns.job`;
    other paths as they are."""
    parts = [unquote(p) for p in path.split("/") if p]
    if parts[:2] == ["api", "jobs"] and len(parts) > 2:
        names = parts[2:]
        if len(names) == 2 and names[1] in _JOB_COMMAND_PATHS:
            names = names[:1]
        return ".".join(names)
    return "/".join(parts[1:]) if parts[:1] == ["api"] else path


def _command(body: bytes, query: bytes, path: str) -> str:
    fields = parse_qs(query.decode("latin-1"))
    try:
        text = body.decode()
        fields.update(parse_qs(text) if not text.startswith("{") else _json_fields(text))
    except (UnicodeDecodeError, ValueError):
        pass
    command = (fields.get("command") or [""])[0]
    extra = {k: v[0] for k, v in fields.items() if k != "command" and v}
    if not command:
        command = path.rstrip("/").rsplit("/", 1)[-1]
    details = " ".join(f"{k}={v[:100]}" for k, v in sorted(extra.items()))
    return f"{command} {details}".strip()[:300]


def _json_fields(text: str) -> dict[str, list[str]]:
    data = json.loads(text)
    return {k: [str(v)] for k, v in data.items()} if isinstance(data, dict) else {}


def _answer(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _refused(body: bytes) -> bool:
    """A command Tron refuses with 200 (see CommandRefusedError) did nothing either."""
    data = _answer(body)
    return isinstance(data, dict) and data.get("refused") is True


def _result(status: int, body: bytes) -> str:
    data = _answer(body)
    if isinstance(data, dict):
        text = data.get("result") or data.get("error") or data.get("detail")
        if text:
            return f"{status} {str(text)[:300]}"
    return str(status)


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not _is_command(scope):
            await self.app(scope, receive, send)
            return
        sent: dict[str, Any] = {"status": 500, "body": b""}
        seen = bytearray()

        async def reading() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(seen) < _KEEP:
                seen.extend(message.get("body", b"")[: _KEEP - len(seen)])
            return message

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
            elif message["type"] == "http.response.body" and len(sent["body"]) < _KEEP:
                sent["body"] += message.get("body", b"")[:_KEEP]
            await send(message)

        try:
            await self.app(scope, reading, sending)
        finally:
            await self._record(scope, bytes(seen), sent["status"], sent["body"])

    async def _record(self, scope: Scope, body: bytes, status: int, answer: bytes) -> None:
        daemon = getattr(scope["app"].state, "daemon", None)
        if daemon is None:
            return
        entry = AuditEntry(
            at=daemon.clock.now(),
            who=_who(scope),
            command=_command(body, scope.get("query_string", b""), scope["path"]),
            target=_target(scope["path"]),
            result=_result(status, answer),
            ok=200 <= status < 300 and not _refused(answer),
        )
        try:
            await daemon.record_audit(entry)
        except Exception:
            logger.exception("could not record %s in the audit log", entry)


def _is_command(scope: Scope) -> bool:
    path: str = scope["path"]
    return path.startswith("/api/")
