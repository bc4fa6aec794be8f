"""The AlertStore contract: alerts with their history, the notification outbox, the
operators' audit log and silences.

Part of the `Store` contract (which includes it), kept apart so the alerting parts of the
engine ask for what they use only. Every write returns once it is durable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from tron.core.alerts.model import Alert, AuditEntry, Notification


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxStats:
    pending: int
    oldest_pending_at: datetime | None
    delivered: int


@runtime_checkable
class AlertStore(Protocol):
    async def save_alerts(
        self, alerts: Sequence[Alert], notifications: Sequence[Notification] = ()
    ) -> None:
        """Insert or update alerts and queue their notifications, all or nothing. A
        notification whose key is already queued is not queued again."""
        ...

    async def load_alerts(
        self, *, job: str | None = None, open_only: bool = False, limit: int | None = None
    ) -> list[Alert]:
        """Alerts newest first (of one job, or all); open ones only when `open_only`."""
        ...

    async def get_alert(self, alert_id: str) -> Alert | None: ...

    async def pending_notifications(self, limit: int = 500) -> list[Notification]:
        """Undelivered notifications in the order they were queued (by `seq`)."""
        ...

    async def notifications(
        self, *, alert_id: str | None = None, limit: int = 100
    ) -> list[Notification]:
        """Notifications newest first, delivered or not (of one alert, or all)."""
        ...

    async def mark_delivered(self, seq: int, at: datetime) -> None: ...

    async def mark_failed(self, seq: int, *, attempts: int, retry_at: datetime, error: str) -> None:
        """Record a failed try and when to try again; the notification stays pending."""
        ...

    async def outbox_stats(self) -> OutboxStats: ...

    async def add_audit(self, entry: AuditEntry) -> AuditEntry:
        """Append an operator's command; returns it with its `seq`."""
        ...

    async def audit_log(self, *, target: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """Entries newest first; with `target`, those about it or one of its runs/actions."""
        ...

    async def prune_history(self, before: datetime) -> int:
        """Delete the alerts resolved before `before` (unless a notification of theirs is
        still pending) and the notifications delivered before it; how many rows went.
        Nothing pending is ever deleted."""
        ...

    async def set_silence(self, job: str, until: datetime | None) -> None:
        """Silence a job's notifications until `until`; None lifts the silence."""
        ...

    async def silences(self) -> dict[str, datetime]: ...
