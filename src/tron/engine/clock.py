"""Clocks: the only source of "now" for the engine; tests use ManualClock to move time."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Aware UTC time, and a way to sleep until a moment of that time."""

    def now(self) -> datetime: ...

    async def sleep_until(self, when: datetime, wake: asyncio.Event) -> None:
        """Return at `when`, or earlier once `wake` is set (the caller re-checks)."""
        ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, when: datetime, wake: asyncio.Event) -> None:
        delay = (when - self.now()).total_seconds()
        if delay <= 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await wake.wait()


class ManualClock:
    """A clock that only moves when told to; sleepers wake when it passes their time."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._moved = asyncio.Event()

    def now(self) -> datetime:
        return self._now

    async def sleep_until(self, when: datetime, wake: asyncio.Event) -> None:
        while self._now < when and not wake.is_set():
            moved = asyncio.ensure_future(self._moved.wait())
            woken = asyncio.ensure_future(wake.wait())
            await asyncio.wait({moved, woken}, return_when=asyncio.FIRST_COMPLETED)
            moved.cancel()
            woken.cancel()

    async def advance(self, delta: timedelta | float) -> None:
        """Move time forward and let everything that is now due run."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        await self.set(self._now + step)

    async def set(self, when: datetime) -> None:
        self._now = when
        self._moved.set()
        self._moved = asyncio.Event()
        for _ in range(10):
            await asyncio.sleep(0)
