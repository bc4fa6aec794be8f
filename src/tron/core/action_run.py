"""Changes to one action run: events through the transition table, attempts, retries."""

from __future__ import annotations

import signal
from dataclasses import replace
from datetime import datetime

from tron.core.records import ActionRun, Attempt
from tron.core.states import ActionRunEvent, ActionRunState, next_state

RENDER_FAILED_COMMAND = "false # Command failed to render correctly. See the Tron error log."

# Exit statuses with a meaning of their own (spec 5.4); the same values as tron.executors.
EXIT_INVALID_COMMAND = -1
EXIT_NODE_ERROR = -2
EXIT_STOP_KILL = -3
EXIT_TRIGGER_TIMEOUT = -4

_NOT_STARTED = frozenset({ActionRunState.SCHEDULED, ActionRunState.QUEUED, ActionRunState.WAITING})


def apply_event(action_run: ActionRun, event: ActionRunEvent, *, now: datetime) -> ActionRun:
    """Move through the table; an end state records `end_time` and drops any pending retry.

    Raises InvalidTransitionError when the table has no such transition.
    """
    state = next_state(action_run.state, event)
    if not state.is_done:
        return replace(action_run, state=state, end_time=None)
    return replace(action_run, state=state, end_time=now, retry_at=None, restart_on_exit=False)


def begin_attempt(
    action_run: ActionRun, *, now: datetime, node: str | None, command: str
) -> ActionRun:
    """The `start` event: a new attempt of `command` (rendered for it) on `node`."""
    started = apply_event(action_run, ActionRunEvent.START, now=now)
    attempt = Attempt(
        number=len(action_run.attempts) + 1,
        command=command,
        node=node,
        start_time=now,
    )
    return replace(
        started,
        command=command,
        use_latest_command=False,
        node=node,
        attempts=(*action_run.attempts, attempt),
        start_time=now,
        end_time=None,
        exit_status=None,
        retry_at=None,
    )


def ask_signal(action_run: ActionRun, signum: int) -> ActionRun:
    """Record that the running attempt is to get `signum` (a kill asked for stays a kill)."""
    attempt = action_run.current_attempt
    if attempt is None or attempt.stop_signal == signal.SIGKILL:
        return action_run
    asked = replace(attempt, stop_signal=signum)
    return replace(action_run, attempts=(*action_run.attempts[:-1], asked))


def close_attempt(
    action_run: ActionRun, *, now: datetime, exit_status: int | None, reason: str | None
) -> ActionRun:
    """Record how the current attempt ended; the action run's state is left as it was."""
    attempt = action_run.current_attempt
    if attempt is None:
        return action_run
    closed = replace(attempt, end_time=now, exit_status=exit_status, reason=reason)
    return replace(
        action_run,
        attempts=(*action_run.attempts[:-1], closed),
        exit_status=exit_status,
        reason=reason,
    )


def fail_unstarted(
    action_run: ActionRun, *, now: datetime, exit_status: int, reason: str
) -> ActionRun:
    """Fail an action run that never ran (bad command, trigger timeout): no attempt."""
    failed = apply_event(action_run, ActionRunEvent.FAIL, now=now)
    return replace(failed, exit_status=exit_status, reason=reason)


def reset_for_retry(action_run: ActionRun) -> ActionRun:
    """Back to `scheduled`, ready for a new attempt (spec 5.2: a retry resets the machine)."""
    return replace(
        action_run,
        state=ActionRunState.SCHEDULED,
        end_time=None,
        retry_at=None,
        restart_on_exit=False,
    )


def is_not_started(action_run: ActionRun) -> bool:
    return action_run.state in _NOT_STARTED


def is_render_failed(action_run: ActionRun) -> bool:
    return action_run.command == RENDER_FAILED_COMMAND


def is_in_retry_delay(action_run: ActionRun) -> bool:
    """Waiting for an automatic retry: `running` with no process (spec 5.4 `in_delay`)."""
    return action_run.retry_at is not None and action_run.state is ActionRunState.RUNNING


def has_process(action_run: ActionRun) -> bool:
    """An attempt is (or may be) running on a node: its exit is not recorded yet.

    Whatever the state says: an action run cancelled, marked by hand or `unknown` while its
    attempt runs still has that process, and it can still be stopped or killed.
    """
    attempt = action_run.current_attempt
    return attempt is not None and not attempt.is_finished and action_run.state not in _NOT_STARTED


def missing_triggers(action_run: ActionRun) -> tuple[str, ...]:
    return tuple(t for t in action_run.triggered_by if t not in action_run.triggers_done)


def with_triggers(action_run: ActionRun, published: frozenset[str]) -> ActionRun:
    """Mark the `triggered_by` events found in `published` as done."""
    new = tuple(t for t in missing_triggers(action_run) if t in published)
    if not new:
        return action_run
    return replace(action_run, triggers_done=(*action_run.triggers_done, *new))
