"""`trond migrate-state`: copy a whole state between stores (SQLite <-> PostgreSQL): runs,
config versions, flags, events, and the alerts with their outbox, audit log and silences.

The two stores share one schema in spirit (same tables, columns and JSON records; only the
column types differ), so the copy is row by row, table by table, and then checked by counting
every table on both sides. The lease is not copied: it belongs to the daemons of a database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tron.errors import StoreError
from tron.store.dsn import is_database_url
from tron.store.postgres import PostgresStore
from tron.store.postgres_queries import Cursor
from tron.store.sqlite import SqliteStore


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[str, ...]
    booleans: tuple[str, ...] = ()  # INTEGER in SQLite, BOOLEAN in PostgreSQL
    serial: str | None = None  # an id column whose sequence follows the copied ids
    # The order rows were written in, where reads depend on it and no copied column keeps
    # it: SQLite's rowid, PostgreSQL's column for it (which the copy then fills in order).
    order: tuple[str, str] | None = None


# In the order they are written (a run before its action runs).
TABLES = (
    Table("config_versions", ("id", "namespace", "version", "text", "hash", "saved_at"),
          serial="id"),
    Table("job_state", ("job_name", "enabled", "next_run_num"), booleans=("enabled",)),
    Table("job_runs", ("job_name", "run_num", "run_time", "manual", "node", "start_time",
                       "end_time", "slot", "record"), booleans=("manual",)),
    Table("action_runs", ("job_name", "run_num", "action_name", "position", "state",
                          "attempt_count", "exit_status", "record")),
    Table("transitions", ("action_run_id", "seq", "state", "at", "exit_status", "node",
                          "reason")),
    Table("handles", ("action_run_id", "handle")),
    Table("events", ("id", "event_id"), serial="id"),
    Table("alerts", ("id", "job", "kind", "state", "record"), order=("rowid", "position")),
    Table("outbox", ("seq", "key", "alert_id", "job", "state", "created_at", "record"),
          serial="seq"),
    Table("audit_log", ("seq", "at", "who", "command", "target", "result", "ok"),
          booleans=("ok",), serial="seq"),
    Table("silences", ("job", "until")),
)  # fmt: skip

Rows = list[tuple[Any, ...]]
AnyStore = SqliteStore | PostgresStore


def open_location(location: str) -> AnyStore:
    """`sqlite:PATH` (or a path) or a `postgresql://` URL, not yet opened."""
    if is_database_url(location):
        return PostgresStore(location)
    path = location.removeprefix("sqlite:")
    if not path:
        raise StoreError(f"not a state location: {location!r} (sqlite:PATH or postgresql://...)")
    return SqliteStore(Path(path))


def describe(store: AnyStore) -> str:
    return store.where if isinstance(store, PostgresStore) else f"sqlite:{store.path}"


async def counts(store: AnyStore) -> dict[str, int]:
    return {table.name: len(await read_rows(store, table)) for table in TABLES}


async def copy_state(source: AnyStore, target: AnyStore, *, force: bool) -> dict[str, int]:
    """Copy every table of `source` into `target` (both open); the rows per table.

    Refuses a target that holds anything unless `force`, which empties it first. Raises
    StoreError when the counts do not match afterwards.
    """
    held = {name: n for name, n in (await counts(target)).items() if n}
    if held and not force:
        listed = ", ".join(f"{n} {name}" for name, n in held.items())
        raise StoreError(
            f"{describe(target)} is not empty ({listed}); use --force to replace what it holds"
        )
    data = {table.name: await read_rows(source, table) for table in TABLES}
    await write_all(target, data, empty_first=bool(held))
    copied = await counts(target)
    expected = {name: len(rows) for name, rows in data.items()}
    if copied != expected:
        raise StoreError(f"copy incomplete: expected {expected}, found {copied}")
    return copied


async def read_rows(store: AnyStore, table: Table) -> Rows:
    select = f"SELECT {', '.join(table.columns)} FROM {table.name}"
    is_postgres = isinstance(store, PostgresStore)
    if table.order is not None:
        select += f" ORDER BY {table.order[is_postgres]}"
    if isinstance(store, PostgresStore):

        async def read(cur: Cursor, _: bool) -> Rows:
            await cur.execute(select.encode())
            return [tuple(row) for row in await cur.fetchall()]

        return await store.read(read)
    return await store.run(lambda conn: [tuple(r) for r in conn.execute(select).fetchall()])


async def write_all(store: AnyStore, data: dict[str, Rows], *, empty_first: bool) -> None:
    """Every table's rows in one transaction (after emptying the target when asked)."""
    if isinstance(store, PostgresStore):
        await store.write(lambda cur, _: _write_postgres(cur, data, empty_first=empty_first))
        return

    def write_sqlite(conn: sqlite3.Connection) -> None:
        if empty_first:
            for table in reversed(TABLES):
                conn.execute(f"DELETE FROM {table.name}")
        for table in TABLES:
            conn.executemany(_insert(table, "?"), _typed(table, data[table.name], to_bool=False))

    await store.run(write_sqlite)


async def _write_postgres(cur: Cursor, data: dict[str, Rows], *, empty_first: bool) -> None:
    if empty_first:
        await cur.execute(f"TRUNCATE {', '.join(t.name for t in TABLES)}".encode())
    for table in TABLES:
        rows = _typed(table, data[table.name], to_bool=True)
        if rows:
            await cur.executemany(_insert(table, "%s").encode(), rows)
        if table.serial:
            # The next id follows the copied ones, so new rows keep sorting after them.
            await cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{table.serial}'),"
                f" coalesce(max({table.serial}), 0) + 1, false) FROM {table.name}".encode()
            )


def _insert(table: Table, mark: str) -> str:
    marks = ", ".join(mark for _ in table.columns)
    return f"INSERT INTO {table.name} ({', '.join(table.columns)}) VALUES ({marks})"


def _typed(table: Table, rows: Sequence[tuple[Any, ...]], *, to_bool: bool) -> Rows:
    if not table.booleans:
        return list(rows)
    flags = [table.columns.index(name) for name in table.booleans]
    out = []
    for row in rows:
        values = list(row)
        for i in flags:
            if values[i] is not None:
                values[i] = bool(values[i]) if to_bool else int(values[i])
        out.append(tuple(values))
    return out
