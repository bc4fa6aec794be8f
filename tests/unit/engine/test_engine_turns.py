"""Start-up, take-over and the alert checks let the event loop run while they go through many
jobs, so a leader's lease renewals (timers on the same loop), its launches and its API are not
held up by a long history."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest
from tests.unit.engine.engine_kit import EngineKit, Ticker, spin

from tron.core.alerts.rules import Decision
from tron.engine import daemon as daemon_module
from tron.engine.turns import HOLD_SECONDS

JOBS = 6


def _jobs(tmp_path: Path) -> EngineKit:
    jobs = "\n".join(
        f'  j{i}:\n    node: localhost\n    schedule: "cron 0 4 * * *"\n'
        f'    actions:\n      a: {{command: "true"}}'
        for i in range(JOBS)
    )
    return EngineKit(tmp_path, f"jobs:\n{jobs}\n")


async def test_restoring_stored_runs_gives_the_loop_turns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kit = _jobs(tmp_path)
    seen: list[int] = []
    restore = daemon_module.restore_job
    ticker = Ticker()

    def watched(*args: object) -> None:
        seen.append(ticker.ticks)
        restore(*args)  # type: ignore[arg-type]
        spin(HOLD_SECONDS)  # as a job with a long history takes

    monkeypatch.setattr(daemon_module, "restore_job", watched)
    try:
        await kit.start()
    finally:
        ticker.stop()
        await kit.stop()
    assert len(seen) == JOBS
    assert len(set(seen)) == JOBS  # another task ran between every two jobs


async def test_an_alert_check_of_every_job_gives_the_loop_turns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kit = _jobs(tmp_path)
    daemon = await kit.start()
    evaluator = daemon.evaluator
    decide = evaluator._decide
    seen: list[int] = []
    ticker = Ticker()

    def watched(name: str, now: datetime) -> Decision:
        seen.append(ticker.ticks)
        spin(HOLD_SECONDS)  # as a job with a long history takes
        return decide(name, now)

    monkeypatch.setattr(evaluator, "_decide", watched)
    await asyncio.sleep(0)
    try:
        await evaluator.evaluate(list(daemon.registry.jobs))
    finally:
        ticker.stop()
        await kit.stop()
    assert len(seen) == JOBS
    assert len(set(seen)) == JOBS
