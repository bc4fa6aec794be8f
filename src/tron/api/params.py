"""Tron's request parameter rules: first value wins, booleans are digits, run_time format."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from starlette.formparsers import MultiPartException
from starlette.requests import Request

from tron.errors import BadRequestError

# A namespace file is the biggest thing a client sends; far above any real one.
MAX_BODY_BYTES = 8 * 1024 * 1024
_FORM = "application/x-www-form-urlencoded"


class PayloadTooLargeError(BadRequestError):
    def __init__(self) -> None:
        super().__init__(f"request body larger than {MAX_BODY_BYTES} bytes")


class UnsupportedMediaTypeError(BadRequestError):
    def __init__(self, content_type: str) -> None:
        super().__init__(f"send parameters as {_FORM}, not {content_type}")


# Integers are refused by length before int() sees them: int() of a 4,301-digit string
# raises, and no count, offset or id trond takes needs more digits than 2**63 has.
MAX_DIGITS = 19
INT64_MAX = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Bounds:
    """The closed range an integer parameter must lie in."""

    low: int
    high: int


# Every integer parameter trond reads, and its range (documented in openapi.py too).
NUM_RUNS = Bounds(0, 1_000_000)
NUM_LINES = Bounds(0, 1_000_000)
OFFSET = Bounds(0, INT64_MAX)  # a file position: seek() overflows past 2**63 - 1
ATTEMPT = Bounds(0, 1_000_000)
EVENT_ID = Bounds(0, INT64_MAX)
LIMIT = Bounds(1, 1000)  # a page of runs, or of matching lines
SEARCH_RUNS = Bounds(1, 100)  # recent runs whose output one search reads


class OutOfRangeError(BadRequestError):
    def __init__(self, name: str, bounds: Bounds) -> None:
        super().__init__(f"'{name}' must be an integer from {bounds.low} to {bounds.high}")


def _is_digits(value: str) -> bool:
    # str.isdigit() also accepts '²' and other digits int() refuses.
    return value.isascii() and value.isdigit()


def flag(params: Mapping[str, str], name: str, default: bool) -> bool:
    """Tron's rule: digits mean 0 or not 0; anything else means the default."""
    value = params.get(name, "")
    return value.strip("0") != "" if _is_digits(value) else default


def integer(params: Mapping[str, str], name: str, bounds: Bounds) -> int | None:
    """None when absent or empty; else an integer within `bounds`, or OutOfRangeError."""
    value = params.get(name, "")
    if not value:
        return None
    digits = value[1:] if value[:1] in "+-" else value
    if not _is_digits(digits) or len(digits) > MAX_DIGITS:
        raise OutOfRangeError(name, bounds)
    number = int(value)
    if not bounds.low <= number <= bounds.high:
        raise OutOfRangeError(name, bounds)
    return number


def required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name, "")
    if not value:
        raise BadRequestError(f"'{name}' is required.")
    return value


def run_time(value: str | None, zone: ZoneInfo) -> datetime | None:
    """`YYYY-MM-DD HH:MM:SS` (also `T` or date only) in the job's zone; bad input is a 400."""
    if not value:
        return None
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(value, pattern).replace(tzinfo=zone)
        except ValueError:
            continue
        if 1900 <= parsed.year <= 9000:
            return parsed
    raise BadRequestError(f"run_time must be YYYY-MM-DD HH:MM:SS, not {value!r}")


def iso_time(params: Mapping[str, str], name: str) -> datetime | None:
    """An ISO 8601 time (`2026-03-01T12:00:00+01:00`, `2026-03-01 12:00`, `2026-03-01`,
    `...Z`); one without a zone is UTC. None when absent; bad input is a 400 naming it."""
    value = params.get(name, "")
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequestError(
            f"'{name}' must be an ISO 8601 time such as 2026-03-01T12:00:00Z"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def first_values(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Only the first value of a repeated key counts, as in Tron."""
    params: dict[str, str] = {}
    for key, value in pairs:
        params.setdefault(key, value)
    return params


async def form(request: Request) -> dict[str, str]:
    """POST parameters (form-encoded, as Tron's clients send; multipart and a JSON object
    accepted too), then the query string. Any other body is a 4xx, never a 500."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await _body(request)
    params = first_values(request.query_params.multi_items())
    if body:
        params = {**params, **await _parse(request, content_type, body)}
    return params


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if _is_digits(declared) and (len(declared) > MAX_DIGITS or int(declared) > MAX_BODY_BYTES):
        raise PayloadTooLargeError()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PayloadTooLargeError()
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # so request.form() can parse multipart from what was read
    return body


async def _parse(request: Request, content_type: str, body: bytes) -> dict[str, str]:
    if content_type in (_FORM, ""):
        return _urlencoded(body)
    if content_type == "multipart/form-data":
        return await _multipart(request)
    if content_type == "application/json" or content_type.endswith("+json"):
        return _json_object(body)
    raise UnsupportedMediaTypeError(content_type)


def _urlencoded(body: bytes) -> dict[str, str]:
    try:
        text = body.decode("utf-8")
        return first_values(parse_qsl(text, keep_blank_values=True, errors="strict"))
    except UnicodeDecodeError as exc:
        raise BadRequestError("the form body is not UTF-8") from exc


async def _multipart(request: Request) -> dict[str, str]:
    try:
        data = await request.form(max_part_size=MAX_BODY_BYTES)
    except MultiPartException as exc:
        raise BadRequestError(f"bad multipart body: {exc.message}") from exc
    return first_values((k, v) for k, v in data.multi_items() if isinstance(v, str))


def _json_object(body: bytes) -> dict[str, str]:
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequestError(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadRequestError("a JSON body must be an object of parameters")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
