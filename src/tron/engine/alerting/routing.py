"""Which channels a notice goes to, and what it says there (the payload, built once when it is
queued, so every retry sends the same thing)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from tron.config.model import JobConfig
from tron.config.notifications import NotificationsConfig
from tron.core import run_state as rs
from tron.core.alerts.model import Alert, Notice, Notification, idempotency_key
from tron.core.alerts.signals import DAEMON
from tron.core.records import ActionRun, JobRun

# A channel label is the channel's name, or `name>override` when the job's own keys
# (notification_email, slack_channels) send it somewhere else: `mail>a@x.com,b@x.com`.
OVERRIDE = ">"

Tail = Callable[[ActionRun, str, int], list[str]]


def channel_labels(
    notifications: NotificationsConfig, job: JobConfig | None, alert: Alert
) -> list[str]:
    names = list(notifications.default_channels)
    monitoring = job.alerting if job else None
    if job is not None:
        names = list(notifications.namespaces.get(job.namespace, names))
        names += monitoring.channels if monitoring else ()
        for route in notifications.routes:
            if (
                _matches(route.team, monitoring.team if monitoring else None)
                and _matches(route.severity, alert.severity.value)
                and _matches(route.namespace, job.namespace)
                and set(route.tags) <= set(monitoring.tags if monitoring else ())
            ):
                names += route.channels
    else:
        # The daemon's own alert has no job: routes that ask for a severity alone take it.
        for route in notifications.routes:
            daemon_wide = route.team is None and route.namespace is None and not route.tags
            if daemon_wide and _matches(route.severity, alert.severity.value):
                names += route.channels
    labels = list(dict.fromkeys(n for n in names if n in notifications.channels))
    if monitoring is not None and monitoring.emails:
        mail = _first_of(notifications, labels, "email")
        if mail is not None:
            labels.append(f"{mail}{OVERRIDE}{','.join(monitoring.emails)}")
    if monitoring is not None and monitoring.slack_channels:
        slack = _first_of(notifications, labels, "slack")
        if slack is not None:
            labels += [f"{slack}{OVERRIDE}{channel}" for channel in monitoring.slack_channels]
    return list(dict.fromkeys(labels))


def _matches(wanted: str | None, value: str | None) -> bool:
    return wanted is None or wanted == value


def _first_of(notifications: NotificationsConfig, preferred: list[str], kind: str) -> str | None:
    """The channel of type `kind` among those routed, else the first one configured."""
    for name in [*preferred, *notifications.channels]:
        channel = notifications.channels.get(name.split(OVERRIDE)[0])
        if channel is not None and channel.type == kind:
            return channel.name
    return None


def _at(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def payload(
    notice: Notice,
    job: JobConfig | None,
    run: JobRun | None,
    *,
    web_url: str | None,
    tail: Tail | None,
    lines: int,
) -> dict[str, Any]:
    """What a notification says: job, run, action, state, reason, timings, output, runbook,
    links."""
    alert = notice.alert
    action = run.find_action_run(alert.action) if run and alert.action else None
    if run is not None and action is None:
        failed = [a for a in run.action_runs if a.state.value in ("failed", "unknown")]
        action = failed[0] if failed else None
    monitoring = job.alerting if job else None
    body: dict[str, Any] = {
        "event": notice.event.value,
        "alert_id": alert.id,
        "kind": alert.key.kind.value,
        "subject": alert.key.subject,
        "severity": alert.severity.value,
        "job": alert.key.job,
        "run": str(run.id) if run else None,
        "action": str(action.id) if action else None,
        "state": rs.job_run_state(run).value if run else None,
        "action_state": action.state.value if action else None,
        "exit_status": action.exit_status if action else None,
        "reason": alert.reason,
        "evidence": dict(alert.evidence),
        "since": _at(alert.since),
        "opened_at": _at(alert.opened_at),
        "resolved_at": _at(alert.resolved_at),
        "run_time": _at(run.run_time) if run else None,
        "start_time": _at(run.start_time) if run else None,
        "end_time": _at(run.end_time) if run else None,
        "team": monitoring.team if monitoring else None,
        "runbook": monitoring.runbook if monitoring else None,
        "tip": monitoring.tip if monitoring else None,
        "description": monitoring.description if monitoring else None,
        "priority": monitoring.priority if monitoring else None,
        "tags": list(monitoring.tags) if monitoring else [],
        "page": alert.severity.value == "page",
        "summary": summary(notice),
    }
    if action is not None and tail is not None and lines > 0:
        body["stdout_tail"] = tail(action, "stdout", lines)
        body["stderr_tail"] = tail(action, "stderr", lines)
    if web_url and alert.key.job == DAEMON:
        body["links"] = {"web": f"{web_url.rstrip('/')}/web/"}  # trond itself has no job page
    elif web_url:
        base = web_url.rstrip("/")
        job_link = f"{base}/web/#/job/{quote(alert.key.job, safe='')}"
        body["links"] = {"job": job_link}
        if run is not None:
            body["links"]["run"] = f"{job_link}/{run.run_num}"
    return body


def summary(notice: Notice) -> str:
    alert = notice.alert
    word = {"open": "ALERT", "repeat": "STILL", "resolve": "RESOLVED"}[notice.event.value]
    return f"[{word}] {alert.key.job} {alert.key.kind.value}: {alert.reason}"


def notifications_for(
    notice: Notice, labels: list[str], body: dict[str, Any], now: datetime
) -> list[Notification]:
    return [
        Notification(
            key=idempotency_key(notice.alert, notice.event, label),
            alert_id=notice.alert.id,
            job=notice.alert.key.job,
            channel=label,
            event=notice.event,
            payload={**body, "idempotency_key": idempotency_key(notice.alert, notice.event, label)},
            created_at=now,
        )
        for label in labels
    ]
