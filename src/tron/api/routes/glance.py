"""Compact run history for the web UI's at-a-glance views (ours, not Tron's).

`/api/recent` gives every job's last few runs as small tuples, for the jobs list's strip and
the namespace grid: at 10,000 jobs, `/api/jobs?include_job_runs=1` would send five whole runs
a job. `/api/grid` gives one job's last runs by action, for the job grid.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import datetime
from functools import partial
from operator import attrgetter

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tron.api import params as p
from tron.api.cache import RecentCache, dumps
from tron.api.context import daemon_of, json_response, view_for
from tron.api.shapes import View, fmt_time
from tron.core import job_run as jr
from tron.core.records import ActionRun, JobRun
from tron.core.states import ActionRunState
from tron.engine.facade import JobView

RECENT_RUNS = p.Bounds(1, 100)
GRID_RUNS = p.Bounds(1, 5000)
DEFAULT_RECENT = 10
DEFAULT_GRID = 50
RUN_FIELDS = ["run_num", "state", "seconds", "start_time"]


def seconds(start: datetime | None, end: datetime | None, now: datetime) -> float | None:
    """How long it ran (until now while running); None before it started."""
    if start is None:
        return None
    return round(((end or now) - start).total_seconds(), 3)


def run_tuple(run: JobRun, state: ActionRunState, view: View) -> list[object]:
    return [
        run.run_num,
        state.value,
        seconds(run.start_time, run.end_time, view.now),
        fmt_time(run.start_time, view.zone),
    ]


def newest(runs: Iterable[JobRun], count: int) -> list[JobRun]:
    """The `count` newest runs by number (without sorting them all: a job keeps up to its
    run_limit), ordered by run time, newest first (a manual run can be numbered after the
    scheduled run due later)."""
    top = heapq.nlargest(count, runs, key=attrgetter("run_num"))
    return sorted(top, key=lambda r: (r.run_time, r.run_num), reverse=True)


def success_rate(states: list[ActionRunState]) -> float | None:
    """Succeeded among the finished runs shown (skipped ones do not count); None if none."""
    done = [s for s in states if s.is_done and s is not ActionRunState.SKIPPED]
    if not done:
        return None
    return round(sum(s is ActionRunState.SUCCEEDED for s in done) / len(done), 3)


def job_recent(job: JobView, count: int, view: View) -> tuple[dict[str, object], bool]:
    """One job's entry, and whether it stays true until the job changes (nothing running)."""
    runs = newest(job.runs.values(), count)
    states = [jr.job_run_state(run) for run in runs]
    entry: dict[str, object] = {
        "runs": [run_tuple(run, s, view) for run, s in zip(runs, states, strict=True)],
        "success_rate": success_rate(states),
    }
    return entry, all(run.start_time is None or run.end_time is not None for run in runs)


async def recent(request: Request) -> Response:
    """Each job's newest runs, newest first, with the success rate among them."""
    daemon = daemon_of(request)
    q = request.query_params
    count = p.integer(q, "num_runs", RECENT_RUNS) or DEFAULT_RECENT
    namespace = q.get("namespace", "")
    view = view_for(daemon)
    cache: RecentCache = request.app.state.recent_cache
    cache.follow_config(daemon.config)
    parts = [
        cache.get(name, count, job.version, partial(job_recent, job, count, view))
        for name, job in sorted(daemon.jobs().items())
        if not namespace or job.config.namespace == namespace
    ]
    body = b'{"fields":' + dumps(RUN_FIELDS) + b',"jobs":{' + b",".join(parts) + b"}}"
    return Response(body, media_type="application/json")


def action_cell(action: ActionRun, view: View) -> list[object]:
    return [action.state.value, seconds(action.start_time, action.end_time, view.now)]


async def grid(request: Request) -> Response:
    """One job's newest runs, newest first, each with [state, seconds] per action."""
    daemon = daemon_of(request)
    q = request.query_params
    job = daemon.job(p.required(q, "job"))
    count = p.integer(q, "num_runs", GRID_RUNS) or DEFAULT_GRID
    view = view_for(daemon, job)
    runs = newest(job.runs.values(), count)
    actions = [a.name for a in job.config.all_actions]
    body = []
    for run in runs:
        by_name = {a.action_name: action_cell(a, view) for a in run.action_runs}
        for name in by_name:
            if name not in actions:
                actions.append(name)  # an action since removed from the config
        body.append({"run": run_tuple(run, jr.job_run_state(run), view), "actions": by_name})
    return json_response(
        {
            "job": job.name,
            "actions": actions,
            "fields": RUN_FIELDS,
            "expected_runtime": job.config.expected_runtime.total_seconds(),
            "total_runs": len(job.runs),
            "runs": body,
        }
    )


ROUTES = [Route("/api/recent", recent), Route("/api/grid", grid)]
