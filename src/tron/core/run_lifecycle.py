"""A job run's life: start, queue, cancel, and the engine's reports that an action started."""

from __future__ import annotations

import signal
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from tron.core.action_run import (
    EXIT_STOP_KILL,
    RENDER_FAILED_COMMAND,
    apply_event,
    ask_signal,
    begin_attempt,
    has_process,
    is_in_retry_delay,
    with_triggers,
)
from tron.core.effects import Effect, KillAction
from tron.core.progress import advance
from tron.core.records import ActionRun, JobRun
from tron.core.rendering import LiveContext, render_attempt
from tron.core.run_state import get_action_run, job_run_state, with_action_run
from tron.core.states import ActionRunEvent, ActionRunState, can_transition, next_state
from tron.errors import ConflictError

_S = ActionRunState
_STARTABLE_RUN = frozenset({_S.SCHEDULED, _S.QUEUED})
STOPPED_REASON = "Stopped or killed"


def start_job_run(
    run: JobRun, *, now: datetime, published: Collection[str] = ()
) -> tuple[JobRun, list[Effect]]:
    """The run starts: not-started action runs go `waiting`; ready ones get a StartAction.

    `published` are the trigger events already published (remembered while the run was
    scheduled or queued). Raises ConflictError when no action run is scheduled or queued.
    """
    if not any(a.state in _STARTABLE_RUN for a in run.action_runs):
        raise ConflictError(f"Failed to start, JobRun:{run.id} in state {job_run_state(run)}")
    events = frozenset(published)
    runs = tuple(_make_ready(a, events, now) for a in run.action_runs)
    return advance(run, replace(run, action_runs=runs, start_time=now), now=now)


def _make_ready(action_run: ActionRun, published: frozenset[str], now: datetime) -> ActionRun:
    action_run = with_triggers(action_run, published)
    if action_run.state not in _STARTABLE_RUN:
        return action_run
    return apply_event(action_run, ActionRunEvent.READY, now=now)


def queue_job_run(run: JobRun) -> JobRun:
    """Every scheduled action run becomes `queued` (the job already has an active run)."""
    runs = tuple(
        replace(a, state=next_state(a.state, ActionRunEvent.QUEUE))
        if a.state is _S.SCHEDULED
        else a
        for a in run.action_runs
    )
    return replace(run, action_runs=runs)


def cancel_job_run(run: JobRun, *, now: datetime) -> tuple[JobRun, list[Effect]]:
    """Cancel every action run that allows it, cleanup included; running ones get no signal."""
    runs = tuple(
        apply_event(a, ActionRunEvent.CANCEL, now=now)
        if can_transition(a.state, ActionRunEvent.CANCEL)
        else a
        for a in run.action_runs
    )
    return advance(run, replace(run, action_runs=runs), now=now)


def stop_job_run(
    run: JobRun, *, now: datetime, kill: bool = False, reason: str | None = None
) -> tuple[JobRun, list[Effect]]:
    """`stop` (or `kill`) every action run: no more retries, delays end failed (-3), processes
    are signalled (SIGTERM, or SIGKILL to kill). Used for `max_runtime` (spec 5.7)."""
    effects: list[Effect] = []
    stopped = run
    for action_run in run.action_runs:
        stopped, more = stop_action(
            stopped, action_run.action_name, now=now, kill=kill, reason=reason
        )
        effects.extend(more)
    stopped, more = advance(run, stopped, now=now)
    return stopped, [*effects, *more]


def stop_action(
    run: JobRun, action_name: str, *, now: datetime, kill: bool, reason: str | None = None
) -> tuple[JobRun, list[Effect]]:
    """No more automatic retries; end a retry delay (failed, -3) or signal the process.

    `reason` (why it was stopped) is kept on the action run, for the exit to report.
    Returns no effect for an action run with neither (the caller decides if that is an error).
    Does not `advance`: callers do.
    """
    action_run = replace(get_action_run(run, action_name), retries_remaining=-1)
    effects: list[Effect] = []
    if is_in_retry_delay(action_run):
        action_run = apply_event(action_run, ActionRunEvent.FAIL, now=now)
        action_run = replace(
            action_run, exit_status=EXIT_STOP_KILL, reason=reason or STOPPED_REASON
        )
    elif has_process(action_run):
        sig = signal.SIGKILL if kill else signal.SIGTERM
        action_run = ask_signal(action_run, int(sig))
        effects.append(KillAction(action_name, int(sig)))
        if reason is not None:
            action_run = replace(action_run, reason=reason)
    return with_action_run(run, action_run), effects


def action_starting(
    run: JobRun,
    action_name: str,
    *,
    now: datetime,
    node: str | None,
    live: LiveContext | None = None,
) -> JobRun:
    """The engine is starting a new attempt on `node` (the `start` event).

    The attempt's command is rendered now (spec 4, as Tron: each attempt from the run's
    frozen template and the live context); it is part of this change, so it is durable
    with the `starting` mark. Raises InvalidTransitionError when the action run cannot
    start, NotFoundError for an unknown action.
    """
    action_run = get_action_run(run, action_name)
    command = render_attempt(run, action_run, live)
    if command == RENDER_FAILED_COMMAND:
        # Nothing is launched: the engine records it failed with -1, and, as Tron's `fail`,
        # with no retry left (spec 4.1, 5.4).
        action_run = replace(action_run, retries_remaining=-1)
    started = begin_attempt(action_run, now=now, node=node or action_run.node, command=command)
    # An action starting again (by hand, after the run had ended) reopens the run.
    return replace(with_action_run(run, started), end_time=None)


def action_started(run: JobRun, action_name: str, *, now: datetime) -> JobRun:
    """The attempt is confirmed running (`started` event: starting -> running)."""
    action_run = apply_event(get_action_run(run, action_name), ActionRunEvent.STARTED, now=now)
    return with_action_run(run, action_run)
