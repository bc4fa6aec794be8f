""" "Why is this job not running?": each answer, in its order of precedence."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from tests.unit.core.alerts.alert_builders import HOUR, T0, job, ok, run, with_action

from tron.core.alerts.signals import JobFacts
from tron.core.alerts.why import Why, explain
from tron.core.records import JobRun
from tron.core.states import ActionRunState

_S = ActionRunState
MIN = timedelta(minutes=1)


def why(runs: list[JobRun], at: Any = T0, policy: str = "tron", **facts: Any) -> Why:
    by = facts.pop("disabled_by", None)
    facts.setdefault("enabled", True)
    return explain(JobFacts(config=job(policy=policy), runs=runs, **facts), at, disabled_by=by)


def test_disabled_since_and_by_whom() -> None:
    answer = why([ok(0)], enabled=False, disabled_since=T0, disabled_by="alice")
    assert answer.state == "disabled"
    assert answer.sentence == f"svc.etl is disabled since {T0.isoformat()} (by alice)."
    assert why([], enabled=False).sentence == "svc.etl is disabled (in its config)."


def test_running_on_an_action() -> None:
    going = with_action(run(1, _S.RUNNING, started=T0), "w", state=_S.SCHEDULED)
    answer = why([going, run(2)])
    assert answer.state == "running"
    assert (
        answer.sentence == f"It is running: run svc.etl.1 is on action a, since {T0.isoformat()}."
    )


def test_waiting_on_a_trigger() -> None:
    waits = replace(run(1, _S.SUCCEEDED, started=T0, ended=T0, waiting=_S.WAITING), end_time=None)
    answer = why([waits])
    assert answer.state == "waiting"
    assert "waits on trigger x.y.z since" in answer.sentence
    assert answer.evidence["timeout_at"] == (T0 + 3 * HOUR).isoformat()


def test_waiting_on_a_requirement_is_running() -> None:
    waits = with_action(run(1, _S.SUCCEEDED, started=T0), "w", state=_S.WAITING, triggered_by=())
    waits = replace(waits, end_time=None)
    assert why([waits]).sentence == "It is running: run svc.etl.1 is waiting."


def test_unknown_and_unreachable() -> None:
    lost = run(1, _S.UNKNOWN, started=T0, ended=T0 + MIN, waiting=_S.SUCCEEDED)
    assert "its state is unknown since" in why([lost]).sentence
    cut = with_action(lost, "a", reason="node1 unreachable for 600s")
    answer = why([cut])
    assert answer.state == "unknown"
    assert "its node is unreachable since" in answer.sentence


def test_queued_behind_a_run() -> None:
    long = with_action(run(1, _S.RUNNING, started=T0 + HOUR), "a", state=_S.WAITING)
    long = with_action(long, "w", state=_S.SUCCEEDED, triggered_by=())
    queued = run(2, _S.QUEUED)
    answer = why([long, queued])
    assert answer.state == "running"  # the run ahead is what is happening
    answer = why([ok(0), queued])
    assert answer.sentence == "Run svc.etl.2 is queued."


def test_queued_behind_names_the_run() -> None:
    ahead = replace(run(1, _S.SUCCEEDED, started=T0, waiting=_S.WAITING), end_time=None)
    ahead = with_action(ahead, "w", triggered_by=(), state=_S.WAITING)
    ahead = with_action(ahead, "a", state=_S.SUCCEEDED)
    answer = why([ahead, run(2, _S.QUEUED)])
    assert answer.state in ("running", "queued")


def test_last_slot_skipped() -> None:
    answer = why([ok(0), run(4)], T0 + 3 * HOUR, policy="none")
    assert answer.state == "skipped"
    assert answer.sentence.startswith(f"Its last slot {(T0 + HOUR).isoformat()} was skipped")


def test_next_run_and_overdue() -> None:
    assert why([ok(0), run(1)]).sentence == (
        f"Its next run svc.etl.1 is at {(T0 + HOUR).isoformat()}."
    )
    late = why([ok(0), run(1)], T0 + 2 * HOUR)
    assert late.sentence.endswith("(overdue: trond has not started it).")


def test_nothing_scheduled() -> None:
    assert why([ok(0)]) == Why(state="idle", sentence="svc.etl has nothing scheduled.")
