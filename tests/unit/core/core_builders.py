"""Small jobs and helpers shared by the core tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from tron.config.model import ActionConfig, JobConfig
from tron.core.effects import Effect
from tron.core.job_run import (
    action_exited,
    action_started,
    action_starting,
    create_job_run,
    start_job_run,
)
from tron.core.records import JobRun
from tron.core.states import ActionRunState

T0 = datetime(2024, 3, 5, 14, 7)


class _NoSchedule:
    """Core never reads the schedule; a stand-in keeps these tests free of tron.schedule."""

    type = "none"
    value = ""
    jitter = timedelta(0)
    time_zone = None

    def next_run(self, after: datetime) -> datetime:  # pragma: no cover - never called
        return after


def make_job(
    actions: Iterable[ActionConfig], *, cleanup: str | None = "echo clean {cleanup_job_status}"
) -> JobConfig:
    cleanup_action = ActionConfig(name="cleanup", command=cleanup) if cleanup else None
    return JobConfig(
        name="etl",
        namespace="svc",
        node="node1",
        schedule=_NoSchedule(),
        actions={a.name: a for a in actions},
        cleanup_action=cleanup_action,
    )


def dag_job(*, cleanup: str | None = "echo clean {cleanup_job_status}", **b: Any) -> JobConfig:
    """a -> (b, c) -> d; `b` takes extra ActionConfig fields."""
    return make_job(
        [
            ActionConfig(name="a", command="echo a {runid}"),
            ActionConfig(name="b", command="echo b", requires=("a",), **b),
            ActionConfig(name="c", command="echo c", requires=("a",)),
            ActionConfig(name="d", command="echo d", requires=("b", "c")),
        ],
        cleanup=cleanup,
    )


def new_run(job: JobConfig, **kwargs: Any) -> JobRun:
    args: dict[str, Any] = {
        "run_num": 7,
        "run_time": T0,
        "manual": False,
        "node": "node1",
        "context": {},
    }
    args.update(kwargs)
    return create_job_run(job, **args)


def started(job: JobConfig, **kwargs: Any) -> tuple[JobRun, list[Effect]]:
    return start_job_run(new_run(job, **kwargs), now=T0)


def run_action(run: JobRun, name: str, exit_status: int | None = 0) -> tuple[JobRun, list[Effect]]:
    """Start `name`, confirm it running, then report its exit."""
    run = action_starting(run, name, now=T0, node="node1")
    run = action_started(run, name, now=T0)
    return action_exited(run, name, exit_status=exit_status, now=T0 + timedelta(minutes=1))


def states(run: JobRun) -> dict[str, ActionRunState]:
    return {a.action_name: a.state for a in run.action_runs}


def action(run: JobRun, name: str) -> Any:
    found = run.find_action_run(name)
    assert found is not None
    return found
