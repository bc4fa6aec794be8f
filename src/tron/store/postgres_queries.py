"""The SQL of the PostgreSQL store: one coroutine per store operation.

Each takes a cursor inside the transaction the store opened (and fenced) and never commits.
Rows hold the same text and JSON as the SQLite store's (see sqlite_queries), so the two
stores read each other's data and `trond migrate-state` copies rows unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg import AsyncCursor

from tron.core.records import ActionRun, JobRun
from tron.errors import ConflictError, NotFoundError
from tron.store.base import ConfigVersion, JobState, Transition
from tron.store.codec import decode_datetime, dumps, encode_datetime, encode_record
from tron.store.common import decoded, make_transition, transition_key
from tron.store.lease import RunChanges
from tron.store.renames import RenamePlan, batches
from tron.store.rows import (
    action_run_rows,
    action_runs_by_run,
    first_transition_rows,
    job_runs_of,
    json_object,
    run_columns,
)

Cursor = AsyncCursor[Any]

# Byte order, as SQLite sorts text, whatever locale the server was created with.
_C = 'COLLATE "C"'


async def save_config_version(
    cur: Cursor, namespace: str, text: str, hash: str, saved_at: datetime
) -> ConfigVersion:
    await cur.execute(
        "INSERT INTO config_versions (namespace, version, text, hash, saved_at)"
        " SELECT %(ns)s, coalesce(max(version), 0) + 1, %(text)s, %(hash)s, %(at)s"
        " FROM config_versions WHERE namespace = %(ns)s RETURNING version",
        {"ns": namespace, "text": text, "hash": hash, "at": encode_datetime(saved_at)},
    )
    row = await cur.fetchone()
    assert row is not None
    return ConfigVersion(
        version=row[0], namespace=namespace, text=text, hash=hash, saved_at=saved_at
    )


async def config_versions(cur: Cursor, namespace: str | None) -> list[ConfigVersion]:
    await cur.execute(
        "SELECT version, namespace, text, hash, saved_at FROM config_versions"
        " WHERE %(ns)s::text IS NULL OR namespace = %(ns)s ORDER BY id",
        {"ns": namespace},
    )
    return [
        ConfigVersion(
            version=v,
            namespace=ns,
            text=t,
            hash=h,
            saved_at=decoded("config_versions", f"{ns} version {v}", decode_datetime, at),
        )
        for v, ns, t, h, at in await cur.fetchall()
    ]


async def load_job_states(cur: Cursor) -> dict[str, JobState]:
    await cur.execute("SELECT job_name, enabled, next_run_num FROM job_state")
    return {
        name: JobState(job_name=name, enabled=enabled, next_run_num=num)
        for name, enabled, num in await cur.fetchall()
    }


async def set_job_enabled(cur: Cursor, job_name: str, enabled: bool | None) -> None:
    await cur.execute(
        "INSERT INTO job_state (job_name, enabled) VALUES (%s, %s)"
        " ON CONFLICT (job_name) DO UPDATE SET enabled = excluded.enabled",
        (job_name, enabled),
    )


async def create_job_run(
    cur: Cursor, job_run: JobRun, slot: str | None, now: datetime, retrying: bool
) -> bool:
    run_time, manual, node, start, end, record = run_columns(job_run)
    await cur.execute(
        "INSERT INTO job_runs (job_name, run_num, run_time, manual, node, start_time,"
        " end_time, record, slot) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT DO NOTHING",
        (job_run.job_name, job_run.run_num, run_time, bool(manual), node, start, end, record,
         slot),
    )  # fmt: skip
    if cur.rowcount == 0:
        return await run_not_inserted(cur, job_run, slot, retrying)
    await _insert_action_runs(cur, job_run.action_runs, now)
    await cur.execute(
        "INSERT INTO job_state (job_name, next_run_num) VALUES (%s, %s)"
        " ON CONFLICT (job_name) DO UPDATE"
        " SET next_run_num = greatest(job_state.next_run_num, excluded.next_run_num)",
        (job_run.job_name, job_run.run_num + 1),
    )
    return True


async def run_not_inserted(cur: Cursor, job_run: JobRun, slot: str | None, retrying: bool) -> bool:
    """create_job_run's answer when the run's row was already there."""
    if retrying and await _is_ours(cur, job_run, slot):
        # The connection broke after our commit: the run is the one this call wrote.
        return True
    if slot is not None and await _slot_taken(cur, job_run.job_name, slot):
        return False
    raise ConflictError(f"job run {job_run.id} already exists")


async def _is_ours(cur: Cursor, job_run: JobRun, slot: str | None) -> bool:
    await cur.execute(
        "SELECT slot IS NOT DISTINCT FROM %s FROM job_runs WHERE job_name = %s AND run_num = %s",
        (slot, job_run.job_name, job_run.run_num),
    )
    row = await cur.fetchone()
    return row is not None and bool(row[0])


async def _insert_action_runs(
    cur: Cursor, action_runs: tuple[ActionRun, ...], now: datetime
) -> None:
    """The action runs of a job run just inserted, and their first transitions."""
    if len({action_run.action_name for action_run in action_runs}) < len(action_runs):
        # A name given twice: the later save updates the earlier one, as a save would.
        for action_run in action_runs:
            await save_action_run(cur, action_run, None, now)
        return
    if not action_runs:
        return
    await cur.executemany(
        "INSERT INTO action_runs (job_name, run_num, action_name, position, state,"
        " attempt_count, exit_status, record) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        action_run_rows(action_runs),
    )
    await cur.executemany(
        "INSERT INTO transitions (action_run_id, seq, state, at, exit_status, node, reason)"
        " VALUES (%s, 1, %s, %s, %s, %s, NULL)",
        first_transition_rows(action_runs, now),
    )


async def _slot_taken(cur: Cursor, job_name: str, slot: str) -> bool:
    await cur.execute("SELECT 1 FROM job_runs WHERE job_name = %s AND slot = %s", (job_name, slot))
    return await cur.fetchone() is not None


FIND_RUN = "SELECT 1 FROM job_runs WHERE job_name = %s AND run_num = %s"


async def find_run(cur: Cursor, job_name: str, run_num: int) -> bool:
    await cur.execute(FIND_RUN, (job_name, run_num))
    return await cur.fetchone() is not None


UPDATE_JOB_RUN = (
    "UPDATE job_runs SET run_time = %s, manual = %s, node = %s, start_time = %s,"
    " end_time = %s, record = %s WHERE job_name = %s AND run_num = %s"
)


def job_run_params(job_run: JobRun) -> tuple[Any, ...]:
    """UPDATE_JOB_RUN's parameters."""
    run_time, manual, node, start, end, record = run_columns(job_run)
    return (run_time, bool(manual), node, start, end, record, job_run.job_name, job_run.run_num)


