"""Domain records to Tron-compatible JSON (spec 8.2), as pure functions."""

from __future__ import annotations

import getpass
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from tron.api.trigger_graph import TRIGGER_COMMAND, JobTriggers
from tron.config.model import JobConfig, NodeConfig
from tron.core import job_run as jr
from tron.core.records import ActionRun, Attempt, JobRun
from tron.core.states import ActionRunState

JsonObject = dict[str, Any]
META_PLACEHOLDER = [
    "When this action is migrated to Kubernetes, this will contain Tron/task_processing output."
]
_ACTIVE_JOB_STATES = frozenset(
    {ActionRunState.RUNNING, ActionRunState.STARTING, ActionRunState.WAITING}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class View:
    """What shaping needs besides the records: now, the zone to show times in, nodes, the
    published events and the job's trigger edges (for its action graph)."""

    now: datetime
    zone: ZoneInfo | None
    nodes: Mapping[str, NodeConfig]  # the config's own (read only, not copied per job)
    published: Collection[str] = ()
    triggers: JobTriggers = field(default_factory=dict)


def fmt_time(value: datetime | None, zone: ZoneInfo | None) -> str | None:
    if value is None:
        return None
    if zone is not None and value.tzinfo is not None:
        value = value.astimezone(zone)
    return value.strftime("%Y-%m-%d %H:%M:%S")


def iso_time(value: datetime | None) -> str | None:
    """ISO 8601 with its offset, for our own endpoints (Tron's use `fmt_time`)."""
    return None if value is None else value.isoformat()


def fmt_delta(value: timedelta | None) -> str | None:
    return None if value is None else str(value)


def duration(start: datetime | None, end: datetime | None, now: datetime) -> str:
    if start is None:
        return ""
    return str((end or now) - start)


def node_json(name: str | None, view: View) -> JsonObject | None:
    if name is None:
        return None
    node = view.nodes.get(name)
    if node is None:
        return {"name": name, "hostname": name, "username": getpass.getuser(), "port": 22}
    return {
        "name": node.name,
        "hostname": node.hostname,
        "username": node.username or getpass.getuser(),
        "port": node.port,
    }


def action_run_json(action_run: ActionRun, view: View, *, requirements: bool = True) -> JsonObject:
    zone = view.zone
    in_delay = None
    if action_run.retry_at is not None and not action_run.state.is_done:
        in_delay = max((action_run.retry_at - view.now).total_seconds(), 0.0)
    return {
        "id": str(action_run.id),
        "start_time": fmt_time(action_run.start_time, zone),
        "end_time": fmt_time(action_run.end_time, zone),
        "exit_status": action_run.exit_status,
        "action_name": action_run.action_name,
        "exit_statuses": list(action_run.exit_statuses),
        "retries_remaining": _retries_remaining(action_run),
        "original_command": action_run.original_command,
        "state": action_run.state.value,
        "node": node_json(action_run.node, view),
        # Tron renders a command when the action starts: null before that.
        "command": action_run.command if action_run.attempts else None,
        "raw_command": action_run.raw_command,
        "requirements": list(action_run.requires) if requirements else None,
        "meta": None,
        "stdout": None,
        "stderr": None,
        "duration": duration(action_run.start_time, action_run.end_time, view.now),
        "job_name": action_run.job_name,
        "run_num": str(action_run.run_num),
        "retries_delay": fmt_delta(action_run.retries_delay),
        "in_delay": in_delay,
        "triggered_by": ", ".join(
            f"{t} (done)" if t in view.published else t for t in sorted(action_run.triggered_by)
        ),
        "trigger_downstreams": ", ".join(sorted(_trigger_keys(action_run))),
        "reason": action_run.reason,
        "attempts": [attempt_json(a, view) for a in action_run.attempts],
    }


def _trigger_keys(action_run: ActionRun) -> list[str]:
    """Tron's `key.value` of each event the action publishes; the event id is
    `<job>.<action>.<key>.<value>` (what `tronctl skip-and-publish` rebuilds)."""
    prefix = f"{action_run.job_name}.{action_run.action_name}."
    return [e.removeprefix(prefix) for e in action_run.trigger_downstreams]


def _retries_remaining(action_run: ActionRun) -> int | None:
    """Tron's null for an action without retries that was never retried; else the count."""
    remaining = action_run.retries_remaining
    if remaining == 0 and len(action_run.attempts) <= 1:
        return None
    return remaining


def attempt_json(attempt: Attempt, view: View) -> JsonObject:
    return {
        "number": attempt.number,
        "command": attempt.command,
        "node": attempt.node,
        "start_time": fmt_time(attempt.start_time, view.zone),
        "end_time": fmt_time(attempt.end_time, view.zone),
        "exit_status": attempt.exit_status,
        "reason": attempt.reason,
    }


def job_run_json(
    run: JobRun, view: View, *, action_runs: bool = False, action_graph: bool = False
) -> JsonObject:
    start = shown_start_time(run)
    return {
        "id": str(run.id),
        "run_num": run.run_num,
        "run_time": fmt_time(run.run_time, view.zone),
        "start_time": fmt_time(start, view.zone),
        "end_time": fmt_time(run.end_time, view.zone),
        "manual": run.manual,
        "job_name": run.job_name,
        "state": jr.job_run_state(run).value,
        "node": node_json(run.node, view),
        "duration": duration(start, run.end_time, view.now),
        "url": f"/jobs/{quote(run.job_name)}/{run.run_num}",
        "runs": [action_run_json(a, view) for a in run.action_runs] if action_runs else None,
        "action_graph": run_graph_json(run, view) if action_graph else None,
    }


def shown_start_time(run: JobRun) -> datetime | None:
    """Tron's job-run start: its earliest action start, so a run still waiting on a trigger
    (started, but no action yet) has none."""
    return min((a.start_time for a in run.action_runs if a.start_time), default=None)


def run_graph_json(run: JobRun, view: View) -> list[JsonObject]:
    actions = [
        {
            "id": str(a.id),
            "name": a.action_name,
            "command": a.command,
            "raw_command": a.raw_command,
            "state": a.state.value,
            "start_time": fmt_time(a.start_time, view.zone),
            "end_time": fmt_time(a.end_time, view.zone),
            "dependencies": [*a.requires, *view.triggers.get(a.action_name, ())],
        }
        for a in run.action_runs
    ]
    # Tron never updates a trigger node's state: it is always "unknown".
    triggers = [{**t, "state": "unknown"} for t in _trigger_nodes(view.triggers)]
    return actions + triggers


def job_graph_json(job: JobConfig, triggers: JobTriggers) -> list[JsonObject]:
    actions = [
        {
            "name": a.name,
            "command": a.command,
            "dependencies": [*a.requires, *triggers.get(a.name, ())],
        }
        for a in job.all_actions
    ]
    return actions + _trigger_nodes(triggers)


def _trigger_nodes(triggers: JobTriggers) -> list[JsonObject]:
    """Tron's pseudo-nodes for other jobs' actions met along trigger edges; their names
    have dots, which action names cannot."""
    names = {*triggers, *(t for deps in triggers.values() for t in deps)}
    return [
        {"name": name, "command": TRIGGER_COMMAND, "dependencies": list(triggers.get(name, ()))}
        for name in sorted(n for n in names if "." in n)
    ]


def job_status(enabled: bool, runs: list[JobRun]) -> str:
    if not enabled:
        return "disabled"
    states = [jr.job_run_state(r) for r in runs]
    if any(s in _ACTIVE_JOB_STATES for s in states):
        return "running"
    if any(s is ActionRunState.SCHEDULED for s in states):
        return "enabled"
    return "unknown"


def last_success(runs: list[JobRun]) -> datetime | None:
    ends = [
        r.end_time
        for r in runs
        if r.end_time is not None and jr.job_run_state(r) is ActionRunState.SUCCEEDED
    ]
    return max(ends, default=None)


def next_run(runs: list[JobRun]) -> datetime | None:
    times = [
        r.run_time
        for r in runs
        if not r.manual and r.start_time is None and jr.job_run_state(r) is ActionRunState.SCHEDULED
    ]
    return min(times, default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class JobIncludes:
    runs: int | None = None
    action_runs: bool = False
    action_graph: bool = True
    node_pool: bool = True


def job_json(
    job: JobConfig,
    enabled: bool,
    runs: list[JobRun],
    pool: tuple[str, ...],
    view: View,
    include: JobIncludes,
) -> JsonObject:
    """`runs` newest first."""
    shown = runs if include.runs is None else runs[: include.runs]
    return {
        "status": job_status(enabled, runs),
        "all_nodes": job.all_nodes,
        "allow_overlap": job.allow_overlap,
        "queueing": job.queueing,
        "name": job.full_name,
        "scheduler": {
            "value": job.schedule.value,
            "type": job.schedule.type,
            "jitter": _jitter_text(job.schedule.jitter),
        },
        "action_names": [a.name for a in job.all_actions],
        "node_pool": {
            "name": job.node,
            "nodes": [node_json(n, view) for n in dict.fromkeys(pool)],
        }
        if include.node_pool
        else None,
        "last_success": fmt_time(last_success(runs), view.zone),
        "next_run": fmt_time(next_run(runs), view.zone),
        "url": f"/jobs/{quote(job.full_name)}",
        "runs": [job_run_json(r, view, action_runs=include.action_runs) for r in shown]
        if include.runs is not None
        else None,
        "max_runtime": str(job.max_runtime),
        "action_graph": job_graph_json(job, view.triggers) if include.action_graph else None,
        "monitoring": dict(job.monitoring),
        "expected_runtime": job.expected_runtime.total_seconds(),
        "actions_expected_runtime": {
            a.name: a.expected_runtime.total_seconds() for a in job.all_actions
        },
    }


def _jitter_text(jitter: timedelta) -> str:
    return f" (+/- {jitter})" if jitter else ""
