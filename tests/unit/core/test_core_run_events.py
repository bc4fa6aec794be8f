"""Tests of exits, automatic retries and triggers on a job run."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from tests.unit.core.core_builders import (
    T0,
    action,
    dag_job,
    make_job,
    new_run,
    run_action,
    started,
)

from tron.config.model import ActionConfig, JobConfig, RetryBackoff
from tron.core.effects import JobRunDone, PublishTrigger, ScheduleRetry, StartAction
from tron.core.job_run import (
    action_exited,
    action_starting,
    job_run_state,
    retry_due,
    settle,
    start_job_run,
    trigger_published,
    trigger_timed_out,
)
from tron.core.states import ActionRunState

S = ActionRunState
LATER = T0 + timedelta(minutes=1)


def test_success_publishes_trigger_downstreams() -> None:
    job = make_job([ActionConfig(name="a", command="x", trigger_downstreams=True)], cleanup=None)
    run, _ = started(job)
    run, effects = run_action(run, "a")
    assert effects == [
        PublishTrigger("svc.etl.a.shortdate.2024-03-05"),
        JobRunDone(S.SUCCEEDED),
    ]


def test_failure_with_retries_restarts_at_once() -> None:
    run, _ = started(dag_job(retries=2))
    run, _ = run_action(run, "a")
    run, effects = run_action(run, "b", exit_status=3)
    b = action(run, "b")
    assert effects == [StartAction("b")]
    assert (b.state, b.retries_remaining, b.exit_status) == (S.SCHEDULED, 1, 3)
    run, effects = run_action(run, "b", exit_status=3)
    assert effects == [StartAction("b")]
    run, effects = run_action(run, "b", exit_status=3)
    b = action(run, "b")
    assert (b.state, b.retries_remaining, b.exit_statuses) == (S.FAILED, 0, (3, 3, 3))
    assert [a.number for a in b.attempts] == [1, 2, 3]
    assert effects == []


def test_failure_with_retry_delay_stays_running_until_due() -> None:
    run, _ = started(dag_job(retries=1, retries_delay=timedelta(seconds=30)))
    run, _ = run_action(run, "a")
    run, effects = run_action(run, "b", exit_status=1)
    at = LATER + timedelta(seconds=30)
    assert effects == [ScheduleRetry("b", at)]
    assert (action(run, "b").state, action(run, "b").retry_at) == (S.RUNNING, at)
    assert job_run_state(run) is S.RUNNING
    run, effects = retry_due(run, "b", now=at)
    assert effects == [StartAction("b")]
    assert (action(run, "b").state, action(run, "b").retry_at) == (S.SCHEDULED, None)
    run, effects = run_action(run, "b", exit_status=0)
    assert action(run, "b").state is S.SUCCEEDED


def test_exit_while_starting_with_delay_moves_to_running() -> None:
    run, _ = started(dag_job(retries=1, retries_delay=timedelta(seconds=5)))
    run = action_starting(run, "a", now=T0, node=None)
    run, _ = action_exited(run, "a", exit_status=0, now=T0)
    run = action_starting(run, "b", now=T0, node=None)
    run, effects = action_exited(run, "b", exit_status=-2, now=T0)
    assert effects == [ScheduleRetry("b", T0 + timedelta(seconds=5))]
    assert action(run, "b").state is S.RUNNING


def test_retry_due_does_nothing_when_the_retry_was_called_off() -> None:
    run, _ = started(dag_job())
    assert retry_due(run, "a", now=T0) == (run, [])


def test_repeated_exit_changes_nothing() -> None:
    run, _ = started(dag_job())
    run, _ = run_action(run, "a")
    assert action_exited(run, "a", exit_status=1, now=T0) == (run, [])
    assert action_exited(run, "b", exit_status=1, now=T0) == (run, [])


def test_exit_records_reason_on_the_attempt() -> None:
    run, _ = started(dag_job())
    run = action_starting(run, "a", now=T0, node=None)
    run, _ = action_exited(run, "a", exit_status=None, now=LATER, reason="connection lost")
    attempt = action(run, "a").current_attempt
    assert (attempt.end_time, attempt.exit_status, attempt.reason) == (
        LATER,
        None,
        "connection lost",
    )


def _trigger_job() -> JobConfig:
    return make_job(
        [
            ActionConfig(name="a", command="x", triggered_by=("up.j.a.k.{shortdate}", "e2")),
            ActionConfig(name="b", command="x", requires=("a",)),
        ]
    )


def test_waiting_trigger_holds_the_run_until_published() -> None:
    run, effects = started(_trigger_job())
    assert effects == []
    assert job_run_state(run) is S.WAITING
    run, effects = trigger_published(run, "up.j.a.k.2024-03-05", now=T0)
    assert effects == []
    assert action(run, "a").triggers_done == ("up.j.a.k.2024-03-05",)
    run, effects = trigger_published(run, "unrelated", now=T0)
    assert effects == []
    run, effects = trigger_published(run, "e2", now=T0)
    assert effects == [StartAction("a")]
    run, effects = trigger_published(run, "e2", now=T0)
    assert effects == []


def test_trigger_published_before_start_is_remembered() -> None:
    run = new_run(_trigger_job())
    run, effects = trigger_published(run, "e2", now=T0)
    assert effects == []
    run, effects = start_job_run(run, now=T0, published={"up.j.a.k.2024-03-05"})
    assert effects == [StartAction("a")]


def test_trigger_timeout_fails_with_minus_four_and_runs_cleanup() -> None:
    run, _ = started(_trigger_job())
    run, effects = trigger_timed_out(run, "a", now=LATER)
    a = action(run, "a")
    assert (a.state, a.exit_status, a.end_time) == (S.FAILED, -4, LATER)
    assert effects == [StartAction("cleanup")]
    assert job_run_state(run) is S.FAILED


def test_trigger_timeout_ignores_satisfied_or_started_actions() -> None:
    run, _ = started(_trigger_job())
    assert trigger_timed_out(run, "b", now=T0) == (run, [])
    run, _ = trigger_published(run, "e2", now=T0)
    run, _ = trigger_published(run, "up.j.a.k.2024-03-05", now=T0)
    assert trigger_timed_out(run, "a", now=T0) == (run, [])


def test_settle_repeats_every_pending_decision() -> None:
    run, _ = started(_trigger_job())
    run, effects = settle(run, now=T0, published={"e2", "up.j.a.k.2024-03-05"})
    assert effects == [StartAction("a")]
    assert settle(run, now=T0)[1] == [StartAction("a")]
    run, _ = run_action(run, "a")
    run, _ = run_action(run, "b")
    assert settle(run, now=T0)[1] == [StartAction("cleanup")]
    run, _ = run_action(run, "cleanup")
    done = replace(run, end_time=None)
    assert settle(done, now=LATER) == (replace(run, end_time=LATER), [JobRunDone(S.SUCCEEDED)])


def _failing_b(**backoff: Any) -> ActionConfig:
    return ActionConfig(
        name="b",
        command="exit 1",
        retries=4,
        retries_delay=timedelta(seconds=10),
        retries_backoff=RetryBackoff(**backoff),
    )


def _retry_delays(job: JobConfig, failures: int) -> list[timedelta]:
    run, _ = started(job)
    delays = []
    for _ in range(failures):
        now = LATER
        run = action_starting(run, "b", now=now, node=None)
        run, effects = action_exited(run, "b", exit_status=1, now=now)
        (retry,) = [e for e in effects if isinstance(e, ScheduleRetry)]
        delays.append(retry.at - now)
        assert action(run, "b").retry_at == retry.at
        run, _ = retry_due(run, "b", now=retry.at)
    return delays


def test_retry_delay_grows_by_the_backoff_factor_up_to_max_delay() -> None:
    job = make_job([_failing_b(factor=2.0, max_delay=timedelta(seconds=30))], cleanup=None)
    assert _retry_delays(job, 4) == [timedelta(seconds=s) for s in (10, 20, 30, 30)]


def test_retry_jitter_stays_within_bounds_and_is_the_same_when_decided_again() -> None:
    job = make_job([_failing_b(factor=1.0, jitter=timedelta(seconds=4))], cleanup=None)
    first, again = _retry_delays(job, 3), _retry_delays(job, 3)
    assert first == again  # a restarted daemon re-arms the same moment
    assert all(timedelta(seconds=6) <= d <= timedelta(seconds=14) for d in first)
    assert len(set(first)) > 1
