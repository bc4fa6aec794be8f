"""Tests of manual commands on action runs and job runs (spec 5.4, 8.3)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from tests.unit.core.core_builders import (
    T0,
    action,
    dag_job,
    make_job,
    new_run,
    run_action,
    started,
    states,
)

from tron.config.model import ActionConfig
from tron.core.effects import JobRunDone, KillAction, PublishTrigger, StartAction
from tron.core.job_run import (
    action_exited,
    action_starting,
    apply_action_command,
    apply_job_run_command,
    job_run_state,
    update_commands,
)
from tron.core.records import JobRun
from tron.core.rendering import LiveContext
from tron.core.states import ActionRunState
from tron.errors import BadRequestError, ConflictError, InvalidTransitionError

S = ActionRunState


def _failed_b() -> JobRun:
    run, _ = started(dag_job(trigger_downstreams={"k": "v"}))
    run, _ = run_action(run, "a")
    run, _ = run_action(run, "c")
    run, _ = run_action(run, "b", exit_status=1)
    return run


def test_skip_of_a_failed_action_starts_its_dependants() -> None:
    run = _failed_b()
    run, effects = apply_action_command(run, "b", "skip", now=T0)
    assert action(run, "b").state is S.SKIPPED
    assert effects == [StartAction("d")]


def test_success_publishes_triggers_and_starts_dependants() -> None:
    _, effects = apply_action_command(_failed_b(), "b", "success", now=T0)
    assert effects == [PublishTrigger("svc.etl.b.k.v"), StartAction("d")]


def test_success_of_the_last_action_ends_the_run() -> None:
    run = _failed_b()
    run, _ = run_action(run, "cleanup")
    assert job_run_state(run) is S.FAILED
    run, effects = apply_action_command(run, "b", "skip", now=T0)
    assert run.end_time is None
    run, effects = run_action(run, "d")
    assert effects == [JobRunDone(S.SUCCEEDED)]
    assert states(run)["cleanup"] is S.SUCCEEDED


def test_fail_sets_no_more_retries() -> None:
    run, _ = started(dag_job(retries=3))
    run, effects = apply_action_command(run, "a", "fail", now=T0)
    assert (action(run, "a").state, action(run, "a").retries_remaining) == (S.FAILED, -1)
    assert effects == [StartAction("cleanup")]


def test_cancel_a_waiting_action() -> None:
    run, _ = started(dag_job())
    run, _ = apply_action_command(run, "a", "cancel", now=T0)
    assert action(run, "a").state is S.CANCELLED


@pytest.mark.parametrize(("command", "state"), [("skip", "waiting"), ("start", "succeeded")])
def test_invalid_transitions_raise(command: str, state: str) -> None:
    run, _ = started(dag_job())
    name = "a" if state == "waiting" else "b"
    if state == "succeeded":
        run, _ = run_action(run, "a")
        run, _ = run_action(run, "b")
    with pytest.raises(InvalidTransitionError) as info:
        apply_action_command(run, name, command, now=T0)
    assert (info.value.state, info.value.event) == (state, command)


def test_unknown_command_is_a_bad_request() -> None:
    run, _ = started(dag_job())
    with pytest.raises(BadRequestError):
        apply_action_command(run, "a", "dance", now=T0)
    with pytest.raises(BadRequestError):
        apply_job_run_command(run, "dance", now=T0)


def test_start_asks_for_a_start_and_records_published_triggers() -> None:
    job = make_job([ActionConfig(name="a", command="x", triggered_by=("e",))])
    run, _ = started(job)
    run, effects = apply_action_command(run, "a", "start", now=T0, published={"e"})
    assert effects == [StartAction("a")]
    assert action(run, "a").triggers_done == ("e",)


def test_start_refused_while_job_run_is_scheduled() -> None:
    with pytest.raises(ConflictError, match="still scheduled"):
        apply_action_command(new_run(dag_job()), "a", "start", now=T0)


def test_start_of_an_unrenderable_action_fails_it() -> None:
    job = make_job(
        [
            ActionConfig(name="a", command="x"),
            ActionConfig(name="b", command="{x}", requires=("a",)),
        ]
    )
    run, _ = started(job)
    run, effects = apply_action_command(run, "b", "start", now=T0)
    assert (action(run, "b").state, action(run, "b").exit_status) == (S.FAILED, -1)
    assert effects == []


def test_retry_of_a_failed_action_restarts_it_without_delay() -> None:
    run = _failed_b()
    run, effects = apply_action_command(run, "b", "retry", now=T0)
    b = action(run, "b")
    assert effects == [StartAction("b")]
    assert (b.state, b.retries_remaining, b.retries_delay) == (S.SCHEDULED, 0, None)
    run, _ = run_action(run, "b", exit_status=1)
    assert action(run, "b").exit_statuses == (1, 1)


def test_retry_with_latest_command_renders_the_new_template() -> None:
    run = _failed_b()
    run = update_commands(run, dag_job(cleanup="x"))
    new_job = make_job([ActionConfig(name="b", command="echo new {runid}")])
    run = update_commands(run, new_job)
    run, _ = apply_action_command(run, "b", "retry", now=T0, use_latest_command=True)
    run = action_starting(run, "b", now=T0, node=None)
    assert action(run, "b").command == "echo new svc.etl.7"
    assert action(run, "b").current_attempt.command == "echo new svc.etl.7"
    # For that attempt only: the automatic and plain retries after it render the original.
    run, _ = action_exited(run, "b", exit_status=1, now=T0)
    run, _ = apply_action_command(run, "b", "retry", now=T0)
    run = action_starting(run, "b", now=T0, node=None)
    assert action(run, "b").command == "echo b"


def test_each_attempt_renders_with_the_live_context() -> None:
    # Spec 4, as Tron: the frozen template, rendered when the attempt starts, sees MASTER
    # `command_context` and `last_success` as they are then, not as at the run's creation.
    job = make_job(
        [ActionConfig(name="a", command="run {env} {last_success#shortdate} on {node}")],
        cleanup=None,
    )
    run, _ = started(job, context={"env": "old", "node_hostname": "host1"})
    assert action(run, "a").command == "run old 2024-03-05 on host1"
    asked: list[bool] = []

    def last_success() -> datetime:
        asked.append(True)
        return T0 - timedelta(days=3)

    live = LiveContext({"env": "new"}, last_success)
    run = action_starting(run, "a", now=T0, node="node1", live=live)
    assert action(run, "a").current_attempt.command == "run new 2024-03-02 on host1"
    assert asked == [True]


def test_the_newest_success_is_not_looked_up_for_a_template_without_it() -> None:
    run, _ = started(dag_job())

    def never() -> datetime:
        raise AssertionError("looked up")

    run = action_starting(run, "a", now=T0, node=None, live=LiveContext({}, never))
    assert action(run, "a").command == "echo a svc.etl.7"


def test_retry_of_a_running_action_kills_then_restarts_on_exit() -> None:
    run, _ = started(dag_job())
    run = action_starting(run, "a", now=T0, node=None)
    run, effects = apply_action_command(run, "a", "retry", now=T0)
    assert effects == [KillAction("a", 9)]
    run, effects = action_exited(run, "a", exit_status=137, now=T0)
    assert effects == [StartAction("a")]
    assert action(run, "a").state is S.SCHEDULED


def test_retry_during_retry_delay_restarts_at_once() -> None:
    run, _ = started(dag_job(retries=1, retries_delay=timedelta(minutes=5)))
    run, _ = run_action(run, "a")
    run, _ = run_action(run, "b", exit_status=1)
    run, effects = apply_action_command(run, "b", "retry", now=T0)
    assert effects == [StartAction("b")]
    assert action(run, "b").retry_at is None


def test_retry_refused_after_cleanup_ran() -> None:
    run = _failed_b()
    run, _ = run_action(run, "cleanup")
    with pytest.raises(ConflictError, match="use rerun instead"):
        apply_action_command(run, "b", "retry", now=T0)


def test_retry_refused_for_an_action_not_started() -> None:
    run, _ = started(dag_job())
    with pytest.raises(InvalidTransitionError):
        apply_action_command(run, "b", "retry", now=T0)


def test_stop_and_kill_signal_a_running_action() -> None:
    run, _ = started(dag_job())
    run = action_starting(run, "a", now=T0, node=None)
    _, effects = apply_action_command(run, "a", "stop", now=T0)
    assert effects == [KillAction("a", 15)]
    _, effects = apply_action_command(run, "a", "kill", now=T0)
    assert effects == [KillAction("a", 9)]


def test_stop_during_retry_delay_fails_with_minus_three() -> None:
    run, _ = started(dag_job(retries=1, retries_delay=timedelta(minutes=5)))
    run, _ = run_action(run, "a")
    run, _ = run_action(run, "b", exit_status=1)
    run, effects = apply_action_command(run, "b", "stop", now=T0)
    assert (action(run, "b").state, action(run, "b").exit_status) == (S.FAILED, -3)
    assert effects == []


def test_stop_refused_when_nothing_runs() -> None:
    run, _ = started(dag_job())
    with pytest.raises(InvalidTransitionError):
        apply_action_command(run, "a", "kill", now=T0)


def test_job_run_start_cancel_and_refusals() -> None:
    run, effects = apply_job_run_command(new_run(dag_job()), "start", now=T0)
    assert effects == [StartAction("a")]
    with pytest.raises(ConflictError, match=r"Failed to start, JobRun:svc.etl.7 in state waiting"):
        apply_job_run_command(run, "start", now=T0)
    run, effects = apply_job_run_command(run, "cancel", now=T0)
    assert effects == [JobRunDone(S.CANCELLED)]
    with pytest.raises(ConflictError, match="Failed to cancel"):
        apply_job_run_command(run, "cancel", now=T0)


def test_job_run_success_marks_unfinished_actions_then_cleanup_runs() -> None:
    run, _ = started(dag_job(trigger_downstreams=True))
    run, effects = apply_job_run_command(run, "success", now=T0)
    assert effects == [PublishTrigger("svc.etl.b.shortdate.2024-03-05"), StartAction("cleanup")]
    assert {states(run)[n] for n in "abcd"} == {S.SUCCEEDED}
    with pytest.raises(ConflictError, match="Failed to success"):
        apply_job_run_command(run, "success", now=T0)


def test_job_run_fail_marks_every_action_failed_then_cleanup_runs() -> None:
    run, _ = started(dag_job())
    run, _ = run_action(run, "a")
    run, effects = apply_job_run_command(run, "fail", now=T0)
    assert states(run) == {
        "a": S.FAILED,
        "b": S.FAILED,
        "c": S.FAILED,
        "d": S.FAILED,
        "cleanup": S.WAITING,
    }
    assert effects == [StartAction("cleanup")]


def _succeeded_run() -> JobRun:
    run, _ = started(dag_job())
    for name in ("a", "b", "c", "d", "cleanup"):
        run, _ = run_action(run, name)
    assert job_run_state(run) is S.SUCCEEDED
    return run


def test_job_run_fail_on_a_succeeded_run_marks_it_failed() -> None:
    # Spec 5.2: `fail` on a succeeded run records that it was not good after all.
    run, effects = apply_job_run_command(_succeeded_run(), "fail", now=T0)
    assert job_run_state(run) is S.FAILED
    assert set(states(run).values()) == {S.FAILED}
    assert effects == []


def test_job_run_success_on_a_failed_run_marks_it_then_runs_the_dependants() -> None:
    # Spec 5.2: the failed action is marked succeeded (a person fixed it) and what waited
    # behind it runs; the run ends succeeded when they do.
    run = _failed_b()
    run, _ = run_action(run, "cleanup", exit_status=1)
    assert job_run_state(run) is S.FAILED
    run, effects = apply_job_run_command(run, "success", now=T0)
    assert states(run) == {
        "a": S.SUCCEEDED,
        "b": S.SUCCEEDED,
        "c": S.SUCCEEDED,
        "d": S.WAITING,
        "cleanup": S.SUCCEEDED,
    }
    assert effects == [PublishTrigger("svc.etl.b.k.v"), StartAction("d")]
    assert run.end_time is None
    run, effects = run_action(run, "d")
    assert effects == [JobRunDone(S.SUCCEEDED)]
    assert job_run_state(run) is S.SUCCEEDED


def test_job_run_success_on_a_run_whose_cleanup_failed() -> None:
    run, _ = started(dag_job())
    for name in ("a", "b", "c", "d"):
        run, _ = run_action(run, name)
    run, _ = run_action(run, "cleanup", exit_status=1)
    assert job_run_state(run) is S.UNKNOWN
    run, effects = apply_job_run_command(run, "success", now=T0)
    assert job_run_state(run) is S.SUCCEEDED
    assert effects == []


@pytest.mark.parametrize(("command", "state"), [("success", S.SUCCEEDED), ("fail", S.FAILED)])
def test_job_run_success_or_fail_of_a_run_never_started_marks_its_cleanup_too(
    command: str, state: ActionRunState
) -> None:
    run, _ = apply_job_run_command(new_run(dag_job()), command, now=T0)
    assert set(states(run).values()) == {state}
    assert job_run_state(run) is state
    assert run.end_time == T0
