"""Tests of creating job runs, their derived state and their life (start, queue, cancel)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

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
from tron.core.action_run import RENDER_FAILED_COMMAND
from tron.core.effects import JobRunDone, KillAction, StartAction
from tron.core.job_run import (
    action_exited,
    action_started,
    action_starting,
    cancel_job_run,
    create_job_run,
    get_action_run,
    is_finished,
    job_run_state,
    queue_job_run,
    slot_name,
    start_job_run,
    stop_job_run,
    update_commands,
)
from tron.core.records import ActionRun, JobRun
from tron.core.states import ActionRunState
from tron.errors import ConflictError, InvalidTransitionError, NotFoundError

S = ActionRunState


def test_create_makes_one_scheduled_action_run_per_action_then_cleanup() -> None:
    run = new_run(dag_job())
    assert [a.action_name for a in run.action_runs] == ["a", "b", "c", "d", "cleanup"]
    assert set(states(run).values()) == {S.SCHEDULED}
    assert str(run.id) == "svc.etl.7"
    assert action(run, "cleanup").is_cleanup
    assert action(run, "cleanup").requires == ()
    assert action(run, "d").requires == ("b", "c")


def test_create_renders_commands_now_but_not_the_cleanup() -> None:
    run = new_run(dag_job())
    a = action(run, "a")
    assert a.command == "echo a svc.etl.7"
    assert a.raw_command == a.original_command == "echo a {runid}"
    assert action(run, "cleanup").command is None


def test_create_renders_every_builtin_and_user_variable() -> None:
    command = "{runid} {name} {namespace} {actionname} {node} {manual} {X} {last_success#ymd}"
    job = make_job([ActionConfig(name="a", command=command + " {cleanup_job_status}")])
    last = T0 - timedelta(days=3)
    run = new_run(job, manual=True, context={"X": "user"}, last_success=last)
    assert action(run, "a").command == (
        "svc.etl.7 svc.etl svc a node1 true user 2024-03-02 UNKNOWN"
    )


def test_node_variable_uses_hostnames_from_context() -> None:
    job = make_job(
        [
            ActionConfig(name="a", command="{node}"),
            ActionConfig(name="b", command="{node}", node="other"),
            ActionConfig(name="c", command="{node}", node="pool"),
        ]
    )
    context = {"node_hostname": "h1.example", "node_hostnames": {"other": "h2.example"}}
    run = new_run(job, context=context)
    assert [action(run, n).command for n in "abc"] == ["h1.example", "h2.example", "pool"]
    assert action(run, "b").node == "other"
    assert action(new_run(job, node=None), "a").command == "localhost"
    unknown_host = new_run(job, context={"node_hostname": None})
    assert action(unknown_host, "a").command == "node1"


def test_create_copies_retries_env_and_renders_triggers() -> None:
    job = make_job(
        [
            ActionConfig(
                name="a",
                command="x",
                retries=2,
                retries_delay=timedelta(seconds=5),
                env={"K": "V"},
                triggered_by=("up.job.act.shortdate.{shortdate-1}",),
                trigger_downstreams={"ymd": "{ymd}", "n": "fixed"},
            ),
            ActionConfig(name="b", command="x", trigger_downstreams=True),
            ActionConfig(name="c", command="x", trigger_downstreams=False),
        ]
    )
    run = new_run(job)
    a = action(run, "a")
    assert (a.retries_remaining, a.retries_delay, dict(a.env)) == (
        2,
        timedelta(seconds=5),
        {"K": "V"},
    )
    assert a.triggered_by == ("up.job.act.shortdate.2024-03-04",)
    assert a.trigger_downstreams == ("svc.etl.a.ymd.2024-03-05", "svc.etl.a.n.fixed")
    assert action(run, "b").trigger_downstreams == ("svc.etl.b.shortdate.2024-03-05",)
    assert action(run, "c").trigger_downstreams == ()


@pytest.mark.parametrize(
    "fields",
    [{"command": "echo {nope}"}, {"command": "x", "triggered_by": ("{nope}",)}],
)
def test_render_failure_fails_the_action_with_minus_one_when_it_would_start(
    fields: dict[str, object],
) -> None:
    job = make_job([ActionConfig(name="a", **fields), ActionConfig(name="b", command="x")])  # type: ignore[arg-type]
    run = new_run(job)
    assert action(run, "a").command == RENDER_FAILED_COMMAND
    run, effects = start_job_run(run, now=T0)
    assert effects == [StartAction("b")]
    assert (action(run, "a").state, action(run, "a").exit_status) == (S.FAILED, -1)


def test_a_command_that_cannot_render_leaves_its_triggers_unrendered() -> None:
    job = make_job(
        [ActionConfig(name="a", command="echo {nope}", trigger_downstreams={"k": "{ymd}"})]
    )
    a = action(new_run(job), "a")
    assert (a.command, a.trigger_downstreams) == (RENDER_FAILED_COMMAND, ())


def test_cleanup_render_failure_fails_cleanup_and_ends_the_run() -> None:
    run, _ = started(make_job([ActionConfig(name="a", command="x")], cleanup="{nope}"))
    run, effects = run_action(run, "a")
    assert action(run, "cleanup").exit_status == -1
    # A failed cleanup after successful actions: Tron's collection rules give `unknown`.
    assert effects == [JobRunDone(S.UNKNOWN)]


def test_start_makes_actions_waiting_and_starts_the_roots() -> None:
    run, effects = started(dag_job())
    assert effects == [StartAction("a")]
    assert set(states(run).values()) == {S.WAITING}
    assert run.start_time == T0
    assert job_run_state(run) is S.WAITING


def test_start_refuses_a_started_run() -> None:
    run, _ = started(dag_job())
    with pytest.raises(ConflictError, match="Failed to start"):
        start_job_run(run, now=T0)


def test_start_remembers_published_triggers() -> None:
    job = make_job([ActionConfig(name="a", command="x", triggered_by=("e1", "e2"))])
    run, effects = start_job_run(new_run(job), now=T0, published={"e1", "e2", "other"})
    assert effects == [StartAction("a")]
    assert action(run, "a").triggers_done == ("e1", "e2")


def test_queue_then_start() -> None:
    run = queue_job_run(new_run(dag_job()))
    assert job_run_state(run) is S.QUEUED
    run, effects = start_job_run(run, now=T0)
    assert effects == [StartAction("a")]


def test_dag_runs_to_success_and_cleanup_sees_success() -> None:
    run = _dag_through_cleanup()
    run, effects = run_action(run, "cleanup")
    assert effects == [JobRunDone(S.SUCCEEDED)]
    assert is_finished(run)
    assert run.end_time == T0 + timedelta(minutes=1)


def test_a_failed_cleanup_after_good_actions_ends_the_run_unknown() -> None:
    # Spec 5.5 reads both ways; Tron's collection rules (none failed, not all complete)
    # give `unknown`, so the run is neither a success nor a failure.
    run, effects = run_action(_dag_through_cleanup(), "cleanup", exit_status=1)
    assert effects == [JobRunDone(S.UNKNOWN)]
    assert is_finished(run)


def _dag_through_cleanup() -> JobRun:
    run, _ = started(dag_job())
    run, effects = run_action(run, "a")
    assert effects == [StartAction("b"), StartAction("c")]
    run, effects = run_action(run, "b")
    assert effects == []
    run, effects = run_action(run, "c")
    assert effects == [StartAction("d")]
    run, effects = run_action(run, "d")
    assert effects == [StartAction("cleanup")]
    assert action(run, "cleanup").command == "echo clean SUCCESS"
    assert job_run_state(run) is S.WAITING
    assert not is_finished(run)
    return run


def test_failure_blocks_dependants_and_cleanup_sees_failure() -> None:
    run, _ = started(dag_job())
    run, _ = run_action(run, "a")
    run, _ = run_action(run, "c")
    run, effects = run_action(run, "b", exit_status=2)
    assert effects == [StartAction("cleanup")]
    assert action(run, "cleanup").command == "echo clean FAILURE"
    assert action(run, "d").state is S.WAITING
    assert job_run_state(run) is S.FAILED
    run, effects = run_action(run, "cleanup")
    assert effects == [JobRunDone(S.FAILED)]
    assert is_finished(run)


def test_run_without_cleanup_is_done_when_actions_settle() -> None:
    run, _ = started(dag_job(cleanup=None))
    run, _ = run_action(run, "a")
    run, _ = run_action(run, "b")
    run, _ = run_action(run, "c")
    run, effects = run_action(run, "d")
    assert effects == [JobRunDone(S.SUCCEEDED)]


def test_unknown_exit_gives_unknown_and_cleanup_status_unknown() -> None:
    run, _ = started(make_job([ActionConfig(name="a", command="x")]))
    run, effects = run_action(run, "a", exit_status=None)
    assert action(run, "a").state is S.UNKNOWN
    assert effects == [StartAction("cleanup")]
    assert action(run, "cleanup").command == "echo clean UNKNOWN"
    run, effects = run_action(run, "cleanup")
    assert effects == [JobRunDone(S.UNKNOWN)]


def test_action_starting_records_an_attempt_with_the_frozen_command() -> None:
    run, _ = started(dag_job())
    run = action_starting(run, "a", now=T0, node="node9")
    a = action(run, "a")
    assert a.state is S.STARTING
    assert a.node == "node9"
    assert [(x.number, x.command, x.node, x.start_time) for x in a.attempts] == [
        (1, "echo a svc.etl.7", "node9", T0)
    ]
    assert job_run_state(run) is S.STARTING
    run = action_started(run, "a", now=T0)
    assert job_run_state(run) is S.RUNNING


def test_action_starting_refuses_a_finished_action() -> None:
    run, _ = started(dag_job())
    run, _ = run_action(run, "a")
    with pytest.raises(InvalidTransitionError):
        action_starting(run, "a", now=T0, node=None)


def test_unknown_action_name_raises_not_found() -> None:
    with pytest.raises(NotFoundError):
        get_action_run(new_run(dag_job()), "zzz")


def test_cleanup_started_by_hand_is_rendered_then() -> None:
    run, _ = started(dag_job())
    run = action_starting(run, "cleanup", now=T0, node=None)
    assert action(run, "cleanup").command == "echo clean UNKNOWN"
    assert action(run, "cleanup").node == "node1"


def test_cancel_cancels_everything_cancellable_including_cleanup() -> None:
    run, _ = started(dag_job())
    run, _ = run_action(run, "a")
    run = action_starting(run, "b", now=T0, node=None)
    run, effects = cancel_job_run(run, now=T0)
    assert states(run) == {
        "a": S.SUCCEEDED,
        "b": S.CANCELLED,
        "c": S.CANCELLED,
        "d": S.CANCELLED,
        "cleanup": S.CANCELLED,
    }
    assert effects == [JobRunDone(S.CANCELLED)]
    # The running attempt was not signalled; its later exit is only recorded.
    run, effects = action_exited(run, "b", exit_status=0, now=T0)
    assert effects == []
    assert action(run, "b").state is S.CANCELLED
    assert action(run, "b").exit_statuses == (0,)


def test_cancel_a_scheduled_run() -> None:
    run, effects = cancel_job_run(new_run(dag_job()), now=T0)
    assert job_run_state(run) is S.CANCELLED
    assert effects == [JobRunDone(S.CANCELLED)]


def test_stop_job_run_signals_processes_and_ends_retry_delays() -> None:
    run, _ = started(dag_job(retries=1, retries_delay=timedelta(seconds=30)))
    run, _ = run_action(run, "a")
    run, _ = run_action(run, "b", exit_status=1)
    run = action_starting(run, "c", now=T0, node=None)
    run, effects = stop_job_run(run, now=T0)
    assert effects == [KillAction("c", 15)]
    assert (action(run, "b").state, action(run, "b").exit_status) == (S.FAILED, -3)
    assert all(a.retries_remaining == -1 for a in run.action_runs)
    _, effects = stop_job_run(run, now=T0, kill=True)
    assert effects == [KillAction("c", 9)]


def test_update_commands_changes_raw_command_only() -> None:
    run = new_run(dag_job())
    new_job = make_job(
        [ActionConfig(name="a", command="echo new"), ActionConfig(name="z", command="z")],
        cleanup="echo new cleanup",
    )
    updated = update_commands(run, new_job)
    a = action(updated, "a")
    assert (a.raw_command, a.original_command, a.command) == (
        "echo new",
        "echo a {runid}",
        "echo a svc.etl.7",
    )
    assert action(updated, "b") == action(run, "b")
    assert action(updated, "cleanup").raw_command == "echo new cleanup"
    assert updated.find_action_run("z") is None
    assert update_commands(run, dag_job(cleanup=None)) == run


def _with_states(run: JobRun, **by_name: ActionRunState) -> JobRun:
    runs = tuple(replace(a, state=by_name.get(a.action_name, a.state)) for a in run.action_runs)
    return replace(run, action_runs=runs)


W, SC, Q, ST, R = S.WAITING, S.SCHEDULED, S.QUEUED, S.STARTING, S.RUNNING
OK, F, C, SK, U = S.SUCCEEDED, S.FAILED, S.CANCELLED, S.SKIPPED, S.UNKNOWN


@pytest.mark.parametrize(
    ("a", "b", "c", "d", "cleanup", "expected"),
    [
        (OK, OK, SK, OK, OK, S.SUCCEEDED),
        # A failed or unknown cleanup after good actions: `unknown` (Tron's collection rules).
        (OK, OK, OK, OK, F, S.UNKNOWN),
        (OK, SK, OK, OK, U, S.UNKNOWN),
        (OK, OK, OK, OK, C, S.CANCELLED),
        (OK, F, OK, W, F, S.FAILED),
        (OK, OK, OK, OK, W, S.WAITING),
        (C, C, C, C, C, S.CANCELLED),
        (OK, C, C, C, C, S.CANCELLED),
        (F, C, C, C, C, S.FAILED),
        (OK, R, ST, W, W, S.RUNNING),
        (OK, ST, W, W, W, S.STARTING),
        (OK, F, OK, W, W, S.FAILED),
        (OK, F, R, W, W, S.RUNNING),
        (OK, F, OK, W, OK, S.FAILED),
        (W, W, W, W, W, S.WAITING),
        (SC, SC, SC, SC, SC, S.SCHEDULED),
        (Q, Q, Q, Q, Q, S.QUEUED),
        (OK, U, OK, W, OK, S.UNKNOWN),
        (OK, OK, OK, U, OK, S.UNKNOWN),
    ],
)
def test_job_run_state_follows_spec_rules(
    a: ActionRunState,
    b: ActionRunState,
    c: ActionRunState,
    d: ActionRunState,
    cleanup: ActionRunState,
    expected: ActionRunState,
) -> None:
    run = _with_states(new_run(dag_job()), a=a, b=b, c=c, d=d, cleanup=cleanup)
    assert job_run_state(run) is expected


def test_job_run_without_action_runs_is_unknown() -> None:
    run = replace(new_run(dag_job()), action_runs=())
    assert job_run_state(run) is S.UNKNOWN
    assert not is_finished(run)


def test_create_job_run_is_exported_from_job_run() -> None:
    assert create_job_run is not None
    assert isinstance(new_run(dag_job()).action_runs[0], ActionRun)


def test_slot_name_names_the_node_only_for_all_nodes_jobs() -> None:
    job = dag_job()
    assert slot_name(job, T0, "node1") == T0.isoformat()
    assert slot_name(replace(job, all_nodes=True), T0, "node1") == f"{T0.isoformat()}@node1"
