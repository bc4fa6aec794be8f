"""The one place errors become HTTP responses: TronError families to 4xx/5xx JSON bodies."""

from __future__ import annotations

import errno
import logging
import sqlite3

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tron.api.params import PayloadTooLargeError, UnsupportedMediaTypeError
from tron.errors import (
    BadRequestError,
    CommandRefusedError,
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

# A full disk or quota: the request may work later, after space is freed (RFC 4918's 507).
INSUFFICIENT_STORAGE = 507
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc`, or what it was raised from, says the disk (or a quota) is full."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return True
        if getattr(current, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            return True
        current = current.__cause__ or current.__context__
    return False


def error_response(exc: TronError) -> JSONResponse:
    if isinstance(exc, CommandRefusedError):
        # Tron answers these with 200 and its text (its tronctl exits 0); `refused` lets
        # our CLIs and scripts tell a refusal from a success without parsing the text.
        return JSONResponse({"result": str(exc), "refused": True})
    status = next((code for family, code in _STATUS if isinstance(exc, family)), 400)
    if isinstance(exc, StoreError) and is_disk_full(exc):
        status = INSUFFICIENT_STORAGE
    body: dict[str, object] = {"error": str(exc)}
    if isinstance(exc, ConfigError | StaleConfigError):
        body = {"status": "Active", **body}
    if isinstance(exc, ConfigError):
        body["problems"] = [
            {"file": p.file, "line": p.line, "key_path": p.key_path, "message": p.message}
            for p in exc.problems
        ]
    return JSONResponse(body, status_code=status)


async def handle_tron_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TronError)
    return error_response(exc)


async def handle_http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (bad multipart, 404, 405...) in our JSON shape."""
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def handle_os_error(request: Request, exc: Exception) -> Response:
    """A full disk is the truth to tell (507, the OS's words); other OS errors are bugs."""
    if is_disk_full(exc):
        assert isinstance(exc, OSError)
        logger.error("%s %s: disk full: %s", request.method, request.url.path, exc)
        message = f"not enough space on disk: {exc.strerror or exc}"
        return JSONResponse({"error": message}, status_code=INSUFFICIENT_STORAGE)
    return await handle_unexpected(request, exc)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unexpected error serving %s %s", request.method, request.url.path)
    return JSONResponse(
        {"error": f"internal error: {type(exc).__name__}: {exc}"},
        status_code=500,
    )
