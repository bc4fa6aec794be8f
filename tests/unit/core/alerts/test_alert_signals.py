"""Which conditions hold for a job, on explicit times (each signal, each reason)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from tests.unit.core.alerts.alert_builders import (
    HOUR,
    T0,
    failed,
    job,
    ok,
    run,
    with_action,
)

from tron.config.model import JobConfig
from tron.core.alerts.model import AlertKind, Severity, Signal
from tron.core.alerts.signals import JobFacts, heartbeat_signal, job_signals
from tron.core.records import JobRun
from tron.core.states import ActionRunState

_S = ActionRunState
MIN = timedelta(minutes=1)


def signals(
    runs: list[JobRun], at: datetime, config: JobConfig | None = None, **facts: Any
) -> list[Signal]:
    facts.setdefault("enabled", True)
    return job_signals(JobFacts(config=config or job(), runs=runs, **facts), at)


def kinds(found: list[Signal]) -> list[str]:
    return [f"{s.key.kind}/{s.key.subject}" for s in found]


def test_a_quiet_healthy_job_says_nothing() -> None:
    assert signals([ok(0), ok(1), run(2)], T0 + 2 * HOUR) == []


def test_failed_opens_after_alert_after_and_clears_on_success() -> None:
    runs = [ok(0), failed(1)]
    end = T0 + HOUR + 5 * MIN
    found = signals(runs, end)
    assert kinds(found) == ["failed/"]
    assert found[0].reason == "run svc.etl.1 failed: action a exited 1"
    assert found[0].evidence["exit_status"] == "1"
    assert found[0].severity is Severity.WARN
    config = job(alert_after=timedelta(minutes=10))
    assert signals(runs, end + 9 * MIN, config) == []
    assert kinds(signals(runs, end + 10 * MIN, config)) == ["failed/"]
    assert signals([*runs, ok(2)], end + HOUR) == []


def test_page_makes_it_a_page() -> None:
    found = signals([failed(1)], T0 + 2 * HOUR, job(page=True))
    assert found[0].severity is Severity.PAGE


def test_cancelled_runs_do_not_clear_a_failure() -> None:
    cancelled = run(2, _S.CANCELLED, started=T0 + 2 * HOUR, ended=T0 + 2 * HOUR)
    assert kinds(signals([failed(1), cancelled], T0 + 3 * HOUR)) == ["failed/"]


def test_failure_streak_of_n() -> None:
    at = T0 + 5 * HOUR
    assert kinds(signals([ok(0), failed(1), failed(2)], at)) == ["failed/"]
    found = signals([ok(0), failed(1), failed(2), failed(3)], at)
    assert kinds(found) == ["failed/", "failure_streak/"]
    assert found[1].reason == "3 runs failed in a row, since run svc.etl.1"
    assert kinds(signals([failed(1), failed(2)], at, job(failure_streak=2)))[-1] == (
        "failure_streak/"
    )
    assert kinds(signals([failed(1)], at, job(failure_streak=1))) == ["failed/"]


def test_did_not_start_after_the_grace_with_its_reason() -> None:
    pending = run(1)
    assert signals([ok(0), pending], T0 + HOUR + 9 * MIN) == []
    found = signals([ok(0), pending], T0 + HOUR + 10 * MIN)
    assert kinds(found) == [f"did_not_start/{(T0 + HOUR).isoformat()}"]
    assert "still scheduled past its time" in found[0].reason
    custom = job(alert_after=timedelta(minutes=2))
    assert signals([ok(0), pending], T0 + HOUR + 2 * MIN, custom)


def test_queueing_is_a_reason_not_silence() -> None:
    long = run(1, _S.RUNNING, started=T0 + HOUR)
    queued = run(2, _S.QUEUED)
    found = signals([long, queued], T0 + 2 * HOUR + 15 * MIN)
    slot = [s for s in found if s.key.kind is AlertKind.DID_NOT_START]
    assert slot[0].reason == (
        f"run svc.etl.2 is queued behind run svc.etl.1, running since {(T0 + HOUR).isoformat()}"
    )
    lonely = signals([queued], T0 + 2 * HOUR + 15 * MIN)
    assert lonely[0].reason == "run svc.etl.2 is queued"


def test_cancelled_before_start_is_a_missed_slot() -> None:
    cancelled = run(1, _S.CANCELLED)
    at = T0 + HOUR + 15 * MIN
    found = signals([ok(0), cancelled], at, job(queueing=False))
    assert "queueing is off" in found[0].reason
    assert "an operator" in signals([ok(0), cancelled], at)[0].reason
    assert signals([cancelled, ok(2)], T0 + 3 * HOUR) == []  # a later success clears it


def test_disabled_at_runtime_is_a_reason() -> None:
    since = T0 + 30 * MIN
    found = signals([ok(0)], T0 + HOUR + 10 * MIN, enabled=False, disabled_since=since)
    assert kinds(found) == [f"did_not_start/{(T0 + HOUR).isoformat()}"]
    assert found[0].reason == f"the job is disabled since {since.isoformat()}"
    assert signals([ok(0)], T0 + HOUR + 9 * MIN, enabled=False) == []
    assert signals([], T0, enabled=False) == []  # no run and no date: nothing to go by
    quiet = signals([ok(0)], T0 + 5 * HOUR, job(enabled=False), enabled=False)
    assert quiet == []  # disabled in its config: not expected to run
    found = signals([], T0 + 2 * HOUR, enabled=False, disabled_since=T0)
    assert found[0].reason == f"the job is disabled since {T0.isoformat()}"


def test_disabled_cancellation_says_so() -> None:
    found = signals([ok(0), run(1, _S.CANCELLED)], T0 + 2 * HOUR, enabled=False)
    assert "the job was disabled" in found[0].reason


def test_catch_up_skip_is_a_reason() -> None:
    at = T0 + 4 * HOUR
    found = signals([ok(0), run(4)], at, job(policy="none"))
    assert kinds(found) == [f"did_not_start/{(T0 + HOUR).isoformat()}"]
    assert "skipped by the catch-up policy none; next run svc.etl.4" in found[0].reason
    other = signals([ok(0), run(4)], at)
    assert "disabled or removed" in other[0].reason
    assert signals([ok(0), ok(4)], at + HOUR) == []  # the next run succeeded: resolved
    assert signals([ok(0), run(1)], T0 + HOUR) == []  # no gap


def test_started_late_beyond_threshold() -> None:
    on_time = run(1, _S.RUNNING, started=T0 + HOUR + 10 * MIN)
    assert [s for s in signals([on_time], T0 + HOUR + 11 * MIN)] == []
    late = run(1, _S.RUNNING, started=T0 + HOUR + 11 * MIN)
    found = signals([late], T0 + HOUR + 12 * MIN)
    assert kinds(found) == ["late/1"]
    assert found[0].reason.startswith("run svc.etl.1 started 0:11:00 late")
    tight = job(late_after=timedelta(minutes=1))
    assert kinds(signals([on_time], T0 + HOUR + 11 * MIN, tight)) == ["late/1"]
    manual = run(1, _S.RUNNING, started=T0 + 3 * HOUR, manual=True)
    assert signals([manual], T0 + 3 * HOUR) == []


def test_ran_longer_than_expected_runtime() -> None:
    going = run(1, _S.RUNNING, started=T0 + HOUR)
    assert signals([going], T0 + HOUR + 30 * MIN) == []
    found = signals([going], T0 + HOUR + 31 * MIN)
    assert kinds(found) == ["too_long/1.a"]
    assert found[0].severity is Severity.WARN
    found = signals([going], T0 + 2 * HOUR + MIN, job(page_for_expected_runtime=True))
    assert kinds(found) == ["too_long/1", "too_long/1.a"]
    assert {s.severity for s in found} == {Severity.PAGE}
    gone = with_action(going, "a", action_name="removed")
    assert kinds(signals([gone], T0 + 2 * HOUR + MIN)) == ["too_long/1"]


def test_unknown_is_stuck_and_unreachable_says_so() -> None:
    lost = run(1, _S.UNKNOWN, started=T0 + HOUR, ended=T0 + HOUR + MIN, waiting=_S.SUCCEEDED)
    found = signals([lost], T0 + HOUR + MIN)
    assert kinds(found) == ["stuck/1.a"]
    cut = with_action(lost, "a", reason="node1 unreachable for 600s: refused")
    found = signals([cut], T0 + HOUR + MIN)
    assert kinds(found) == ["unreachable/1.a"]
    assert found[0].reason.endswith(": node1 unreachable for 600s: refused")
    patient = job(alert_after=timedelta(minutes=5))
    assert signals([lost], T0 + HOUR + 5 * MIN, patient) == []


def test_waiting_on_a_trigger_past_its_timeout() -> None:
    waits = run(1, _S.SUCCEEDED, started=T0 + HOUR, ended=T0 + HOUR, waiting=_S.WAITING)
    waits = replace(waits, end_time=None)
    assert "stuck/1.w" not in kinds(signals([waits], T0 + 3 * HOUR))
    found = [s for s in signals([waits], T0 + 3 * HOUR + MIN) if s.key.kind is AlertKind.STUCK]
    assert kinds(found) == ["stuck/1.w"]
    assert found[0].reason.endswith(f"timing out at {(T0 + 3 * HOUR).isoformat()} (past it)")
    early = job(alert_after=timedelta(minutes=30))
    found = signals([waits], T0 + HOUR + 30 * MIN, early)
    assert kinds(found) == ["stuck/1.w"]
    assert "stuck/1.w" not in kinds(signals([waits], T0 + HOUR + 29 * MIN, early))
    assert "(past it)" not in found[0].reason


def test_every_day_has_a_successful_run() -> None:
    daily = job(check_that_every_day_has_a_successful_run=True)
    assert signals([], T0 + 48 * HOUR, daily) == []
    done = ok(0)
    assert signals([done], T0 + 24 * HOUR, daily) == []
    found = signals([done, failed(30)], T0 + 31 * HOUR, daily)
    assert "no_daily_success/" in kinds(found)
    never = signals([failed(0)], T0 + 25 * HOUR, daily)
    assert any("none ever" in s.reason for s in never)


def test_alerts_false_turns_a_job_off() -> None:
    assert signals([failed(1)], T0 + 5 * HOUR, job(alerts=False)) == []


def test_heartbeat() -> None:
    limit = timedelta(minutes=5)
    assert heartbeat_signal(None, T0, limit) is None
    assert heartbeat_signal(T0, T0 + limit, limit) is None
    found = heartbeat_signal(T0, T0 + limit + MIN, limit)
    assert found is not None
    assert found.key.kind is AlertKind.NOT_SCHEDULING
