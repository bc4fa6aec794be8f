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
import os
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
from tron.executors.ssh_agent import AgentExit, Launched, SshAgent
from tron.executors.ssh_connections import DEFAULT_MAX_CHANNELS, ConnectSettings, NodeConnections
from tron.executors.ssh_remote import (
    Tail,
    attempt_dir,
    read_pid,
    remove_line,
    signal_line,
    tron_root,
)
from tron.executors.supervisor import STDERR_FILE, STDOUT_FILE, Record, read_exit_status

logger = logging.getLogger(__name__)

# Resolves when the agent reports an attempt's end (None: the agent was lost first).
_Ended = asyncio.Future[AgentExit | None]
# Directories deleted by one `rm` on a node, well within any command line limit.
_SWEEP_MOST = 200

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
    """How long trond only listens for the agent's report of the end, then how often it polls.

    An attempt that ends within `hold` seconds with no output costs no request at all. Longer
    ones are polled over SFTP for their output from `first` seconds apart, growing to `most`
    (the agent's report still ends the wait at once). Finished attempts' directories on a node
    are deleted together, `sweep` seconds after the first of them ended.
    """

    hold: float = 0.2
    sweep: float = 0.5
    first: float = 0.05
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
    trash: dict[str, list[str]] = field(default_factory=dict)
    agents: dict[str, asyncio.Future[SshAgent]] = field(default_factory=dict)


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
        launched = await self._launch(pool, remote, spec)
        running.add(str(spec.output_dir))
        handle = Handle(
            action_run_id=spec.action_run_id,
            attempt=spec.attempt,
            node=node.name,
            output_dir=str(spec.output_dir),
            pid=launched.pid,
            extra=MappingProxyType({"remote_dir": remote}),
        )
        self._ensure_follow(handle, launched)  # output streams back even before anybody waits
        return handle

    async def _launch(self, pool: NodeConnections, remote: str, spec: ActionSpec) -> Launched:
        where, timeout = pool.settings.where, pool.settings.connect_timeout
        agent = await self._agent(pool)
        try:
            launching = agent.launch(remote, spec.command, spec.env, time.time())
            return await asyncio.wait_for(launching, timeout)
        except TimeoutError as exc:
            raise NodeError(f"{where}: the agent did not start it within {timeout:g}s") from exc
        except NodeError as exc:
            raise NodeError(f"{where}: {exc}") from exc

    async def _agent(self, pool: NodeConnections) -> SshAgent:
        """The node's agent, started (again) when there is none alive."""
        agents = self._state.agents
        future = agents.get(pool.settings.node)
        if future is None or not _is_alive(future):
            future = asyncio.ensure_future(SshAgent.start(pool, tron_root(self._status_path)))
            agents[pool.settings.node] = future
        return await asyncio.shield(future)

    # -- watching -------------------------------------------------------------------------

    async def wait(self, handle: Handle) -> ExitStatus:
        status = read_exit_status(Path(handle.output_dir))
        if status is not None:
            return status
        return await asyncio.shield(self._ensure_follow(handle))

    def _ensure_follow(
        self, handle: Handle, launched: Launched | None = None
    ) -> asyncio.Task[ExitStatus]:
        follows = self._state.follows
        task = follows.get(handle.output_dir)
        if task is None or task.done():
            task = asyncio.get_running_loop().create_task(self._follow(handle, launched))
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

    async def _follow(self, handle: Handle, launched: Launched | None) -> ExitStatus:
        pool = self._pool(handle.node)
        remote = self._remote_dir(handle)
        tail = Tail(remote_dir=remote, local_dir=Path(handle.output_dir))
        self._state.running.setdefault(pool.settings.node, set()).add(handle.output_dir)
        ended = None if launched is None else launched.ended
        status = await _heard(ended, self._polling.hold)
        if status is None:
            try:
                status = await self._poll_until_exit(pool, tail, ended)
            finally:
                await tail.close()
        if status.final:
            self._state.running[pool.settings.node].discard(handle.output_dir)
            tail.record(status)
            self._discard(pool, remote)
        return status

    async def _poll_until_exit(
        self, pool: NodeConnections, tail: Tail, ended: _Ended | None
    ) -> ExitStatus:
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
            heard = await _nap(ended, delay)
            if heard is not None:
                return heard
            delay = min(delay * polling.growth, polling.most)

    @staticmethod
    async def _poll(pool: NodeConnections, tail: Tail) -> ExitStatus | None:
        sftp = await pool.sftp()
        # A connection that went silent (not closed) would block the poll until keepalive.
        return await asyncio.wait_for(tail.poll(sftp), pool.settings.connect_timeout)

    def _discard(self, pool: NodeConnections, remote: str) -> None:
        """Delete `remote` on the node soon, in one command with the others that end by then."""
        trash = self._state.trash.setdefault(pool.settings.node, [])
        trash.append(remote)
        if len(trash) == 1:
            self._chore(self._sweep(pool, self._polling.sweep))

    async def _sweep(self, pool: NodeConnections, after: float) -> None:
        await asyncio.sleep(after)
        directories = self._state.trash.pop(pool.settings.node, [])
        for first in range(0, len(directories), _SWEEP_MOST):
            with contextlib.suppress(*_LOST):
                await pool.run(remove_line(directories[first : first + _SWEEP_MOST]))

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
        await asyncio.gather(*state.follows.values(), return_exceptions=True)
        state.follows.clear()
        # Cancelled follows hand their sessions to new chores: finish those too.
        while state.chores:
            await asyncio.gather(*state.chores, return_exceptions=True)
        await self._empty_trash()
        agents, state.agents = state.agents, {}
        for future in agents.values():
            if future.done() and _is_alive(future):
                await future.result().close()
            future.cancel()
        for pool in state.pools.values():
            await pool.close()
        state.pools.clear()

    async def _empty_trash(self) -> None:
        """Delete what is left to delete now, on nodes still connected (a close must not wait)."""
        trash, self._state.trash = self._state.trash, {}
        for name, directories in trash.items():
            pool = self._state.pools.get(name)
            if pool is None or not pool.connection_count:
                continue
            with contextlib.suppress(*_LOST):
                await asyncio.wait_for(pool.run(remove_line(directories[:_SWEEP_MOST])), 2)


