"""Running a change to trond's state to its end even when its request is cancelled.

uvicorn cancels requests still running when a shutdown's grace period ends, and a client
may hang up; a config upload cut between its file and store writes would leave them
disagreeing, and uvicorn would answer 500 for an upload that went on to apply.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


async def uninterrupted(change: Coroutine[Any, Any, T], running: set[asyncio.Task[Any]]) -> T:
    """Await `change` in a task of its own that a cancellation of the caller does not stop.
    `running` holds the task until it ends (the event loop keeps only weak references)."""
    task = asyncio.ensure_future(change)
    running.add(task)
    task.add_done_callback(_forget(running))
    return await asyncio.shield(task)


def _forget(running: set[asyncio.Task[Any]]) -> Any:
    def done(task: asyncio.Task[Any]) -> None:
        running.discard(task)
        # Taking the exception marks it seen: the request that awaited it may be gone.
        if not task.cancelled() and task.exception() is not None:
            logger.debug("state change failed: %s", type(task.exception()).__name__)

    return done
