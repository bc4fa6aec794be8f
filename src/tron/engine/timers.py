"""One heap of fire times and one task that sleeps until the earliest: no task per job.

Every timer belongs to a job run (or, for the schedule, to the run it fires) and is named by
a typed key, so all of a run's timers can be cancelled at once when the run goes away.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from tron.engine.clock import Clock

logger = logging.getLogger(__name__)

TimerCallback = Callable[[], Awaitable[None]]
# A failing callback is tried again after these delays, doubling up to the cap.
FIRST_RETRY_DELAY = timedelta(seconds=5)
MAX_RETRY_DELAY = timedelta(minutes=5)


class TimerKind(StrEnum):
    RUN = "run"  # a scheduled run's time
    RETRY = "retry"  # the end of an action's retry delay
    TRIGGER_TIMEOUT = "trigger_timeout"
    MAX_RUNTIME = "max_runtime"
    LATE = "late"  # an action past its expected_runtime
    ALERTS = "alerts"  # the periodic alert check and heartbeat (no run: job "", run 0)


@dataclass(frozen=True, slots=True)
class TimerKey:
    kind: TimerKind
    job_name: str
    run_num: int
    action_name: str | None = None

    @property
    def run_key(self) -> tuple[str, int]:
        return (self.job_name, self.run_num)

    def __str__(self) -> str:
        action = f".{self.action_name}" if self.action_name else ""
        return f"{self.kind} of {self.job_name}.{self.run_num}{action}"


@dataclass(order=True)
class _Entry:
    when: datetime
    seq: int
    key: TimerKey = field(compare=False)
    callback: TimerCallback = field(compare=False)
    failures: int = field(default=0, compare=False)
    cancelled: bool = field(default=False, compare=False)


FailureHook = Callable[[TimerKey], None]


class Timers:
    """Schedules callbacks at moments of a Clock. A key holds at most one timer: setting it
    again replaces the old one. Callbacks run as their own tasks so a slow one never delays
    the others. A callback that raises is logged with its run and tried again with a
    bounded backoff, unless the key was set again meanwhile; `on_failure` counts it."""

    def __init__(self, clock: Clock, *, on_failure: FailureHook | None = None) -> None:
        self._clock = clock
        self._on_failure = on_failure
        self._heap: list[_Entry] = []
        self._by_key: dict[TimerKey, _Entry] = {}
        self._by_run: dict[tuple[str, int], set[TimerKey]] = {}
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    def set(self, key: TimerKey, when: datetime, callback: TimerCallback) -> None:
        self._push(_Entry(when, next(self._seq), key, callback))

    def _push(self, entry: _Entry) -> None:
        self.cancel(entry.key)
        self._by_key[entry.key] = entry
        self._by_run.setdefault(entry.key.run_key, set()).add(entry.key)
        heapq.heappush(self._heap, entry)
        if self._heap[0] is entry:
            self._wake.set()

    def cancel(self, key: TimerKey) -> None:
        entry = self._by_key.pop(key, None)
        if entry is None:
            return
        entry.cancelled = True
        keys = self._by_run.get(key.run_key)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_run[key.run_key]

    def cancel_all(self, job_name: str, run_num: int) -> None:
        """Every timer of one job run (it was deleted, or ended)."""
        for key in list(self._by_run.get((job_name, run_num), ())):
            self.cancel(key)

    def when(self, key: TimerKey) -> datetime | None:
        entry = self._by_key.get(key)
        return entry.when if entry else None

    def keys(self) -> list[TimerKey]:
        return list(self._by_key)

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
                self.cancel(head.key)
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
            failures = entry.failures + 1
            delay = min(FIRST_RETRY_DELAY * 2 ** (failures - 1), MAX_RETRY_DELAY)
            logger.exception(
                "timer %s failed (%d times); trying again in %.0fs",
                entry.key,
                failures,
                delay.total_seconds(),
            )
            if self._on_failure is not None:
                self._on_failure(entry.key)
            if entry.key not in self._by_key:
                when = self._clock.now() + delay
                self._push(_Entry(when, next(self._seq), entry.key, entry.callback, failures))

    def close(self) -> None:
        """Cancel the callbacks under way (at shutdown, or when the engine is dropped)."""
        for task in list(self._tasks):
            task.cancel()

    async def drain(self) -> None:
        """Wait for callbacks already fired (used at shutdown and by tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
