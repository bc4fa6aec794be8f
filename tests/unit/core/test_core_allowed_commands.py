"""The commands a run or action run accepts now: the same answer the command itself gives."""

from __future__ import annotations

import pytest
from tests.unit.core.core_builders import T0, dag_job, new_run, run_action, started

from tron.core.allowed_commands import action_run_commands, job_run_commands
from tron.core.job_run import action_started, action_starting, apply_action_command
from tron.errors import TronError


def allowed(refusals: object) -> set[str]:
    assert isinstance(refusals, dict)
    return {name for name, why in refusals.items() if why is None}


def test_a_succeeded_action_offers_no_kill_and_says_why() -> None:
    run, _ = started(dag_job())
    run, _ = run_action(run, "a")
    refusals = action_run_commands(run, "a", now=T0)
    assert allowed(refusals) == {"retry", "fail", "skip", "success"}
    assert refusals["kill"] == "cannot kill from state succeeded"
    assert refusals["cancel"] == "cannot cancel from state succeeded"


def test_a_running_action_can_be_stopped_killed_or_marked() -> None:
    run, _ = started(dag_job())
    run = action_started(action_starting(run, "a", now=T0, node="node1"), "a", now=T0)
    assert allowed(action_run_commands(run, "a", now=T0)) == {
        "cancel",
        "retry",
        "success",
        "fail",
        "stop",
        "kill",
    }


def test_a_scheduled_run_can_start_or_cancel_but_its_actions_cannot_start() -> None:
    run = new_run(dag_job())
    assert allowed(job_run_commands(run, now=T0)) >= {"start", "cancel", "rerun"}
    refusals = action_run_commands(run, "a", now=T0)
    assert refusals["start"] == "Action run cannot be started if its job run is still scheduled."
    assert refusals["kill"] is not None


def test_a_finished_run_can_be_rerun_but_not_started_or_cancelled() -> None:
    run, _ = started(dag_job())
    for name in ("a", "b", "c", "d", "cleanup"):
        run, _ = run_action(run, name)
    refusals = job_run_commands(run, now=T0)
    assert "rerun" in allowed(refusals)
    assert refusals["start"] == "Failed to start, JobRun:svc.etl.7 in state succeeded"
    assert refusals["cancel"] == "Failed to cancel, JobRun:svc.etl.7 in state succeeded"


def test_each_answer_is_what_the_command_itself_does() -> None:
    run, _ = started(dag_job())
    run, _ = run_action(run, "a", exit_status=1)
    for name, why in action_run_commands(run, "a", now=T0).items():
        if why is None:
            apply_action_command(run, "a", name, now=T0)  # accepted: does not raise
        else:
            with pytest.raises(TronError) as refused:
                apply_action_command(run, "a", name, now=T0)
            assert str(refused.value) == why