def _unreachable(pool: NodeConnections, gone: float, exc: BaseException) -> ExitStatus:
    reason = f"{pool.settings.where} unreachable for {gone:.0f}s: {exc}"
    return ExitStatus(exit_code=None, reason=reason, final=False)


async def _heard(ended: _Ended | None, within: float) -> ExitStatus | None:
    """The agent's report of the end, if it comes `within` seconds and leaves nothing to copy."""
    if ended is None:
        return None
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(ended), within)
    return _reported(ended)


def _reported(ended: _Ended) -> ExitStatus | None:
    report = ended.result() if ended.done() else None
    if report is None or report.has_output:
        return None
    return report.status


async def _nap(ended: _Ended | None, delay: float) -> ExitStatus | None:
    """Sleep `delay` seconds, less if the agent reports the end first: its status, if final."""
    if ended is None or ended.done():
        await asyncio.sleep(delay)
        return None
    return await _heard(ended, delay)


def _is_alive(future: asyncio.Future[SshAgent]) -> bool:
    if not future.done():
        return True
    return not future.cancelled() and future.exception() is None and future.result().is_alive


def _forget(follows: dict[str, asyncio.Task[ExitStatus]], key: str, done: object) -> None:
    if follows.get(key) is done:
        del follows[key]


def _prepare_local(directory: Path) -> None:
    """A fresh local copy for this launch: the tail appends to whatever is there."""
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        try:
            directory.mkdir()
        except FileExistsError:
            for record in (Record.EXIT, Record.SIGNAL):
                (directory / record).unlink(missing_ok=True)
        # Local metadata writes are slow on some disks: a new directory needs only these two.
        for stream in (STDOUT_FILE, STDERR_FILE):
            os.close(os.open(directory / stream, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644))
    except OSError as exc:
        raise NodeError(f"cannot prepare {directory}: {exc}") from exc
