"""`tronctl move OLD NEW`: a job's records under its new name, and the plan that renames them
in the SQL backends (SQLite and PostgreSQL share the tables' shape, so they share the plan).

Everything recorded under the job's name moves: runs, action runs with their attempts,
transitions, reattach handles, the enabled flag and run-number counter, alerts with their
notifications, and a silence. The audit log stays as it was written (it is what operators did
to the job under the name it had then), and so do trigger events (their ids are what other
jobs wait for).

The plan is written with `?` markers; PostgreSQL's runner turns them into `%s`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from tron.core.alerts.model import Alert, Notification
from tron.core.records import ActionRun, JobRun
from tron.errors import ConflictError
from tron.store.alerts_rows import alert_of, alert_row, notification_of, notification_record
from tron.store.codec import dumps, encode_record
from tron.store.rows import action_run_of, job_run_of, run_columns

Statement = tuple[str, tuple[Any, ...]]
Rows = Sequence[Sequence[Any]]


def renamed_action_run(action_run: ActionRun, new: str) -> ActionRun:
    return replace(action_run, job_name=new)


def renamed_run(run: JobRun, new: str) -> JobRun:
    return replace(
        run, job_name=new, action_runs=tuple(renamed_action_run(a, new) for a in run.action_runs)
    )


def renamed_id(record_id: str, old: str, new: str) -> str:
    """`old.3.load` -> `new.3.load` (an action run's, a run's or an alert's id)."""
    return new + record_id[len(old) :] if record_id.startswith(old) else record_id


def renamed_alert(alert: Alert, new: str) -> Alert:
    # An alert's id starts with its key, which starts with the job's name.
    return replace(
        alert, key=replace(alert.key, job=new), id=renamed_id(alert.id, alert.key.job, new)
    )


def renamed_notification(notification: Notification, old: str, new: str) -> Notification:
    # The payload stays: it is what was (or will be) told, about the job as it was then.
    return replace(notification, job=new, alert_id=renamed_id(notification.alert_id, old, new))


def batches(statements: Sequence[Statement]) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Consecutive statements of the same SQL as one batch (for `executemany`)."""
    out: list[tuple[str, list[tuple[Any, ...]]]] = []
    for sql, params in statements:
        if out and out[-1][0] == sql:
            out[-1][1].append(params)
        else:
            out.append((sql, [params]))
    return out


def name_taken(new: str) -> ConflictError:
    return ConflictError(f"{new} exists already (its runs are in the state)")


@dataclass(frozen=True, slots=True)
class RenamePlan:
    """What a SQL backend reads (`reads`, each a SELECT), then writes (`writes(found)`), in
    one transaction."""

    old: str
    new: str

    def reads(self, *, alerts: bool) -> dict[str, Statement]:
        old = (self.old,)
        found = {
            "taken": ("SELECT 1 FROM job_runs WHERE job_name = ? LIMIT 1", (self.new,)),
            "runs": ("SELECT run_num, slot, record FROM job_runs WHERE job_name = ?", old),
            "actions": (
                "SELECT run_num, action_name, record FROM action_runs WHERE job_name = ?",
                old,
            ),
            "state": ("SELECT enabled, next_run_num FROM job_state WHERE job_name = ?", old),
        }
        if alerts:
            found["alerts"] = ("SELECT id, record FROM alerts WHERE job = ?", old)
            found["outbox"] = ("SELECT seq, record FROM outbox WHERE job = ?", old)
        return found

    def writes(self, found: Mapping[str, Rows]) -> list[Statement]:
        """Raises ConflictError when runs are already recorded under the new name."""
        if found["taken"]:
            raise name_taken(self.new)
        return [
            *self._runs(found["runs"], found["actions"]),
            *self._state(found["state"]),
            *(self._alerts(found["alerts"], found["outbox"]) if "alerts" in found else ()),
        ]

    def _runs(self, runs: Rows, actions: Rows) -> list[Statement]:
        old, new = self.old, self.new
        out: list[Statement] = []
        # New run rows first, then their action runs point at them, then the old rows go:
        # the action runs' foreign key holds at every step.
        for run_num, slot, record in runs:
            run = renamed_run(job_run_of(record, []), new)
            out.append((
                "INSERT INTO job_runs (job_name, run_num, run_time, manual, node, start_time,"
                " end_time, record, slot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (new, run_num, *run_columns(run), slot),
            ))  # fmt: skip
        # One statement kind after the other, so each kind runs as one batch (see batches).
        ids: list[tuple[str, str]] = []
        for run_num, action_name, record in actions:
            action_run = renamed_action_run(action_run_of(record), new)
            ids.append((str(action_run.id), f"{old}.{run_num}.{action_name}"))
            out.append((
                "UPDATE action_runs SET job_name = ?, record = ?"
                " WHERE job_name = ? AND run_num = ? AND action_name = ?",
                (new, dumps(encode_record(action_run)), old, run_num, action_name),
            ))  # fmt: skip
        # Transitions are append-only (a trigger refuses updates): copied, then the old deleted.
        out += [
            ("INSERT INTO transitions (action_run_id, seq, state, at, exit_status, node, reason)"
             " SELECT ?, seq, state, at, exit_status, node, reason FROM transitions"
             " WHERE action_run_id = ?", (now, was))
            for now, was in ids
        ]  # fmt: skip
        out += [("DELETE FROM transitions WHERE action_run_id = ?", (was,)) for _, was in ids]
        out += [
            ("UPDATE handles SET action_run_id = ? WHERE action_run_id = ?", (now, was))
            for now, was in ids
        ]
        out.append(("DELETE FROM job_runs WHERE job_name = ?", (old,)))
        return out

    def _state(self, state: Rows) -> list[Statement]:
        out: list[Statement] = [("DELETE FROM job_state WHERE job_name = ?", (self.new,))]
        for enabled, next_run_num in state:
            out += [
                ("INSERT INTO job_state (job_name, enabled, next_run_num) VALUES (?, ?, ?)",
                 (self.new, enabled, next_run_num)),
                ("DELETE FROM job_state WHERE job_name = ?", (self.old,)),
            ]  # fmt: skip
        return out

    def _alerts(self, alerts: Rows, outbox: Rows) -> list[Statement]:
        old, new = self.old, self.new
        out: list[Statement] = []
        for alert_id, record in alerts:
            new_id, job, _, _, new_record = alert_row(renamed_alert(alert_of(record), new))
            out.append((
                "UPDATE alerts SET id = ?, job = ?, record = ? WHERE id = ?",
                (new_id, job, new_record, alert_id),
            ))  # fmt: skip
        for seq, record in outbox:
            notification = renamed_notification(notification_of(seq, record), old, new)
            out.append((
                "UPDATE outbox SET job = ?, alert_id = ?, record = ? WHERE seq = ?",
                (new, notification.alert_id, notification_record(notification), seq),
            ))  # fmt: skip
        out += [
            ("DELETE FROM silences WHERE job = ?", (new,)),
            ("UPDATE silences SET job = ? WHERE job = ?", (new, old)),
        ]
        return out
