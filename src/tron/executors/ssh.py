"""SshExecutor: runs actions on SSH nodes under the same POSIX supervisor as the local node.

The action detaches on the node and its supervisor records pid, exit and output in files
there, so no channel stays open for an action's life: trond polls those files over one
shared SFTP session per node, copies the output to the local attempt directory as it grows,
and keeps the exit record locally once seen. A dropped connection or a restarted daemon
loses nothing: the next poll, on a new connection, picks up where the local copy ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import asyncssh

from tron.config.model import Config, NodeConfig, SshOptions
from tron.errors import NodeError
from tron.executors.base import ActionSpec, ExitStatus, Handle
from tron.executors.ssh_connections import DEFAULT_MAX_CHANNELS, ConnectSettings, NodeConnections
from tron.executors.ssh_remote import (
    Tail,
    attempt_dir,
    read_pid,
    remove,
    signal_line,
    start_line,
)
from tron.executors.supervisor import (
    STDERR_FILE,
    STDOUT_FILE,
    Record,
    parse_launch_output,
    read_exit_status,
)

logger = logging.getLogger(__name__)

# What a lost connection looks like from asyncssh, the socket, or our own connect.
_LOST = (NodeError, asyncssh.Error, OSError, EOFError, TimeoutError)


def jitter_delay(options: SshOptions, load: int, rng: random.Random) -> float:
    """Seconds to wait before starting on a node that already runs `load` actions (spec 2.2)."""
    extra = load - options.jitter_min_load
    if extra <= 0 or options.jitter_max_delay <= 0:
        return 0.0
    upper = min(options.jitter_max_delay, extra * options.jitter_load_factor)
    return rng.uniform(0, max(upper, 0))


@dataclass(frozen=True, slots=True, kw_only=True)
class Polling:
    """How often a running attempt is polled: from `first` seconds, growing to `most`."""

    first: float = 0.02
    most: float = 0.2
    growth: float = 1.5
    # Reconnect backoff while the node cannot be reached.
    retry_first: float = 0.25
    retry_most: float = 10.0


@dataclass(slots=True, kw_only=True)
class _State:
    pools: dict[str, NodeConnections] = field(default_factory=dict)
    follows: dict[str, asyncio.Task[ExitStatus]] = field(default_factory=dict)
    running: dict[str, set[str]] = field(default_factory=dict)
    chores: set[asyncio.Task[None]] = field(default_factory=set)


class SshExecutor:
    """The Executor for SSH nodes (see the module docstring for how it tracks attempts)."""

    def __init__(
        self,
        config: Config,
        *,
        polling: Polling = Polling(),
        max_channels: int = DEFAULT_MAX_CHANNELS,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._polling = polling
        self._max_channels = max_channels
        self._rng = rng or random.Random()
        self._clock = clock
        self._state = _State()

    def update(self, config: Config) -> None:
        """Use new nodes and ssh_options for connections opened from now on."""
        self._config = config
        for name, pool in self._state.pools.items():
            node = config.nodes.get(name)
            if node is not None:
                pool.settings = ConnectSettings.build(node, config.ssh_options)

    def connections(self, node: NodeConfig) -> NodeConnections:
        """The connection pool of `node` (created on first use)."""
        pool = self._state.pools.get(node.name)
        settings = ConnectSettings.build(node, self._config.ssh_options)
        if pool is None:
            pool = NodeConnections(settings, max_channels=self._max_channels)
            self._state.pools[node.name] = pool
        pool.settings = settings
        return pool

    def _pool(self, name: str | None) -> NodeConnections:
        pool = self._state.pools.get(name or "")
        if pool is not None:
            return pool
        node = self._config.nodes.get(name or "")
        if node is None:
            raise NodeError(f"Unknown node {name}")
        return self.connections(node)

    @property
    def _status_path(self) -> str:
        return self._config.action_runner.remote_status_path

    # -- starting -------------------------------------------------------------------------

    async def start(self, spec: ActionSpec) -> Handle:
        node = spec.node
        if node is None:
            raise NodeError("the SSH executor needs a node")
        pool = self.connections(node)
        running = self._state.running.setdefault(node.name, set())
        delay = jitter_delay(self._config.ssh_options, len(running), self._rng)
        if delay:
            await asyncio.sleep(delay)
        remote = attempt_dir(
            self._status_path, spec.action_run_id, spec.attempt, str(spec.output_dir)
        )
        _prepare_local(spec.output_dir)
        line = start_line(self._status_path, remote, spec.env)
        command = spec.command.encode("utf-8", errors="surrogateescape")
        result = await pool.run(line, stdin=command)
        pid = _launched_pid(result)
        running.add(str(spec.output_dir))
        handle = Handle(
            action_run_id=spec.action_run_id,
            attempt=spec.attempt,
            node=node.name,
            output_dir=str(spec.output_dir),
            pid=pid,
            extra=MappingProxyType({"remote_dir": remote}),
        )
        self._ensure_follow(handle)  # output streams back even before anybody waits
        return handle

    # -- watching -------------------------------------------------------------------------

    async def wait(self, handle: Handle) -> ExitStatus:
        status = read_exit_status(Path(handle.output_dir))
        if status is not None:
            return status
        return await asyncio.shield(self._ensure_follow(handle))

    def _ensure_follow(self, handle: Handle) -> asyncio.Task[ExitStatus]:
        follows = self._state.follows
        task = follows.get(handle.output_dir)
        if task is None or task.done():
            task = asyncio.get_running_loop().create_task(self._follow(handle))
            follows[handle.output_dir] = task
            task.add_done_callback(lambda done: _forget(follows, handle.output_dir, done))
        return task

    def _remote_dir(self, handle: Handle) -> str:
        remote = handle.extra.get("remote_dir")
        if isinstance(remote, str):
            return remote
        return attempt_dir(
            self._status_path, handle.action_run_id, handle.attempt, handle.output_dir
        )

    async def _follow(self, handle: Handle) -> ExitStatus:
        pool = self._pool(handle.node)
        remote = self._remote_dir(handle)
        tail = Tail(remote_dir=remote, local_dir=Path(handle.output_dir))
        self._state.running.setdefault(pool.settings.node, set()).add(handle.output_dir)
        try:
            status = await self._poll_until_exit(pool, tail)
        finally:
            await tail.close()
        if status.final:
            self._state.running[pool.settings.node].discard(handle.output_dir)
            tail.record(status)
            self._chore(self._remove(pool, remote))
        return status

    async def _poll_until_exit(self, pool: NodeConnections, tail: Tail) -> ExitStatus:
        polling = self._polling
        delay, retry, lost_since = polling.first, polling.retry_first, None
        while True:
            try:
                status = await self._poll(pool, tail)
            except _LOST as exc:
                lost_since = lost_since if lost_since is not None else self._clock()
                left = self._config.ssh_options.unreachable_timeout - (self._clock() - lost_since)
                if left <= 0:
                    return _unreachable(pool, self._clock() - lost_since, exc)
                logger.info("lost %s, retrying in %.2fs: %s", pool.settings.where, retry, exc)
                await asyncio.sleep(min(retry, left))
                retry = min(retry * 2, polling.retry_most)
                continue
            if status is not None:
                return status
            lost_since, retry = None, polling.retry_first
            await asyncio.sleep(delay)
            delay = min(delay * polling.growth, polling.most)

    @staticmethod
    async def _poll(pool: NodeConnections, tail: Tail) -> ExitStatus | None:
        sftp = await pool.sftp()
        # A connection that went silent (not closed) would block the poll until keepalive.
        return await asyncio.wait_for(tail.poll(sftp), pool.settings.connect_timeout)

    async def _remove(self, pool: NodeConnections, remote: str) -> None:
        with contextlib.suppress(*_LOST):
            await remove(await pool.sftp(), remote)

    def _chore(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._state.chores.add(task)
        task.add_done_callback(self._state.chores.discard)

    # -- signals, reattaching, closing ----------------------------------------------------

    async def signal(self, handle: Handle, signum: int) -> None:
        if read_exit_status(Path(handle.output_dir)) is not None:
            return
        await self._pool(handle.node).run(signal_line(self._remote_dir(handle), signum))

    async def reattach(self, handle: Handle) -> Handle:
        remote = self._remote_dir(handle)
        extra = {**handle.extra, "remote_dir": remote}
        pid = handle.pid
        if pid is None and read_exit_status(Path(handle.output_dir)) is None:
            pid = await self._try_read_pid(handle, remote)
        return replace(handle, pid=pid, extra=MappingProxyType(extra))

    async def _try_read_pid(self, handle: Handle, remote: str) -> int | None:
        pool = self._pool(handle.node)
        try:
            sftp = await pool.sftp()
            return await asyncio.wait_for(read_pid(sftp, remote), pool.settings.connect_timeout)
        except _LOST as exc:
            # The node may come back later: `wait` keeps trying, the pid is only for display.
            logger.warning("no pid for %s yet: %s", handle.action_run_id, exc)
            return None

    async def close(self) -> None:
        state = self._state
        for task in [*state.follows.values(), *state.chores]:
            task.cancel()
        await asyncio.gather(*state.follows.values(), *state.chores, return_exceptions=True)
        state.follows.clear()
        for pool in state.pools.values():
            await pool.close()
        state.pools.clear()


def _unreachable(pool: NodeConnections, gone: float, exc: BaseException) -> ExitStatus:
    reason = f"{pool.settings.where} unreachable for {gone:.0f}s: {exc}"
    return ExitStatus(exit_code=None, reason=reason, final=False)


def _launched_pid(result: asyncssh.SSHCompletedProcess) -> int:
    try:
        return parse_launch_output(_as_bytes(result.stdout))
    except NodeError as exc:
        stderr = _as_bytes(result.stderr).decode("utf-8", errors="replace").strip()
        raise NodeError(f"{exc}; exit {result.exit_status}; stderr: {stderr[:500]}") from None


def _as_bytes(data: bytes | str | None) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8", errors="replace")
    return data or b""


def _forget(follows: dict[str, asyncio.Task[ExitStatus]], key: str, done: object) -> None:
    if follows.get(key) is done:
        del follows[key]


def _prepare_local(directory: Path) -> None:
    """A fresh local copy for this launch: the tail appends to whatever is there."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for record in (Record.EXIT, Record.SIGNAL):
            (directory / record).unlink(missing_ok=True)
        for stream in (STDOUT_FILE, STDERR_FILE):
            (directory / stream).write_bytes(b"")
    except OSError as exc:
        raise NodeError(f"cannot prepare {directory}: {exc}") from exc
