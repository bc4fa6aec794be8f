"""/api/runs' kept index gives exactly what walking and sorting every run gave."""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast
from zoneinfo import ZoneInfo

from tron.api.run_index import Query, RunIndex, matching, page, select
from tron.core import job_run as jr
from tron.core.records import ActionRun, JobRun
from tron.core.states import ActionRunState
from tron.engine.facade import JobView

T0 = datetime(2026, 3, 1, tzinfo=UTC)
STATES = [ActionRunState.SUCCEEDED, ActionRunState.FAILED, ActionRunState.RUNNING,
          ActionRunState.SCHEDULED, ActionRunState.QUEUED]  # fmt: skip


@dataclass
class FakeJob:
    name: str
    namespace: str
    runs: dict[int, JobRun] = field(default_factory=dict)
    version: int = 0

    @property
    def config(self) -> Any:
        return SimpleNamespace(namespace=self.namespace)


def a_run(rng: random.Random, job: str, num: int) -> JobRun:
    zone = rng.choice([UTC, ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")])
    # Few distinct times, so runs of different jobs tie on run_time.
    run_time = (T0 + timedelta(hours=rng.randrange(48))).astimezone(zone)
    state = rng.choice(STATES)
    started = state not in (ActionRunState.SCHEDULED, ActionRunState.QUEUED)
    start = run_time + timedelta(minutes=rng.randrange(-30, 90)) if started else None
    done = state in (ActionRunState.SUCCEEDED, ActionRunState.FAILED)
    end = start + timedelta(minutes=rng.randrange(200)) if start and done else None
    action = ActionRun(job_name=job, run_num=num, action_name="a", state=state,
                       raw_command="true", original_command="true")  # fmt: skip
    return JobRun(job_name=job, run_num=num, run_time=run_time, manual=rng.random() < 0.2,
                  action_runs=(action,), start_time=start, end_time=end)  # fmt: skip


def finished_run(job: str, num: int, run_time: datetime) -> JobRun:
    state = ActionRunState.FAILED if num % 4 == 0 else ActionRunState.SUCCEEDED
    action = ActionRun(job_name=job, run_num=num, action_name="a", state=state,
                       raw_command="true", original_command="true")  # fmt: skip
    return JobRun(job_name=job, run_num=num, run_time=run_time, action_runs=(action,),
                  start_time=run_time, end_time=run_time + timedelta(minutes=num % 50))  # fmt: skip


def window(run: JobRun, now: datetime) -> tuple[datetime, datetime]:
    """A run's window: start_time..end_time once started (..now while running), else its
    run_time alone."""
    if run.start_time is None:
        return run.run_time, run.run_time
    return run.start_time, run.end_time or max(now, run.start_time)


def reference(
    jobs: dict[str, FakeJob], query: Query, job_name: str, namespace: str, offset: int, limit: int
) -> tuple[list[tuple[str, str]], int]:
    """What /api/runs did before the index: walk every run, then sort them all."""
    found = []
    for name, job in jobs.items():
        if (job_name and name != job_name) or (namespace and job.namespace != namespace):
            continue
        for run in job.runs.values():
            start, end = window(run, query.now)
            if (query.until is not None and start > query.until) or (
                query.since is not None and end < query.since
            ):
                continue
            state = jr.job_run_state(run).value
            if not query.state or state == query.state:
                found.append((run, state))
    found.sort(key=lambda item: (item[0].run_time, item[0].job_name, item[0].run_num), reverse=True)
    return [(str(r.id), s) for r, s in found[offset : offset + limit]], len(found)


def indexed(
    index: RunIndex,
    jobs: dict[str, FakeJob],
    query: Query,
    job_name: str,
    namespace: str,
    offset: int,
    limit: int,
) -> tuple[list[tuple[str, str]], int]:
    views = cast(dict[str, JobView], jobs)
    found = [
        f for n, j in select(views, job_name, namespace) if (f := matching(index.of(n, j), query))
    ]
    shown = page(found, offset, limit)
    return [(str(r.id), s) for r, s in shown], sum(len(f.positions) for f in found)


def test_pages_are_those_of_walking_and_sorting_every_run() -> None:
    rng = random.Random(16)
    jobs: dict[str, FakeJob] = {}
    for i in range(30):
        name = f"ns{i % 3}.job{i}"
        jobs[name] = job = FakeJob(name, f"ns{i % 3}")
        for num in range(rng.randrange(12)):
            job.runs[num] = a_run(rng, name, num)
    for i in range(6):  # the usual history: each run starts and ends after the one before
        name = f"ns{i % 3}.seq{i}"
        jobs[name] = job = FakeJob(name, f"ns{i % 3}")
        for num in range(20):
            job.runs[num] = finished_run(name, num, T0 + timedelta(hours=num * 3 + i))
    index = RunIndex()
    now = T0 + timedelta(hours=30)
    assert any(index.of(n, cast(JobView, j)).all.sorted_windows for n, j in jobs.items())
    for trial in range(300):
        hours = sorted(rng.sample(range(-5, 60), 2))
        since = T0 + timedelta(hours=hours[0]) if rng.random() < 0.6 else None
        until = T0 + timedelta(hours=hours[1]) if rng.random() < 0.6 else None
        state = rng.choice(["", "", *(s.value for s in STATES)])
        job_name = rng.choice(["", "", "", "ns1.job4", "ns0.job4", "nope.job"])
        namespace = rng.choice(["", "", "ns0", "ns1", "nope"])
        offset, limit = rng.choice([0, 0, 3, 40]), rng.choice([1, 5, 100])
        query = Query(since=since, until=until, state=state, now=now)
        args = (query, job_name, namespace, offset, limit)
        assert indexed(index, jobs, *args) == reference(jobs, *args), trial
        if trial % 7 == 0:  # the engine changes a job: a new run, and the version moves
            job = rng.choice(list(jobs.values()))
            num = max(job.runs, default=-1) + 1
            job.runs[num] = a_run(rng, job.name, num)
            job.version += 1


def test_a_job_is_read_again_only_once_it_changed() -> None:
    rng = random.Random(3)
    job = FakeJob("ns.job", "ns", {0: a_run(rng, "ns.job", 0)})
    view = cast(JobView, job)
    index = RunIndex()
    first = index.of("ns.job", view)
    assert index.of("ns.job", view) is first
    job.runs[1] = a_run(rng, "ns.job", 1)
    job.version += 1
    assert len(index.of("ns.job", view).all.runs) == 2
    # A new object under the same name (reconfigured) is read afresh, whatever its version.
    other = FakeJob("ns.job", "ns", {}, version=job.version)
    assert index.of("ns.job", cast(JobView, other)).all.runs == []
    index.forget_others({})
    assert index.of("ns.job", view) is not first


def test_a_page_past_the_largest_offset_is_empty_not_an_error() -> None:
    assert page([], sys.maxsize, 1) == []
