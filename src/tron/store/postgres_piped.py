"""The launch path's writes in pipelined form (see postgres_batch): each sends its statements
without waiting for a result, and reads them once the batch's one sync brought them in.

Each statement whose result is read has a cursor of its own (a cursor keeps only its last
result). Whatever is unusual (a run already there, an action run to add, a missing run)
makes the finish step raise, and the batch then runs the plain form of each write
(postgres_queries), which knows what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tron.core.records import ActionRun, JobRun
from tron.errors import NotFoundError, StoreError
from tron.store import postgres_queries as q
from tron.store.postgres_batch import Connection, Cursor, Finish, Send
from tron.store.rows import action_run_rows, first_transition_rows, run_columns

# The run, its action runs, their first transitions and the job's next run number, in one
# statement: the other parts insert only when the run did (its `RETURNING` row).
_CREATE_RUN = (
    "WITH run AS (INSERT INTO job_runs (job_name, run_num, run_time, manual, node,"
    " start_time, end_time, record, slot) VALUES (%(job)s, %(num)s, %(run_time)s, %(manual)s,"
    " %(node)s, %(start)s, %(end)s, %(record)s, %(slot)s) ON CONFLICT DO NOTHING RETURNING 1),"
    " acts AS (INSERT INTO action_runs (job_name, run_num, action_name, position, state,"
    " attempt_count, exit_status, record) SELECT %(job)s, %(num)s, a.name, a.pos - 1, a.state,"
    " a.attempts, a.exit, a.record FROM run, unnest(%(names)s::text[], %(states)s::text[],"
    " %(attempts)s::integer[], %(exits)s::integer[], %(records)s::text[]) WITH ORDINALITY"
    " AS a(name, state, attempts, exit, record, pos)),"
    " log AS (INSERT INTO transitions (action_run_id, seq, state, at, exit_status, node, reason)"
    " SELECT t.id, 1, t.state, %(at)s, t.exit, t.node, NULL FROM run,"
    " unnest(%(ids)s::text[], %(first_states)s::text[], %(first_exits)s::integer[],"
    " %(nodes)s::text[]) AS t(id, state, exit, node)),"
    " next AS (INSERT INTO job_state (job_name, next_run_num) SELECT %(job)s, %(next)s FROM run"
    " ON CONFLICT (job_name) DO UPDATE"
    " SET next_run_num = greatest(job_state.next_run_num, excluded.next_run_num))"
    " SELECT count(*) FROM run"
)


class _Unusual(StoreError):
    """The pipelined form cannot finish this write: the batch runs the plain form."""


def create_job_run(job_run: JobRun, slot: str | None, now: datetime) -> Send[bool]:
    """postgres_queries.create_job_run, pipelined (when its action names are distinct)."""

    async def send(conn: Connection, retrying: bool) -> Finish[bool]:
        cur = await _sent(conn, _CREATE_RUN, create_params(job_run, slot, now))

        async def finish() -> bool:
            row = await cur.fetchone()
            if row is not None and row[0] == 1:
                return True
            return await q.run_not_inserted(conn.cursor(), job_run, slot, retrying)

        return finish

    return send


def create_params(job_run: JobRun, slot: str | None, now: datetime) -> dict[str, Any]:
    run_time, manual, node, start, end, record = run_columns(job_run)
    actions = action_run_rows(job_run.action_runs)
    firsts = first_transition_rows(job_run.action_runs, now)
    return {
        "job": job_run.job_name, "num": job_run.run_num, "run_time": run_time,
        "manual": bool(manual), "node": node, "start": start, "end": end, "record": record,
        "slot": slot, "next": job_run.run_num + 1,
        "names": [a[2] for a in actions], "states": [a[4] for a in actions],
        "attempts": [a[5] for a in actions], "exits": [a[6] for a in actions],
        "records": [a[7] for a in actions],
        "at": firsts[0][2] if firsts else None, "ids": [t[0] for t in firsts],
        "first_states": [t[1] for t in firsts], "first_exits": [t[3] for t in firsts],
        "nodes": [t[4] for t in firsts],
    }  # fmt: skip


def save_run_changes(
    job_run: JobRun,
    action_runs: Sequence[ActionRun],
    header: bool,
    handle: tuple[str, dict[str, Any]] | None,
    events: Sequence[str],
    now: datetime,
) -> Send[None]:
    """postgres_queries.save_run_changes, pipelined."""

    run_check = (
        (q.UPDATE_JOB_RUN, q.job_run_params(job_run)) if header
        else (q.FIND_RUN, (job_run.job_name, job_run.run_num)) if not action_runs
        else None
    )  # fmt: skip
    others = [q.handle_statement(*handle)] if handle is not None else []
    others += [(q.ADD_EVENT, (event_id,)) for event_id in events]

    async def send(conn: Connection, _: bool) -> Finish[None]:
        run = None if run_check is None else await _sent(conn, *run_check)
        updates = [
            await _sent(conn, q.UPDATE_AND_LOG, q.action_run_params(action_run, None, now))
            for action_run in action_runs
        ]
        for sql, params in others:
            await _sent(conn, sql, params)

        async def finish() -> None:
            # The run's header updated (a row count), or found (a row).
            if run is not None and not (run.rowcount if header else await run.fetchone()):
                raise NotFoundError(f"job run {job_run.id} not found")
            for cur in updates:
                row = await cur.fetchone()
                if row is None or not row[0]:
                    raise _Unusual(f"an action run of {job_run.id} to add")

        return finish

    return send


async def _sent(conn: Connection, sql: str, params: Any) -> Cursor:
    """A cursor of its own that sent `sql`, to read its result later."""
    cur = conn.cursor()
    await cur.execute(sql, params)
    return cur
