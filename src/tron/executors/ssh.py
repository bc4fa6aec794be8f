"""SshExecutor: runs actions on SSH nodes under the same POSIX supervisor as the local node.

The action detaches on the node and its supervisor records pid, exit and output in files
there, so no channel stays open for an action's life: the node's agent reports the end, and
trond polls those files over exec channels when it must (output to copy, agent lost; polls due
together on a node share one channel), keeping the exit record locally once seen. No SFTP: a node
whose sshd has no `Subsystem sftp` line works as well. A dropped connection or a restarted
daemon loses nothing: the next poll, on a new connection, picks up where the local copy ends.
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

from tron.config.model import Config, NodeConfig
from tron.errors import NodeError
from tron.executors.base import ActionSpec, AttemptNotStarted, ExitStatus, Handle
from tron.executors.ssh_agent import Launched
from tron.executors.ssh_connections import DEFAULT_MAX_CHANNELS, ConnectSettings, NodeConnections
from tron.executors.ssh_follow import (
    LOST,
    Patience,
    Polling,
    heard,
    jitter_delay,
    poll_until_exit,
)
from tron.executors.ssh_node import SshNode
from tron.executors.ssh_records import Query
from tron.executors.ssh_remote import (
    Tail,
    answer_pid,
    attempt_prefix,
    claim_line,
    remove_line,
    runs_dir,
    signal_line,
    tron_root,
    untouched,
)
from tron.executors.supervisor import STDERR_FILE, STDOUT_FILE, Record, read_exit_status
from tron.private import create_file, dir_mode, file_mode_of, make_dir_like_parent

__all__ = ["Polling", "SshExecutor", "jitter_delay"]

logger = logging.getLogger(__name__)

# Attempts whose files one `rm` deletes on a node, well within any command line limit.
_SWEEP_MOST = 200
_POLLING = Polling()


@dataclass(slots=True, kw_only=True)
class _State:
    nodes: dict[str, SshNode] = field(default_factory=dict)
    follows: dict[str, asyncio.Task[ExitStatus]] = field(default_factory=dict)
    chores: set[asyncio.Task[None]] = field(default_factory=set)
    # Prefixes this executor claimed as never started: their next launch takes them back.
    claimed: set[str] = field(default_factory=set)


class SshExecutor:
    """The Executor for SSH nodes (see the module docstring for how it tracks attempts)."""

    def __init__(
        self,
        config: Config,
        *,
        polling: Polling = _POLLING,
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
        for name, state in self._state.nodes.items():
            node = config.nodes.get(name)
            if node is not None:
                state.settings = ConnectSettings.build(node, config.ssh_options)
            state.idle_timeout = config.ssh_options.idle_connection_timeout

    def connections(self, node: NodeConfig) -> NodeConnections:
        """The current connection pool of `node` (created on first use)."""
        return self._node(node).pool

    def _node(self, node: NodeConfig) -> SshNode:
        state = self._state.nodes.get(node.name)
        settings = ConnectSettings.build(node, self._config.ssh_options)
        if state is None:
            state = SshNode(
                settings,
                max_channels=self._max_channels,
                idle_timeout=self._config.ssh_options.idle_connection_timeout,
                root=tron_root(self._status_path),
                runs=runs_dir(self._status_path),
            )
            self._state.nodes[node.name] = state
        state.settings = settings
        return state

    def _named(self, name: str | None) -> SshNode:
        state = self._state.nodes.get(name or "")
        if state is not None:
            return state
        node = self._config.nodes.get(name or "")
        if node is None:
            raise NodeError(f"Unknown node {name}")
        return self._node(node)

    @property
    def _status_path(self) -> str:
        return self._config.action_runner.remote_status_path

    # -- starting -------------------------------------------------------------------------

    async def start(self, spec: ActionSpec) -> Handle:
        if spec.node is None:
            raise NodeError("the SSH executor needs a node")
        node = self._node(spec.node)
        delay = jitter_delay(self._config.ssh_options, len(node.running), self._rng)
        if delay:
            await asyncio.sleep(delay)
        output_dir = str(spec.output_dir)
        prefix = attempt_prefix(self._status_path, spec.action_run_id, spec.attempt, output_dir)
        _prepare_local(spec.output_dir)
        with node.busy():
            launched = await self._launch(node, prefix, spec, prefix in self._state.claimed)
            self._state.claimed.discard(prefix)
            node.follow(output_dir)
        handle = Handle(
            action_run_id=spec.action_run_id,
            attempt=spec.attempt,
            node=spec.node.name,
            output_dir=output_dir,
            pid=launched.pid,
            extra=MappingProxyType({"remote_prefix": prefix}),
        )
        self._ensure_follow(handle, launched)  # output streams back even before anybody waits
        return handle

    @staticmethod
    async def _launch(node: SshNode, prefix: str, spec: ActionSpec, reclaim: bool) -> Launched:
        where, timeout = node.settings.where, node.settings.connect_timeout
        try:
            agent = await node.agent()  # connecting has a timeout of its own
            started = time.time()
            launching = agent.launch(prefix, spec.command, spec.env, started, reclaim=reclaim)
            async with asyncio.timeout(timeout):
                return await launching
        except TimeoutError as exc:
            raise NodeError(f"{where}: the agent did not start it within {timeout:g}s") from exc
        except NodeError as exc:
            raise NodeError(f"{where}: {exc}") from exc

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
            self._named(handle.node).follow(handle.output_dir)
            task = asyncio.get_running_loop().create_task(self._follow(handle, launched))
            follows[handle.output_dir] = task
            task.add_done_callback(lambda done: _forget(follows, handle.output_dir, done))
        return task

    def _prefix(self, handle: Handle) -> str:
        prefix = handle.extra.get("remote_prefix")
        if isinstance(prefix, str):
            return prefix
        return attempt_prefix(
            self._status_path, handle.action_run_id, handle.attempt, handle.output_dir
        )

    async def _follow(self, handle: Handle, launched: Launched | None) -> ExitStatus:
        node = self._named(handle.node)
        prefix = self._prefix(handle)
        tail = Tail(prefix=prefix, local_dir=Path(handle.output_dir))
        ended = None if launched is None else launched.ended
        status = await heard(ended, self._polling.hold)
        if status is None:
            patience = Patience(
                polling=self._polling,
                unreachable_timeout=self._config.ssh_options.unreachable_timeout,
                clock=self._clock,
            )
            status = await poll_until_exit(node, tail, ended, patience)
        if status.final:
            tail.record(status)
            self._discard(node, prefix)
            node.unfollow(handle.output_dir)
        return status

    def _discard(self, node: SshNode, prefix: str) -> None:
        """Delete the files of `prefix` on the node soon, with the others that end by then."""
        if node.add_trash(prefix):
            self._chore(self._sweep(node, self._polling.sweep))

    async def _sweep(self, node: SshNode, after: float) -> None:
        await asyncio.sleep(after)
        with node.busy() as pool:
            prefixes = node.take_trash()
            for first in range(0, len(prefixes), _SWEEP_MOST):
                with contextlib.suppress(*LOST):
                    await pool.run(remove_line(prefixes[first : first + _SWEEP_MOST]))

    def _chore(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._state.chores.add(task)
        task.add_done_callback(self._state.chores.discard)

    # -- signals, reattaching, closing ----------------------------------------------------

    async def signal(self, handle: Handle, signum: int) -> None:
        if read_exit_status(Path(handle.output_dir)) is not None:
            return
        with self._named(handle.node).busy() as pool:
            await pool.run(signal_line(self._prefix(handle), signum))

    async def reattach(self, handle: Handle) -> Handle:
        """Pick up the attempt; without a pid (trond died before the agent said it started),
        look on the node, and claim an attempt that provably never started there.

        Its supervisor's first act is to create the `exit` record with O_EXCL; when the node
        shows no record of the attempt, trond creates it first with NOT_STARTED, and a launch
        request still in the agent's input then starts nothing (the agent refuses a claimed
        attempt unless the launch says it follows the claim, as this executor's next launch of
        it does)."""
        prefix = self._prefix(handle)
        extra = {**handle.extra, "remote_prefix": prefix}
        pid = handle.pid
        if pid is None and read_exit_status(Path(handle.output_dir)) is None:
            pid, never = await self._look(handle, prefix)
            if never:
                self._state.claimed.add(prefix)
                raise AttemptNotStarted(f"{handle.action_run_id}: the attempt never started")
        return replace(handle, pid=pid, extra=MappingProxyType(extra))

    async def _look(self, handle: Handle, prefix: str) -> tuple[int | None, bool]:
        """(the pid recorded on the node, whether the attempt never started, now claimed)."""
        node = self._named(handle.node)
        try:
            answer = await node.read(Query(prefix=prefix, check=True))
            if not untouched(answer) or _has_output(Path(handle.output_dir)):
                return answer_pid(answer), False
            with node.busy() as pool:
                async with asyncio.timeout(2 * pool.settings.connect_timeout):
                    done = await pool.run(claim_line(prefix))
        except LOST as exc:
            # The node may come back later: `wait` keeps trying; the pid is for display.
            logger.warning("no pid for %s yet: %s", handle.action_run_id, exc)
            return None, False
        said = done.stdout.decode("ascii", "replace") if isinstance(done.stdout, bytes) else ""
        return None, said.strip() == "claimed"

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
        nodes, state.nodes = state.nodes, {}
        for node in nodes.values():
            await node.close()

    async def _empty_trash(self) -> None:
        """Delete what is left to delete now, on nodes still connected (a close must not wait)."""
        for node in self._state.nodes.values():
            prefixes = node.take_trash()
            if not prefixes or not node.pool.connection_count:
                continue
            with contextlib.suppress(*LOST):
                async with asyncio.timeout(2):
                    await node.pool.run(remove_line(prefixes[:_SWEEP_MOST]))


def _forget(follows: dict[str, asyncio.Task[ExitStatus]], key: str, done: object) -> None:
    if follows.get(key) is done:
        del follows[key]


def _has_output(directory: Path) -> bool:
    """Whether output of the attempt came back already (so it did start)."""
    for stream in (STDOUT_FILE, STDERR_FILE):
        with contextlib.suppress(OSError):
            if (directory / stream).stat().st_size:
                return True
    return False


def _prepare_local(directory: Path) -> None:
    """A fresh local copy for this launch, with empty stdout and stderr files."""
    try:
        try:
            mode = make_dir_like_parent(directory)
        except FileExistsError:
            mode = dir_mode(directory)
            for record in (Record.EXIT, Record.SIGNAL):
                (directory / record).unlink(missing_ok=True)
        # The tail appends to what is there: an earlier launch's output must go.
        for stream in (STDOUT_FILE, STDERR_FILE):
            create_file(directory / stream, file_mode_of(mode))
    except OSError as exc:
        raise NodeError(f"cannot prepare {directory}: {exc}") from exc
