"""How records become rows of the SQL backends' tables and back (SQLite and PostgreSQL share
the tables' shape, so they share this)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from tron.core.records import ActionRun, JobRun
from tron.store.codec import decode_record, dumps, encode_datetime, encode_record, loads
from tron.store.common import decoded, transition_key

_NO_ACTION_RUNS = frozenset({"action_runs"})


def opt_time(value: datetime | None) -> str | None:
    return None if value is None else encode_datetime(value)


def run_columns(job_run: JobRun) -> tuple[Any, ...]:
    """run_time, manual, node, start_time, end_time, record (in the table's order)."""
    return (
        encode_datetime(job_run.run_time),
        job_run.manual,
        job_run.node,
        opt_time(job_run.start_time),
        opt_time(job_run.end_time),
        dumps(encode_record(job_run, exclude=_NO_ACTION_RUNS)),
    )


def action_run_rows(action_runs: Sequence[ActionRun]) -> list[tuple[Any, ...]]:
    """job_name, run_num, action_name, position, state, attempt_count, exit_status, record."""
    return [
        (a.job_name, a.run_num, a.action_name, position, *transition_key(a),
         dumps(encode_record(a)))
        for position, a in enumerate(action_runs)
    ]  # fmt: skip


def first_transition_rows(action_runs: Sequence[ActionRun], at: datetime) -> list[tuple[Any, ...]]:
    """action_run_id, state, at, exit_status, node of each new action run's first transition."""
    stamp = encode_datetime(at)
    return [(str(a.id), a.state.value, stamp, a.exit_status, a.node) for a in action_runs]


def action_run_of(text: str) -> ActionRun:
    return decode_record(ActionRun, json_object(text))


def job_run_of(text: str, action_runs: list[ActionRun]) -> JobRun:
    return decode_record(JobRun, json_object(text), action_runs=tuple(action_runs))


def action_runs_by_run(
    rows: Iterable[tuple[str, int, str, str]],
) -> dict[tuple[str, int], list[ActionRun]]:
    """Rows of (job_name, run_num, action_name, record), in position order, decoded and
    grouped by their run."""
    action_runs: dict[tuple[str, int], list[ActionRun]] = {}
    for name, num, action, record in rows:
        run = decoded("action_runs", f"{name}.{num}.{action}", action_run_of, record)
        action_runs.setdefault((name, num), []).append(run)
    return action_runs


def job_runs_of(
    rows: Iterable[tuple[str, int, str]], action_runs: dict[tuple[str, int], list[ActionRun]]
) -> list[JobRun]:
    """Rows of (job_name, run_num, record) decoded, each with its action runs."""
    return [
        decoded("job_runs", f"{name}.{num}", job_run_of, record, action_runs.get((name, num), []))
        for name, num, record in rows
    ]


def json_object(text: str) -> dict[str, Any]:
    """A stored record: a JSON object (anything else is a damaged row)."""
    data = loads(text)
    if not isinstance(data, dict):
        raise TypeError(f"a JSON {type(data).__name__} where an object belongs")
    return data
