"""`/api/runs`: the job runs whose run window meets a time window, across jobs, paged."""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tron.api import params as p
from tron.api.context import daemon_of, json_response
from tron.core import job_run as jr
from tron.core.records import JobRun
from tron.core.states import ActionRunState
from tron.errors import BadRequestError

DEFAULT_LIMIT = 100
STATES = tuple(state.value for state in ActionRunState)


def window(run: JobRun, now: datetime) -> tuple[datetime, datetime]:
    """A run's window: start_time..end_time once started (..now while running), else its
    run_time alone."""
    if run.start_time is None:
        return run.run_time, run.run_time
    return run.start_time, run.end_time or max(now, run.start_time)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def run_json(run: JobRun, state: str) -> dict[str, object]:
    return {
        "id": str(run.id),
        "job": run.job_name,
        "run_num": run.run_num,
        "state": state,
        "run_time": _iso(run.run_time),
        "start_time": _iso(run.start_time),
        "end_time": _iso(run.end_time),
        "manual": run.manual,
    }


async def runs(request: Request) -> Response:
    daemon = daemon_of(request)
    q = request.query_params
    since, until = p.iso_time(q, "since"), p.iso_time(q, "until")
    if since is not None and until is not None and since > until:
        raise BadRequestError("'since' must not be after 'until'")
    state = q.get("state", "")
    if state and state not in STATES:
        raise BadRequestError(f"'state' must be one of {', '.join(STATES)}")
    job_name, namespace = q.get("job", ""), q.get("namespace", "")
    limit = p.integer(q, "limit", p.LIMIT) or DEFAULT_LIMIT
    offset = p.integer(q, "offset", p.OFFSET) or 0
    now = daemon.now()
    found: list[tuple[JobRun, str]] = []
    for name, job in daemon.jobs().items():
        if (job_name and name != job_name) or (namespace and job.config.namespace != namespace):
            continue
        for run in job.runs.values():
            start, end = window(run, now)
            if (until is not None and start > until) or (since is not None and end < since):
                continue
            run_state = jr.job_run_state(run).value
            if not state or run_state == state:
                found.append((run, run_state))
    # Newest first: by run_time, then job name and run number, all descending.
    found.sort(key=lambda item: (item[0].run_time, item[0].job_name, item[0].run_num), reverse=True)
    page = found[offset : offset + limit]
    next_offset = offset + len(page) if offset + len(page) < len(found) else None
    return json_response(
        {
            "runs": [run_json(run, run_state) for run, run_state in page],
            "total": len(found),
            "next_offset": next_offset,
        }
    )


ROUTES = [Route("/api/runs", runs)]