async def save_job_run(cur: Cursor, job_run: JobRun) -> None:
    await cur.execute(UPDATE_JOB_RUN, job_run_params(job_run))
    if cur.rowcount == 0:
        raise NotFoundError(f"job run {job_run.id} not found")


# Updates the row and, when its state, attempts or exit changed, appends a transition: one
# round trip. Answers whether the row was there (a missing one is inserted separately).
UPDATE_AND_LOG = (
    "WITH old AS (SELECT state, attempt_count, exit_status FROM action_runs"
    " WHERE job_name = %(job)s AND run_num = %(num)s AND action_name = %(name)s FOR UPDATE),"
    " upd AS (UPDATE action_runs a SET state = %(state)s, attempt_count = %(attempts)s,"
    " exit_status = %(exit)s, record = %(record)s FROM old"
    " WHERE a.job_name = %(job)s AND a.run_num = %(num)s AND a.action_name = %(name)s"
    " RETURNING old.state, old.attempt_count, old.exit_status),"
    " log AS (INSERT INTO transitions (action_run_id, seq, state, at, exit_status, node, reason)"
    " SELECT %(id)s, coalesce((SELECT max(seq) FROM transitions WHERE action_run_id = %(id)s),"
    " 0) + 1, %(state)s, %(at)s, %(exit)s, %(node)s, %(reason)s FROM upd"
    " WHERE (upd.state, upd.attempt_count, upd.exit_status)"
    " IS DISTINCT FROM (%(state)s, %(attempts)s::integer, %(exit)s::integer) RETURNING 1)"
    " SELECT count(*) FROM upd"
)


async def save_action_run(
    cur: Cursor, action_run: ActionRun, reason: str | None, now: datetime
) -> bool:
    """Update (or add) the action run, logging a transition when it is one; whether its row
    was already there."""
    params = action_run_params(action_run, reason, now)
    await cur.execute(UPDATE_AND_LOG, params)
    row = await cur.fetchone()
    if row is not None and row[0]:
        return True
    await _insert_action_run(cur, action_run, params)
    await _append_transition(cur, params)
    return False


def action_run_params(action_run: ActionRun, reason: str | None, now: datetime) -> dict[str, Any]:
    """UPDATE_AND_LOG's parameters."""
    state, attempts, exit_status = transition_key(action_run)
    t = make_transition(action_run, seq=0, at=now, reason=reason)
    return {
        "job": action_run.job_name,
        "num": action_run.run_num,
        "name": action_run.action_name,
        "state": state,
        "attempts": attempts,
        "exit": exit_status,
        "record": dumps(encode_record(action_run)),
        "id": t.action_run_id,
        "at": encode_datetime(t.at),
        "node": t.node,
        "reason": t.reason,
    }


