"""Jobs, job runs and action runs: reading them and sending them commands (spec 8.1-8.3)."""

from __future__ import annotations

from functools import partial
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tron.api import params as p
from tron.api import search, shapes
from tron.api.cache import JobJsonCache
from tron.api.context import daemon_of, json_response, trigger_graphs_of, view_for
from tron.api.trigger_graph import TriggerGraphs
from tron.core.allowed_commands import Refusals, action_run_commands, job_run_commands
from tron.core.records import JobRun
from tron.engine.daemon import Daemon
from tron.engine.facade import JobView
from tron.errors import (
    BadRequestError,
    UnknownCommandError,
)

DEFAULT_NUM_LINES = 100


def _job_name(request: Request) -> str:
    return unquote(request.path_params["job"])


def commands_json(refusals: Refusals) -> shapes.JsonObject:
    """Ours: `{command: {allowed, reason}}`, so clients offer only what would be accepted."""
    return {name: {"allowed": why is None, "reason": why} for name, why in refusals.items()}


def _with_commands(body: shapes.JsonObject, run: JobRun, view: shapes.View) -> shapes.JsonObject:
    # The run's own commands only: an action run's are on its own endpoint, as each trial
    # walks the whole run (every action of a big run would cost its square).
    body["commands"] = commands_json(job_run_commands(run, now=view.now))
    return body


def job_json(
    daemon: Daemon, graphs: TriggerGraphs, job: JobView, include: shapes.JobIncludes
) -> shapes.JsonObject:
    return shapes.job_json(
        job.config,
        job.enabled,
        job.runs_newest_first(),
        daemon.node_pool(job.config.node),
        view_for(daemon, job, graphs if include.action_graph else None),
        include,
    )


async def index(request: Request) -> Response:
    daemon = daemon_of(request)
    jobs = {}
    for name, job in sorted(daemon.jobs().items()):
        # Tron lists the actions of the job's newest run, which are the config's (their
        # templates follow reconfiguration) in its order: read from the config, no run is
        # sorted. A job with no run lists none, as in Tron.
        actions = job.config.all_actions if job.runs else ()
        jobs[name] = [{"name": a.name, "command": a.command} for a in actions]
    return json_response({"jobs": jobs, "namespaces": sorted(daemon.config.namespaces)})


async def status(request: Request) -> Response:
    from tron import __version__

    daemon = daemon_of(request)
    return json_response(
        {
            "status": "I'm alive.",
            "version": __version__,
            "boot_time": int(daemon.boot_time),
            **daemon.leadership_status(),
        }
    )


async def jobs(request: Request) -> Response:
    daemon = daemon_of(request)
    if request.method == "POST":
        return await _collection_command(daemon, await p.form(request))
    q = request.query_params
    include = shapes.JobIncludes(
        runs=5 if p.flag(q, "include_job_runs", False) else None,
        action_runs=p.flag(q, "include_action_runs", False),
        action_graph=p.flag(q, "include_action_graph", True),
        node_pool=p.flag(q, "include_node_pool", True),
    )
    cache: JobJsonCache = request.app.state.job_cache
    graphs = trigger_graphs_of(request)
    cache.follow_config(daemon.config, set(daemon.jobs()))
    parts = [
        cache.get(name, include, job.version, partial(job_json, daemon, graphs, job, include))
        for name, job in sorted(daemon.jobs().items())
    ]
    return Response(
        b'{"jobs":[' + b",".join(parts) + b"]}",
        media_type="application/json",
    )


async def _collection_command(daemon: Daemon, form: dict[str, str]) -> Response:
    command = p.required(form, "command")
    if command != "move":
        raise UnknownCommandError(command, "JobCollection")
    old, new = p.required(form, "old_name"), p.required(form, "new_name")
    return json_response({"result": await daemon.move_job(old, new)})


async def job(request: Request) -> Response:
    daemon = daemon_of(request)
    name = _job_name(request)
    runtime = daemon.job(name)
    if request.method == "POST":
        form = await p.form(request)
        zone = view_for(daemon, runtime).zone or ZoneInfo("UTC")
        result = await daemon.job_command(
            name,
            p.required(form, "command"),
            run_time=p.run_time(form.get("run_time"), zone),
            request_key=form.get("request_id") or None,
        )
        return json_response({"result": result})
    q = request.query_params
    include = shapes.JobIncludes(
        runs=p.integer(q, "num_runs", p.NUM_RUNS) or len(runtime.runs) or 0,
        action_runs=p.flag(q, "include_action_runs", False),
        action_graph=p.flag(q, "include_action_graph", False),
    )
    return json_response(job_json(daemon, trigger_graphs_of(request), runtime, include))


