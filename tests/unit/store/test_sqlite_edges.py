"""The SQLite store tells the truth at its edges: damaged rows, empty files, newer schemas."""

from __future__ import annotations

import sqlite3
import stat
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tron.core.records import ActionRun, JobRun
from tron.errors import StoreError
from tron.store import create_store, state_files
from tron.store.common import DamagedRecordError
from tron.store.memory import MemoryStore
from tron.store.migrations import apply_migrations, available_migrations
from tron.store.sqlite import SqliteStore

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def job_run(num: int) -> JobRun:
    action = ActionRun(
        job_name="ns.job", run_num=num, action_name="a", raw_command="true", original_command="true"
    )
    return JobRun(job_name="ns.job", run_num=num, run_time=T0, action_runs=(action,))


async def _store_with_a_run(path: Path) -> None:
    store = SqliteStore(path)
    await store.open()
    await store.create_job_run(job_run(3))
    await store.save_handle("ns.job.3.a", {"pid": 1})
    await store.save_config_version("MASTER", "jobs: {}\n", "h")
    await store.close()


async def _load_everything(store: SqliteStore) -> None:
    await store.load_job_runs()
    await store.load_handles()


def _damage(path: Path, sql: str) -> None:
    # `with connect()` commits but does not close (CPython 3.13 warns of the open connection).
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(sql)


@pytest.mark.parametrize(
    ("sql", "table", "key", "problem"),
    [
        (
            "UPDATE action_runs SET record = '{not json'",
            "action_runs",
            "ns.job.3.a",
            "invalid JSON (Expecting property name enclosed in double quotes, char 1)",
        ),
        (
            "UPDATE action_runs SET record = '[1, 2]'",
            "action_runs",
            "ns.job.3.a",
            "wrong record shape (a JSON list where an object belongs)",
        ),
        (
            """UPDATE action_runs SET record = json_set(record, '$.state', 'bogus')""",
            "action_runs",
            "ns.job.3.a",
            "wrong record shape ('bogus' is not a valid ActionRunState)",
        ),
        ("UPDATE job_runs SET record = ''", "job_runs", "ns.job.3", "invalid JSON"),
        (
            "UPDATE job_runs SET record = '{}'",
            "job_runs",
            "ns.job.3",
            "wrong record shape (stored JobRun does not match the record:",
        ),
        ("UPDATE handles SET handle = '\"x\"'", "handles", "ns.job.3.a", "wrong record shape"),
    ],
)
async def test_a_damaged_row_names_file_table_and_key(
    tmp_path: Path, sql: str, table: str, key: str, problem: str
) -> None:
    path = tmp_path / "state.sqlite"
    await _store_with_a_run(path)
    _damage(path, sql)
    store = SqliteStore(path)
    await store.open()
    try:
        with pytest.raises(DamagedRecordError) as caught:
            await _load_everything(store)
    finally:
        await store.close()
    assert str(caught.value).startswith(f"{path}, {table}, {key}: {problem}")
    assert (caught.value.file, caught.value.table, caught.value.key) == (str(path), table, key)


async def test_a_damaged_config_version_is_named(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    await _store_with_a_run(path)
    _damage(path, "UPDATE config_versions SET saved_at = 'yesterday'")
    store = SqliteStore(path)
    await store.open()
    try:
        with pytest.raises(DamagedRecordError, match=r"config_versions, MASTER version 1: wrong"):
            await store.config_versions()
    finally:
        await store.close()


async def test_an_empty_database_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    path.touch()
    with pytest.raises(StoreError) as caught:
        await SqliteStore(path).open()
    assert str(caught.value) == (
        f"{path} is empty: not a tron state database; move it away to start fresh"
    )
    assert path.stat().st_size == 0


async def test_a_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    await _store_with_a_run(path)
    _damage(path, "INSERT INTO schema_migrations (version, name) VALUES (9999, 'future')")
    with pytest.raises(StoreError) as caught:
        await SqliteStore(path).open()
    assert str(caught.value) == (
        f"{path}: the state was written by a newer trond (schema version 9999; this trond knows"
        f" up to {available_migrations()[-1].version}): upgrade trond to use it, or move it away"
        " to start fresh"
    )


def test_newer_schema_check_sees_only_known_migrations() -> None:
    with closing(sqlite3.connect(":memory:", isolation_level=None)) as conn:
        conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO schema_migrations VALUES (1, 'x')")
        with pytest.raises(StoreError, match="this trond knows up to 0"):
            apply_migrations(conn, migrations=[])


async def test_a_new_database_and_its_wal_get_the_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    store = create_store("sqlite", path, file_mode=0o640)
    await store.open()
    await store.create_job_run(job_run(1))
    try:
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in state_files(store) if p.exists()}
    finally:
        await store.close()
    assert modes == {"state.sqlite": 0o640, "state.sqlite-wal": 0o640, "state.sqlite-shm": 0o640}


def test_a_memory_store_has_no_files() -> None:
    assert state_files(MemoryStore()) == []
