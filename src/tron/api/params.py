"""Tron's request parameter rules: first value wins, booleans are digits, run_time format."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.requests import Request

from tron.errors import BadRequestError


def flag(params: Mapping[str, str], name: str, default: bool) -> bool:
    value = params.get(name, "")
    return bool(int(value)) if value.isdigit() else default


def integer(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name, "")
    if value.lstrip("-").isdigit():
        return int(value)
    return None


def run_time(value: str | None, zone: ZoneInfo) -> datetime | None:
    """`YYYY-MM-DD HH:MM:SS` (also `T` or date only) in the job's zone; bad input is a 400."""
    if not value:
        return None
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=zone)
        except ValueError:
            continue
    raise BadRequestError(f"run_time must be YYYY-MM-DD HH:MM:SS, not {value!r}")


async def form(request: Request) -> dict[str, str]:
    """POST parameters (form-encoded, as Tron's clients send), query string as fallback."""
    params = {k: v for k, v in request.query_params.items()}
    content_type = request.headers.get("content-type", "")
    if "form" in content_type or not content_type:
        data = await request.form()
        for key in data:
            value = data.get(key)
            if isinstance(value, str):
                params[key] = value
    elif "json" in content_type:
        body = await request.json()
        if isinstance(body, dict):
            params.update({str(k): str(v) for k, v in body.items()})
    return params
