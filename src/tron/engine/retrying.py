"""Work that must not be dropped because the store failed for a moment (a full disk, a lost
connection): tried again with a doubling delay until it goes through."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

FIRST_DELAY = 0.5
MAX_DELAY = 30.0


async def until_done(
    work: Callable[[], Awaitable[object]],
    *,
    what: str,
    retry_on: tuple[type[BaseException], ...],
) -> None:
    """`await work()` until it raises none of `retry_on`; each failure is logged with `what`."""
    delay = FIRST_DELAY
    while True:
        try:
            await work()
            return
        except retry_on as exc:
            logger.error("cannot %s (trying again in %.1fs): %s", what, delay, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_DELAY)
