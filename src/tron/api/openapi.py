"""The OpenAPI description of the routes trond serves (kept beside them, checked by tests)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tron import __version__
from tron.api import openapi_alerts
from tron.api import params as p
from tron.api.openapi_schemas import ERROR_TEXT, SCHEMAS, STRING, Schema, ref
from tron.api.routes import glance
from tron.engine.grep import MAX_PATTERN_CHARS

# Paths also served with a trailing slash, as Tron's Twisted resources are.
SLASHED = (
    "/api",
    "/api/status",
    "/api/jobs",
    "/api/jobs/{job}",
    "/api/jobs/{job}/{run}",
    "/api/jobs/{job}/{run}/{action}",
    "/api/config",
    "/api/events",
)
JOB_COMMANDS = ["start", "enable", "disable"]
RUN_COMMANDS = ["start", "success", "cancel", "fail", "stop", "restart", "rerun"]
ACTION_COMMANDS = ["start", "success", "cancel", "fail", "skip", "stop", "kill", "retry", "recover"]


def _json(schema: Schema, description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _text(media_type: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {media_type: {"schema": STRING}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _json(ref("Error"), ERROR_TEXT[code]) for code in codes}


def _query(name: str, description: str = "") -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": STRING}
    return {**param, "description": description} if description else param


def _integer(name: str, bounds: p.Bounds, description: str = "") -> dict[str, Any]:
    """An integer parameter and its range: a value outside it gets 400 naming both."""
    schema = {"type": "integer", "minimum": bounds.low, "maximum": bounds.high}
    return {**_query(name, description), "schema": schema}


def _flags(*names: str) -> list[dict[str, Any]]:
    return [_query(n, "1 or 0; anything else means the default") for n in names]


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": STRING}


def _get(schema: Schema, *params: dict[str, Any], errors: tuple[int, ...] = ()) -> dict[str, Any]:
    responses = {"200": _json(schema), **_errors(401, 403, *errors)}
    return {"parameters": list(params), "responses": responses}


def _form(properties: dict[str, Schema], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": list(required)}
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}


def _post(
    result: Schema, body: dict[str, Any], *errors: int, description: str = ""
) -> dict[str, Any]:
    responses = {"200": _json(result), **_errors(400, 401, 403, 413, 415, *errors)}
    return {"description": description, "requestBody": body, "responses": responses}


def _command(commands: list[str], **extra: Schema) -> dict[str, Any]:
    fields = {"command": {"type": "string", "enum": commands}, **extra}
    return _post(ref("Result"), _form(fields, ("command",)), 404, 409, 501)


STREAMS = ["stdout", "stderr"]
PATTERN = {"type": "string", "maxLength": MAX_PATTERN_CHARS}
GREP_TEXT = "a Python regular expression (at most 200 characters); a bad one is a 400"
OUTPUT_TEXT = (
    "Without `grep`: the output bytes after `offset`, to follow an action live. With `grep`: "
    "the lines matching it with their 1-based line numbers, scanning at most 8 MiB and 2 s "
    "from `offset` (`next_offset` resumes; `truncated` says more remains; `timed_out` says "
    "the time ran out, the line that used it up being skipped). Lines are cut at 2,000 "
    "characters."
)
SEARCH_TEXT = (
    "Which of the job's newest runs printed a line matching `grep`, per action and stream "
    "(all attempts), reading at most 8 MiB in 2 s in all; counts stop at 1,000 a file."
)
RUNS_TEXT = (
    "Job runs whose window (start_time..end_time once started, until now while running; "
    "else run_time) meets [since, until], newest run_time first. Times are ISO 8601, one "
    "without a zone meaning UTC, and are answered in UTC."
)


def _runs_path() -> dict[str, Any]:
    return {
        "/api/runs": {
            "get": {
                **_get(
                    ref("RunsPage"),
                    _query("since", "ISO 8601 time; absent: no lower bound"),
                    _query("until", "ISO 8601 time; absent: no upper bound"),
                    _query("job", "one job's full name"),
                    _query("namespace", "the jobs of one namespace"),
                    {**_query("state", "a run state"), "schema": {"type": "string"}},
                    _integer("limit", p.LIMIT, "runs per page; default 100"),
                    _integer("offset", p.OFFSET, "runs to skip"),
                    errors=(400,),
                ),
                "description": RUNS_TEXT,
            }
        }
    }


def _jobs_paths() -> dict[str, Any]:
    job, run, action = _path("job"), _path("run"), _path("action")
    history = {"type": "array", "items": ref("ActionRun")}
    return {
        "/api/jobs": {
            "get": _get(
                ref("Jobs"),
                *_flags(
                    "include_job_runs",
                    "include_action_runs",
                    "include_action_graph",
                    "include_node_pool",
                ),
            ),
            "post": _post(
                ref("Result"),
                _form(
                    {
                        "command": {"type": "string", "enum": ["move"]},
                        "old_name": STRING,
                        "new_name": STRING,
                    },
                    ("command",),
                ),
                404,
                409,
                501,
                description="`move` renames a job with its history (Tron's texts: 404 unknown"
                " job, 409 name taken or job running; 400 a name no job can have)",
            ),
        },
        "/api/jobs/{job}": {
            "parameters": [job],
            "get": _get(
                ref("Job"),
                *_flags("include_action_runs", "include_action_graph"),
                _integer("num_runs", p.NUM_RUNS, "newest runs to show; 0 or absent: all"),
                errors=(400, 404),
            ),
            "post": _command(JOB_COMMANDS, run_time=STRING, request_id=STRING),
        },
        "/api/jobs/{job}/{run}": {
            "parameters": [job, run],
            "get": _get(
                {"oneOf": [ref("JobRun"), history]},
                *_flags("include_action_runs", "include_action_graph"),
                errors=(404,),
            ),
            "post": _command(RUN_COMMANDS),
        },
        "/api/jobs/{job}/{run}/{action}": {
            "parameters": [job, run, action],
            "get": _get(
                ref("ActionRun"),
                _integer("num_lines", p.NUM_LINES, "last lines of output; 0 or absent: 100"),
                *_flags("include_stdout", "include_stderr", "include_meta"),
                errors=(400, 404),
            ),
            "post": _command(ACTION_COMMANDS, use_latest_command=STRING),
        },
        "/api/jobs/{job}/{run}/{action}/output": {
            "parameters": [job, run, action],
            "get": {
                **_get(
                    {"oneOf": [ref("Output"), ref("OutputMatches")]},
                    {**_query("stream"), "schema": {"type": "string", "enum": STREAMS}},
                    _integer("offset", p.OFFSET, "byte offset to read (or search) from"),
                    _integer("attempt", p.ATTEMPT, "attempt number; absent: the current one"),
                    {**_query("grep", GREP_TEXT), "schema": PATTERN},
                    _integer("limit", p.LIMIT, "with grep: most matching lines; default 100"),
                    errors=(400, 404),
                ),
                "description": OUTPUT_TEXT,
            },
        },
        "/api/jobs/{job}/search": {
            "parameters": [job],
            "get": {
                **_get(
                    ref("JobSearch"),
                    {**_query("grep", GREP_TEXT), "required": True, "schema": PATTERN},
                    _integer("num_runs", p.SEARCH_RUNS, "newest runs to search; default 10"),
                    errors=(400, 404),
                ),
                "description": SEARCH_TEXT,
            },
        },
    }


def _other_paths() -> dict[str, Any]:
    prometheus = {
        "get": {"responses": {"200": _text("text/plain", "Prometheus text"), **_errors(401, 403)}}
    }
    config_one = {"oneOf": [ref("NamespaceText"), ref("AllNamespaces")]}
    return {
        "/": {"get": {"responses": {"307": {"description": "to the web UI at /web/"}}}},
        "/openapi.json": {"get": _get({"type": "object"})},
        "/api": {"get": _get(ref("Index"))},
        "/api/status": {"get": _get(ref("Status"))},
        "/api/config": {
            "get": _get(config_one, _query("name", "one namespace; all when absent")),
            "post": _post(
                ref("ConfigAccepted"),
                _form(
                    {"name": STRING, "config": STRING, "hash": STRING, "check": STRING},
                    ("name",),
                ),
                409,
                503,
                507,
                description="an empty config deletes the namespace; 400 lists every problem",
            ),
        },
        "/api/config/versions": {
            "get": _get({"type": "array", "items": ref("ConfigVersion")}, _query("name"))
        },
        "/api/events": {
            "get": _get(ref("EventResponse"), errors=(409,)),
            "post": _post(
                ref("EventResponse"),
                _form(
                    {
                        "command": {"type": "string", "enum": ["publish", "discard"]},
                        "event": STRING,
                    },
                    ("command", "event"),
                ),
                404,
                409,
                description="409 `EventBus disabled` without MASTER `eventbus_enabled: true`",
            ),
        },
        "/api/stream": {
            "get": {
                "description": "server-sent events: `job_run`, `action_run`, `trigger`, `config`",
                "parameters": [
                    {
                        "name": "Last-Event-ID",
                        "in": "header",
                        "required": False,
                        "schema": {
                            "type": "integer",
                            "minimum": p.EVENT_ID.low,
                            "maximum": p.EVENT_ID.high,
                        },
                    },
                    _query("ticket", "one-use ticket from /api/stream/ticket, instead of a token"),
                ],
                "responses": {
                    "200": _text("text/event-stream", "one event per state change"),
                    **_errors(400, 401, 403),
                },
            }
        },
        "/api/stream/ticket": {
            "post": {
                "description": "a one-use ticket opening /api/stream within `expires_in` s",
                "responses": {"200": _json(ref("StreamTicket")), **_errors(401, 403)},
            }
        },
        "/api/metrics": {"get": _get(ref("TronMetrics"))},
        "/api/prom-metrics": prometheus,
        "/metrics": prometheus,
    }


GLANCE_TEXT = (
    "Ours, for the web UI: each job's newest runs as [run_num, state, seconds, start_time] "
    "(newest first) and the success rate among the finished ones."
)
GRID_TEXT = "Ours, for the web UI: one job's newest runs, each with [state, seconds] per action."


def _glance_paths() -> dict[str, Any]:
    return {
        "/api/recent": {
            "get": {
                **_get(
                    ref("Recent"),
                    _query("namespace", "the jobs of one namespace"),
                    _integer("num_runs", glance.RECENT_RUNS, "runs per job; default 10"),
                    errors=(400,),
                ),
                "description": GLANCE_TEXT,
            }
        },
        "/api/grid": {
            "get": {
                **_get(
                    ref("Grid"),
                    {**_query("job", "the job's full name"), "required": True},
                    _integer("num_runs", glance.GRID_RUNS, "runs; default 50"),
                    errors=(400, 404),
                ),
                "description": GRID_TEXT,
            }
        },
    }


def spec() -> dict[str, Any]:
    paths = {
        **_other_paths(),
        **_jobs_paths(),
        **_runs_path(),
        **_glance_paths(),
        **openapi_alerts.paths(),
    }
    for path in SLASHED:
        paths[path + "/"] = paths[path]
    return {
        "openapi": "3.0.3",
        "info": {"title": "tron", "version": __version__},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


async def openapi(request: Request) -> Response:
    return JSONResponse(spec())
