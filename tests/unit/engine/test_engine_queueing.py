"""A queued run starts when the run before it ends, however the two changes interleave."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.unit.engine.engine_kit import START, EngineKit

from tron.core import job_run as jr
from tron.core.records import ActionRun, JobRun
from tron.core.states import ActionRunState
from tron.store.memory import MemoryStore

QUEUEING = """
jobs:
  minutely:
    node: localhost
    schedule: "cron * * * * *"
    allow_overlap: false
    queueing: true
    actions:
      tick: {command: "tick"}
"""


class QueueingHeld(MemoryStore):
    """Holds the write that queues a run until `release` is set."""

    def __init__(self) -> None:
        super().__init__(now=lambda: START)
        self.queueing = asyncio.Event()
        self.release = asyncio.Event()

    async def save_run_changes(
        self, job_run: JobRun, action_runs: Sequence[ActionRun], **options: Any
    ) -> None:
        if jr.job_run_state(job_run) is ActionRunState.QUEUED and not self.release.is_set():
            self.queueing.set()
            await self.release.wait()
        await super().save_run_changes(job_run, action_runs, **options)


def _states(kit: EngineKit) -> list[tuple[str, str]]:
    assert kit.daemon is not None
    runs = sorted(
        kit.daemon.registry.get_job("MASTER.minutely").runs.values(), key=lambda r: r.run_num
    )
    return [(r.run_time.strftime("%H:%M"), jr.job_run_state(r).value) for r in runs]


async def test_a_run_that_ends_while_the_next_is_being_queued_starts_the_next(
    tmp_path: Path,
) -> None:
    # The next run's slot came while the previous ran, so it is queued; the previous ended
    # while that write was on its way to disk, when memory did not show it queued yet. It
    # used to stay queued forever (a catch-up after downtime, on a busy machine).
    store = QueueingHeld()
    kit = EngineKit(tmp_path, QUEUEING, store=store)
    await kit.start()
    await kit.advance(60)  # 12:01 starts
    assert _states(kit) == [("12:01", "running"), ("12:02", "scheduled")]
    await kit.advance(60)  # 12:02 is due while 12:01 runs: its queueing is held
    await store.queueing.wait()
    await kit.finish("MASTER.minutely.0.tick", 0)
    store.release.set()
    await kit.until(lambda: ("12:02", "running") in _states(kit))
    await kit.finish("MASTER.minutely.1.tick", 0)
    assert _states(kit)[:2] == [("12:01", "succeeded"), ("12:02", "succeeded")]
    await kit.stop()