async def job_run(request: Request) -> Response:
    daemon = daemon_of(request)
    name, ref = _job_name(request), unquote(request.path_params["run"])
    runtime = daemon.job(name)
    if request.method == "GET" and _is_action_name(runtime, ref):
        return _action_history(daemon, runtime, ref)
    if request.method == "POST":
        form = await p.form(request)
        result = await daemon.job_run_command(name, ref, p.required(form, "command"))
        return json_response({"result": result})
    run = daemon.run(name, ref)
    q = request.query_params
    graph = p.flag(q, "include_action_graph", False)
    view = view_for(daemon, runtime, trigger_graphs_of(request) if graph else None)
    body = shapes.job_run_json(
        run,
        view,
        action_runs=p.flag(q, "include_action_runs", False),
        action_graph=graph,
    )
    return json_response(_with_commands(body, run, view))


def _is_action_name(job: JobView, ref: str) -> bool:
    return (
        not ref.lstrip("-").isdigit()
        and ref.upper() != "HEAD"
        and any(a.name == ref for a in job.config.all_actions)
    )


def _action_history(daemon: Daemon, job: JobView, action_name: str) -> Response:
    view = view_for(daemon, job)
    body = [
        shapes.action_run_json(a, view, requirements=False)
        for run in job.runs_newest_first()
        for a in run.action_runs
        if a.action_name == action_name
    ]
    return json_response(body)


async def action_run(request: Request) -> Response:
    daemon = daemon_of(request)
    name, ref = _job_name(request), unquote(request.path_params["run"])
    action_name = unquote(request.path_params["action"])
    runtime = daemon.job(name)
    if request.method == "POST":
        form = await p.form(request)
        result = await daemon.action_run_command(
            name,
            ref,
            action_name,
            p.required(form, "command"),
            use_latest_command=p.flag(form, "use_latest_command", False),
        )
        return json_response({"result": result})
    run = daemon.run(name, ref)
    action = daemon.action_run(run, action_name)
    q = request.query_params
    view = view_for(daemon, runtime)
    body = shapes.action_run_json(action, view)
    body["commands"] = commands_json(action_run_commands(run, action_name, now=view.now))
    lines = p.integer(q, "num_lines", p.NUM_LINES) or DEFAULT_NUM_LINES
    if p.flag(q, "include_stdout", False):
        body["stdout"] = daemon.output_lines(action, "stdout", lines)
    if p.flag(q, "include_stderr", False):
        body["stderr"] = daemon.output_lines(action, "stderr", lines)
    if p.flag(q, "include_meta", False):
        body["meta"] = shapes.META_PLACEHOLDER
    return json_response(body)


async def action_output(request: Request) -> Response:
    """Ours: output bytes after `offset`, so clients can follow an action live."""
    daemon = daemon_of(request)
    name, ref = _job_name(request), unquote(request.path_params["run"])
    run = daemon.run(name, ref)
    action = daemon.action_run(run, unquote(request.path_params["action"]))
    stream = request.query_params.get("stream", "stdout")
    if stream not in ("stdout", "stderr"):
        raise BadRequestError("stream must be stdout or stderr")
    if "grep" in request.query_params:
        return await search.grep_output(request, action, stream)
    offset = p.integer(request.query_params, "offset", p.OFFSET) or 0
    attempt = p.integer(request.query_params, "attempt", p.ATTEMPT)
    data, next_offset = daemon.output_from(action, stream, offset, attempt=attempt)
    current = daemon.action_run(run, action.action_name)
    return JSONResponse(
        {
            "data": data,
            "offset": next_offset,
            "done": current.state.is_done,
            "state": current.state.value,
        },
    )


async def job_search(request: Request) -> Response:
    """Ours: which recent runs printed a match; without `grep`, a job's action named `search`
    keeps its history at this path."""
    if "grep" not in request.query_params and _is_action_name(
        daemon_of(request).job(_job_name(request)), "search"
    ):
        return await job_run(request)
    return await search.job_search(request)


ROUTES = [
    Route("/api", index),
    Route("/api/", index),
    Route("/api/status", status),
    Route("/api/status/", status),
    Route("/api/jobs", jobs, methods=["GET", "POST"]),
    Route("/api/jobs/", jobs, methods=["GET", "POST"]),
    Route("/api/jobs/{job}", job, methods=["GET", "POST"]),
    Route("/api/jobs/{job}/", job, methods=["GET", "POST"]),
    Route("/api/jobs/{job}/search", job_search),
    Route("/api/jobs/{job}/{run}", job_run, methods=["GET", "POST"]),
    Route("/api/jobs/{job}/{run}/", job_run, methods=["GET", "POST"]),
    Route("/api/jobs/{job}/{run}/{action}", action_run, methods=["GET", "POST"]),
    Route("/api/jobs/{job}/{run}/{action}/", action_run, methods=["GET", "POST"]),
    Route("/api/jobs/{job}/{run}/{action}/output", action_output),
]
