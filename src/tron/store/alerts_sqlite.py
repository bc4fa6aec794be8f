"""The SQL of the AlertStore contract, and the mixin that gives it to SqliteStore.

Each query function runs on the store's worker thread inside its transaction.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

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


def save_alerts(
    conn: sqlite3.Connection, alerts: Sequence[Alert], notifications: Sequence[Notification]
) -> None:
    conn.executemany(
        "INSERT INTO alerts (id, job, kind, state, record) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET state = excluded.state, record = excluded.record",
        [alert_row(a) for a in alerts],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO outbox (key, alert_id, job, state, created_at, record)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [outbox_row(n) for n in notifications],
    )


def load_alerts(
    conn: sqlite3.Connection, job: str | None, open_only: bool, limit: int | None
) -> list[Alert]:
    rows = conn.execute(
        "SELECT record FROM alerts WHERE (?1 IS NULL OR job = ?1) AND (?2 = 0 OR state = 'open')"
        " ORDER BY rowid DESC LIMIT ?3",
        (job, int(open_only), -1 if limit is None else limit),
    )
    return [alert_of(text) for (text,) in rows]


def get_alert(conn: sqlite3.Connection, alert_id: str) -> Alert | None:
    row = conn.execute("SELECT record FROM alerts WHERE id = ?", (alert_id,)).fetchone()
    return alert_of(row[0]) if row else None


def pending_notifications(conn: sqlite3.Connection, limit: int) -> list[Notification]:
    rows = conn.execute(
        "SELECT seq, record FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT ?", (limit,)
    )
    return [notification_of(seq, text) for seq, text in rows]


def notifications(conn: sqlite3.Connection, alert_id: str | None, limit: int) -> list[Notification]:
    rows = conn.execute(
        "SELECT seq, record FROM outbox WHERE ?1 IS NULL OR alert_id = ?1"
        " ORDER BY seq DESC LIMIT ?2",
        (alert_id, limit),
    )
    return [notification_of(seq, text) for seq, text in rows]


def _update(conn: sqlite3.Connection, seq: int, change: Change) -> None:
    row = conn.execute("SELECT record FROM outbox WHERE seq = ?", (seq,)).fetchone()
    if row is None:
        return
    new = change(notification_of(seq, row[0]))
    conn.execute(
        "UPDATE outbox SET state = ?, record = ? WHERE seq = ?",
        (new.state.value, notification_record(new), seq),
    )


def mark_delivered(conn: sqlite3.Connection, seq: int, at: datetime) -> None:
    _update(conn, seq, delivered(at))


def mark_failed(
    conn: sqlite3.Connection, seq: int, attempts: int, retry_at: datetime, error: str
) -> None:
    _update(conn, seq, failed(attempts, retry_at, error))


def outbox_stats(conn: sqlite3.Connection) -> OutboxStats:
    pending, delivered = conn.execute(
        "SELECT coalesce(sum(state = 'pending'), 0), coalesce(sum(state = 'delivered'), 0)"
        " FROM outbox"
    ).fetchone()
    oldest = conn.execute(
        "SELECT created_at FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT 1"
    ).fetchone()
    return OutboxStats(
        pending=pending,
        oldest_pending_at=decode_datetime(oldest[0]) if oldest else None,
        delivered=delivered,
    )


def add_audit(conn: sqlite3.Connection, entry: AuditEntry) -> AuditEntry:
    cursor = conn.execute(
        "INSERT INTO audit_log (at, who, command, target, result, ok) VALUES (?, ?, ?, ?, ?, ?)",
        audit_row(entry),
    )
    return replace(entry, seq=cursor.lastrowid or 0)


def audit_log(conn: sqlite3.Connection, target: str | None, limit: int) -> list[AuditEntry]:
    # `target` or anything under it (`job.3`, `job.3.load`).
    pattern = None if target is None else under(target)
    rows = conn.execute(
        "SELECT seq, at, who, command, target, result, ok FROM audit_log"
        " WHERE ?1 IS NULL OR target = ?1 OR target LIKE ?2 ESCAPE '\\'"
        " ORDER BY seq DESC LIMIT ?3",
        (target, pattern, limit),
    )
    return [audit_entry_of(row) for row in rows]


def prune_history(conn: sqlite3.Connection, before: datetime) -> int:
    pending = {a for (a,) in conn.execute("SELECT alert_id FROM outbox WHERE state = 'pending'")}
    resolved = conn.execute("SELECT record FROM alerts WHERE state = 'resolved'")
    alerts = old_alerts((alert_of(text) for (text,) in resolved), pending, before)
    delivered = conn.execute("SELECT seq, record FROM outbox WHERE state = 'delivered'")
    seqs = old_notifications((notification_of(s, text) for s, text in delivered), before)
    conn.executemany("DELETE FROM alerts WHERE id = ?", [(a,) for a in alerts])
    conn.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])
    return len(alerts) + len(seqs)


def set_silence(conn: sqlite3.Connection, job: str, until: datetime | None) -> None:
    if until is None:
        conn.execute("DELETE FROM silences WHERE job = ?", (job,))
    else:
        conn.execute(
            "INSERT INTO silences (job, until) VALUES (?, ?)"
            " ON CONFLICT (job) DO UPDATE SET until = excluded.until",
            (job, encode_datetime(until)),
        )


def silences(conn: sqlite3.Connection) -> dict[str, datetime]:
    return {job: decode_datetime(until) for job, until in conn.execute("SELECT * FROM silences")}


class SqliteAlerts:
    """AlertStore over the store's `run` (the worker thread's transactions)."""

    async def run(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError  # pragma: no cover - SqliteStore provides it

    async def save_alerts(
        self, alerts: Sequence[Alert], notifications: Sequence[Notification] = ()
    ) -> None:
        await self.run(functools.partial(save_alerts, alerts=alerts, notifications=notifications))

    async def load_alerts(
        self, *, job: str | None = None, open_only: bool = False, limit: int | None = None
    ) -> list[Alert]:
        return await self.run(
            functools.partial(load_alerts, job=job, open_only=open_only, limit=limit)
        )

    async def get_alert(self, alert_id: str) -> Alert | None:
        return await self.run(functools.partial(get_alert, alert_id=alert_id))

    async def pending_notifications(self, limit: int = 500) -> list[Notification]:
        return await self.run(functools.partial(pending_notifications, limit=limit))

    async def notifications(
        self, *, alert_id: str | None = None, limit: int = 100
    ) -> list[Notification]:
        return await self.run(functools.partial(notifications, alert_id=alert_id, limit=limit))

    async def mark_delivered(self, seq: int, at: datetime) -> None:
        await self.run(functools.partial(mark_delivered, seq=seq, at=at))

    async def mark_failed(self, seq: int, *, attempts: int, retry_at: datetime, error: str) -> None:
        await self.run(
            functools.partial(
                mark_failed, seq=seq, attempts=attempts, retry_at=retry_at, error=error
            )
        )

    async def outbox_stats(self) -> OutboxStats:
        return await self.run(outbox_stats)

    async def add_audit(self, entry: AuditEntry) -> AuditEntry:
        return await self.run(functools.partial(add_audit, entry=entry))

    async def audit_log(self, *, target: str | None = None, limit: int = 100) -> list[AuditEntry]:
        return await self.run(functools.partial(audit_log, target=target, limit=limit))

    async def prune_history(self, before: datetime) -> int:
        return await self.run(functools.partial(prune_history, before=before))

    async def set_silence(self, job: str, until: datetime | None) -> None:
        await self.run(functools.partial(set_silence, job=job, until=until))

    async def silences(self) -> dict[str, datetime]:
        return await self.run(silences)
