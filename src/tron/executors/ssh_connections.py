"""SSH connections to one node: opened lazily, shared by many channels, reopened after a drop.

A stock sshd refuses more than `MaxSessions` (10) channels on one connection, so each
connection carries at most `max_channels` at once and further channels open further
connections rather than fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncssh

from tron import tasks
from tron.config.model import NodeConfig, SshOptions
from tron.errors import NodeError

logger = logging.getLogger(__name__)

# Under MaxSessions (10): sshd frees a closed channel's session a moment after we see it close.
DEFAULT_MAX_CHANNELS = 8
DEFAULT_KNOWN_HOSTS = os.path.expanduser("~/.ssh/known_hosts")


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectSettings:
    """Everything needed to open a connection to one node."""

    node: str
    host: str
    port: int
    username: str
    identities: tuple[str, ...] = ()
    known_hosts_file: str = DEFAULT_KNOWN_HOSTS
    agent: bool = False
    connect_timeout: float = 30.0

    @classmethod
    def build(cls, node: NodeConfig, options: SshOptions) -> ConnectSettings:
        return cls(
            node=node.name,
            host=node.hostname,
            port=node.port,
            username=node.username or getpass.getuser(),
            identities=options.identities,
            known_hosts_file=options.known_hosts_file or DEFAULT_KNOWN_HOSTS,
            agent=options.agent,
            # 0 means "no limit" in Tron; an unanswered connect must still end some day.
            connect_timeout=float(options.connect_timeout or 600),
        )

    @property
    def where(self) -> str:
        return f"node {self.node} ({self.username}@{self.host}:{self.port})"


def trusted_host_keys(settings: ConnectSettings) -> asyncssh.SSHKnownHosts:
    """The known_hosts entries for the node; NodeError when it has none (never trust blindly).

    Both `[host]:port key` and bare `host key` lines match a non-22 port, since Tron users'
    files often only have the latter.
    """
    path = settings.known_hosts_file
    try:
        known = asyncssh.read_known_hosts(path)
    except (OSError, ValueError) as exc:
        raise NodeError(f"{settings.where}: cannot read known_hosts {path}: {exc}") from exc
    host_keys, ca_keys, *_ = known.match(settings.host, "", settings.port)
    if not host_keys and not ca_keys:
        raise NodeError(f"{settings.where}: unknown host, no key for it in {path}")
    return known


def _connect_error(settings: ConnectSettings, exc: BaseException) -> NodeError:
    where = settings.where
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return NodeError(
            f"{where}: host key does not match {settings.known_hosts_file} "
            f"(changed or wrong key): {exc}"
        )
    if isinstance(exc, asyncssh.PermissionDenied):
        return NodeError(f"{where}: authentication failed: {exc}")
    if isinstance(exc, TimeoutError):
        return NodeError(f"{where}: no answer within {settings.connect_timeout:g}s")
    return NodeError(f"{where}: cannot connect: {exc or type(exc).__name__}")


class _Client(asyncssh.SSHClient):
    """Tells its pool when the connection goes away."""

    def __init__(self, link: _Link) -> None:
        self._link = link

    def connection_lost(self, exc: Exception | None) -> None:
        self._link.is_lost = True


@dataclass(slots=True, eq=False, kw_only=True)
class _Link:
    """One open connection and how many of its channels are in use."""

    conn: asyncssh.SSHClientConnection | None = None
    channels: int = 0
    limit: int = DEFAULT_MAX_CHANNELS
    is_lost: bool = False

    @property
    def has_room(self) -> bool:
        return not self.is_lost and self.conn is not None and self.channels < self.limit


@dataclass(slots=True, eq=False, kw_only=True)
class Session:
    """A process on a channel of one connection; `close` gives the channel back to the pool."""

    process: asyncssh.SSHClientProcess[bytes]
    link: _Link
    is_closed: bool = False

    async def close(self) -> None:
        if self.is_closed:
            return
        self.is_closed = True
        try:
            self.process.close()
            # sshd frees the session slot only once it has seen the close: wait for its reply.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await self.process.wait_closed()
        finally:
            self.link.channels -= 1


class NodeConnections:
    """The connections to one node; every method raises NodeError when it cannot be reached."""

    def __init__(
        self, settings: ConnectSettings, *, max_channels: int = DEFAULT_MAX_CHANNELS
    ) -> None:
        self.settings = settings
        self._max_channels = max_channels
        self._links: list[_Link] = []
        # The connection being opened, shared by every caller that finds no room meanwhile.
        self._connecting: asyncio.Future[_Link] | None = None
        self._is_closed = False

    @property
    def connection_count(self) -> int:
        return len([link for link in self._links if not link.is_lost])

    async def run(
        self, command: str, *, stdin: bytes | None = None
    ) -> asyncssh.SSHCompletedProcess:
        """Run `command` in the node's login shell and collect its output (as bytes)."""
        for _ in range(5):
            async with self._channel() as link:
                assert link.conn is not None
                try:
                    return await link.conn.run(command, input=stdin, encoding=None)
                except asyncssh.ChannelOpenError:
                    # The server allows fewer channels than we thought (or has not yet freed
                    # one we closed): stay below that on this connection.
                    link.limit = max(link.channels - 1, 1)
                except (asyncssh.Error, OSError) as exc:
                    raise NodeError(f"{self.settings.where}: {exc}") from exc
            await asyncio.sleep(0.02)
        raise NodeError(f"{self.settings.where}: no channel could be opened")

    async def open_session(self, command: str, *, stdin: bytes = b"", eof: bool = True) -> Session:
        """Start `command` on a channel held until `Session.close`; send `stdin`, then EOF."""
        for _ in range(5):
            link = await self._acquire()
            assert link.conn is not None
            try:
                process = await link.conn.create_process(command, encoding=None)
            except asyncssh.ChannelOpenError:
                link.channels -= 1
                link.limit = max(link.channels, 1)
                await asyncio.sleep(0.02)
                continue
            except (asyncssh.Error, OSError) as exc:
                link.channels -= 1
                raise NodeError(f"{self.settings.where}: {exc}") from exc
            # A quick command may have ended, and its channel closed, before we get here: its
            # output still waits in the process's buffers.
            with contextlib.suppress(BrokenPipeError, OSError):
                if stdin:
                    process.stdin.write(stdin)
                if eof:
                    process.stdin.write_eof()
            return Session(process=process, link=link)
        raise NodeError(f"{self.settings.where}: no channel could be opened")

    @contextlib.asynccontextmanager
    async def _channel(self) -> AsyncIterator[_Link]:
        link = await self._acquire()
        try:
            yield link
        finally:
            link.channels -= 1

    async def _acquire(self) -> _Link:
        while True:
            self._links = [link for link in self._links if not link.is_lost]
            for link in self._links:
                if link.has_room:
                    link.channels += 1
                    return link
            if self._connecting is None or self._connecting.done():
                self._connecting = asyncio.ensure_future(self._connect())
            await asyncio.shield(self._connecting)

    async def _connect(self) -> _Link:
        settings = self.settings
        known = trusted_host_keys(settings)
        link = _Link(limit=self._max_channels)
        try:
            link.conn = await asyncssh.connect(
                settings.host, **_options(settings, known), client_factory=lambda: _Client(link)
            )
        except (asyncssh.Error, OSError, TimeoutError) as exc:
            raise _connect_error(settings, exc) from exc
        if self._is_closed:
            link.conn.close()
            await link.conn.wait_closed()
            raise NodeError(f"{settings.where}: connections closed")
        logger.info("connected to %s", settings.where)
        self._links.append(link)
        return link

    async def close(self) -> None:
        """Close every connection (remote actions keep running)."""
        self._is_closed = True
        pending = self._connecting
        if pending is not None:
            await tasks.settled(pending)
        links, self._links = self._links, []
        for link in links:
            if link.conn is not None:
                link.is_lost = True
                link.conn.close()
        for link in links:
            if link.conn is not None:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(2):
                        await link.conn.wait_closed()


def _options(settings: ConnectSettings, known: asyncssh.SSHKnownHosts) -> dict[str, Any]:
    return {
        "port": settings.port,
        "username": settings.username,
        "known_hosts": known,
        "client_keys": list(settings.identities) or (),
        "agent_path": () if settings.agent else None,
        "agent_forwarding": settings.agent,
        "connect_timeout": settings.connect_timeout,
        "keepalive_interval": 30,
        "keepalive_count_max": 3,
        "config": [],
    }
