"""The lease loop on a fake lease store and a manual monotonic clock: when it launches,
when it stops launching, when it steps down."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tron.engine.leadership import Leadership, LeaseSettings
from tron.errors import StoreError
from tron.store.lease import Lease


class FakeLeases:
    def __init__(self) -> None:
        self.epoch = 0
        self.holder: str | None = None
        self.down = False
        self.hung = False
        self.fenced: list[int | None] = []

    async def acquire_lease(self, holder: str, address: str, seconds: float) -> Lease | None:
        self._check()
        if self.holder is not None:
            return None
        self.epoch += 1
        self.holder = holder
        return Lease(holder=holder, address=address, epoch=self.epoch, age=0.0, remaining=seconds)

    async def renew_lease(self, holder: str, epoch: int, seconds: float) -> bool:
        self._check()
        if self.hung:
            await asyncio.Event().wait()
        return (holder, epoch) == (self.holder, self.epoch)

    async def release_lease(self, holder: str, epoch: int) -> None:
        self.holder = None

    async def read_lease(self) -> Lease:
        self._check()
        return Lease(holder=self.holder, address="http://other", epoch=self.epoch, age=1.0,
                     remaining=5.0)  # fmt: skip

    def fence(self, epoch: int | None) -> None:
        self.fenced.append(epoch)

    def _check(self) -> None:
        if self.down:
            raise StoreError("database down")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(
    store: FakeLeases, clock: Clock, log: list[str], *, renew_seconds: float = 3
) -> Leadership:
    async def elected(epoch: int) -> None:
        log.append(f"elected {epoch}")

    async def deposed() -> None:
        log.append("deposed")

    settings = LeaseSettings(lease_seconds=10, renew_seconds=renew_seconds)
    return Leadership(
        store, address="http://me", settings=settings,
        on_elected=elected, on_deposed=deposed, holder="me", monotonic=clock,
    )  # fmt: skip


async def test_takes_a_free_lease_fences_the_store_and_may_launch() -> None:
    store, clock, log = FakeLeases(), Clock(), []
    leadership = make(store, clock, log)
    await leadership.tick()
    await asyncio.sleep(0)
    assert leadership.is_leader
    assert leadership.may_launch()
    assert store.fenced == [1]
    assert log == ["elected 1"]


async def test_stops_launching_at_the_first_failed_renewal_and_steps_down_at_lapse() -> None:
    store, clock, log = FakeLeases(), Clock(), []
    leadership = make(store, clock, log)
    await leadership.tick()
    store.down = True
    clock.now += 3
    await leadership.tick()
    assert leadership.is_leader
    assert not leadership.may_launch()
    store.down = False
    clock.now += 3
    await leadership.tick()
    assert leadership.may_launch()  # renewed in time: launching again
    store.down = True
    clock.now += 11
    await leadership.tick()
    assert not leadership.is_leader
    assert store.fenced[-1] is None
    assert log[-1] == "deposed"


async def test_a_frozen_leader_may_not_launch_before_its_loop_runs_again() -> None:
    store, clock, log = FakeLeases(), Clock(), []
    leadership = make(store, clock, log)
    await leadership.tick()
    clock.now += 8  # paused past lease minus one renewal period: no tick has run since
    assert leadership.is_leader
    assert not leadership.may_launch()


async def test_steps_down_when_another_took_the_lease() -> None:
    store, clock, log = FakeLeases(), Clock(), []
    leadership = make(store, clock, log)
    await leadership.tick()
    store.holder, store.epoch = "other", 2
    await leadership.tick()
    assert not leadership.is_leader
    assert leadership.leader_address() == "http://other"
    assert log[-1] == "deposed"


async def test_a_launch_waits_for_the_gate_instead_of_being_dropped() -> None:
    store, clock, log = FakeLeases(), Clock(), []
    leadership = make(store, clock, log)
    waiting = asyncio.create_task(leadership.wait_launchable())
    await asyncio.sleep(0)
    assert not waiting.done()
    await leadership.tick()
    await asyncio.wait_for(waiting, 1)


async def test_a_renewal_without_answer_is_logged_with_the_bound_it_hit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store, clock, log = FakeLeases(), Clock(), []
    leadership = make(store, clock, log, renew_seconds=0.05)
    await leadership.tick()
    store.hung = True
    clock.now += 3
    with caplog.at_level(logging.WARNING, logger="tron.engine.leadership"):
        await leadership.tick()
    assert not leadership.may_launch()
    assert "cannot renew the lease (no answer within 0.05 s); launches paused" in caplog.text
