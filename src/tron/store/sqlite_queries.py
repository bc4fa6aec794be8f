"""The SQL of the SQLite store: one function per store operation, run on the worker thread.

Each function takes the connection first and runs inside the transaction (and savepoint)
the worker opened; none commits.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tron.core.records import ActionRun, JobRun
from tron.errors import ConflictError, NotFoundError
from tron.store.base import ConfigVersion, JobState, Transition
from tron.store.codec import (
    decode_datetime,
    dumps,
    encode_datetime,
    encode_record,
)
from tron.store.common import decoded, make_transition, transition_key
from tron.store.renames import RenamePlan, batches
from tron.store.rows import (
    action_run_rows,
    action_runs_by_run,
    first_transition_rows,
    job_runs_of,
    json_object,
    run_columns,
)


def save_config_version(
    conn: sqlite3.Connection, namespace: str, text: str, hash: str, saved_at: datetime
) -> ConfigVersion:
    row = conn.execute(
        "SELECT coalesce(max(version), 0) + 1 FROM config_versions WHERE namespace = ?",
        (namespace,),
    ).fetchone()
    version = ConfigVersion(
        version=row[0], namespace=namespace, text=text, hash=hash, saved_at=saved_at
    )
    conn.execute(
        "INSERT INTO config_versions (namespace, version, text, hash, saved_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (namespace, version.version, text, hash, encode_datetime(saved_at)),
    )
    return version


def config_versions(conn: sqlite3.Connection, namespace: str | None) -> list[ConfigVersion]:
    rows = conn.execute(
        "SELECT version, namespace, text, hash, saved_at FROM config_versions"
        " WHERE ?1 IS NULL OR namespace = ?1 ORDER BY id",
        (namespace,),
    )
    return [
        ConfigVersion(
            version=v,
            namespace=ns,
            text=t,
            hash=h,
            saved_at=decoded("config_versions", f"{ns} version {v}", decode_datetime, at),
        )
        for v, ns, t, h, at in rows
    ]


def load_job_states(conn: sqlite3.Connection) -> dict[str, JobState]:
    rows = conn.execute("SELECT job_name, enabled, next_run_num FROM job_state")
    return {
        name: JobState(
            job_name=name, enabled=None if enabled is None else bool(enabled), next_run_num=num
        )
        for name, enabled, num in rows
    }


def set_job_enabled(conn: sqlite3.Connection, job_name: str, enabled: bool | None) -> None:
    conn.execute(
        "INSERT INTO job_state (job_name, enabled) VALUES (?, ?)"
        " ON CONFLICT (job_name) DO UPDATE SET enabled = excluded.enabled",
        (job_name, enabled),
    )


def create_job_run(
    conn: sqlite3.Connection, job_run: JobRun, slot: str | None, now: datetime
) -> bool:
    # The table's keys decide (one INSERT, no SELECTs first); why it was refused is only
    # looked up when it was.
    cursor = conn.execute(
        "INSERT INTO job_runs (job_name, run_num, run_time, manual, node, start_time,"
        " end_time, record, slot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (job_run.job_name, job_run.run_num, *run_columns(job_run), slot),
    )
    if cursor.rowcount == 0:
        if slot is not None and _slot_taken(conn, job_run.job_name, slot):
            return False
        raise ConflictError(f"job run {job_run.id} already exists")
    _insert_action_runs(conn, job_run.action_runs, now)
    conn.execute(
        "INSERT INTO job_state (job_name, next_run_num) VALUES (?, ?)"
        " ON CONFLICT (job_name) DO UPDATE"
        " SET next_run_num = max(next_run_num, excluded.next_run_num)",
        (job_run.job_name, job_run.run_num + 1),
    )
    return True


def _insert_action_runs(
    conn: sqlite3.Connection, action_runs: tuple[ActionRun, ...], now: datetime
) -> None:
    """The action runs of a job run just inserted, and their first transitions."""
    if len({action_run.action_name for action_run in action_runs}) < len(action_runs):
        # A name given twice: the later save updates the earlier one, as a save would.
        for action_run in action_runs:
            save_action_run(conn, action_run, None, now)
        return
    conn.executemany(
        "INSERT INTO action_runs (job_name, run_num, action_name, position, state,"
        " attempt_count, exit_status, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        action_run_rows(action_runs),
    )
    conn.executemany(
        "INSERT INTO transitions (action_run_id, seq, state, at, exit_status, node, reason)"
        " SELECT ?1, coalesce(max(seq), 0) + 1, ?2, ?3, ?4, ?5, NULL FROM transitions"
        " WHERE action_run_id = ?1",
        first_transition_rows(action_runs, now),
    )


def _slot_taken(conn: sqlite3.Connection, job_name: str, slot: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM job_runs WHERE job_name = ? AND slot = ?", (job_name, slot)
    ).fetchone()
    return row is not None


def _find_run(conn: sqlite3.Connection, job_name: str, run_num: int) -> bool:
    row = conn.execute(
        "SELECT 1 FROM job_runs WHERE job_name = ? AND run_num = ?", (job_name, run_num)
    ).fetchone()
    return row is not None


def save_job_run(conn: sqlite3.Connection, job_run: JobRun) -> None:
    cursor = conn.execute(
        "UPDATE job_runs SET run_time = ?, manual = ?, node = ?, start_time = ?,"
        " end_time = ?, record = ? WHERE job_name = ? AND run_num = ?",
        (*run_columns(job_run), job_run.job_name, job_run.run_num),
    )
    if cursor.rowcount == 0:
        raise NotFoundError(f"job run {job_run.id} not found")


def save_action_run(
    conn: sqlite3.Connection, action_run: ActionRun, reason: str | None, now: datetime
) -> None:
    key = (action_run.job_name, action_run.run_num, action_run.action_name)
    stored = conn.execute(
        "SELECT state, attempt_count, exit_status FROM action_runs"
        " WHERE job_name = ? AND run_num = ? AND action_name = ?",
        key,
    ).fetchone()
    state, attempts, exit_status = transition_key(action_run)
    record = dumps(encode_record(action_run))
    if stored is None:
        _insert_action_run(conn, action_run, record)
    else:
        conn.execute(
            "UPDATE action_runs SET state = ?, attempt_count = ?, exit_status = ?, record = ?"
            " WHERE job_name = ? AND run_num = ? AND action_name = ?",
            (state, attempts, exit_status, record, *key),
        )
    if stored is None or tuple(stored) != (state, attempts, exit_status):
        _append_transition(conn, action_run, reason, now)


def save_run_changes(
    conn: sqlite3.Connection,
    job_run: JobRun,
    action_runs: Sequence[ActionRun],
    header: bool,
    handle: tuple[str, dict[str, Any]] | None,
    events: Sequence[str],
    now: datetime,
) -> None:
    # One operation, so one savepoint: the change lands whole or not at all.
    if header:
        save_job_run(conn, job_run)
    elif not _find_run(conn, job_run.job_name, job_run.run_num):
        raise NotFoundError(f"job run {job_run.id} not found")
    for action_run in action_runs:
        save_action_run(conn, action_run, None, now)
    if handle is not None:
        save_handle(conn, *handle)
    for event_id in events:
        add_event(conn, event_id)


def _insert_action_run(conn: sqlite3.Connection, action_run: ActionRun, record: str) -> None:
    if not _find_run(conn, action_run.job_name, action_run.run_num):
        raise NotFoundError(f"job run {action_run.id.job_run_id} not found")
    state, attempts, exit_status = transition_key(action_run)
    conn.execute(
        "INSERT INTO action_runs (job_name, run_num, action_name, position, state,"
        " attempt_count, exit_status, record) SELECT ?1, ?2, ?3, count(*), ?4, ?5, ?6, ?7"
        " FROM action_runs WHERE job_name = ?1 AND run_num = ?2",
        (action_run.job_name, action_run.run_num, action_run.action_name,
         state, attempts, exit_status, record),
    )  # fmt: skip


def _append_transition(
    conn: sqlite3.Connection, action_run: ActionRun, reason: str | None, now: datetime
) -> None:
    action_run_id = str(action_run.id)
    row = conn.execute(
        "SELECT coalesce(max(seq), 0) + 1 FROM transitions WHERE action_run_id = ?",
        (action_run_id,),
    ).fetchone()
    t = make_transition(action_run, seq=row[0], at=now, reason=reason)
    conn.execute(
        "INSERT INTO transitions (action_run_id, seq, state, at, exit_status, node, reason)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (t.action_run_id, t.seq, t.state, encode_datetime(t.at), t.exit_status, t.node,
         t.reason),
    )  # fmt: skip


def transitions(conn: sqlite3.Connection, action_run_id: str) -> list[Transition]:
    rows = conn.execute(
        "SELECT seq, state, at, exit_status, node, reason FROM transitions"
        " WHERE action_run_id = ? ORDER BY seq",
        (action_run_id,),
    )
    return [
        Transition(action_run_id=action_run_id, seq=seq, state=state,
                   at=decode_datetime(at), exit_status=status, node=node, reason=reason)
        for seq, state, at, status, node, reason in rows
    ]  # fmt: skip


def load_job_runs(conn: sqlite3.Connection, job_name: str | None) -> list[JobRun]:
    action_runs = action_runs_by_run(
        conn.execute(
            "SELECT job_name, run_num, action_name, record FROM action_runs"
            " WHERE ?1 IS NULL OR job_name = ?1 ORDER BY job_name, run_num, position",
            (job_name,),
        )
    )
    rows = conn.execute(
        "SELECT job_name, run_num, record FROM job_runs"
        " WHERE ?1 IS NULL OR job_name = ?1 ORDER BY job_name, run_num",
        (job_name,),
    )
    return job_runs_of(rows, action_runs)


def delete_job_run(conn: sqlite3.Connection, job_name: str, run_num: int) -> None:
    ids = "SELECT job_name || '.' || run_num || '.' || action_name FROM action_runs"
    ids += " WHERE job_name = ?1 AND run_num = ?2"
    key = (job_name, run_num)
    conn.execute(f"DELETE FROM transitions WHERE action_run_id IN ({ids})", key)
    conn.execute(f"DELETE FROM handles WHERE action_run_id IN ({ids})", key)
    conn.execute("DELETE FROM action_runs WHERE job_name = ? AND run_num = ?", key)
    conn.execute("DELETE FROM job_runs WHERE job_name = ? AND run_num = ?", key)


def save_handle(
    conn: sqlite3.Connection, action_run_id: str, handle: dict[str, Any] | None
) -> None:
    if handle is None:
        conn.execute("DELETE FROM handles WHERE action_run_id = ?", (action_run_id,))
        return
    conn.execute(
        "INSERT INTO handles (action_run_id, handle) VALUES (?, ?)"
        " ON CONFLICT (action_run_id) DO UPDATE SET handle = excluded.handle",
        (action_run_id, dumps(handle)),
    )


def load_handles(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    rows = conn.execute("SELECT action_run_id, handle FROM handles ORDER BY action_run_id")
    return {
        action_run_id: decoded("handles", action_run_id, json_object, handle)
        for action_run_id, handle in rows
    }


def add_event(conn: sqlite3.Connection, event_id: str) -> bool:
    cursor = conn.execute("INSERT OR IGNORE INTO events (event_id) VALUES (?)", (event_id,))
    return cursor.rowcount == 1


def delete_event(conn: sqlite3.Connection, event_id: str) -> bool:
    cursor = conn.execute("DELETE FROM events WHERE event_id = ?", (event_id,))
    return cursor.rowcount == 1


def events(conn: sqlite3.Connection) -> list[str]:
    return [event_id for (event_id,) in conn.execute("SELECT event_id FROM events ORDER BY id")]


def rename_job(conn: sqlite3.Connection, old: str, new: str) -> None:
    plan = RenamePlan(old, new)
    found = {name: conn.execute(*read).fetchall() for name, read in plan.reads(alerts=True).items()}
    for sql, rows in batches(plan.writes(found)):
        conn.executemany(sql, rows)
