"""Work on many items side by side with a fixed crew of workers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

T = TypeVar("T")

# Enough for the store to group the writes of many items into few commits (one fsync serves
# hundreds), few enough that the crew itself costs nothing.
CREW_SIZE = 512
# Items that never wait (jobs with nothing to recover: most, with a long history) would let a
# crew hold the event loop through all of them, and a leader's lease renewals with it: once
# the crew has held it this long, its workers wait for the loop's next turn.
HOLD_SECONDS = 0.02


class _Turns:
    """The crew's share of the event loop, counted from the loop's last turn without it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._began = loop.time()
        self._next: asyncio.Event | None = None
        self._fresh = False  # a turn came and no worker has run since

    async def wait_if_held(self) -> None:
        # Again after waking: workers woken together share the new turn.
        while self._loop.time() - self._began > HOLD_SECONDS:
            if self._next is None:
                self._next = asyncio.Event()
                # A timer due now runs after the timers and I/O already due: those go first.
                self._loop.call_later(0, self._turn)
            await self._next.wait()
            if self._fresh:
                # The new hold counts from the first worker to run, not from the turn: on a
                # busy machine the wait between the two can exceed a hold, and no worker
                # would ever go on.
                self._fresh = False
                self._began = self._loop.time()

    def _turn(self) -> None:
        self._fresh = True
        if self._next is not None:
            self._next.set()
            self._next = None


async def for_each(items: Iterable[T], work: Callable[[T], Awaitable[None]]) -> None:
    """`await work(item)` for every item, at most CREW_SIZE at once; the first error cancels
    the other workers and raises once every worker stopped (a recovery that failed, because
    its leader was deposed say, must not go on beside the next one). A fixed crew rather
    than a task per item: 10,000 tasks behind a semaphore rescan their waiters on every
    release."""
    queue: asyncio.Queue[T] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    turns = _Turns(asyncio.get_running_loop())

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
