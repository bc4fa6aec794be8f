"""Work on many items side by side with a fixed crew of workers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

T = TypeVar("T")

# Enough for the store to group the writes of many items into few commits (one fsync serves
# hundreds), few enough that the crew itself costs nothing.
CREW_SIZE = 512


async def for_each(items: Iterable[T], work: Callable[[T], Awaitable[None]]) -> None:
    """`await work(item)` for every item, at most CREW_SIZE at once; the first error raises
    once every worker stopped. A fixed crew rather than a task per item: 10,000 tasks behind
    a semaphore rescan their waiters on every release."""
    queue: asyncio.Queue[T] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def worker() -> None:
        while not queue.empty():
            await work(queue.get_nowait())

    await asyncio.gather(*(worker() for _ in range(min(CREW_SIZE, queue.qsize() or 1))))
