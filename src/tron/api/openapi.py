"""The OpenAPI description of the routes trond serves (kept beside them, checked by tests)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tron import __version__

_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}},
    "required": ["error"],
}
_OBJ: dict[str, Any] = {"type": "object"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _json(_ERROR, "error") for code in codes}


def _flag(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _form(*fields: str, required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {f: {"type": "string"} for f in fields},
                    "required": list(required),
                }
            }
        }
    }


def _command(*extra: str) -> dict[str, Any]:
    return {
        "requestBody": _form("command", *extra),
        "responses": {"200": _json(_OBJ), **_errors(400, 404, 409, 501)},
    }


def _spec() -> dict[str, Any]:
    job, run, action = _path("job"), _path("run"), _path("action")
    return {
        "openapi": "3.0.3",
        "info": {"title": "tron", "version": __version__},
        "paths": {
            "/api": {"get": {"responses": {"200": _json(_OBJ)}}},
            "/api/status": {"get": {"responses": {"200": _json(_OBJ)}}},
            "/api/jobs": {
                "get": {
                    "parameters": [
                        _flag(n)
                        for n in (
                            "include_job_runs",
                            "include_action_runs",
                            "include_action_graph",
                            "include_node_pool",
                        )
                    ],
                    "responses": {"200": _json(_OBJ)},
                },
            },
            "/api/jobs/{job}": {
                "parameters": [job],
                "get": {
                    "parameters": [
                        _flag("include_action_runs"),
                        _flag("include_action_graph"),
                        _flag("num_runs"),
                    ],
                    "responses": {"200": _json(_OBJ), **_errors(404)},
                },
                "post": _command("run_time", "request_id"),
            },
            "/api/jobs/{job}/{run}": {
                "parameters": [job, run],
                "get": {
                    "parameters": [_flag("include_action_runs"), _flag("include_action_graph")],
                    "responses": {
                        "200": _json({"oneOf": [_OBJ, {"type": "array"}]}),
                        **_errors(404),
                    },
                },
                "post": _command(),
            },
            "/api/jobs/{job}/{run}/{action}": {
                "parameters": [job, run, action],
                "get": {
                    "parameters": [
                        _flag("num_lines"),
                        _flag("include_stdout"),
                        _flag("include_stderr"),
                        _flag("include_meta"),
                    ],
                    "responses": {"200": _json(_OBJ), **_errors(404)},
                },
                "post": _command("use_latest_command"),
            },
            "/api/jobs/{job}/{run}/{action}/output": {
                "parameters": [job, run, action],
                "get": {
                    "parameters": [_flag("stream"), _flag("offset"), _flag("attempt")],
                    "responses": {"200": _json(_OBJ), **_errors(400, 404)},
                },
            },
            "/api/config": {
                "get": {"parameters": [_flag("name")], "responses": {"200": _json(_OBJ)}},
                "post": {
                    "requestBody": _form("name", "config", "hash", "check"),
                    "responses": {"200": _json(_OBJ), **_errors(400, 409)},
                },
            },
            "/api/config/versions": {
                "get": {
                    "parameters": [_flag("name")],
                    "responses": {"200": _json({"type": "array"})},
                },
            },
            "/api/events": {
                "get": {"responses": {"200": _json(_OBJ)}},
                "post": {
                    "requestBody": _form("command", "event"),
                    "responses": {"200": _json(_OBJ), **_errors(400, 404)},
                },
            },
            "/api/metrics": {"get": {"responses": {"200": _json(_OBJ)}}},
            "/api/prom-metrics": {
                "get": {"responses": {"200": {"description": "Prometheus text"}}},
            },
            "/metrics": {"get": {"responses": {"200": {"description": "Prometheus text"}}}},
        },
    }


async def openapi(request: Request) -> Response:
    return JSONResponse(_spec())
