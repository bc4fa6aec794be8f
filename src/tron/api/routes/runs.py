"""`/api/runs`: the job runs whose run window meets a time window, across jobs, paged."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tron.api import params as p
from tron.api.context import daemon_of, json_response
from tron.api.run_index import Query, RunIndex, matching, page, select
from tron.api.shapes import iso_time
from tron.core.records import JobRun
from tron.core.states import ActionRunState
from tron.errors import BadRequestError

DEFAULT_LIMIT = 100
STATES = tuple(state.value for state in ActionRunState)


def run_json(run: JobRun, state: str) -> dict[str, object]:
    return {
        "id": str(run.id),
        "job": run.job_name,
        "run_num": run.run_num,
        "state": state,
        "run_time": iso_time(run.run_time),
        "start_time": iso_time(run.start_time),
        "end_time": iso_time(run.end_time),
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
    index: RunIndex = request.app.state.run_index
    jobs = daemon.jobs()
    index.forget_others(jobs)
    query = Query(since=since, until=until, state=state, now=daemon.now())
    chosen = select(jobs, job_name, namespace)
    found = [f for name, job in chosen if (f := matching(index.of(name, job), query))]
    total = sum(len(f.positions) for f in found)
    shown = page(found, offset, limit)
    next_offset = offset + len(shown) if offset + len(shown) < total else None
    return json_response(
        {
            "runs": [run_json(run, run_state) for run, run_state in shown],
            "total": total,
            "next_offset": next_offset,
        }
    )


ROUTES = [Route("/api/runs", runs)]
