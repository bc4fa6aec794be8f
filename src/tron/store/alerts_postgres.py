"""The SQL of the AlertStore contract on PostgreSQL, and the mixin that gives it to
PostgresStore.

Each query coroutine runs inside the transaction the store opened; the mixin sends writes
through the store's fenced `write` (a deposed leader records no alert, queues and marks no
notification) and reads through `read`. Rows are those of the SQLite store (see alerts_rows).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from psycopg import AsyncCursor

from tron.core.alerts.model import Alert, AuditEntry, Notification
from tron.store.alerts_base import OutboxStats
from tron.store.alerts_rows import (
    Change,
    alert_of,
    alert_row,
    audit_entry_of,
    audit_row,
    delivered,
    failed,
    notification_of,
    notification_record,
    old_alerts,
    old_notifications,
    outbox_row,
    under,
)
from tron.store.codec import decode_datetime, encode_datetime

T = TypeVar("T")
Cursor = AsyncCursor[Any]
Operation = Callable[[Cursor, bool], Awaitable[T]]


async def save_alerts(
    cur: Cursor, alerts: Sequence[Alert], notifications: Sequence[Notification]
) -> None:
    if alerts:
        await cur.executemany(
            "INSERT INTO alerts (id, job, kind, state, record) VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (id) DO UPDATE SET state = excluded.state, record = excluded.record",
            [alert_row(a) for a in alerts],
        )
    if notifications:
        # Each statement sees the rows the ones before it wrote, so a key given twice in one
        # call is queued once, as in SQLite.
        await cur.executemany(
            "INSERT INTO outbox (key, alert_id, job, state, created_at, record)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (key) DO NOTHING",
            [outbox_row(n) for n in notifications],
        )


async def load_alerts(
    cur: Cursor, job: str | None, open_only: bool, limit: int | None
) -> list[Alert]:
    await cur.execute(
        "SELECT record FROM alerts WHERE (%(job)s::text IS NULL OR job = %(job)s)"
        " AND (NOT %(open)s OR state = 'open') ORDER BY position DESC LIMIT %(limit)s",
        {"job": job, "open": open_only, "limit": limit},
    )
    return [alert_of(text) for (text,) in await cur.fetchall()]


async def get_alert(cur: Cursor, alert_id: str) -> Alert | None:
    await cur.execute("SELECT record FROM alerts WHERE id = %s", (alert_id,))
    row = await cur.fetchone()
    return alert_of(row[0]) if row else None


async def pending_notifications(cur: Cursor, limit: int) -> list[Notification]:
    await cur.execute(
        "SELECT seq, record FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT %s", (limit,)
    )
    return [notification_of(seq, text) for seq, text in await cur.fetchall()]


async def notifications(cur: Cursor, alert_id: str | None, limit: int) -> list[Notification]:
    await cur.execute(
        "SELECT seq, record FROM outbox WHERE %(alert)s::text IS NULL OR alert_id = %(alert)s"
        " ORDER BY seq DESC LIMIT %(limit)s",
        {"alert": alert_id, "limit": limit},
    )
    return [notification_of(seq, text) for seq, text in await cur.fetchall()]


async def update_notification(cur: Cursor, seq: int, change: Change) -> None:
    await cur.execute("SELECT record FROM outbox WHERE seq = %s FOR UPDATE", (seq,))
    row = await cur.fetchone()
    if row is None:
        return
    new = change(notification_of(seq, row[0]))
    await cur.execute(
        "UPDATE outbox SET state = %s, record = %s WHERE seq = %s",
        (new.state.value, notification_record(new), seq),
    )


async def outbox_stats(cur: Cursor) -> OutboxStats:
    await cur.execute(
        "SELECT count(*) FILTER (WHERE state = 'pending'),"
        " count(*) FILTER (WHERE state = 'delivered'),"
        " (SELECT created_at FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT 1)"
        " FROM outbox"
    )
    row = await cur.fetchone()
    assert row is not None
    pending, delivered_count, oldest = row
    return OutboxStats(
        pending=int(pending),
        oldest_pending_at=decode_datetime(oldest) if oldest else None,
        delivered=int(delivered_count),
    )


async def add_audit(cur: Cursor, entry: AuditEntry) -> AuditEntry:
    await cur.execute(
        "INSERT INTO audit_log (at, who, command, target, result, ok)"
        " VALUES (%s, %s, %s, %s, %s, %s) RETURNING seq",
        audit_row(entry),
    )
    row = await cur.fetchone()
    assert row is not None
    return replace(entry, seq=int(row[0]))


async def audit_log(cur: Cursor, target: str | None, limit: int) -> list[AuditEntry]:
    # `target` or anything under it (`job.3`, `job.3.load`).
    await cur.execute(
        "SELECT seq, at, who, command, target, result, ok FROM audit_log"
        " WHERE %(target)s::text IS NULL OR target = %(target)s"
        " OR target LIKE %(under)s ESCAPE '\\' ORDER BY seq DESC LIMIT %(limit)s",
        {"target": target, "under": None if target is None else under(target), "limit": limit},
    )
    return [audit_entry_of(row) for row in await cur.fetchall()]


async def prune_history(cur: Cursor, before: datetime) -> int:
    await cur.execute("SELECT DISTINCT alert_id FROM outbox WHERE state = 'pending'")
    pending = {alert_id for (alert_id,) in await cur.fetchall()}
    await cur.execute("SELECT record FROM alerts WHERE state = 'resolved'")
    resolved = [alert_of(text) for (text,) in await cur.fetchall()]
    await cur.execute("SELECT seq, record FROM outbox WHERE state = 'delivered'")
    delivered = [notification_of(seq, text) for seq, text in await cur.fetchall()]
    alerts, seqs = old_alerts(resolved, pending, before), old_notifications(delivered, before)
    if alerts:
        await cur.execute("DELETE FROM alerts WHERE id = ANY(%s)", (alerts,))
    if seqs:
        await cur.execute("DELETE FROM outbox WHERE seq = ANY(%s)", (seqs,))
    return len(alerts) + len(seqs)


async def set_silence(cur: Cursor, job: str, until: datetime | None) -> None:
    if until is None:
        await cur.execute("DELETE FROM silences WHERE job = %s", (job,))
        return
    await cur.execute(
        "INSERT INTO silences (job, until) VALUES (%s, %s)"
        " ON CONFLICT (job) DO UPDATE SET until = excluded.until",
        (job, encode_datetime(until)),
    )


async def silences(cur: Cursor) -> dict[str, datetime]:
    await cur.execute("SELECT job, until FROM silences")
    return {job: decode_datetime(until) for job, until in await cur.fetchall()}


class PostgresAlerts:
    """AlertStore over the store's fenced `write` and its `read`."""

    async def write(self, operation: Operation[T]) -> T:
        raise NotImplementedError  # pragma: no cover - PostgresStore provides it

    async def read(self, operation: Operation[T]) -> T:
        raise NotImplementedError  # pragma: no cover - PostgresStore provides it

    async def save_alerts(
        self, alerts: Sequence[Alert], notifications: Sequence[Notification] = ()
    ) -> None:
        await self.write(lambda cur, _: save_alerts(cur, alerts, notifications))

    async def load_alerts(
        self, *, job: str | None = None, open_only: bool = False, limit: int | None = None
    ) -> list[Alert]:
        return await self.read(lambda cur, _: load_alerts(cur, job, open_only, limit))

    async def get_alert(self, alert_id: str) -> Alert | None:
        return await self.read(lambda cur, _: get_alert(cur, alert_id))

    async def pending_notifications(self, limit: int = 500) -> list[Notification]:
        return await self.read(lambda cur, _: pending_notifications(cur, limit))

    async def notifications(
        self, *, alert_id: str | None = None, limit: int = 100
    ) -> list[Notification]:
        return await self.read(lambda cur, _: notifications(cur, alert_id, limit))

    async def mark_delivered(self, seq: int, at: datetime) -> None:
        await self.write(lambda cur, _: update_notification(cur, seq, delivered(at)))

    async def mark_failed(self, seq: int, *, attempts: int, retry_at: datetime, error: str) -> None:
        change = failed(attempts, retry_at, error)
        await self.write(lambda cur, _: update_notification(cur, seq, change))

    async def outbox_stats(self) -> OutboxStats:
        return await self.read(lambda cur, _: outbox_stats(cur))

    async def add_audit(self, entry: AuditEntry) -> AuditEntry:
        return await self.write(lambda cur, _: add_audit(cur, entry))

    async def audit_log(self, *, target: str | None = None, limit: int = 100) -> list[AuditEntry]:
        return await self.read(lambda cur, _: audit_log(cur, target, limit))

    async def prune_history(self, before: datetime) -> int:
        return await self.write(lambda cur, _: prune_history(cur, before))

    async def set_silence(self, job: str, until: datetime | None) -> None:
        await self.write(lambda cur, _: set_silence(cur, job, until))

    async def silences(self) -> dict[str, datetime]:
        return await self.read(lambda cur, _: silences(cur))
