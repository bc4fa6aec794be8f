"""After any change to a job run: what becomes ready, when the cleanup starts, when it is done.

`advance(before, after)` compares the run before and after one change, so each StartAction
is given once: an action already ready before the change (its StartAction given then, the
engine not yet called back) is not announced again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from tron.core.action_run import (
    EXIT_INVALID_COMMAND,
    fail_unstarted,
    is_render_failed,
)
from tron.core.effects import Effect, JobRunDone, StartAction
from tron.core.records import ActionRun, JobRun
from tron.core.rendering import render_command
from tron.core.run_state import (
    cleanup_run,
    get_action_run,
    is_cleanup_ready,
    is_finished,
    job_run_state,
    ready_actions,
    with_action_run,
)

INVALID_COMMAND_REASON = "Invalid command"


def advance(before: JobRun, after: JobRun, *, now: datetime) -> tuple[JobRun, list[Effect]]:
    """Effects of the change `before` -> `after`: starts, the cleanup, the end of the run."""
    run = _fail_unrenderable(after, now=now)
    already = set(ready_actions(before))
    effects: list[Effect] = [StartAction(n) for n in ready_actions(run) if n not in already]
    if is_cleanup_ready(run) and not is_cleanup_ready(before):
        run, cleanup_effects = _start_cleanup(run, now=now)
        effects.extend(cleanup_effects)
    return _mark_end(before, run, effects, now=now)


def _fail_unrenderable(run: JobRun, *, now: datetime) -> JobRun:
    # A failed action can unblock nothing, but loop anyway so the result is a fixed point.
    while True:
        ready = set(ready_actions(run))
        bad = [
            a.action_name for a in run.action_runs if a.action_name in ready and is_render_failed(a)
        ]
        if not bad:
            return run
        for name in bad:
            run = with_action_run(run, _invalid(run, name, now))


def _invalid(run: JobRun, name: str, now: datetime) -> ActionRun:
    return fail_unstarted(
        get_action_run(run, name),
        now=now,
        exit_status=EXIT_INVALID_COMMAND,
        reason=INVALID_COMMAND_REASON,
    )


def _start_cleanup(run: JobRun, *, now: datetime) -> tuple[JobRun, list[Effect]]:
    # `{cleanup_job_status}` must see the regular actions' outcome: render it only now.
    cleanup = cleanup_run(run)
    assert cleanup is not None
    if cleanup.command is None:
        cleanup = replace(cleanup, command=render_command(run, cleanup, cleanup.raw_command))
    if is_render_failed(cleanup):
        cleanup = fail_unstarted(
            cleanup, now=now, exit_status=EXIT_INVALID_COMMAND, reason=INVALID_COMMAND_REASON
        )
        return with_action_run(run, cleanup), []
    return with_action_run(run, cleanup), [StartAction(cleanup.action_name)]


def _mark_end(
    before: JobRun, run: JobRun, effects: list[Effect], *, now: datetime
) -> tuple[JobRun, list[Effect]]:
    if not is_finished(run):
        return (replace(run, end_time=None) if run.end_time else run), effects
    if is_finished(before):
        return run, effects
    return replace(run, end_time=now), [*effects, JobRunDone(job_run_state(run))]
