"""One heap of fire times and one task that sleeps until the earliest: no task per job."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tron.engine.clock import Clock

logger = logging.getLogger(__name__)

TimerCallback = Callable[[], Awaitable[None]]
_RETRY_DELAY = timedelta(seconds=5)


@dataclass(order=True)
class _Entry:
    when: datetime
    seq: int
    key: Hashable = field(compare=False)
    callback: TimerCallback = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


class Timers:
    """Schedules callbacks at moments of a Clock. A key holds at most one timer: setting it
    again replaces the old one. Callbacks run as their own tasks so a slow one never delays
    the others; their exceptions are logged, never raised into the loop."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._heap: list[_Entry] = []
        self._by_key: dict[Hashable, _Entry] = {}
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    def set(self, key: Hashable, when: datetime, callback: TimerCallback) -> None:
        self.cancel(key)
        entry = _Entry(when, next(self._seq), key, callback)
        self._by_key[key] = entry
        heapq.heappush(self._heap, entry)
        if self._heap[0] is entry:
            self._wake.set()

    def cancel(self, key: Hashable) -> None:
        entry = self._by_key.pop(key, None)
        if entry:
            entry.cancelled = True

    def when(self, key: Hashable) -> datetime | None:
        entry = self._by_key.get(key)
        return entry.when if entry else None

    def __len__(self) -> int:
        return len(self._by_key)

    async def run(self) -> None:
        """Fire timers as they fall due, until cancelled."""
        while True:
            self._drop_cancelled()
            self._wake.clear()
            if not self._heap:
                await self._wake.wait()
                continue
            head = self._heap[0]
            if head.when > self._clock.now():
                await self._clock.sleep_until(head.when, self._wake)
                continue
            heapq.heappop(self._heap)
            if self._by_key.get(head.key) is head:
                del self._by_key[head.key]
                self._spawn(head)

    def _drop_cancelled(self) -> None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)

    def _spawn(self, entry: _Entry) -> None:
        task = asyncio.create_task(self._fire(entry))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fire(self, entry: _Entry) -> None:
        try:
            await entry.callback()
        except Exception:
            # A failed callback (say, the store could not write) is tried again later, unless
            # something set the same timer again meanwhile.
            logger.exception(
                "timer %s failed; retrying in %.0fs", entry.key, _RETRY_DELAY.total_seconds()
            )
            if entry.key not in self._by_key:
                self.set(entry.key, self._clock.now() + _RETRY_DELAY, entry.callback)

    async def drain(self) -> None:
        """Wait for callbacks already fired (used at shutdown and by tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
