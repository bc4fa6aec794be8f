"""The recovery table, row by row (`tron.core.recovery`), and the catch-up function that both
scheduling and recovery use (`tron.core.catch_up`)."""

from __future__ import annotations

import signal
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from tests.unit.core.core_builders import dag_job, new_run

from tron.config.model import CatchUpConfig
from tron.core import job_run as jr
from tron.core.catch_up import catch_up_slot, is_dropped, next_slot
from tron.core.job_run import action_starting, apply_action_command, built_from, start_job_run
from tron.core.records import ActionRun, Attempt, JobRun
from tron.core.recovery import ActionRecovery, Trace, action_recovery, needs_trace
from tron.core.states import ActionRunState

S = ActionRunState
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
OPEN = Attempt(number=1, command="x", node=None, start_time=T0)
CLOSED = replace(OPEN, end_time=T0 + timedelta(seconds=1), exit_status=1)
STOPPING = replace(OPEN, stop_signal=15)  # a stop or kill durable, maybe never sent


def action(
    state: ActionRunState, *attempts: Attempt, retry_at: datetime | None = None
) -> ActionRun:
    return ActionRun(
        job_name="ns.job",
        run_num=1,
        action_name="a",
        state=state,
        raw_command="x",
        original_command="x",
        attempts=attempts,
        retry_at=retry_at,
    )


ROWS = [
    # not started: nothing here, whatever the node says
    *[(action(s), t, ActionRecovery.NOTHING)
      for s in (S.SCHEDULED, S.QUEUED, S.WAITING) for t in Trace],
    # running in a retry delay: re-arm it
    *[(action(S.RUNNING, CLOSED, retry_at=T0), t, ActionRecovery.REARM_RETRY) for t in Trace],
    # starting: relaunch only what provably never started
    (action(S.STARTING, OPEN), Trace.NONE, ActionRecovery.RELAUNCH),
    (action(S.STARTING, OPEN), Trace.SOME, ActionRecovery.REATTACH),
    (action(S.STARTING, OPEN), Trace.UNKNOWN, ActionRecovery.REATTACH),
    # an open attempt in any other state: reattach, or lost without a trace
    *[(action(s, OPEN), Trace.SOME, ActionRecovery.REATTACH)
      for s in (S.RUNNING, S.UNKNOWN, S.CANCELLED, S.SUCCEEDED, S.FAILED)],
    *[(action(s, OPEN), Trace.UNKNOWN, ActionRecovery.REATTACH)
      for s in (S.RUNNING, S.UNKNOWN, S.CANCELLED)],
    *[(action(s, OPEN), Trace.NONE, ActionRecovery.LOST)
      for s in (S.RUNNING, S.UNKNOWN, S.CANCELLED)],
    # a stop or kill asked of an open attempt: sent again when its process is there
    *[(action(s, STOPPING), Trace.SOME, ActionRecovery.RESIGNAL)
      for s in (S.STARTING, S.RUNNING, S.UNKNOWN, S.CANCELLED)],
    *[(action(s, STOPPING), Trace.UNKNOWN, ActionRecovery.REATTACH)
      for s in (S.STARTING, S.RUNNING, S.UNKNOWN, S.CANCELLED)],
    (action(S.STARTING, STOPPING), Trace.NONE, ActionRecovery.RELAUNCH),
    (action(S.RUNNING, STOPPING), Trace.NONE, ActionRecovery.LOST),
    (action(S.FAILED, replace(STOPPING, end_time=T0)), Trace.SOME, ActionRecovery.NOTHING),
    # a closed attempt, not in a delay: nothing
    *[(action(s, CLOSED), t, ActionRecovery.NOTHING)
      for s in (S.SUCCEEDED, S.FAILED, S.UNKNOWN, S.CANCELLED, S.SKIPPED) for t in Trace],
]  # fmt: skip


