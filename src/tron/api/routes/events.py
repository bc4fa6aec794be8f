"""Trigger events (`/api/events`, spec 8.5) and our server-sent stream of state changes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tron.api import params as p
from tron.api.context import daemon_of, json_response
from tron.api.streams import until_stopped
from tron.api.tickets import TICKET_SECONDS, TicketBook
from tron.engine.daemon import Daemon
from tron.errors import BadRequestError, ConflictError, NotFoundError


class EventBusDisabledError(ConflictError):
    """MASTER's `eventbus_enabled` is off: Tron's `/api/events` refuses everything then (with
    500; ours is 409, as an API error is never a 500 here). Triggers between jobs still work."""

    def __init__(self) -> None:
        super().__init__("EventBus disabled")


async def events(request: Request) -> Response:
    daemon = daemon_of(request)
    if request.method == "GET":
        _check_enabled(daemon)
        return json_response({"response": {e: {} for e in daemon.published_events()}})
    form = await p.form(request)
    command, event = form.get("command", ""), form.get("event", "")
    if command not in ("publish", "discard"):
        raise BadRequestError(f"Unknown command: {command}")
    _check_enabled(daemon)
    if not event:
        raise BadRequestError("'event' is required.")
    if command == "publish":
        if not await daemon.publish_event(event):
            return json_response({"response": f"event {event} already published"})
        return json_response({"response": "OK"})
    if not await daemon.discard_event(event):
        raise NotFoundError(f"could not discard {event}")
    return json_response({"response": "OK"})


def _check_enabled(daemon: Daemon) -> None:
    if not daemon.config.eventbus_enabled:
        raise EventBusDisabledError()


async def stream(request: Request) -> Response:
    """Server-sent events: one `data:` JSON per state change; resumes after Last-Event-ID.
    The stream ends when trond stops, so a graceful shutdown need not wait for it."""
    daemon = daemon_of(request)
    after = p.integer(request.headers, "last-event-id", p.EVENT_ID) or 0

    async def body() -> AsyncIterator[str]:
        yield ": connected\n\n"
        events = daemon.subscribe(after)
        async for event in until_stopped(events, daemon.run_until_stopped()):
            yield f"id: {event['seq']}\nevent: {event['type']}\ndata: {json.dumps(event)}\n\n"

    return StreamingResponse(
        body(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


async def stream_ticket(request: Request) -> Response:
    """Ours: a one-use ticket that opens `/api/stream?ticket=` within a minute, for browsers
    (EventSource cannot send the token header)."""
    tickets: TicketBook = request.app.state.tickets
    return json_response({"ticket": tickets.issue(), "expires_in": int(TICKET_SECONDS)})


ROUTES = [
    Route("/api/events", events, methods=["GET", "POST"]),
    Route("/api/events/", events, methods=["GET", "POST"]),
    Route("/api/stream", stream),
    Route("/api/stream/ticket", stream_ticket, methods=["POST"]),
]
