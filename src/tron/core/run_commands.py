"""Manual commands on action runs and job runs (spec 5.4, 8.3): tronctl and the API's POSTs."""

from __future__ import annotations

import signal
from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import datetime

from tron.core.action_run import (
    EXIT_INVALID_COMMAND,
    apply_event,
    ask_signal,
    fail_unstarted,
    has_process,
    is_in_retry_delay,
    is_render_failed,
    reset_for_retry,
    with_triggers,
)
from tron.core.effects import Effect, KillAction, PublishTrigger, StartAction
from tron.core.progress import INVALID_COMMAND_REASON, advance
from tron.core.records import ActionRun, JobRun
from tron.core.run_lifecycle import cancel_job_run, start_job_run, stop_action
from tron.core.run_state import (
    blocked_actions,
    cleanup_run,
    get_action_run,
    job_run_state,
    with_action_run,
)
from tron.core.states import COMPLETE_STATES, ActionRunEvent, ActionRunState, can_transition
from tron.errors import (
    BadRequestError,
    CommandRefusedError,
    ConflictError,
    InvalidTransitionError,
)

_S = ActionRunState
_E = ActionRunEvent
# States of a cleanup whose run never started: nothing will run it.
_NOT_STARTED_RUN = frozenset({_S.SCHEDULED, _S.QUEUED})
CLEANUP_DONE_MESSAGE = "JobRun has run a cleanup action, use rerun instead"
START_SCHEDULED_MESSAGE = "Action run cannot be started if its job run is still scheduled."

_Result = tuple[JobRun, list[Effect]]


def apply_action_command(
    run: JobRun,
    action_name: str,
    command: str,
    *,
    now: datetime,
    use_latest_command: bool = False,
    published: Collection[str] = (),
    reason: str | None = None,
) -> _Result:
    """Apply start, success, fail, skip, cancel, retry, stop or kill to one action run.

    `reason` says why a stop or kill was asked for; the action run keeps it.

    Raises InvalidTransitionError when the action run's state refuses the command,
    CommandRefusedError for the two refusals Tron answers with 200 (spec 8.3),
    BadRequestError for an unknown command, NotFoundError for an unknown action. `start`
    only checks and asks for a StartAction: the state changes when the engine calls
    `action_starting`.
    """
    action_run = get_action_run(run, action_name)
    if command == "start":
        return _start(run, action_run, frozenset(published), now)
    if command == "retry":
        return _retry(run, action_run, now, use_latest_command=use_latest_command)
    if command in ("stop", "kill"):
        return _stop(run, action_run, now, kill=command == "kill", reason=reason)
    handler = _EVENT_COMMANDS.get(command)
    if handler is None:
        raise BadRequestError(f"Unknown command {command} for action run {action_run.id}")
    event, finish = handler
    changed = apply_event(_checked(action_run, event), event, now=now)
    changed, effects = finish(changed)
    after, more = advance(run, with_action_run(run, changed), now=now)
    return after, [*effects, *more]


def _checked(action_run: ActionRun, event: ActionRunEvent, command: str | None = None) -> ActionRun:
    if not can_transition(action_run.state, event):
        raise InvalidTransitionError(action_run.state.value, command or event.value)
    return action_run


def _publish(action_run: ActionRun) -> tuple[ActionRun, list[Effect]]:
    return action_run, [PublishTrigger(e) for e in action_run.trigger_downstreams]


def _no_retries(action_run: ActionRun) -> tuple[ActionRun, list[Effect]]:
    return replace(action_run, retries_remaining=-1), []


def _nothing(action_run: ActionRun) -> tuple[ActionRun, list[Effect]]:
    return action_run, []


_EVENT_COMMANDS: dict[
    str, tuple[ActionRunEvent, Callable[[ActionRun], tuple[ActionRun, list[Effect]]]]
] = {
    "success": (_E.SUCCESS, _publish),
    "fail": (_E.FAIL, _no_retries),
    "skip": (_E.SKIP, _nothing),
    "cancel": (_E.CANCEL, _nothing),
}


def _start(run: JobRun, action_run: ActionRun, published: frozenset[str], now: datetime) -> _Result:
    if run.start_time is None and job_run_state(run) is _S.SCHEDULED:
        raise CommandRefusedError(START_SCHEDULED_MESSAGE)
    action_run = with_triggers(_checked(action_run, _E.START, "start"), published)
    if is_render_failed(action_run):
        failed = fail_unstarted(
            action_run, now=now, exit_status=EXIT_INVALID_COMMAND, reason=INVALID_COMMAND_REASON
        )
        return advance(run, with_action_run(run, failed), now=now)
    return with_action_run(run, action_run), [StartAction(action_run.action_name)]


