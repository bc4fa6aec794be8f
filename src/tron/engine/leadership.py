"""The leader's lease loop: take the lease when it is free, renew it while leading, and step
down the moment it cannot be kept.

Launching is gated here, by the local monotonic clock: a leader launches only while its last
successful renewal (counted from when that renewal was *sent*) is younger than the lease
minus one renewal period, so it stops before the lease could have lapsed at the database,
even if this process was paused (SIGSTOP, a VM freeze) and the loop has not run since. A
failed renewal closes the gate at once. Writes are fenced by the store itself (the epoch
check in each transaction), so the gate only has to guard what the database cannot see: the
processes started on nodes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tron import tasks
from tron.errors import StoreError
from tron.store.lease import Lease, LeaseStore

logger = logging.getLogger(__name__)

T = TypeVar("T")
Monotonic = Callable[[], float]
Transition = Callable[[int], Awaitable[None]]
StepDown = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaseSettings:
    lease_seconds: float = 10.0
    renew_seconds: float = 3.0


def new_holder_id() -> str:
    """Unique per process, readable in the lease row: host, pid, and a random tail."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Leadership:
    """Runs the lease loop; `on_elected(epoch)` builds the engine, `on_deposed()` drops it."""

    def __init__(
        self,
        store: LeaseStore,
        *,
        address: str,
        settings: LeaseSettings,
        on_elected: Transition,
        on_deposed: StepDown,
        holder: str | None = None,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        self._store = store
        self.address = address
        self.settings = settings
        self.holder = holder or new_holder_id()
        self._on_elected = on_elected
        self._on_deposed = on_deposed
        self._monotonic = monotonic
        self.epoch: int | None = None
        self._renewed_at = float("-inf")  # when the last good renewal was sent
        self._renew_failed = False
        self._launchable = asyncio.Event()
        self._elect_task: asyncio.Task[None] | None = None
        self._stepping_down = False
        self.last_seen: Lease | None = None  # the lease as last read, for standbys' status
        self.last_seen_at = 0.0

    @property
    def is_leader(self) -> bool:
        return self.epoch is not None

    def may_launch(self) -> bool:
        """Whether a process may be started on a node now."""
        if self.epoch is None or self._renew_failed:
            return False
        safe = self.settings.lease_seconds - self.settings.renew_seconds
        return self._monotonic() - self._renewed_at < safe

    async def wait_launchable(self) -> None:
        """Return once launching is allowed (a launch that waits is done later, not lost)."""
        while not self.may_launch():
            self._launchable.clear()
            await self._launchable.wait()

    def lease_age(self) -> float | None:
        """Seconds since the lease was last renewed (by us, or as last read)."""
        if self.is_leader:
            return max(0.0, self._monotonic() - self._renewed_at)
        if self.last_seen is None or self.last_seen.age is None:
            return None
        return self.last_seen.age + (self._monotonic() - self.last_seen_at)

    def leader_address(self) -> str | None:
        if self.is_leader:
            return self.address
        return self.last_seen.address if self.last_seen is not None else None

    async def run(self) -> None:
        """The loop, until cancelled: one tick per renewal period."""
        while True:
            await self.tick()
            await asyncio.sleep(self.settings.renew_seconds)

    async def tick(self) -> None:
        if self.is_leader:
            await self._renew()
        else:
            await self._try_acquire()

    async def _try_acquire(self) -> None:
        sent = self._monotonic()
        try:
            lease = await self._bounded(
                self._store.acquire_lease(self.holder, self.address, self.settings.lease_seconds)
            )
            if lease is None:
                self.last_seen, self.last_seen_at = await self._store.read_lease(), sent
                return
        except (StoreError, TimeoutError) as exc:
            logger.warning("cannot reach the lease: %s", self._failure(exc))
            return
        logger.info("elected leader (epoch %d) as %s", lease.epoch, self.holder)
        self.epoch, self._renewed_at, self._renew_failed = lease.epoch, sent, False
        self.last_seen, self.last_seen_at = lease, sent
        self._store.fence(lease.epoch)
        self._launchable.set()
        # Built beside the loop, so renewals go on while recovery runs.
        self._elect_task = asyncio.create_task(self._elect(lease.epoch))

    async def _elect(self, epoch: int) -> None:
        try:
            await self._on_elected(epoch)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("taking over as leader failed; stepping down")
            await self.step_down("taking over failed")

    async def _renew(self) -> None:
        assert self.epoch is not None
        sent = self._monotonic()
        try:
            kept = await self._bounded(
                self._store.renew_lease(self.holder, self.epoch, self.settings.lease_seconds)
            )
        except (StoreError, TimeoutError) as exc:
            # Launching stops now; leading stops once the lease may have lapsed.
            self._renew_failed = True
            left = self.settings.lease_seconds - (self._monotonic() - self._renewed_at)
            why = self._failure(exc)
            logger.warning("cannot renew the lease (%s); launches paused, %.1f s left", why, left)
            if left <= 0:
                await self.step_down("the lease lapsed")
            return
        if not kept:
            await self.step_down("another trond took the lease")
            return
        self._renewed_at, self._renew_failed = sent, False
        self._launchable.set()

    def _failure(self, exc: StoreError | TimeoutError) -> str:
        # A TimeoutError says nothing of itself: name the bound it hit.
        if isinstance(exc, TimeoutError) and not str(exc):
            return f"no answer within {self.settings.renew_seconds:g} s"
        return str(exc)

    async def _bounded(self, call: Awaitable[T]) -> T:
        """A lease call that gives up after one renewal period (a hung server, a partition)."""
        async with asyncio.timeout(self.settings.renew_seconds):
            return await call

    async def step_down(self, why: str) -> None:
        """Stop leading: the gate shuts first, then every write is refused, then the engine
        is dropped."""
        if self.epoch is None or self._stepping_down:
            return
        self._stepping_down = True
        logger.warning("stepping down as leader (epoch %d): %s", self.epoch, why)
        epoch, self.epoch = self.epoch, None
        self._store.fence(None)
        self._launchable.clear()
        self.last_seen = None  # ours: stale; the lease is read again below
        try:
            await tasks.stop(self._elect_task)
            await self._on_deposed()
            with contextlib.suppress(StoreError, TimeoutError):
                sent = self._monotonic()
                self.last_seen = await self._bounded(self._store.read_lease())
                self.last_seen_at = sent
        finally:
            self._stepping_down = False
        logger.info("now a standby (was leader at epoch %d)", epoch)

    async def release(self) -> None:
        """A clean stop: let the lease lapse at once so a standby takes over without waiting."""
        if self.epoch is None:
            return
        epoch, self.epoch = self.epoch, None
        self._store.fence(None)
        with contextlib.suppress(StoreError, TimeoutError):
            async with asyncio.timeout(2.0):
                await self._store.release_lease(self.holder, epoch)
