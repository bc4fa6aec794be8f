"""The AlertStore contract, run unchanged against every backend that has it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tron.core.alerts.model import (
    Alert,
    AlertKey,
    AlertKind,
    AlertState,
    AuditEntry,
    DeliveryState,
    NoticeEvent,
    Notification,
)
from tron.store.alerts_base import AlertStore
from tron.store.lease import FencedError
from tron.store.memory import MemoryStore
from tron.store.postgres import PostgresStore
from tron.store.sqlite import SqliteStore

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


Made = MemoryStore | SqliteStore | PostgresStore


def reopenable(kind: str, tmp_path: Path, pg_url: str | None) -> Made:
    """A new store object on the same state each time (memory keeps nothing across)."""
    if kind == "postgres":
        assert pg_url is not None
        return PostgresStore(pg_url)
    return SqliteStore(tmp_path / "s.sqlite")


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AlertStore]:
    pg_url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    made = (
        MemoryStore() if request.param == "memory" else reopenable(request.param, tmp_path, pg_url)
    )
    await made.open()
    yield made
    await made.close()


def alert(job: str = "ns.job", kind: AlertKind = AlertKind.FAILED, at: int = 0) -> Alert:
    key = AlertKey(job, kind)
    when = T0 + timedelta(minutes=at)
    return Alert(
        id=f"{key}@{when.isoformat()}",
        key=key,
        reason="run ns.job.1 failed: action a exited 1",
        since=when,
        opened_at=when,
        evidence={"run": "ns.job.1", "ü": "✓"},
    )


def note(a: Alert, key: str, channel: str = "ops") -> Notification:
    return Notification(
        key=key,
        alert_id=a.id,
        job=a.key.job,
        channel=channel,
        event=NoticeEvent.OPEN,
        payload={"job": a.key.job, "tail": ["line 1", "línea 2"], "n": None},
        created_at=T0,
    )


async def test_alerts_round_trip_newest_first_and_filtered(store: AlertStore) -> None:
    first, second = alert(), alert("ns.other", AlertKind.LATE, at=1)
    await store.save_alerts([first, second])
    assert await store.load_alerts() == [second, first]
    assert await store.load_alerts(job="ns.job") == [first]
    assert await store.load_alerts(limit=1) == [second]
    resolved = replace(first, state=AlertState.RESOLVED, resolved_at=T0 + timedelta(hours=1))
    await store.save_alerts([resolved])
    assert await store.load_alerts(open_only=True) == [second]
    assert await store.get_alert(first.id) == resolved
    assert await store.get_alert("nope") is None
    assert len(await store.load_alerts()) == 2  # the history stays


async def test_outbox_in_order_once_per_key(store: AlertStore) -> None:
    a = alert()
    await store.save_alerts([a], [note(a, "k1"), note(a, "k2", "mail")])
    await store.save_alerts([a], [note(a, "k1")])  # queued again after a crash: ignored
    pending = await store.pending_notifications()
    assert [n.key for n in pending] == ["k1", "k2"]
    assert pending[0].seq < pending[1].seq
    assert pending[0].payload == note(a, "k1").payload
    assert (await store.outbox_stats()).pending == 2
    assert (await store.outbox_stats()).oldest_pending_at == T0


async def test_failed_tries_stay_pending_then_delivered(store: AlertStore) -> None:
    a = alert()
    await store.save_alerts([a], [note(a, "k1"), note(a, "k2")])
    first = (await store.pending_notifications())[0]
    retry_at = T0 + timedelta(seconds=2)
    await store.mark_failed(first.seq, attempts=1, retry_at=retry_at, error="HTTP 503")
    again = (await store.pending_notifications())[0]
    assert (again.attempts, again.next_attempt_at, again.last_error) == (1, retry_at, "HTTP 503")
    await store.mark_delivered(first.seq, T0 + timedelta(seconds=3))
    assert [n.key for n in await store.pending_notifications()] == ["k2"]
    done = (await store.notifications(alert_id=a.id))[-1]
    assert done.state is DeliveryState.DELIVERED
    assert done.attempts == 2
    assert done.delivered_at == T0 + timedelta(seconds=3)
    stats = await store.outbox_stats()
    assert (stats.pending, stats.delivered) == (1, 1)
    assert [n.key for n in await store.notifications(limit=1)] == ["k2"]
    await store.mark_delivered(9999, T0)  # unknown: nothing happens


async def test_audit_log_by_target(store: AlertStore) -> None:
    def entry(target: str, command: str) -> AuditEntry:
        return AuditEntry(at=T0, who="alice", command=command, target=target, result="ok", ok=True)

    one = await store.add_audit(entry("ns.job", "disable"))
    await store.add_audit(entry("ns.job.3.load", "retry"))
    await store.add_audit(entry("ns.job_2", "enable"))
    await store.add_audit(entry("ns.jobx", "enable"))
    assert one.seq > 0
    found = await store.audit_log(target="ns.job")
    assert [e.command for e in found] == ["retry", "disable"]
    assert len(await store.audit_log()) == 4
    assert len(await store.audit_log(limit=1)) == 1
    assert [e.target for e in await store.audit_log(target="ns.job_2")] == ["ns.job_2"]


async def test_silences(store: AlertStore) -> None:
    await store.set_silence("ns.job", T0)
    await store.set_silence("ns.job", T0 + timedelta(hours=2))
    assert await store.silences() == {"ns.job": T0 + timedelta(hours=2)}
    await store.set_silence("ns.job", None)
    await store.set_silence("ns.none", None)
    assert await store.silences() == {}


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_durable_stores_keep_it_all_across_reopen(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    pg_url = request.getfixturevalue("pg_url") if kind == "postgres" else None
    store = reopenable(kind, tmp_path, pg_url)
    await store.open()
    a = alert()
    await store.save_alerts([a], [note(a, "k1")])
    await store.set_silence("ns.job", T0)
    await store.add_audit(
        AuditEntry(at=T0, who="bob", command="disable", target="ns.job", result="ok", ok=False)
    )
    await store.close()
    again = reopenable(kind, tmp_path, pg_url)
    await again.open()
    assert await again.load_alerts() == [a]
    assert [n.key for n in await again.pending_notifications()] == ["k1"]
    assert await again.silences() == {"ns.job": T0}
    assert [(e.who, e.ok) for e in await again.audit_log(target="ns.job")] == [("bob", False)]
    await again.close()


def test_every_backend_is_an_alert_store(tmp_path: Path) -> None:
    assert isinstance(MemoryStore(), AlertStore)
    assert isinstance(SqliteStore(tmp_path / "x"), AlertStore)
    assert isinstance(PostgresStore("postgresql://nowhere/x"), AlertStore)


@pytest.mark.postgres
async def test_a_deposed_postgres_leader_records_no_alert_and_marks_nothing(pg_url: str) -> None:
    leader, usurper = PostgresStore(pg_url), PostgresStore(pg_url)
    await leader.open()
    await usurper.open()
    try:
        first = await leader.acquire_lease("one", "http://one", 30)
        assert first is not None
        leader.fence(first.epoch)
        a = alert()
        await leader.save_alerts([a], [note(a, "k1")])
        (queued,) = await leader.pending_notifications()
        await usurper.release_lease("one", first.epoch)  # as if its lease lapsed
        assert await usurper.acquire_lease("two", "http://two", 30) is not None
        later = alert(at=5)
        with pytest.raises(FencedError):
            await leader.save_alerts([later], [note(later, "k2")])
        with pytest.raises(FencedError):
            await leader.mark_delivered(queued.seq, T0)
        with pytest.raises(FencedError):
            await leader.set_silence("ns.job", T0)
        assert await usurper.load_alerts() == [a]
        assert [n.key for n in await usurper.pending_notifications()] == ["k1"]
        assert await usurper.silences() == {}
    finally:
        await leader.close()
        await usurper.close()


async def test_unknown_notifications_are_left_alone(store: AlertStore) -> None:
    await store.mark_failed(9999, attempts=1, retry_at=T0, error="x")
    assert await store.pending_notifications() == []


async def test_prune_history_keeps_what_is_open_pending_or_recent(store: AlertStore) -> None:
    day = timedelta(days=1)
    old, recent, still_open = alert("ns.a"), alert("ns.b", at=1), alert("ns.c", at=2)
    owed = alert("ns.d", at=3)  # resolved long ago, its resolve not delivered yet
    await store.save_alerts(
        [old, recent, still_open, owed],
        [note(old, "k-old"), note(recent, "k-recent"), note(still_open, "k-open"),
         note(owed, "k-owed")],
    )  # fmt: skip
    seqs = {n.key: n.seq for n in await store.pending_notifications()}
    await store.mark_delivered(seqs["k-old"], T0)
    await store.mark_delivered(seqs["k-recent"], T0 + 9 * day)
    await store.mark_delivered(seqs["k-open"], T0)
    resolved = [
        replace(old, state=AlertState.RESOLVED, resolved_at=T0 + day),
        replace(recent, state=AlertState.RESOLVED, resolved_at=T0 + 9 * day),
        replace(owed, state=AlertState.RESOLVED, resolved_at=T0 + day),
    ]
    await store.save_alerts(resolved)

    assert await store.prune_history(T0 + 5 * day) == 3  # the old alert, two notifications
    assert [a.key.job for a in await store.load_alerts()] == ["ns.d", "ns.c", "ns.b"]
    assert [n.key for n in await store.notifications()] == ["k-owed", "k-recent"]
    assert [n.key for n in await store.pending_notifications()] == ["k-owed"]
    assert await store.prune_history(T0 + 5 * day) == 0
    later = alert("ns.e", at=4)
    await store.save_alerts([later], [note(later, "k-later")])  # seqs are not reused
    assert (await store.pending_notifications())[-1].seq > seqs["k-owed"]
