"""What only the SQLite store promises: durability, migrations, batching, lock and disk faults."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tron.core.records import ActionRun, JobRun
from tron.core.states import ActionRunState
from tron.errors import StoreError
from tron.store.migrations import (
    Migration,
    apply_migrations,
    available_migrations,
    schema_version,
)
from tron.store.sqlite import SqliteStore
from tron.store.sqlite_worker import RetrySettings

T0 = datetime(2024, 1, 1, tzinfo=UTC)

FAST_RETRY = RetrySettings(attempts=4, first_delay=0.02, max_delay=0.05, busy_timeout=0.02)


def job_run(num: int, actions: tuple[str, ...] = ("a",), command: str = "true") -> JobRun:
    return JobRun(
        job_name="ns.job",
        run_num=num,
        run_time=T0,
        action_runs=tuple(
            ActionRun(job_name="ns.job", run_num=num, action_name=a, raw_command=command,
                      original_command=command)
            for a in actions
        ),
    )  # fmt: skip


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state.sqlite"


@pytest.fixture
async def store(db_path: Path):  # type: ignore[no-untyped-def]
    store = SqliteStore(db_path, retry=FAST_RETRY)
    await store.open()
    yield store
    await store.close()


async def test_state_survives_close_and_reopen(db_path: Path) -> None:
    store = SqliteStore(db_path)
    await store.open()
    await store.create_job_run(job_run(0), slot="s0")
    await store.set_job_enabled("ns.job", False)
    await store.add_event("ns.job.e")
    await store.close()
    reopened = SqliteStore(str(db_path))
    await reopened.open()
    try:
        assert [r.run_num for r in await reopened.load_job_runs()] == [0]
        assert (await reopened.load_job_states())["ns.job"].enabled is False
        assert await reopened.events() == ["ns.job.e"]
        assert not await reopened.create_job_run(job_run(1), slot="s0")
    finally:
        await reopened.close()


async def test_migrations_reapplied_on_existing_database_do_nothing(
    store: SqliteStore, db_path: Path
) -> None:
    await store.create_job_run(job_run(0))
    await store.close()
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        assert apply_migrations(conn) == []
        assert schema_version(conn) == available_migrations()[-1].version
        assert conn.execute("SELECT count(*) FROM job_runs").fetchone() == (1,)
    finally:
        conn.close()


def test_migrations_apply_in_order_and_record_their_version() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        applied = apply_migrations(conn)
        assert applied == sorted(applied) == [m.version for m in available_migrations()]
        assert applied[0] == 1
        names = conn.execute("SELECT name FROM schema_migrations").fetchall()
        assert names == [(m.name,) for m in available_migrations()]
    finally:
        conn.close()


def test_failed_migration_rolls_back_and_raises() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    bad = Migration(version=2, name="bad", sql="CREATE TABLE extra (x); CREATE TABLE job_runs (x);")
    broken = [available_migrations()[0], bad]
    try:
        with pytest.raises(StoreError, match="migration 0002"):
            apply_migrations(conn, broken)
        assert schema_version(conn) == 1
        assert not conn.in_transaction
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'extra'").fetchall() == []
    finally:
        conn.close()


def test_migration_files_ship_inside_the_package() -> None:
    assert [m.name for m in available_migrations()][:1] == ["initial"]
    pattern = re.compile(r"^\d{4}_")
    shipped = Path(__file__).parents[3] / "src/tron/store/migrations"
    assert all(pattern.match(p.name) for p in shipped.glob("*.sql"))


async def test_connection_uses_wal_and_full_sync(store: SqliteStore) -> None:
    mode = await store.run(lambda c: c.execute("PRAGMA journal_mode").fetchone()[0])
    sync = await store.run(lambda c: c.execute("PRAGMA synchronous").fetchone()[0])
    assert (mode, sync) == ("wal", 2)


async def test_transitions_cannot_be_rewritten(store: SqliteStore) -> None:
    await store.create_job_run(job_run(0))
    with pytest.raises(StoreError, match="append-only"):
        await store.run(lambda c: c.execute("UPDATE transitions SET state = 'x'"))
    assert [t.state for t in await store.transitions("ns.job.0.a")] == ["scheduled"]


async def test_concurrent_calls_share_transactions(
    store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    names = tuple(f"a{i}" for i in range(200))
    await store.create_job_run(job_run(0, names))
    caplog.set_level(logging.DEBUG, logger="tron.store.sqlite_worker")
    await asyncio.gather(
        *(
            store.save_action_run(
                ActionRun(job_name="ns.job", run_num=0, action_name=n, raw_command="true",
                          original_command="true", state=ActionRunState.RUNNING)
            )
            for n in names
        )
    )  # fmt: skip
    found = (re.search(r"committed (\d+)", r.getMessage()) for r in caplog.records)
    sizes = [int(m[1]) for m in found if m]
    assert sum(sizes) == 200
    assert max(sizes) > 1


async def test_write_waits_for_another_connections_lock(
    store: SqliteStore, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await store.create_job_run(job_run(0))
    await store.close()  # one store per file: the patient one takes its place
    patient_retry = RetrySettings(attempts=20, first_delay=0.02, max_delay=0.05, busy_timeout=0.02)
    patient = SqliteStore(db_path, retry=patient_retry)
    await patient.open()
    other = sqlite3.connect(db_path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        committed: list[bool] = []

        def commit() -> None:
            other.execute("COMMIT")
            committed.append(True)

        asyncio.get_running_loop().call_later(0.3, commit)
        assert await patient.create_job_run(job_run(1))
        assert committed, "the write went through while the other connection held the lock"
        assert [r.run_num for r in await patient.load_job_runs()] == [0, 1]
        assert any("retry" in r.getMessage() for r in caplog.records)
    finally:
        other.close()
        await patient.close()


async def test_write_raises_store_error_when_lock_outlasts_retries(
    store: SqliteStore, db_path: Path
) -> None:
    await store.create_job_run(job_run(0))
    other = sqlite3.connect(db_path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreError, match="locked"):
            await store.create_job_run(job_run(1))
        other.execute("COMMIT")
    finally:
        other.close()
    assert await store.create_job_run(job_run(2))
    assert [r.run_num for r in await store.load_job_runs()] == [0, 2]


async def test_full_disk_fails_the_write_and_keeps_earlier_data(store: SqliteStore) -> None:
    await store.create_job_run(job_run(0))
    await store.run(lambda c: c.execute("PRAGMA max_page_count = 1"))
    with pytest.raises(StoreError, match="full"):
        await store.create_job_run(job_run(1, command="x" * 100_000))
    await store.run(lambda c: c.execute("PRAGMA max_page_count = 1073741823"))
    assert [r.run_num for r in await store.load_job_runs()] == [0]
    assert await store.create_job_run(job_run(1, command="x" * 100_000))
    assert [r.run_num for r in await store.load_job_runs()] == [0, 1]
    ok = await store.run(lambda c: c.execute("PRAGMA integrity_check").fetchone()[0])
    assert ok == "ok"


async def test_failing_operation_raises_store_error_and_spares_the_batch(
    store: SqliteStore,
) -> None:
    results = await asyncio.gather(
        store.run(lambda c: c.execute("SELECT * FROM no_such_table")),
        store.add_event("e"),
        return_exceptions=True,
    )
    assert isinstance(results[0], StoreError)
    assert results[1] is True
    assert await store.events() == ["e"]


async def test_open_raises_store_error_for_a_file_that_is_not_a_database(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tron_state"
    path.write_bytes(b"this is a shelve file, not sqlite" * 100)
    with pytest.raises(StoreError):
        await SqliteStore(path).open()


async def test_open_raises_store_error_when_directory_missing(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        await SqliteStore(tmp_path / "missing" / "state.sqlite").open()


async def test_calls_raise_store_error_when_not_open(db_path: Path) -> None:
    store = SqliteStore(db_path)
    with pytest.raises(StoreError):
        await store.events()
    await store.open()
    await store.open()
    await store.close()
    await store.close()
    with pytest.raises(StoreError):
        await store.events()


def test_retry_delay_doubles_up_to_the_cap() -> None:
    retry = RetrySettings(first_delay=0.1, max_delay=0.5)
    assert [retry.delay(n) for n in (1, 2, 3, 4)] == [0.1, 0.2, 0.4, 0.5]


async def test_cancelled_caller_does_not_break_the_store(store: SqliteStore, db_path: Path) -> None:
    other = sqlite3.connect(db_path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        task = asyncio.create_task(store.add_event("cancelled"))
        await asyncio.sleep(0.01)
        task.cancel()
        other.execute("COMMIT")
    finally:
        other.close()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await store.add_event("next")
    assert "next" in await store.events()


async def test_close_finishes_queued_operations(store: SqliteStore) -> None:
    tasks = [asyncio.create_task(store.add_event(f"e{i}")) for i in range(20)]
    await asyncio.sleep(0)
    await store.close()
    assert all(t.result() for t in tasks)
    await store.open()
    assert len(await store.events()) == 20