@pytest.mark.parametrize(("action_run", "trace", "decision"), ROWS)
def test_each_row_of_the_recovery_table_has_one_decision(
    action_run: ActionRun, trace: Trace, decision: ActionRecovery
) -> None:
    assert action_recovery(action_run, trace) is decision
    # The trace is asked for exactly when it can change the decision.
    assert needs_trace(action_run) == (
        decision
        in (
            ActionRecovery.RELAUNCH,
            ActionRecovery.REATTACH,
            ActionRecovery.RESIGNAL,
            ActionRecovery.LOST,
        )
    )


class Minutely:
    type = "cron"
    value = "* * * * *"
    jitter = timedelta(0)
    time_zone = None

    def next_run(self, after: datetime) -> datetime:
        return after.replace(second=0, microsecond=0) + timedelta(minutes=1)


NOW = T0 + timedelta(minutes=4, seconds=30)  # down from 12:00 to 12:04:30
MISSED = [T0 + timedelta(minutes=m) for m in range(1, 5)]


@pytest.mark.parametrize(
    ("policy", "kept"),
    [
        (CatchUpConfig(), MISSED),
        (CatchUpConfig(policy="none"), []),
        (CatchUpConfig(policy="latest"), MISSED[-1:]),
        (CatchUpConfig(policy="all", max_runs=2), MISSED[-2:]),
        (CatchUpConfig(policy="all", window=timedelta(seconds=150)), MISSED[1:]),
    ],
)
def test_scheduling_and_recovery_keep_the_same_missed_slots(
    policy: CatchUpConfig, kept: list[datetime]
) -> None:
    schedule = Minutely()
    assert [t for t in MISSED if not is_dropped(schedule, policy, t, NOW)] == kept
    first = next_slot(schedule, policy, T0, NOW)
    assert first == (kept[0] if kept else T0 + timedelta(minutes=5))


def test_a_slot_not_yet_due_is_never_moved() -> None:
    later = NOW + timedelta(minutes=1)
    assert catch_up_slot(Minutely(), CatchUpConfig(policy="none"), later, NOW) == later


@pytest.mark.parametrize(
    ("changes", "cleanup", "same"),
    [
        ({}, "echo clean {cleanup_job_status}", True),
        ({"retries": 2}, "echo clean {cleanup_job_status}", False),
        ({"node": "node2"}, "echo clean {cleanup_job_status}", False),
        ({}, None, False),  # the cleanup action went away
        ({}, "echo another cleanup", False),
    ],
)
def test_a_pending_run_is_rebuilt_only_when_its_job_changed(
    changes: dict[str, object], cleanup: str | None, same: bool
) -> None:
    run = new_run(dag_job())
    assert built_from(run, dag_job(cleanup=cleanup, **changes)) is same


def test_a_changed_command_or_requirement_is_a_changed_job() -> None:
    run = new_run(dag_job())
    job = dag_job()
    renamed = replace(job, actions={**job.actions, "c": replace(job.actions["c"], command="x")})
    assert not built_from(run, renamed)
    rewired = replace(job, actions={**job.actions, "c": replace(job.actions["c"], requires=())})
    assert not built_from(run, rewired)


def _asked(run: JobRun) -> int | None:
    attempt = jr.get_action_run(run, "a").current_attempt
    assert attempt is not None
    return attempt.stop_signal


def test_a_stop_is_recorded_on_the_attempt_and_a_kill_stays_a_kill() -> None:
    running = new_run(dag_job())
    running, _ = start_job_run(running, now=T0, published=frozenset())
    running = action_starting(running, "a", now=T0, node=None)
    stopped, _ = apply_action_command(running, "a", "stop", now=T0, reason="why")
    assert _asked(stopped) == signal.SIGTERM
    killed, _ = apply_action_command(stopped, "a", "kill", now=T0)
    stopped_again, _ = apply_action_command(killed, "a", "stop", now=T0)
    assert _asked(stopped_again) == signal.SIGKILL
    # A manual retry of a running action kills it first: that kill is durable as well.
    retried, _ = apply_action_command(running, "a", "retry", now=T0)
    assert _asked(retried) == signal.SIGKILL