async def _insert_action_run(cur: Cursor, action_run: ActionRun, params: dict[str, Any]) -> None:
    if not await find_run(cur, action_run.job_name, action_run.run_num):
        raise NotFoundError(f"job run {action_run.id.job_run_id} not found")
    await cur.execute(
        "INSERT INTO action_runs (job_name, run_num, action_name, position, state,"
        " attempt_count, exit_status, record)"
        " SELECT %(job)s, %(num)s, %(name)s, count(*), %(state)s, %(attempts)s, %(exit)s,"
        " %(record)s FROM action_runs WHERE job_name = %(job)s AND run_num = %(num)s",
        params,
    )


async def _append_transition(cur: Cursor, params: dict[str, Any]) -> None:
    """The action run's next transition, from save_action_run's parameters."""
    await cur.execute(
        "INSERT INTO transitions (action_run_id, seq, state, at, exit_status, node, reason)"
        " SELECT %(id)s, coalesce(max(seq), 0) + 1, %(state)s, %(at)s, %(exit)s, %(node)s,"
        " %(reason)s FROM transitions WHERE action_run_id = %(id)s",
        params,
    )


async def save_run_changes(
    cur: Cursor,
    job_run: JobRun,
    action_runs: Sequence[ActionRun],
    header: bool,
    handle: tuple[str, dict[str, Any]] | None,
    events: Sequence[str],
    now: datetime,
) -> None:
    # One transaction: the change lands whole or not at all.
    if header:
        await save_job_run(cur, job_run)
    elif not action_runs and not await find_run(cur, job_run.job_name, job_run.run_num):
        raise NotFoundError(f"job run {job_run.id} not found")
    # (An action run of a missing job run is refused by save_action_run.)
    for action_run in action_runs:
        await save_action_run(cur, action_run, None, now)
    if handle is not None:
        await save_handle(cur, *handle)
    for event_id in events:
        await add_event(cur, event_id)


async def transitions(cur: Cursor, action_run_id: str) -> list[Transition]:
    await cur.execute(
        "SELECT seq, state, at, exit_status, node, reason FROM transitions"
        " WHERE action_run_id = %s ORDER BY seq",
        (action_run_id,),
    )
    return [
        Transition(action_run_id=action_run_id, seq=seq, state=state,
                   at=decode_datetime(at), exit_status=status, node=node, reason=reason)
        for seq, state, at, status, node, reason in await cur.fetchall()
    ]  # fmt: skip


async def load_job_runs(cur: Cursor, job_name: str | None) -> list[JobRun]:
    await cur.execute(
        "SELECT job_name, run_num, action_name, record FROM action_runs"
        f" WHERE %(job)s::text IS NULL OR job_name = %(job)s ORDER BY job_name {_C}, run_num,"
        " position",
        {"job": job_name},
    )
    action_rows = await all_rows(cur)
    await cur.execute(
        "SELECT job_name, run_num, record FROM job_runs"
        f" WHERE %(job)s::text IS NULL OR job_name = %(job)s ORDER BY job_name {_C}, run_num",
        {"job": job_name},
    )
    job_rows = await all_rows(cur)
    return await asyncio.to_thread(_decoded_runs, action_rows, job_rows)


# A long history (a million action runs) takes seconds to convert and decode. Its rows are
# converted a chunk at a time with the event loop let run between, and decoded on a thread:
# a leader loading them goes on renewing its lease, and a standby on answering.
ROWS_AT_ONCE = 5000


async def all_rows(cur: Cursor) -> list[Any]:
    """Every row of the cursor's last query, taken ROWS_AT_ONCE at a time."""
    rows: list[Any] = []
    while chunk := await cur.fetchmany(ROWS_AT_ONCE):
        rows.extend(chunk)
        await asyncio.sleep(0)
    return rows


def _decoded_runs(action_rows: list[Any], job_rows: list[Any]) -> list[JobRun]:
    return job_runs_of(job_rows, action_runs_by_run(action_rows))


# Rows written by a transaction at or above this id may be unseen by the previous read.
_TOUCHED = (
    "WITH touched AS (SELECT job_name, run_num FROM job_runs WHERE changed >= %(m)s::text::xid8"
    " UNION SELECT job_name, run_num FROM action_runs WHERE changed >= %(m)s::text::xid8)"
)


