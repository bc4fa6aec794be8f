"""Fakes for engine tests: a store that fails on command, an executor run by the test."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tests.fake_executor import Launch, NodeRecord, ScriptedExecutor, SignalSent
from tron.core.records import ActionRun, JobRun
from tron.errors import StoreError
from tron.store.memory import MemoryStore

__all__ = ["FlakyStore", "Launch", "NodeRecord", "ScriptedExecutor", "SignalSent"]


class FlakyStore(MemoryStore):
    """A MemoryStore whose next writes fail, as a full disk or a locked database would."""

    def __init__(self) -> None:
        super().__init__()
        self.failures_left = 0
        self.failed = 0

    def fail_next(self, count: int) -> None:
        self.failures_left = count

    def _maybe_fail(self) -> None:
        if self.failures_left > 0:
            self.failures_left -= 1
            self.failed += 1
            raise StoreError("database or disk is full")

    async def save_action_run(self, action_run: ActionRun, *, reason: str | None = None) -> None:
        self._maybe_fail()
        await super().save_action_run(action_run, reason=reason)

    async def create_job_run(self, job_run: JobRun, *, slot: str | None = None) -> bool:
        self._maybe_fail()
        return await super().create_job_run(job_run, slot=slot)

    async def save_run_changes(
        self,
        job_run: JobRun,
        action_runs: Sequence[ActionRun],
        *,
        header: bool,
        handle: tuple[str, dict[str, Any]] | None = None,
        events: Sequence[str] = (),
    ) -> None:
        self._maybe_fail()
        await super().save_run_changes(
            job_run, action_runs, header=header, handle=handle, events=events
        )
