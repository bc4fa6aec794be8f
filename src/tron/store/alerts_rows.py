"""How the AlertStore's records become rows of the SQL backends' tables and back (SQLite and
PostgreSQL share the tables' shape, so they share this)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from tron.core.alerts.model import Alert, AuditEntry, DeliveryState, Notification
from tron.store.codec import decode_datetime, decode_record, dumps, encode_datetime, encode_record
from tron.store.codec import loads as json_loads
from tron.store.common import decoded

Change = Callable[[Notification], Notification]


def alert_of(text: str) -> Alert:
    return decoded("alerts", "record", lambda: decode_record(Alert, json_loads(text)))


def notification_of(seq: int, text: str) -> Notification:
    record = decoded("outbox", str(seq), lambda: decode_record(Notification, json_loads(text)))
    return replace(record, seq=seq)


def alert_row(alert: Alert) -> tuple[Any, ...]:
    """id, job, kind, state, record."""
    return (alert.id, alert.key.job, alert.key.kind.value, alert.state.value,
            dumps(encode_record(alert)))  # fmt: skip


def outbox_row(notification: Notification) -> tuple[Any, ...]:
    """key, alert_id, job, state, created_at, record."""
    n = notification
    return (n.key, n.alert_id, n.job, n.state.value, encode_datetime(n.created_at),
            notification_record(n))  # fmt: skip


def notification_record(notification: Notification) -> str:
    return dumps(encode_record(notification))


def audit_row(entry: AuditEntry) -> tuple[Any, ...]:
    """at, who, command, target, result, ok."""
    return (encode_datetime(entry.at), entry.who, entry.command, entry.target, entry.result,
            entry.ok)  # fmt: skip


def audit_entry_of(row: Sequence[Any]) -> AuditEntry:
    """An AuditEntry from seq, at, who, command, target, result, ok."""
    seq, at, who, command, target, result, ok = row
    return AuditEntry(seq=int(seq), at=decode_datetime(at), who=who, command=command,
                      target=target, result=result, ok=bool(ok))  # fmt: skip


def delivered(at: datetime) -> Change:
    return lambda n: replace(
        n, state=DeliveryState.DELIVERED, delivered_at=at, attempts=n.attempts + 1
    )


def failed(attempts: int, retry_at: datetime, error: str) -> Change:
    return lambda n: replace(n, attempts=attempts, next_attempt_at=retry_at, last_error=error)


def old_alerts(resolved: Iterable[Alert], pending: Collection[str], before: datetime) -> list[str]:
    """The ids of resolved alerts to prune: resolved before `before`, nothing pending."""
    return [
        alert.id
        for alert in resolved
        if alert.resolved_at is not None and alert.resolved_at < before and alert.id not in pending
    ]


def old_notifications(delivered: Iterable[Notification], before: datetime) -> list[int]:
    """The seqs of delivered notifications to prune: delivered before `before`."""
    return [n.seq for n in delivered if n.delivered_at is not None and n.delivered_at < before]


def under(target: str) -> str:
    """A LIKE pattern (escape `\\`) for what is under `target`: `job.3`, `job.3.load`."""
    escaped = target.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}.%"