def _retry(
    run: JobRun, action_run: ActionRun, now: datetime, *, use_latest_command: bool
) -> _Result:
    """Spec 5.4 "Manual retry": no dependency check; retries_delay dropped for this run."""
    cleanup = cleanup_run(run)
    if cleanup is not None and cleanup.state.is_done:
        raise CommandRefusedError(CLEANUP_DONE_MESSAGE)
    if not (action_run.state.is_done or action_run.state.is_active):
        raise InvalidTransitionError(action_run.state.value, "retry")
    remaining = action_run.retries_remaining
    # The command is rendered when the attempt starts (`action_starting`), from the newest
    # config's template if asked (spec 5.4 step 5).
    action_run = replace(
        action_run,
        retries_remaining=(1 if remaining is None or remaining <= 0 else remaining) - 1,
        retries_delay=None,
        use_latest_command=use_latest_command,
    )
    if has_process(action_run):
        # The kill's exit restarts it (`action_exited`); the retry is already counted.
        killing = ask_signal(replace(action_run, restart_on_exit=True), int(signal.SIGKILL))
        return with_action_run(run, killing), [
            KillAction(action_run.action_name, int(signal.SIGKILL))
        ]
    restarted = reset_for_retry(action_run)
    after, effects = advance(run, with_action_run(run, restarted), now=now)
    return after, [StartAction(action_run.action_name), *effects]


def _stop(
    run: JobRun, action_run: ActionRun, now: datetime, *, kill: bool, reason: str | None
) -> _Result:
    if not (is_in_retry_delay(action_run) or has_process(action_run)):
        raise InvalidTransitionError(action_run.state.value, "kill" if kill else "stop")
    stopped, effects = stop_action(run, action_run.action_name, now=now, kill=kill, reason=reason)
    after, more = advance(run, stopped, now=now)
    return after, [*effects, *more]


def apply_job_run_command(
    run: JobRun, command: str, *, now: datetime, published: Collection[str] = ()
) -> _Result:
    """Apply start, success, fail or cancel to a whole job run.

    `success` and `fail` mark the action runs as Tron does (spec 5.2; see `_marked`).
    Raises ConflictError with Tron's `Failed to <cmd>, JobRun:<id> in state <s>` when
    nothing applies, BadRequestError for an unknown command.
    """
    refused = ConflictError(f"Failed to {command}, JobRun:{run.id} in state {job_run_state(run)}")
    if command == "start":
        if job_run_state(run) not in (_S.SCHEDULED, _S.QUEUED):
            raise refused
        return start_job_run(run, now=now, published=published)
    if command == "cancel":
        if not any(can_transition(a.state, _E.CANCEL) for a in run.action_runs):
            raise refused
        return cancel_job_run(run, now=now)
    if command in ("success", "fail"):
        return _mark_all(run, command, now, refused)
    raise BadRequestError(f"Unknown command {command} for job run {run.id}")


def _marked(run: JobRun, command: str) -> list[ActionRun]:
    """The action runs a job-run `success` or `fail` marks.

    `success`: every one not complete, failed ones included (a person ran them by hand),
    except those blocked behind a requirement that ended incomplete: marking that requirement
    succeeded lets them run, as Tron starts them. `fail`: every one not already failed or
    skipped, succeeded ones included (Tron's way to record that a good-looking run was not).
    The cleanup of a started run is left to run as usual (or to end, when under way); one
    already done, or in a run never started, is marked like the rest.
    """
    event = _E.SUCCESS if command == "success" else _E.FAIL
    unmarked = COMPLETE_STATES if command == "success" else frozenset({_S.FAILED, _S.SKIPPED})
    blocked = blocked_actions(run) if command == "success" else frozenset()
    return [
        a
        for a in run.action_runs
        if (not a.is_cleanup or a.state.is_done or a.state in _NOT_STARTED_RUN)
        and a.state not in unmarked
        and a.action_name not in blocked
        and can_transition(a.state, event)
    ]


def _mark_all(run: JobRun, command: str, now: datetime, refused: ConflictError) -> _Result:
    event, finish = _EVENT_COMMANDS[command]
    targets = _marked(run, command)
    if not targets:
        raise refused
    changed, effects = run, []
    for action_run in targets:
        marked, more = finish(apply_event(action_run, event, now=now))
        changed = with_action_run(changed, marked)
        effects.extend(more)
    after, more = advance(run, changed, now=now)
    return after, [*effects, *more]
