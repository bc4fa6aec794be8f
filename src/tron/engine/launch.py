"""The launch queue: attempts whose `starting` mark is durable, started on their executors by
a fixed crew of workers, so no caller ever waits on an executor and at most `concurrency`
launches are under way at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

# Launches in flight at once; more would only queue in the kernel and the node's sshd.
MAX_CONCURRENT_LAUNCHES = 64


@dataclass(frozen=True, slots=True)
class Launch:
    """One attempt to start: `attempt` guards against starting a later one by mistake."""

    job_name: str
    run_num: int
    action_name: str
    attempt: int


LaunchFunction = Callable[[Launch], Awaitable[None]]


class LaunchQueue:
    """Drains queued launches through `launch`; each attempt is launched by one worker only."""

    def __init__(self, launch: LaunchFunction, *, concurrency: int = MAX_CONCURRENT_LAUNCHES):
        self._launch = launch
        self._concurrency = concurrency
        self._queue: asyncio.Queue[Launch] = asyncio.Queue()
        self._queued: set[Launch] = set()
        self._workers: list[asyncio.Task[None]] = []
        self._idle = 0
        self._closed = False

    def put(self, launch: Launch) -> None:
        """Queue `launch` unless the same attempt is already queued or being launched."""
        if launch in self._queued or self._closed:
            return
        self._queued.add(launch)
        self._queue.put_nowait(launch)
        # Workers are started as the queue grows, up to the limit, and then stay.
        if len(self._workers) < self._concurrency and self._queue.qsize() > self._idle:
            self._workers.append(asyncio.create_task(self._work()))

    def pending(self) -> int:
        """Launches queued or under way."""
        return len(self._queued)

    async def _work(self) -> None:
        # Until closed, not only until cancelled: a launch that swallowed the cancellation
        # (a library's bug) must not leave close() waiting for this worker forever.
        while not self._closed:
            self._idle += 1
            try:
                launch = await self._queue.get()
            finally:
                self._idle -= 1
            try:
                await self._launch(launch)
            except Exception:
                logger.exception("launching %s.%s.%s failed", *_names(launch))
            finally:
                self._queued.discard(launch)

    async def close(self) -> None:
        self._closed = True
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers.clear()


def _names(launch: Launch) -> tuple[str, int, str]:
    return (launch.job_name, launch.run_num, launch.action_name)
