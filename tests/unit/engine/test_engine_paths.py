"""The engine's ordered path and its recovery, on the manual clock, the memory store and the
scripted executor: each test names the defect it guards against."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from tests.fakes import FlakyStore
from tests.unit.engine.engine_kit import EngineKit, settle

from tron.core import job_run as jr
from tron.core.states import ActionRunState
from tron.engine.timers import TimerKey, TimerKind
from tron.errors import StoreError

ONE = """
jobs:
  solo:
    node: localhost
    schedule: "cron 0 4 * * *"
    actions:
      work: {command: "work"}
      next: {command: "next", requires: [work]}
"""

RETRY = """
jobs:
  flaky:
    node: localhost
    schedule: "cron 0 4 * * *"
    actions:
      wobble: {command: "wobble", retries: 2, retries_delay: 30s}
"""


@pytest.fixture
async def kit(tmp_path: Path) -> EngineKit:
    return EngineKit(tmp_path, ONE)


async def test_a_failed_write_leaves_memory_equal_to_disk_while_changes_race(
    tmp_path: Path,
) -> None:
    store = FlakyStore()
    kit = EngineKit(tmp_path, ONE, store=store)
    daemon = await kit.start()
    await daemon.commands.job("MASTER.solo", "start")
    await settle()
    run = kit.run("MASTER.solo.1")
    # Two decisions race on one run; the first write fails.
    store.fail_next(1)
    results = await asyncio.gather(
        daemon.dispatcher.update(
            run, lambda r: jr.apply_action_command(r, "next", "skip", now=kit.clock.now())
        ),
        daemon.dispatcher.update(
            run, lambda r: jr.apply_action_command(r, "next", "success", now=kit.clock.now())
        ),
        return_exceptions=True,
    )
    assert sum(isinstance(r, StoreError) for r in results) == 1
    assert kit.run("MASTER.solo.1") == await kit.stored("MASTER.solo.1")


async def test_a_manual_start_returns_before_the_executor_starts(kit: EngineKit) -> None:
    daemon = await kit.start()
    kit.executor.hold_starts()
    result = await asyncio.wait_for(daemon.commands.job("MASTER.solo", "start"), 5)
    assert result == "Created JobRun:MASTER.solo.1"
    # The decision is durable: `starting`, with its attempt, before any executor answered.
    stored = await kit.stored("MASTER.solo.1")
    assert stored.action_runs[0].state is ActionRunState.STARTING
    await kit.until(lambda: kit.executor.held == 1)
    kit.executor.release_starts()
    await kit.until(lambda: kit.action("MASTER.solo.1.work").state is ActionRunState.RUNNING)


async def test_a_retry_in_its_delay_is_rearmed_after_a_restart(tmp_path: Path) -> None:
    kit = EngineKit(tmp_path, RETRY)
    daemon = await kit.start()
    await daemon.commands.job("MASTER.flaky", "start")
    await settle()
    await kit.finish("MASTER.flaky.1.wobble", 1)
    assert kit.action("MASTER.flaky.1.wobble").retry_at is not None
    await kit.restart()
    await kit.advance(31)
    await kit.until(lambda: len(kit.executor.launches) == 2)
    await kit.finish("MASTER.flaky.1.wobble", 0)
    assert kit.state("MASTER.flaky.1") == "succeeded"


async def test_a_created_manual_run_that_never_started_starts_after_a_restart(
    kit: EngineKit,
) -> None:
    daemon = await kit.start()
    job = daemon.registry.get_job("MASTER.solo")
    # What a crash right after the run's creation leaves: created, never started.
    await daemon.scheduler.create_run(
        job, run_time=kit.clock.now(), manual=True, node="localhost", slot=None
    )
    assert kit.state("MASTER.solo.1") == "scheduled"
    await kit.restart()
    await kit.until(lambda: kit.state("MASTER.solo.1") == "running")
    assert [launch.key for launch in kit.executor.launches] == [("MASTER.solo.1.work", 1)]


async def test_a_starting_attempt_that_never_launched_is_launched_once_after_a_restart(
    kit: EngineKit,
) -> None:
    daemon = await kit.start()
    kit.executor.start_error = "trond died before this launch"
    kit.executor.hold_starts()
    await daemon.commands.job("MASTER.solo", "start")
    kit.executor.start_error = None
    await kit.restart()  # the held launch dies with the engine
    await kit.until(lambda: kit.action("MASTER.solo.1.work").state is ActionRunState.RUNNING)
    assert kit.executor.launch_count("MASTER.solo.1.work") == 1
    assert len(kit.action("MASTER.solo.1.work").attempts) == 1


async def test_a_launched_attempt_whose_running_mark_was_lost_is_reattached(
    kit: EngineKit,
) -> None:
    daemon = await kit.start()
    kit.executor.hold_starts(launched=True)  # on the node, but trond never heard back
    await daemon.commands.job("MASTER.solo", "start")
    await kit.until(lambda: kit.executor.held == 1)
    await kit.restart()
    await kit.until(lambda: kit.action("MASTER.solo.1.work").state is ActionRunState.RUNNING)
    await kit.finish("MASTER.solo.1.work", 0)
    assert kit.executor.launch_count("MASTER.solo.1.work") == 1
    assert kit.action("MASTER.solo.1.work").state is ActionRunState.SUCCEEDED


async def test_an_exit_while_trond_was_down_is_recorded_with_its_code(kit: EngineKit) -> None:
    daemon = await kit.start()
    await daemon.commands.job("MASTER.solo", "start")
    await settle()
    await kit.daemon.abandon()  # type: ignore[union-attr]
    kit.executor.disconnect()
    kit.executor.finish("MASTER.solo.1.work", 3)
    await kit.start()
    await kit.until(lambda: kit.state("MASTER.solo.1") == "failed")
    assert kit.action("MASTER.solo.1.work").exit_status == 3


async def test_a_running_attempt_with_no_trace_is_unknown_after_a_restart(kit: EngineKit) -> None:
    daemon = await kit.start()
    await daemon.commands.job("MASTER.solo", "start")
    await settle()
    kit.executor.records.clear()  # the node lost every record (its disk was wiped)
    await kit.restart()
    await kit.until(lambda: kit.action("MASTER.solo.1.work").state is ActionRunState.UNKNOWN)
    assert kit.executor.launch_count("MASTER.solo.1.work") == 1


async def test_an_unreadable_exit_record_is_unknown(kit: EngineKit) -> None:
    daemon = await kit.start()
    await daemon.commands.job("MASTER.solo", "start")
    await settle()
    kit.executor.garble("MASTER.solo.1.work")
    await kit.until(lambda: kit.action("MASTER.solo.1.work").state is ActionRunState.UNKNOWN)


async def test_an_unknown_attempt_seen_again_gets_its_real_exit(kit: EngineKit) -> None:
    daemon = await kit.start()
    await daemon.commands.job("MASTER.solo", "start")
    await settle()
    run = kit.run("MASTER.solo.1")
    await daemon.dispatcher.update(
        run, lambda r: jr.action_lost(r, "work", now=kit.clock.now(), reason="node silent")
    )
    assert kit.action("MASTER.solo.1.work").state is ActionRunState.UNKNOWN
    await kit.finish("MASTER.solo.1.work", 0)
    assert kit.action("MASTER.solo.1.work").state is ActionRunState.SUCCEEDED
    assert kit.action("MASTER.solo.1.work").exit_status == 0


async def test_a_cancelled_running_run_can_still_be_stopped_and_killed(kit: EngineKit) -> None:
    daemon = await kit.start()
    await daemon.commands.job("MASTER.solo", "start")
    await settle()
    await daemon.commands.job_run("MASTER.solo", "1", "cancel")
    assert kit.action("MASTER.solo.1.work").state is ActionRunState.CANCELLED
    kit.executor.finish_on_signal = False  # it ignores SIGTERM
    stop = await daemon.commands.action_run("MASTER.solo", "1", "work", "stop")
    assert stop == "Attempting to stop ActionRun: MASTER.solo.1.work"
    await kit.until(lambda: len(kit.executor.signals) == 1)  # signals go in the background
    kit.executor.finish_on_signal = True
    kill = await daemon.commands.action_run("MASTER.solo", "1", "work", "kill")
    assert kill == "Attempting to kill ActionRun: MASTER.solo.1.work"
    await kit.until(lambda: kit.action("MASTER.solo.1.work").current_attempt.is_finished)  # type: ignore[union-attr]
    assert [s.signum for s in kit.executor.signals] == [15, 9]
    assert kit.action("MASTER.solo.1.work").exit_status == 137


async def test_a_job_removed_and_added_back_is_scheduled_enabled_and_numbers_continue(
    kit: EngineKit,
) -> None:
    daemon = await kit.start()
    await daemon.commands.job("MASTER.solo", "start")
    await daemon.commands.job("MASTER.solo", "disable")
    await daemon.update_namespace("MASTER", "jobs: {}\n", None)
    await daemon.update_namespace("MASTER", ONE, None)
    job = daemon.registry.get_job("MASTER.solo")
    assert job.enabled
    assert await daemon.commands.job("MASTER.solo", "start") == "Created JobRun:MASTER.solo.3"
    pending = [r for r in job.runs.values() if jr.is_pending(r)]
    assert len(pending) == 1
    await kit.restart()
    job = kit.daemon.registry.get_job("MASTER.solo")  # type: ignore[union-attr]
    assert job.enabled
    assert sorted(job.runs) == [0, 1, 2, 3]


async def test_a_failing_timer_is_retried_with_backoff_and_counted(kit: EngineKit) -> None:
    daemon = await kit.start()
    calls: list[int] = []

    async def flaky() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise StoreError("disk full")

    key = TimerKey(TimerKind.RETRY, "MASTER.solo", 9, "work")
    daemon.timers.set(key, kit.clock.now(), flaky)
    await kit.advance(0)
    assert len(calls) == 1
    await kit.advance(5)  # first retry after 5 s
    assert len(calls) == 2
    await kit.advance(5)  # the second waits 10 s
    assert len(calls) == 2
    await kit.advance(5)
    assert len(calls) == 3
    sample = daemon.metrics.registry.get_sample_value(
        "tron_timer_failures_total", {"kind": "retry"}
    )
    assert sample == 2
    daemon.timers.cancel_all("MASTER.solo", 9)
    assert daemon.timers.when(key) is None


async def test_max_runtime_is_rearmed_after_a_restart(tmp_path: Path) -> None:
    kit = EngineKit(
        tmp_path,
        """
        jobs:
          capped:
            node: localhost
            schedule: "cron 0 4 * * *"
            max_runtime: 60s
            actions:
              long: {command: "long"}
        """,
    )
    daemon = await kit.start()
    await daemon.commands.job("MASTER.capped", "start")
    await settle()
    await kit.restart()
    await kit.advance(61)
    await kit.until(lambda: kit.state("MASTER.capped.1") == "failed")
    assert kit.action("MASTER.capped.1.long").reason == "max_runtime of 0:01:00 exceeded"
    assert [s.signum for s in kit.executor.signals] == [15]


async def test_a_stop_asked_while_the_attempt_launches_reaches_it_once_launched(
    kit: EngineKit,
) -> None:
    daemon = await kit.start()
    kit.executor.hold_starts()
    await daemon.commands.job("MASTER.solo", "start")
    await kit.until(lambda: kit.executor.held == 1)
    # No process to signal yet; the stop is durable all the same.
    answer = await daemon.commands.action_run("MASTER.solo", "1", "work", "stop")
    assert answer == "Attempting to stop ActionRun: MASTER.solo.1.work"
    kit.executor.release_starts()
    await kit.until(lambda: kit.action("MASTER.solo.1.work").state is ActionRunState.FAILED)
    assert [s.signum for s in kit.executor.signals] == [signal.SIGTERM]
