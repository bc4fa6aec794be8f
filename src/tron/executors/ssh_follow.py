"""Following one SSH attempt to its end: the agent's report first, then polls of its files over
exec channels (which also copy its output back; polls due together share a channel), retried
with backoff while the node cannot be reached."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

import asyncssh

from tron.config.model import SshOptions
from tron.errors import NodeError
from tron.executors.base import ExitStatus
from tron.executors.ssh_agent import AgentExit
from tron.executors.ssh_node import SshNode
from tron.executors.ssh_remote import Tail

logger = logging.getLogger(__name__)

# Resolves when the agent reports an attempt's end (None: the agent was lost first).
Ended = asyncio.Future[AgentExit | None]

# What a lost connection looks like from asyncssh, the socket, or our own connect.
LOST = (NodeError, asyncssh.Error, OSError, EOFError, TimeoutError)


@dataclass(frozen=True, slots=True, kw_only=True)
class Polling:
    """How long trond only listens for the agent's report of the end, then how often it polls.

    An attempt that ends within `hold` seconds with no output costs no request at all. Longer
    ones are polled for their output from `first` seconds apart, growing to `most`
    (the agent's report still ends the wait at once). Finished attempts' files on a node are
    deleted together, `sweep` seconds after the first of them ended.
    """

    hold: float = 0.2
    sweep: float = 0.5
    first: float = 0.05
    most: float = 0.2
    growth: float = 1.5
    # Reconnect backoff while the node cannot be reached.
    retry_first: float = 0.25
    retry_most: float = 10.0


def jitter_delay(options: SshOptions, load: int, rng: random.Random) -> float:
    """Seconds to wait before starting on a node that already runs `load` actions (spec 2.2)."""
    extra = load - options.jitter_min_load
    if extra <= 0 or options.jitter_max_delay <= 0:
        return 0.0
    upper = min(options.jitter_max_delay, extra * options.jitter_load_factor)
    return rng.uniform(0, max(upper, 0))


@dataclass(frozen=True, slots=True, kw_only=True)
class Patience:
    """How to poll, and for how long a node may stay unreachable before the end is not final."""

    polling: Polling
    unreachable_timeout: float
    clock: Callable[[], float]


async def poll_until_exit(
    node: SshNode, tail: Tail, ended: Ended | None, patience: Patience
) -> ExitStatus:
    """Poll the attempt's files until it ends, or until the node stays unreachable too long."""
    polling, clock = patience.polling, patience.clock
    delay, retry, lost_since = polling.first, polling.retry_first, None
    while True:
        try:
            status = await _poll(node, tail)
        except LOST as exc:
            lost_since = lost_since if lost_since is not None else clock()
            left = patience.unreachable_timeout - (clock() - lost_since)
            if left <= 0:
                return _unreachable(node, clock() - lost_since, exc)
            logger.info("lost %s, retrying in %.2fs: %s", node.settings.where, retry, exc)
            await asyncio.sleep(min(retry, left))
            retry = min(retry * 2, polling.retry_most)
            continue
        if status is not None:
            return status
        lost_since, retry = None, polling.retry_first
        heard = await nap(ended, delay)
        if heard is not None:
            return heard
        delay = min(delay * polling.growth, polling.most)


async def _poll(node: SshNode, tail: Tail) -> ExitStatus | None:
    query = tail.query()
    # The reader gives up on a connection that went silent (not closed) by itself.
    return tail.take(query, await node.read(query))


def _unreachable(node: SshNode, gone: float, exc: BaseException) -> ExitStatus:
    reason = f"{node.settings.where} unreachable for {gone:.0f}s: {exc}"
    return ExitStatus(exit_code=None, reason=reason, final=False)


async def heard(ended: Ended | None, within: float) -> ExitStatus | None:
    """The agent's report of the end, if it comes `within` seconds and leaves nothing to copy."""
    if ended is None:
        return None
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within):
            await asyncio.shield(ended)
    return _reported(ended)


def _reported(ended: Ended) -> ExitStatus | None:
    report = ended.result() if ended.done() else None
    if report is None or report.has_output:
        return None
    return report.status


async def nap(ended: Ended | None, delay: float) -> ExitStatus | None:
    """Sleep `delay` seconds, less if the agent reports the end first: its status, if final."""
    if ended is None or ended.done():
        await asyncio.sleep(delay)
        return None
    return await heard(ended, delay)
