"""Jobs and runs in any state, for the alert rules' tests (built directly as records)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from tron.config.model import ActionConfig, CatchUpConfig, JobConfig
from tron.config.monitoring import Monitoring
from tron.core.records import ActionRun, JobRun
from tron.core.states import ActionRunState

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
_S = ActionRunState


class Hourly:
    """Every hour on the hour: enough of a schedule for these rules."""

    type = "cron"
    value = "0 * * * *"
    jitter = timedelta(0)
    time_zone = None

    def next_run(self, after: datetime) -> datetime:
        return after.replace(minute=0, second=0, microsecond=0) + HOUR


def job(
    *, enabled: bool = True, queueing: bool = True, policy: str = "tron", **monitoring: Any
) -> JobConfig:
    return JobConfig(
        name="etl",
        namespace="svc",
        node="node1",
        schedule=Hourly(),
        actions={
            "a": ActionConfig(name="a", command="true", expected_runtime=timedelta(minutes=30)),
            "w": ActionConfig(
                name="w", command="true", triggered_by=("x.y.z",), trigger_timeout=2 * HOUR
            ),
        },
        enabled=enabled,
        queueing=queueing,
        expected_runtime=HOUR,
        catch_up=CatchUpConfig(policy=policy),  # type: ignore[arg-type]
        alerting=Monitoring(**monitoring),
    )


def run(
    num: int,
    state: ActionRunState = _S.SCHEDULED,
    *,
    due: datetime | None = None,
    started: datetime | None = None,
    ended: datetime | None = None,
    manual: bool = False,
    waiting: ActionRunState | None = None,
    **action: Any,
) -> JobRun:
    """Run `num` of svc.etl, due at T0 + num hours; action `a` in `state`, `w` in `waiting`
    (or `state` too)."""
    when = due or T0 + num * HOUR
    fields: dict[str, Any] = {
        "job_name": "svc.etl",
        "run_num": num,
        "raw_command": "true",
        "original_command": "true",
    }
    a = ActionRun(
        action_name="a", state=state, start_time=started, end_time=ended, **fields, **action
    )
    w = ActionRun(
        action_name="w",
        state=waiting or (state if state is not _S.FAILED else _S.SUCCEEDED),
        triggered_by=("x.y.z",),
        start_time=started if waiting is None else None,
        end_time=ended if waiting is None else None,
        **fields,
    )
    return JobRun(
        job_name="svc.etl",
        run_num=num,
        run_time=when,
        manual=manual,
        action_runs=(a, w),
        start_time=started,
        end_time=ended if state.is_done else None,
    )


def ok(num: int, **kw: Any) -> JobRun:
    due = T0 + num * HOUR
    return run(num, _S.SUCCEEDED, started=due, ended=due + timedelta(minutes=5), **kw)


def failed(num: int, **kw: Any) -> JobRun:
    due = T0 + num * HOUR
    return run(num, _S.FAILED, started=due, ended=due + timedelta(minutes=5), exit_status=1, **kw)


def with_action(job_run: JobRun, name: str, **changes: Any) -> JobRun:
    actions = tuple(
        replace(a, **changes) if a.action_name == name else a for a in job_run.action_runs
    )
    return replace(job_run, action_runs=actions)
