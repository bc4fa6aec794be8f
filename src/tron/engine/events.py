"""The stream of state changes the engine publishes: read by the SSE endpoint and the UI."""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import AsyncIterator
from typing import Any


class EventHub:
    """Fan-out of change events to any number of subscribers; slow ones drop, never block."""

    def __init__(self, backlog: int = 1000) -> None:
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._recent: deque[dict[str, Any]] = deque(maxlen=backlog)
        self._ids = itertools.count(1)

    def publish(self, kind: str, **fields: Any) -> None:
        # `seq` orders events for Last-Event-ID; `id` is left to the fields (a run's id).
        event = {**fields, "type": kind, "seq": next(self._ids)}
        self._recent.append(event)
        for queue in list(self._subscribers):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)

    async def subscribe(self, after: int = 0) -> AsyncIterator[dict[str, Any]]:
        """Events with seq > `after` from the backlog, then live ones, until cancelled."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self._subscribers.add(queue)
        last = after
        try:
            for event in list(self._recent):
                if event["seq"] > last:
                    last = event["seq"]
                    yield event
            while True:
                event = await queue.get()
                if event["seq"] > last:
                    last = event["seq"]
                    yield event
        finally:
            self._subscribers.discard(queue)
