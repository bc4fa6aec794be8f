"""The AlertStore contract in dicts, mixed into MemoryStore."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from tron.core.alerts.model import Alert, AuditEntry, DeliveryState, Notification
from tron.store.alerts_base import OutboxStats
from tron.store.alerts_rows import Change, delivered, failed, old_alerts, old_notifications
from tron.store.renames import renamed_alert, renamed_notification


def about(target: str, entry_target: str) -> bool:
    """`entry_target` is `target` itself or one of its runs or actions (`job.3.load`)."""
    return entry_target == target or entry_target.startswith(f"{target}.")


class MemoryAlerts:
    def __init__(self) -> None:
        self._alerts: dict[str, Alert] = {}  # insertion order is open order
        self._outbox: dict[int, Notification] = {}
        self._last_seq = 0  # seqs are never reused, even once pruned
        self._keys: set[str] = set()
        self._audit: list[AuditEntry] = []
        self._silences: dict[str, datetime] = {}

    async def save_alerts(
        self, alerts: Sequence[Alert], notifications: Sequence[Notification] = ()
    ) -> None:
        for alert in alerts:
            self._alerts[alert.id] = alert
        for notification in notifications:
            if notification.key in self._keys:
                continue
            seq = self._last_seq = self._last_seq + 1
            self._keys.add(notification.key)
            self._outbox[seq] = dataclasses.replace(notification, seq=seq)

    async def load_alerts(
        self, *, job: str | None = None, open_only: bool = False, limit: int | None = None
    ) -> list[Alert]:
        found = [
            a
            for a in reversed(self._alerts.values())
            if (job is None or a.key.job == job) and (a.is_open or not open_only)
        ]
        return found[:limit] if limit is not None else found

    async def get_alert(self, alert_id: str) -> Alert | None:
        return self._alerts.get(alert_id)

    async def pending_notifications(self, limit: int = 500) -> list[Notification]:
        pending = [n for n in self._outbox.values() if n.state is DeliveryState.PENDING]
        return pending[:limit]

    async def notifications(
        self, *, alert_id: str | None = None, limit: int = 100
    ) -> list[Notification]:
        found = [
            n for n in reversed(self._outbox.values()) if alert_id is None or n.alert_id == alert_id
        ]
        return found[:limit]

    async def mark_delivered(self, seq: int, at: datetime) -> None:
        self._update(seq, delivered(at))

    async def mark_failed(self, seq: int, *, attempts: int, retry_at: datetime, error: str) -> None:
        self._update(seq, failed(attempts, retry_at, error))

    def _update(self, seq: int, change: Change) -> None:
        found = self._outbox.get(seq)
        if found is not None:
            self._outbox[seq] = change(found)

    async def outbox_stats(self) -> OutboxStats:
        pending = [n for n in self._outbox.values() if n.state is DeliveryState.PENDING]
        return OutboxStats(
            pending=len(pending),
            oldest_pending_at=pending[0].created_at if pending else None,
            delivered=len(self._outbox) - len(pending),
        )

    async def add_audit(self, entry: AuditEntry) -> AuditEntry:
        stored = dataclasses.replace(entry, seq=len(self._audit) + 1)
        self._audit.append(stored)
        return stored

    async def audit_log(self, *, target: str | None = None, limit: int = 100) -> list[AuditEntry]:
        found = [e for e in reversed(self._audit) if target is None or about(target, e.target)]
        return found[:limit]

    async def prune_history(self, before: datetime) -> int:
        pending = {n.alert_id for n in self._outbox.values() if n.state is DeliveryState.PENDING}
        resolved = [a for a in self._alerts.values() if not a.is_open]
        alerts = old_alerts(resolved, pending, before)
        delivered = [n for n in self._outbox.values() if n.state is DeliveryState.DELIVERED]
        seqs = old_notifications(delivered, before)
        for alert_id in alerts:
            del self._alerts[alert_id]
        for seq in seqs:
            del self._outbox[seq]  # its key stays taken: a notice is never queued twice
        return len(alerts) + len(seqs)

    async def set_silence(self, job: str, until: datetime | None) -> None:
        if until is None:
            self._silences.pop(job, None)
        else:
            self._silences[job] = until

    async def silences(self) -> dict[str, datetime]:
        return dict(self._silences)

    def rename_alerts(self, old: str, new: str) -> None:
        """A job's alerts, notifications and silence under its new name (`tronctl move`)."""
        self._alerts = {
            (a := renamed_alert(alert, new) if alert.key.job == old else alert).id: a
            for alert in self._alerts.values()
        }
        for seq, notification in self._outbox.items():
            if notification.job == old:
                self._outbox[seq] = renamed_notification(notification, old, new)
        self._silences.pop(new, None)
        if old in self._silences:
            self._silences[new] = self._silences.pop(old)
