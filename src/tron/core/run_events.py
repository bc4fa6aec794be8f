"""What happens to a job run when an attempt exits, a retry is due, or a trigger arrives."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime, timedelta

from tron.core.action_run import (
    EXIT_TRIGGER_TIMEOUT,
    apply_event,
    close_attempt,
    fail_unstarted,
    is_in_retry_delay,
    is_not_started,
    missing_triggers,
    reset_for_retry,
    with_triggers,
)
from tron.core.effects import Effect, PublishTrigger, ScheduleRetry, StartAction
from tron.core.progress import advance
from tron.core.records import ActionRun, JobRun
from tron.core.run_state import get_action_run, with_action_run
from tron.core.states import ActionRunEvent, ActionRunState

TRIGGER_TIMEOUT_REASON = "Timed out waiting for trigger"


def action_exited(
    run: JobRun,
    action_name: str,
    *,
    exit_status: int | None,
    now: datetime,
    reason: str | None = None,
) -> tuple[JobRun, list[Effect]]:
    """The current attempt ended with `exit_status` (None: unknown, e.g. connection lost).

    0 succeeds and publishes its triggers; non-zero retries while retries remain (at once,
    or after `retries_delay` while staying `running`), else fails; None is `unknown`.
    An exit of an action run no longer active (cancelled or marked by hand meanwhile) is
    only recorded. A repeated exit for a closed attempt changes nothing.
    """
    action_run = get_action_run(run, action_name)
    attempt = action_run.current_attempt
    if attempt is None or attempt.is_finished:
        return run, []
    action_run = close_attempt(action_run, now=now, exit_status=exit_status, reason=reason)
    action_run, effects = _after_exit(action_run, exit_status, now)
    changed, more = advance(run, with_action_run(run, action_run), now=now)
    return changed, [*effects, *more]


def _after_exit(
    action_run: ActionRun, exit_status: int | None, now: datetime
) -> tuple[ActionRun, list[Effect]]:
    name = action_run.action_name
    if action_run.restart_on_exit:
        return reset_for_retry(action_run), [StartAction(name)]
    if action_run.state is ActionRunState.UNKNOWN:
        # Lost sight of while it ran, seen again at its end: it ran all along.
        action_run = apply_event(action_run, ActionRunEvent.RUNNING, now=now)
    if not action_run.state.is_active:
        return action_run, []
    if exit_status == 0:
        succeeded = apply_event(action_run, ActionRunEvent.SUCCESS, now=now)
        return succeeded, [PublishTrigger(e) for e in succeeded.trigger_downstreams]
    if exit_status is None:
        return apply_event(action_run, ActionRunEvent.FAIL_UNKNOWN, now=now), []
    if (action_run.retries_remaining or 0) > 0:
        return _retry(action_run, now)
    return apply_event(action_run, ActionRunEvent.FAIL, now=now), []


def action_lost(
    run: JobRun, action_name: str, *, now: datetime, reason: str | None
) -> tuple[JobRun, list[Effect]]:
    """The engine lost sight of a running attempt that may still run (a silent node).

    The action run is `unknown` meanwhile, but its attempt stays open: when the attempt is
    seen again, `action_exited` records its real exit status and carries on from there.
    """
    action_run = get_action_run(run, action_name)
    attempt = action_run.current_attempt
    if attempt is None or attempt.is_finished or not action_run.state.is_active:
        return run, []
    lost = replace(apply_event(action_run, ActionRunEvent.FAIL_UNKNOWN, now=now), reason=reason)
    return advance(run, with_action_run(run, lost), now=now)


def _retry(action_run: ActionRun, now: datetime) -> tuple[ActionRun, list[Effect]]:
    remaining = (action_run.retries_remaining or 0) - 1
    action_run = replace(action_run, retries_remaining=remaining)
    delay = retry_delay(action_run)
    if not delay:
        return reset_for_retry(action_run), [StartAction(action_run.action_name)]
    # Tron keeps the action `running` through the delay (API `in_delay`).
    if action_run.state is ActionRunState.STARTING:
        action_run = apply_event(action_run, ActionRunEvent.STARTED, now=now)
    at = now + delay
    return replace(action_run, retry_at=at), [ScheduleRetry(action_run.action_name, at)]


# Past this, a growing delay stops growing even without `max_delay` (and never overflows).
_LONGEST_DELAY = timedelta(days=365)


def retry_delay(action_run: ActionRun) -> timedelta | None:
    """The wait before the next attempt: `retries_delay * factor^(failures-1)`, capped at
    `max_delay`, moved by up to +/- `jitter`. The jitter is drawn from the attempt's identity,
    not a random source, so the decision stays pure and a restarted daemon agrees with it."""
    base = action_run.retries_delay
    if not base:
        return base
    failures = max(len(action_run.attempts), 1)
    cap = (action_run.retries_max_delay or _LONGEST_DELAY).total_seconds()
    try:
        factor = action_run.retries_backoff_factor or 1.0
        seconds = base.total_seconds() * factor ** (failures - 1)
    except OverflowError:
        seconds = cap
    seconds = min(seconds, cap)
    spread = (action_run.retries_jitter or timedelta(0)).total_seconds()
    if spread:
        digest = hashlib.sha1(f"{action_run.id}:{failures}".encode()).digest()
        fraction = int.from_bytes(digest[:4], "big") / 0xFFFFFFFF  # in [0, 1]
        seconds += spread * (2 * fraction - 1)
    return timedelta(seconds=max(seconds, 0.0))


def retry_due(run: JobRun, action_name: str, *, now: datetime) -> tuple[JobRun, list[Effect]]:
    """A ScheduleRetry fired: start the next attempt, unless the retry was called off."""
    action_run = get_action_run(run, action_name)
    if not is_in_retry_delay(action_run):
        return run, []
    changed, effects = advance(run, with_action_run(run, reset_for_retry(action_run)), now=now)
    return changed, [StartAction(action_name), *effects]


def trigger_published(run: JobRun, event_id: str, *, now: datetime) -> tuple[JobRun, list[Effect]]:
    """`event_id` was published: waiting actions whose triggers are now all done start.

    Before the run starts the event is only remembered (spec 5.8).
    """
    events = frozenset({event_id})
    runs = tuple(a if a.state.is_done else with_triggers(a, events) for a in run.action_runs)
    changed = replace(run, action_runs=runs)
    if run.start_time is None:
        return changed, []
    return advance(run, changed, now=now)


def trigger_timed_out(
    run: JobRun, action_name: str, *, now: datetime
) -> tuple[JobRun, list[Effect]]:
    """The trigger timeout passed: a not-started action still missing triggers fails (-4)."""
    action_run = get_action_run(run, action_name)
    if not is_not_started(action_run) or not missing_triggers(action_run):
        return run, []
    failed = fail_unstarted(
        action_run, now=now, exit_status=EXIT_TRIGGER_TIMEOUT, reason=TRIGGER_TIMEOUT_REASON
    )
    return advance(run, with_action_run(run, failed), now=now)


def settle(
    run: JobRun, *, now: datetime, published: Collection[str] = ()
) -> tuple[JobRun, list[Effect]]:
    """Everything a started run should do now, as if nothing had been asked yet.

    For recovery after a restart, when StartActions given before may have been lost:
    records `published` triggers, then gives a StartAction for every ready action, the
    cleanup if it is due, and JobRunDone if the run has finished.
    """
    events = frozenset(published)
    runs = tuple(a if a.state.is_done else with_triggers(a, events) for a in run.action_runs)
    # An empty run has nothing ready and is not finished: every decision is made afresh.
    return advance(replace(run, action_runs=()), replace(run, action_runs=runs), now=now)
