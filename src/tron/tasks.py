"""Waiting for background tasks and futures without losing the caller's own cancellation.

`task.cancel(); with suppress(CancelledError): await task` also swallows a cancellation of the
caller that comes while it waits: the caller then goes on as if never cancelled, and whoever
cancelled it (a shutdown) waits for it forever. These helpers never swallow it.

For the same reason trond bounds waits with `asyncio.timeout`, never `asyncio.wait_for`: on
3.11, wait_for returns the result when the cancellation and the result come together.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def settled(future: asyncio.Future[Any]) -> None:
    """Wait until `future` is done and take its outcome (never raised here). A cancellation
    of the caller propagates, and leaves `future` running."""
    if not future.done():
        await asyncio.wait({future})
    if not future.cancelled():
        future.exception()  # taken: asyncio does not log it as never retrieved


async def stop(task: asyncio.Future[Any] | None) -> None:
    """Cancel `task` and wait until it has ended, whatever it ended with."""
    if task is None:
        return
    task.cancel()
    await settled(task)
