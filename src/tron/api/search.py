"""Searching action output: `/output?grep=` (matching lines) and `/api/jobs/<job>/search`
(which recent runs and actions printed a match). The work, and its bounds, are in
tron.engine.grep; here the pattern and parameters are checked and the answers shaped."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response

from tron.api import params as p
from tron.api.context import daemon_of, json_response
from tron.core.records import ActionRun
from tron.engine.grep import MAX_PATTERN_CHARS
from tron.errors import BadRequestError

DEFAULT_LIMIT = 100
DEFAULT_SEARCH_RUNS = 10
# Counting stops at this many matches in one file: the search says where, not how much.
MAX_COUNT = 1000


def pattern(params: Mapping[str, str]) -> str:
    """The `grep` parameter: a Python regular expression of at most 200 characters."""
    value = p.required(params, "grep")
    if len(value) > MAX_PATTERN_CHARS:
        raise BadRequestError(f"'grep' must be at most {MAX_PATTERN_CHARS} characters")
    try:
        re.compile(value)
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        raise BadRequestError(f"'grep' is not a valid regular expression: {exc}") from exc
    return value


async def grep_output(request: Request, action: ActionRun, stream: str) -> Response:
    q = request.query_params
    regex = pattern(q)
    offset = p.integer(q, "offset", p.OFFSET) or 0
    attempt = p.integer(q, "attempt", p.ATTEMPT)
    limit = p.integer(q, "limit", p.LIMIT) or DEFAULT_LIMIT
    result = await daemon_of(request).grep_output(
        action, stream, regex, attempt=attempt, offset=offset, limit=limit
    )
    return json_response(
        {
            "matches": [{"line": m.line, "text": m.text} for m in result.matches],
            "next_offset": result.next_offset,
            "truncated": result.truncated,
            "timed_out": result.timed_out,
        }
    )


async def job_search(request: Request) -> Response:
    daemon = daemon_of(request)
    name = unquote(request.path_params["job"])
    job = daemon.job(name)
    q = request.query_params
    regex = pattern(q)
    num_runs = p.integer(q, "num_runs", p.SEARCH_RUNS) or DEFAULT_SEARCH_RUNS
    runs = job.runs_newest_first()[:num_runs]
    found = await daemon.search_outputs(runs, regex, MAX_COUNT)
    counts: dict[str, dict[tuple[str, str], int]] = {}
    truncated = timed_out = False
    for action, stream, result in found:
        truncated |= result.truncated
        timed_out |= result.timed_out
        if result.count:
            per_run = counts.setdefault(str(action.id.job_run_id), {})
            key = (action.action_name, stream)
            per_run[key] = per_run.get(key, 0) + result.count
    body = [
        {
            "run": str(run.id),
            "actions": [
                {"action": action, "stream": stream, "matches": count}
                for (action, stream), count in counts[str(run.id)].items()
            ],
        }
        for run in runs
        if str(run.id) in counts
    ]
    return json_response(
        {"runs": body, "searched_runs": len(runs), "truncated": truncated, "timed_out": timed_out}
    )
