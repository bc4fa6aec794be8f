"""The event loop shared with work that never waits.

Going through every job (recovering them at start-up, restoring a long history, an alert check)
is work that may never wait on anything: it would hold the loop for seconds, and with it
launches, the API and a leader's lease renewals (timers on the same loop). Such work asks for
`LoopTurns.wait_if_held()` before each piece: once it has held the loop for HOLD_SECONDS, it
waits for the loop's next turn, which runs the timers and I/O already due first.
"""

from __future__ import annotations

import asyncio

HOLD_SECONDS = 0.02


class LoopTurns:
    """One piece of work's share of the event loop, counted from the loop's last turn without
    it. Several tasks may share one (a crew of workers): their hold is counted together."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._began = loop.time()
        self._next: asyncio.Event | None = None
        self._fresh = False  # a turn came and no task has run since

    async def wait_if_held(self) -> None:
        # Again after waking: tasks woken together share the new turn.
        while self._loop.time() - self._began > HOLD_SECONDS:
            if self._next is None:
                self._next = asyncio.Event()
                # A timer due now runs after the timers and I/O already due: those go first.
                self._loop.call_later(0, self._turn)
            await self._next.wait()
            if self._fresh:
                # The new hold counts from the first task to run, not from the turn: on a busy
                # machine the wait between the two can exceed a hold, and no task would ever
                # go on.
                self._fresh = False
                self._began = self._loop.time()

    def _turn(self) -> None:
        self._fresh = True
        if self._next is not None:
            self._next.set()
            self._next = None
