"""Job runs: creating one with its commands frozen, and the one import for everything else.

The engine imports the run functions from here; they live in small modules by concern:
`run_state` (derived state), `run_lifecycle` (start, queue, cancel, attempts starting),
`run_events` (exits, retries, triggers), `run_commands` (manual commands).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from tron.config.model import ActionConfig, JobConfig
from tron.core.action_run import RENDER_FAILED_COMMAND
from tron.core.records import ActionRun, JobRun
from tron.core.rendering import render_for, trigger_ids
from tron.core.run_commands import apply_action_command, apply_job_run_command
from tron.core.run_events import (
    action_exited,
    action_lost,
    retry_due,
    settle,
    trigger_published,
    trigger_timed_out,
)
from tron.core.run_lifecycle import (
    action_started,
    action_starting,
    cancel_job_run,
    queue_job_run,
    start_job_run,
    stop_job_run,
)
from tron.core.run_state import (
    ACTIVE_STATES,
    get_action_run,
    has_open_attempt,
    is_active,
    is_finished,
    is_pending,
    job_run_state,
)
from tron.errors import ContextError

__all__ = [
    "ACTIVE_STATES",
    "action_exited",
    "action_lost",
    "action_started",
    "action_starting",
    "apply_action_command",
    "apply_job_run_command",
    "built_from",
    "cancel_job_run",
    "create_job_run",
    "get_action_run",
    "has_open_attempt",
    "is_active",
    "is_finished",
    "is_pending",
    "job_run_state",
    "queue_job_run",
    "retry_due",
    "settle",
    "slot_name",
    "start_job_run",
    "stop_job_run",
    "trigger_published",
    "trigger_timed_out",
    "update_commands",
]


def slot_name(job: JobConfig, run_time: datetime, node: str | None) -> str:
    """The name of a scheduled launch: each may be taken once (exactly-once starts). The
    scheduler and Tron's state import both name slots so, or an imported run is made twice."""
    return f"{run_time.isoformat()}@{node}" if job.all_nodes else run_time.isoformat()


def create_job_run(
    job: JobConfig,
    *,
    run_num: int,
    run_time: datetime,
    manual: bool,
    node: str | None,
    context: Mapping[str, Any],
    last_success: datetime | None = None,
) -> JobRun:
    """A new `scheduled` run: one action run per action, then the cleanup (if any).

    Trigger names are rendered now and frozen (spec 4); commands are rendered now too (what
    the run will do, and a check that they can render) but again when each attempt starts
    (`action_starting`, with the live context). The cleanup's command waits for its start
    (it may use `{cleanup_job_status}`). `node` is the job run's node name; `context` is
    MASTER `command_context` at creation, plus optionally `node_hostname`
    (hostname of `node`) and `node_hostnames` (name -> hostname) for `{node}`. A command
    that cannot render becomes Tron's failing placeholder; the action fails (-1) when it
    would start.
    """
    run = JobRun(
        job_name=job.full_name,
        run_num=run_num,
        run_time=run_time,
        manual=manual,
        node=node,
        context=MappingProxyType(dict(context)),
        last_success=last_success,
    )
    regular = tuple(_new_action_run(run, a, is_cleanup=False) for a in job.actions.values())
    cleanup = job.cleanup_action
    cleanups = (_new_action_run(run, cleanup, is_cleanup=True),) if cleanup else ()
    return replace(run, action_runs=(*regular, *cleanups))


def _backoff_fields(action: ActionConfig) -> dict[str, Any]:
    backoff = action.retries_backoff
    if backoff is None:
        return {}
    return {
        "retries_backoff_factor": backoff.factor,
        "retries_max_delay": backoff.max_delay,
        "retries_jitter": backoff.jitter,
    }


def _new_action_run(run: JobRun, action: ActionConfig, *, is_cleanup: bool) -> ActionRun:
    # The command is rendered before the action run is made, so it is made once (10,000 jobs'
    # first runs at a first start); the cleanup's waits for its start. A command that cannot
    # render leaves the trigger names unrendered too.
    node = action.node or run.node
    command = None if is_cleanup else action.command
    failed = False
    if command is not None:
        try:
            command = render_for(run, action.name, node, command)
        except ContextError:
            command, failed = RENDER_FAILED_COMMAND, True
    action_run = ActionRun(
        job_name=run.job_name,
        run_num=run.run_num,
        action_name=action.name,
        node=node,
        raw_command=action.command,
        original_command=action.command,
        command=command,
        requires=() if is_cleanup else action.requires,
        is_cleanup=is_cleanup,
        retries_remaining=action.retries,
        retries_delay=action.retries_delay,
        **_backoff_fields(action),
        env=MappingProxyType(dict(action.env)),
    )
    if failed or (not action.triggered_by and not action.trigger_downstreams):
        return action_run
    try:
        triggered_by, downstreams = trigger_ids(run, action_run, action)
    except ContextError:
        return replace(action_run, command=RENDER_FAILED_COMMAND)
    return replace(action_run, triggered_by=triggered_by, trigger_downstreams=downstreams)


def built_from(run: JobRun, job: JobConfig) -> bool:
    """Whether a run not yet started still matches `job`: False once the config changed
    under it (a pending run must then be built again, spec 5.11).

    Compares what an action run takes from its action's config, without rendering anything:
    recovery asks this of every pending run at start-up, 10,000 of them with 10,000 jobs.
    """
    actions = [*job.actions.values(), *([job.cleanup_action] if job.cleanup_action else [])]
    if len(actions) != len(run.action_runs):
        return False
    return all(
        _same_action(action_run, action)
        for action_run, action in zip(run.action_runs, actions, strict=True)
    )


def _same_action(action_run: ActionRun, action: ActionConfig) -> bool:
    return (
        action_run.action_name == action.name
        and action_run.original_command == action.command
        and (action_run.is_cleanup or action_run.requires == action.requires)
        and action_run.retries_remaining == action.retries
        and action_run.retries_delay == action.retries_delay
        and dict(action_run.env) == dict(action.env)
        and (action.node is None or action_run.node == action.node)
    )


def update_commands(run: JobRun, job: JobConfig) -> JobRun:
    """Reconfiguration (spec 5.11): action runs whose action still exists get its new
    template as `raw_command`; `original_command` and rendered commands stay."""
    cleanup = job.cleanup_action
    runs = tuple(
        _updated(a, cleanup if a.is_cleanup else job.actions.get(a.action_name))
        for a in run.action_runs
    )
    return replace(run, action_runs=runs)


def _updated(action_run: ActionRun, action: ActionConfig | None) -> ActionRun:
    if action is None or action.name != action_run.action_name:
        return action_run
    return replace(action_run, raw_command=action.command)
