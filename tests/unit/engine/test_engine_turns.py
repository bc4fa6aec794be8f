"""Start-up and take-over let the event loop run while they restore many jobs, so a leader's
lease renewals (timers on the same loop) are not held up by a long history."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.unit.engine.engine_kit import EngineKit

from tron.engine import daemon as daemon_module

JOBS = 1200


async def test_restoring_stored_runs_gives_the_loop_turns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = "\n".join(
        f'  j{i}:\n    node: localhost\n    schedule: "cron 0 4 * * *"\n'
        f'    actions:\n      a: {{command: "true"}}'
        for i in range(JOBS)
    )
    kit = EngineKit(tmp_path, f"jobs:\n{jobs}\n")
    ticks = 0
    seen: list[int] = []
    restore = daemon_module.restore_job

    def watched(*args: object) -> None:
        seen.append(ticks)
        restore(*args)  # type: ignore[arg-type]

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    monkeypatch.setattr(daemon_module, "restore_job", watched)
    side = asyncio.create_task(ticker())
    try:
        await kit.start()
    finally:
        side.cancel()
        await kit.stop()
    assert len(seen) == JOBS
    assert len(set(seen)) >= JOBS // daemon_module.RESTORED_AT_ONCE
