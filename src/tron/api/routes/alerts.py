"""Alerts, silences, "why is this job not running?", the audit log and the scheduler's
health. Thin: each route reads its parameters and calls one Daemon method."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tron.api import params as p
from tron.api.audit import who_of
from tron.api.context import daemon_of, json_response
from tron.api.shapes import iso_time
from tron.core.alerts.model import Alert, AuditEntry, Notification
from tron.errors import BadRequestError

_SPAN = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_LIMIT = 1000
LIMIT = p.Bounds(1, MAX_LIMIT)


def parse_span(text: str) -> timedelta:
    """`7200`, `2h`, `1h30m`, `0` (none); BadRequestError otherwise."""
    compact = text.strip().lower().replace(" ", "")
    if compact.isdigit():
        return timedelta(seconds=int(compact))
    parts = _SPAN.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise BadRequestError(f"not a duration: {text[:50]!r} (try 2h, 30m or seconds)")
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))


def _limit(request: Request) -> int:
    return p.integer(request.query_params, "limit", LIMIT) or 100


def alert_json(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "job": alert.key.job,
        "kind": alert.key.kind.value,
        "subject": alert.key.subject,
        "state": alert.state.value,
        "severity": alert.severity.value,
        "reason": alert.reason,
        "evidence": dict(alert.evidence),
        "run_num": alert.run_num,
        "action": alert.action,
        "since": iso_time(alert.since),
        "opened_at": iso_time(alert.opened_at),
        "last_sent_at": iso_time(alert.last_sent_at),
        "notified": alert.notified,
        "resolved_at": iso_time(alert.resolved_at),
        "acked_at": iso_time(alert.acked_at),
        "acked_by": alert.acked_by,
    }


def notification_json(notification: Notification) -> dict[str, Any]:
    return {
        "seq": notification.seq,
        "key": notification.key,
        "alert_id": notification.alert_id,
        "job": notification.job,
        "channel": notification.channel,
        "event": notification.event.value,
        "state": notification.state.value,
        "attempts": notification.attempts,
        "created_at": notification.created_at.isoformat(),
        "next_attempt_at": iso_time(notification.next_attempt_at),
        "delivered_at": iso_time(notification.delivered_at),
        "last_error": notification.last_error,
    }


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "who": entry.who,
        "command": entry.command,
        "target": entry.target,
        "result": entry.result,
        "ok": entry.ok,
    }


async def why(request: Request) -> Response:
    daemon = daemon_of(request)
    job = unquote(request.path_params["job"])
    answer = await daemon.why(job)
    silenced = daemon.silenced_until(job)
    return json_response(
        {
            "job": job,
            "state": answer.state,
            "sentence": answer.sentence,
            "evidence": answer.evidence,
            "silenced_until": iso_time(silenced),
            "open_alerts": [alert_json(a) for a in await daemon.alerts(job=job, open_only=True)],
        }
    )


async def history(request: Request) -> Response:
    daemon = daemon_of(request)
    job = unquote(request.path_params["job"])
    daemon.job(job)  # 404 for an unknown job
    entries = await daemon.audit_log(job, _limit(request))
    return json_response({"job": job, "history": [audit_json(e) for e in entries]})


async def silence(request: Request) -> Response:
    daemon = daemon_of(request)
    job = unquote(request.path_params["job"])
    form = await p.form(request)
    span = parse_span(form.get("for", "0"))
    until = await daemon.silence_job(job, span)
    result = (
        f"silenced {job} until {until.isoformat()}" if until else f"{job} is no longer silenced"
    )
    return json_response({"result": result, "until": until.isoformat() if until else None})


async def alerts(request: Request) -> Response:
    daemon = daemon_of(request)
    q = request.query_params
    state = q.get("state", "open")
    if state not in ("open", "all"):
        raise BadRequestError("state must be open or all")
    found = await daemon.alerts(job=q.get("job"), open_only=state == "open", limit=_limit(request))
    return json_response({"alerts": [alert_json(a) for a in found]})


async def ack(request: Request) -> Response:
    daemon = daemon_of(request)
    form = await p.form(request)
    acked = await daemon.acknowledge_alert(p.required(form, "alert"), who_of(request))
    return json_response({"result": f"acknowledged {acked.id}", "alert": alert_json(acked)})


async def notifications(request: Request) -> Response:
    daemon = daemon_of(request)
    found = await daemon.alert_notifications(request.query_params.get("alert"), _limit(request))
    stats = await daemon.outbox_stats()
    return json_response(
        {
            "notifications": [notification_json(n) for n in found],
            "pending": stats.pending,
            "delivered": stats.delivered,
            "oldest_pending_at": (
                stats.oldest_pending_at.isoformat() if stats.oldest_pending_at else None
            ),
        }
    )


async def audit(request: Request) -> Response:
    daemon = daemon_of(request)
    entries = await daemon.audit_log(request.query_params.get("target"), _limit(request))
    return json_response({"history": [audit_json(e) for e in entries]})


async def health(request: Request) -> Response:
    """For supervisors: 200 while the scheduler's heartbeat is fresh, 503 otherwise."""
    state = daemon_of(request).health()
    body = {
        "scheduling": state.scheduling,
        "last_heartbeat": state.last_beat.isoformat() if state.last_beat else None,
        "reason": state.reason,
    }
    return json_response(body, 200 if state.scheduling else 503)


# Before the jobs routes: `/api/jobs/{job}/why` would otherwise be read as a run named "why".
ROUTES = [
    Route("/api/jobs/{job}/why", why),
    Route("/api/jobs/{job}/history", history),
    Route("/api/jobs/{job}/silence", silence, methods=["POST"]),
    Route("/api/alerts", alerts),
    Route("/api/alerts/ack", ack, methods=["POST"]),
    Route("/api/notifications", notifications),
    Route("/api/audit", audit),
    Route("/api/health", health),
]