async def run_changes(cur: Cursor, since: int | None) -> RunChanges:
    """See LeaseStore.run_changes: one snapshot (repeatable read) for every read."""
    await cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    # Every transaction this snapshot cannot see has an id at or above its xmin.
    await cur.execute(
        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint,"
        " (SELECT coalesce(max(id), 0) FROM config_versions)"
    )
    row = await cur.fetchone()
    assert row is not None
    mark, config_mark = int(row[0]), int(row[1])
    if since is None:
        runs = await load_job_runs(cur, None)
        return RunChanges(mark=mark, full=True, runs=runs, deleted=[], config_mark=config_mark)
    key = {"m": str(since)}
    await cur.execute(
        f"{_TOUCHED} SELECT a.job_name, a.run_num, a.action_name, a.record"
        f" FROM action_runs a JOIN touched USING (job_name, run_num) ORDER BY a.position",
        key,
    )
    action_rows = await all_rows(cur)
    await cur.execute(
        f"{_TOUCHED} SELECT r.job_name, r.run_num, r.record"
        " FROM job_runs r JOIN touched USING (job_name, run_num)",
        key,
    )
    runs = await asyncio.to_thread(_decoded_runs, action_rows, await all_rows(cur))
    await cur.execute(
        "SELECT job_name, run_num FROM run_deletions WHERE changed >= %(m)s::text::xid8", key
    )
    deleted = [(name, num) for name, num in await cur.fetchall()]
    return RunChanges(mark=mark, full=False, runs=runs, deleted=deleted, config_mark=config_mark)


async def delete_job_run(cur: Cursor, job_name: str, run_num: int) -> None:
    ids = "SELECT job_name || '.' || run_num || '.' || action_name FROM action_runs"
    ids += " WHERE job_name = %(job)s AND run_num = %(num)s"
    key = {"job": job_name, "num": run_num}
    await cur.execute(f"DELETE FROM transitions WHERE action_run_id IN ({ids})", key)
    await cur.execute(f"DELETE FROM handles WHERE action_run_id IN ({ids})", key)
    await cur.execute("DELETE FROM action_runs WHERE job_name = %(job)s AND run_num = %(num)s", key)
    await cur.execute("DELETE FROM job_runs WHERE job_name = %(job)s AND run_num = %(num)s", key)


def handle_statement(action_run_id: str, handle: dict[str, Any] | None) -> tuple[str, Any]:
    """The statement that saves (or, with None, forgets) a handle, and its parameters."""
    if handle is None:
        return "DELETE FROM handles WHERE action_run_id = %s", (action_run_id,)
    return (
        "INSERT INTO handles (action_run_id, handle) VALUES (%s, %s)"
        " ON CONFLICT (action_run_id) DO UPDATE SET handle = excluded.handle",
        (action_run_id, dumps(handle)),
    )


async def save_handle(cur: Cursor, action_run_id: str, handle: dict[str, Any] | None) -> None:
    await cur.execute(*handle_statement(action_run_id, handle))


async def load_handles(cur: Cursor) -> dict[str, dict[str, Any]]:
    await cur.execute(f"SELECT action_run_id, handle FROM handles ORDER BY action_run_id {_C}")
    return {
        action_run_id: decoded("handles", action_run_id, json_object, handle)
        for action_run_id, handle in await cur.fetchall()
    }


ADD_EVENT = "INSERT INTO events (event_id) VALUES (%s) ON CONFLICT DO NOTHING"


async def add_event(cur: Cursor, event_id: str) -> bool:
    await cur.execute(ADD_EVENT, (event_id,))
    return cur.rowcount == 1


async def delete_event(cur: Cursor, event_id: str) -> bool:
    await cur.execute("DELETE FROM events WHERE event_id = %s", (event_id,))
    return cur.rowcount == 1


async def events(cur: Cursor) -> list[str]:
    await cur.execute("SELECT event_id FROM events ORDER BY id")
    return [event_id for (event_id,) in await cur.fetchall()]


async def rename_job(cur: Cursor, old: str, new: str, retrying: bool) -> None:
    plan = RenamePlan(old, new)
    found = {}
    for name, (sql, params) in plan.reads(alerts=True).items():
        await cur.execute(_marks(sql), params)
        found[name] = await cur.fetchall()
    if retrying and found["taken"] and not found["runs"]:
        return  # the connection broke after our commit: the runs moved already
    for sql, rows in batches(plan.writes(found)):
        await cur.executemany(_marks(sql), rows)


def _marks(sql: str) -> bytes:
    """The plan's `?` markers as psycopg's `%s` (the plan's SQL holds no other `?` or `%`)."""
    return sql.replace("?", "%s").encode()
