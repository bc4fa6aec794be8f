"""Work on many items side by side with a fixed crew of workers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from tron.engine.turns import LoopTurns

T = TypeVar("T")

# Enough for the store to group the writes of many items into few commits (one fsync serves
# hundreds), few enough that the crew itself costs nothing.
CREW_SIZE = 512


async def for_each(items: Iterable[T], work: Callable[[T], Awaitable[None]]) -> None:
    """`await work(item)` for every item, at most CREW_SIZE at once; the first error cancels
    the other workers and raises once every worker stopped (a recovery that failed, because
    its leader was deposed say, must not go on beside the next one). A fixed crew rather
    than a task per item: 10,000 tasks behind a semaphore rescan their waiters on every
    release."""
    queue: asyncio.Queue[T] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    # Items that never wait (jobs with nothing to recover: most, with a long history) share
    # the loop with everything else.
    turns = LoopTurns(asyncio.get_running_loop())

    async def worker() -> None:
        while not queue.empty():
            await turns.wait_if_held()
            if queue.empty():
                return
            await work(queue.get_nowait())

    crew = [asyncio.create_task(worker()) for _ in range(min(CREW_SIZE, queue.qsize() or 1))]
    try:
        await asyncio.gather(*crew)
    finally:
        # On an error (gather leaves the others running) or when cancelled.
        for task in crew:
            task.cancel()
        await asyncio.gather(*crew, return_exceptions=True)
