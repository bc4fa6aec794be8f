"""The OpenAPI description of the alerting routes (`routes/alerts.py`), merged into `spec()`."""

from __future__ import annotations

from typing import Any

from tron.api.openapi_schemas import ERROR_TEXT, OBJECT, STRING

_ERRORS = {**ERROR_TEXT, 404: "no such job or open alert"}


def _json(description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": OBJECT}}}


def _responses(*codes: int) -> dict[str, Any]:
    return {"200": _json(), **{str(c): _json(_ERRORS[c]) for c in (401, 403, *codes)}}


def _query(*names: str) -> list[dict[str, Any]]:
    return [{"name": n, "in": "query", "required": False, "schema": STRING} for n in names]


def _form(**fields: dict[str, Any]) -> dict[str, Any]:
    schema = {"type": "object", "properties": fields}
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}


def paths() -> dict[str, Any]:
    job = {"name": "job", "in": "path", "required": True, "schema": STRING}
    return {
        "/api/jobs/{job}/why": {
            "parameters": [job],
            "get": {"description": "why the job is (not) running", "responses": _responses(404)},
        },
        "/api/jobs/{job}/history": {
            "parameters": [job],
            "get": {"parameters": _query("limit"), "responses": _responses(404)},
        },
        "/api/jobs/{job}/silence": {
            "parameters": [job],
            "post": {
                "description": "silence the job's notifications `for` a duration (0 lifts it)",
                "requestBody": _form(**{"for": STRING}),
                "responses": _responses(400, 404, 413, 415),
            },
        },
        "/api/alerts": {
            "get": {"parameters": _query("state", "job", "limit"), "responses": _responses(400)},
        },
        "/api/alerts/ack": {
            "post": {
                "description": "acknowledge an open alert: stop its repeats",
                "requestBody": _form(alert=STRING),
                "responses": _responses(400, 404, 413, 415),
            },
        },
        "/api/notifications": {
            "get": {"parameters": _query("alert", "limit"), "responses": _responses(400)},
        },
        "/api/audit": {
            "get": {"parameters": _query("target", "limit"), "responses": _responses(400)},
        },
        "/api/health": {
            "get": {
                "description": "200 while the scheduler's heartbeat is fresh, else 503",
                "responses": {**_responses(), "503": _json("the scheduler is not scheduling")},
            },
        },
    }
