"""The one place errors become HTTP responses: TronError families to 4xx/5xx JSON bodies."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tron.api.params import PayloadTooLargeError, UnsupportedMediaTypeError
from tron.errors import (
    BadRequestError,
    ConfigError,
    ConflictError,
    NodeError,
    NotFoundError,
    StaleConfigError,
    StoreError,
    TronError,
    UnknownCommandError,
)

logger = logging.getLogger(__name__)

_STATUS: tuple[tuple[type[TronError], int], ...] = (
    (NotFoundError, 404),
    (PayloadTooLargeError, 413),
    (UnsupportedMediaTypeError, 415),
    (UnknownCommandError, 501),
    (BadRequestError, 400),
    (ConfigError, 400),
    (ConflictError, 409),
    (NodeError, 503),
    (StoreError, 503),
)

JSON_HEADERS = {"Access-Control-Allow-Origin": "*"}


def error_response(exc: TronError) -> JSONResponse:
    status = next((code for family, code in _STATUS if isinstance(exc, family)), 400)
    body: dict[str, object] = {"error": str(exc)}
    if isinstance(exc, ConfigError | StaleConfigError):
        body = {"status": "Active", **body}
    if isinstance(exc, ConfigError):
        body["problems"] = [
            {"file": p.file, "line": p.line, "key_path": p.key_path, "message": p.message}
            for p in exc.problems
        ]
    return JSONResponse(body, status_code=status, headers=JSON_HEADERS)


async def handle_tron_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TronError)
    return error_response(exc)


async def handle_http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (bad multipart, 404, 405...) in our JSON shape."""
    assert isinstance(exc, HTTPException)
    return JSONResponse(
        {"error": exc.detail}, status_code=exc.status_code, headers=exc.headers or JSON_HEADERS
    )


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unexpected error serving %s %s", request.method, request.url.path)
    return JSONResponse(
        {"error": f"internal error: {type(exc).__name__}: {exc}"},
        status_code=500,
        headers=JSON_HEADERS,
    )
