"""SshNode: one node as the SSH executor sees it: its connections, its agent, the attempts it
follows there, the finished ones left to delete, and the idle timer that closes the connections
and the agent (spec 2.2 `idle_connection_timeout`); they reopen on the next use."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

from tron import tasks
from tron.executors.ssh_agent import SshAgent
from tron.executors.ssh_connections import ConnectSettings, NodeConnections
from tron.executors.ssh_records import Answer, Query, RecordReader

logger = logging.getLogger(__name__)


class SshNode:
    """Bookkeeping for one node. It is idle when it follows no attempt, has nothing left to
    delete and no request in flight; after `idle_timeout` seconds so (0: never) it closes."""

    def __init__(
        self,
        settings: ConnectSettings,
        *,
        max_channels: int,
        idle_timeout: float,
        root: str,
        runs: str,
    ) -> None:
        self._settings = settings
        self._max_channels = max_channels
        self.idle_timeout = idle_timeout
        self._where = (root, runs)
        self.pool = NodeConnections(settings, max_channels=max_channels)
        self._reader = RecordReader(lambda: self.pool)
        self.running: set[str] = set()
        self.trash: list[str] = []
        self._agent: asyncio.Future[SshAgent] | None = None
        self._busy = 0
        self._timer: asyncio.TimerHandle | None = None
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def settings(self) -> ConnectSettings:
        return self._settings

    @settings.setter
    def settings(self, settings: ConnectSettings) -> None:
        self._settings = settings
        self.pool.settings = settings

    @property
    def is_idle(self) -> bool:
        return not self._busy and not self.running and not self.trash

    async def agent(self) -> SshAgent:
        """The node's agent, started (again) when there is none alive."""
        future = self._agent
        if future is None or not _is_alive(future):
            future = asyncio.ensure_future(SshAgent.start(self.pool, *self._where))
            self._agent = future
        return await asyncio.shield(future)

    async def read(self, query: Query) -> Answer:
        """One attempt's records and new output, read with others due now on one channel."""
        with self.busy():
            return await self._reader.read(query)

    @contextlib.contextmanager
    def busy(self) -> Iterator[NodeConnections]:
        """Hold the node open around a request; yields the connections to use."""
        self._busy += 1
        self._disarm()
        try:
            yield self.pool
        finally:
            self._busy -= 1
            self._arm()

    def follow(self, key: str) -> None:
        self.running.add(key)
        self._disarm()

    def unfollow(self, key: str) -> None:
        self.running.discard(key)
        self._arm()

    def add_trash(self, prefix: str) -> bool:
        """Keep `prefix` for deletion; True when it is the first one waiting."""
        self.trash.append(prefix)
        self._disarm()
        return len(self.trash) == 1

    def take_trash(self) -> list[str]:
        trash, self.trash = self.trash, []
        self._arm()
        return trash

    def _arm(self) -> None:
        if self._timer is not None or not self.is_idle or self.idle_timeout <= 0:
            return
        if self._agent is None and not self.pool.connection_count:
            return  # nothing open to close
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.idle_timeout, self._expire)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        if self.is_idle:
            task = asyncio.get_running_loop().create_task(self._release())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def _release(self) -> None:
        """Close the agent and connections; the next use opens new ones."""
        logger.info("closing idle connections to %s", self._settings.where)
        agent, self._agent = self._agent, None
        pool = self.pool
        self.pool = NodeConnections(self._settings, max_channels=self._max_channels)
        await _close_agent(agent)
        await pool.close()

    async def close(self) -> None:
        """Close everything for good (remote attempts keep running)."""
        self._disarm()
        await self._reader.close()
        await asyncio.gather(*self._closing, return_exceptions=True)
        agent, self._agent = self._agent, None
        await _close_agent(agent)
        await self.pool.close()


async def _close_agent(future: asyncio.Future[SshAgent] | None) -> None:
    if future is None:
        return
    if future.done() and _is_alive(future):
        await future.result().close()
    await tasks.stop(future)


def _is_alive(future: asyncio.Future[SshAgent]) -> bool:
    if not future.done():
        return True
    return not future.cancelled() and future.exception() is None and future.result().is_alive
