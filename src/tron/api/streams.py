"""Ending an endless async iterator when something else finishes (trond stopping)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from typing import Any, TypeVar

from tron import tasks

T = TypeVar("T")


async def until_stopped(items: AsyncIterator[T], stop: Awaitable[Any]) -> AsyncGenerator[T]:
    """The items of `items` until `stop` completes (or the consumer leaves); then `items` is
    closed and this ends."""
    stopped = asyncio.ensure_future(stop)
    following: asyncio.Future[T] | None = None
    try:
        while True:
            following = asyncio.ensure_future(anext(items))
            await asyncio.wait({following, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not following.done():
                return
            try:
                item = following.result()
            except StopAsyncIteration:
                return
            yield item
    finally:
        stopped.cancel()
        await tasks.stop(following)
        aclose = getattr(items, "aclose", None)
        if aclose is not None:  # an async generator: run its own cleanup now
            await aclose()
