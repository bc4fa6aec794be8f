"""Restarts, missed runs and catch-up, reconfiguration, run_limit, and store failures."""

from __future__ import annotations

import textwrap
from datetime import timedelta

import pytest

from tests.fakes import FlakyStore
from tests.integration.conftest import Harness, wait_until, write_config
from tron.core import job_run as jr
from tron.engine.daemon import Daemon

MINUTELY = """
jobs:
  minutely:
    node: localhost
    schedule: "cron * * * * *"
    {extra}
    actions:
      tick: {{command: "echo tick {{ymdhm}}"}}
"""


def _minutely(extra: str = "") -> str:
    return MINUTELY.format(extra=extra)


def _runs(daemon: Daemon, job: str) -> list[tuple[str, str, bool]]:
    """(run_time HH:MM, state, manual) of every run, oldest first."""
    runs = sorted(daemon.registry.get_job(job).runs.values(), key=lambda r: r.run_num)
    return [(r.run_time.strftime("%H:%M"), jr.job_run_state(r).value, r.manual) for r in runs]


async def _settled(h: Harness, job: str) -> None:
    """Every started run finished, and exactly one run is pending."""
    assert h.daemon is not None
    daemon = h.daemon

    def done() -> bool:
        runs = daemon.registry.get_job(job).runs.values()
        pending = [r for r in runs if jr.job_run_state(r).value == "scheduled"]
        return (
            len(pending) == 1
            and pending[0].run_time > h.clock.now()
            and all(jr.is_finished(r) for r in runs if r not in pending)
        )

    await wait_until(done)


async def test_enabled_flag_survives_a_restart(harness: Harness) -> None:
    write_config(harness.config_dir, _minutely())
    async with harness.running() as h:
        await h.post("/api/jobs/MASTER.minutely", command="disable")
    async with harness.running() as h:
        job = await h.get("/api/jobs/MASTER.minutely")
        assert job["status"] == "disabled"


async def test_missed_runs_are_caught_up_one_by_one_by_default(harness: Harness) -> None:
    write_config(harness.config_dir, _minutely())
    async with harness.running():
        pass
    await harness.clock.advance(timedelta(minutes=4, seconds=30))  # down from 12:00 to 12:04:30
    async with harness.running() as h:
        assert h.daemon is not None
        await _settled(h, "MASTER.minutely")
        assert _runs(h.daemon, "MASTER.minutely") == [
            ("12:01", "succeeded", False),
            ("12:02", "succeeded", False),
            ("12:03", "succeeded", False),
            ("12:04", "succeeded", False),
            ("12:05", "scheduled", False),
        ]


@pytest.mark.parametrize(
    ("catch_up", "expected"),
    [
        ("{policy: none}", [("12:01", "cancelled"), ("12:05", "scheduled")]),
        (
            "{policy: latest}",
            [("12:01", "cancelled"), ("12:04", "succeeded"), ("12:05", "scheduled")],
        ),
        (
            "{policy: all, max_runs: 2}",
            [
                # The stored 12:01 run is one of the missed ones too: only the newest 2 run.
                ("12:01", "cancelled"),
                ("12:03", "succeeded"),
                ("12:04", "succeeded"),
                ("12:05", "scheduled"),
            ],
        ),
        (
            "{policy: all, window: 150s}",
            [
                ("12:01", "cancelled"),
                ("12:02", "succeeded"),
                ("12:03", "succeeded"),
                ("12:04", "succeeded"),
                ("12:05", "scheduled"),
            ],
        ),
    ],
)
async def test_catch_up_policy_decides_what_runs_after_downtime(
    harness: Harness, catch_up: str, expected: list[tuple[str, str]]
) -> None:
    write_config(harness.config_dir, _minutely(f"catch_up: {catch_up}"))
    async with harness.running():
        pass
    await harness.clock.advance(timedelta(minutes=4, seconds=30))
    async with harness.running() as h:
        assert h.daemon is not None
        await _settled(h, "MASTER.minutely")
        assert [(t, s) for t, s, _ in _runs(h.daemon, "MASTER.minutely")] == expected


async def test_a_scheduled_slot_starts_once_across_restarts(harness: Harness) -> None:
    write_config(harness.config_dir, _minutely())
    for _ in range(3):
        async with harness.running():
            pass
    await harness.clock.advance(timedelta(minutes=1))
    async with harness.running() as h:
        assert h.daemon is not None
        await _settled(h, "MASTER.minutely")
        assert _runs(h.daemon, "MASTER.minutely") == [
            ("12:01", "succeeded", False),
            ("12:02", "scheduled", False),
        ]
        tick = await h.action("MASTER.minutely.0.tick", include_stdout=1)
        assert tick["stdout"] == ["tick 2026-03-01T12:01"]


async def test_manual_start_with_a_request_id_is_idempotent(harness: Harness) -> None:
    write_config(harness.config_dir, _minutely())
    async with harness.running() as h:
        first = await h.post("/api/jobs/MASTER.minutely", command="start", request_id="abc")
        again = await h.post(
            "/api/jobs/MASTER.minutely", expect=409, command="start", request_id="abc"
        )
        assert first == {"result": "Created JobRun:MASTER.minutely.1"}
        assert "already" in again["error"]


async def test_run_limit_prunes_old_runs_and_their_output_as_tron(harness: Harness) -> None:
    # The side-by-side run with Tron 3.10.5: four manual starts after the pending run, each
    # waited for. Tron prunes by creation, the pending run too, and schedules the next one
    # when a run ends: it keeps [.6 scheduled, .5 succeeded] (we used to keep [.0, .4]).
    write_config(harness.config_dir, _minutely("run_limit: 2"))
    async with harness.running() as h:
        assert h.daemon is not None
        job = h.daemon.registry.get_job("MASTER.minutely")
        started = []
        for _ in range(4):
            result = await h.post("/api/jobs/MASTER.minutely", command="start")
            run_id = result["result"].removeprefix("Created JobRun:")
            started.append(run_id.rsplit(".", 1)[1])
            await h.wait_run_state(run_id, "succeeded")
            # Settled: the next run scheduled and the runs past the limit pruned.
            await wait_until(
                lambda: len(job.runs) <= 2 and any(jr.is_pending(r) for r in job.runs.values())
            )
        assert started == ["1", "2", "4", "5"]
        assert _runs(h.daemon, "MASTER.minutely") == [
            ("12:00", "succeeded", True),
            ("12:01", "scheduled", False),
        ]
        assert sorted(job.runs) == [5, 6]
        output = h.working_dir / "output" / "MASTER" / "minutely"
        assert [p.name for p in output.iterdir()] == ["5"]
        stored = await h.daemon.store.load_job_runs("MASTER.minutely")
        assert sorted(r.run_num for r in stored) == [5, 6]


async def _upload(h: Harness, name: str, text: str, expect: int = 200) -> dict[str, object]:
    current = await h.get("/api/config", name=name)
    return dict(
        await h.post(
            "/api/config",
            expect=expect,
            name=name,
            config=textwrap.dedent(text),
            hash=current["hash"],
        )
    )


async def test_config_upload_adds_changes_and_removes_jobs(harness: Harness) -> None:
    write_config(harness.config_dir, _minutely())
    async with harness.running() as h:
        await _upload(
            h,
            "team",
            """
            jobs:
              added:
                node: localhost
                schedule: "cron 0 3 * * *"
                actions:
                  a: {command: "echo new"}
            """,
        )
        added = await h.get("/api/jobs/team.added")
        assert added["next_run"] == "2026-03-02 03:00:00"
        assert (h.config_dir / "team.yaml").exists()
        await _upload(h, "MASTER", _minutely().replace('"cron * * * * *"', '"cron 30 * * * *"'))
        changed = await h.get("/api/jobs/MASTER.minutely")
        assert changed["next_run"] == "2026-03-01 12:01:00"  # pending run rebuilt at its time
        await _upload(h, "team", "")
        index = await h.get("/api")
        assert "team.added" not in index["jobs"]


async def test_invalid_upload_keeps_the_running_config(harness: Harness) -> None:
    write_config(harness.config_dir, _minutely())
    async with harness.running() as h:
        before = await h.get("/api/config", name="MASTER")
        body = await _upload(h, "MASTER", "jobs:\n  bad:\n    node: nowhere\n", expect=400)
        assert body["status"] == "Active"
        assert body["problems"]
        after = await h.get("/api/config", name="MASTER")
        assert after == before
        stale = await h.post(
            "/api/config", expect=409, name="MASTER", config="jobs: {}\n", hash="0" * 40
        )
        assert stale["error"] == "Configuration has changed. Please try again."
        assert (await h.get("/api/jobs/MASTER.minutely"))["name"] == "MASTER.minutely"


async def test_stop_and_kill_record_their_reason(harness: Harness) -> None:
    write_config(
        harness.config_dir,
        """
        jobs:
          sleepy:
            node: localhost
            schedule: "cron 0 4 * * *"
            actions:
              nap: {command: "sleep 30"}
              ignores_term: {command: "trap '' TERM; sleep 30"}
        """,
    )
    async with harness.running() as h:
        await h.post("/api/jobs/MASTER.sleepy", command="start")
        await h.wait_run_state("MASTER.sleepy.1", "running")
        stop = await h.post("/api/jobs/MASTER.sleepy/1/nap", command="stop")
        assert stop == {"result": "Attempting to stop ActionRun: MASTER.sleepy.1.nap"}
        kill = await h.post("/api/jobs/MASTER.sleepy/1/ignores_term", command="kill")
        assert kill == {"result": "Attempting to kill ActionRun: MASTER.sleepy.1.ignores_term"}
        await h.wait_run_state("MASTER.sleepy.1", "failed")
        nap = await h.action("MASTER.sleepy.1.nap")
        assert nap["state"] == "failed"
        assert nap["reason"] == "stopped by operator"
        assert nap["exit_status"] == 143
        ignores = await h.action("MASTER.sleepy.1.ignores_term")
        assert ignores["reason"] == "killed by operator"
        assert ignores["exit_status"] == 137


async def test_a_store_failure_while_recording_an_exit_is_retried(harness: Harness) -> None:
    write_config(
        harness.config_dir,
        """
        jobs:
          slow:
            node: localhost
            schedule: "cron 0 4 * * *"
            actions:
              work: {command: "sleep 0.3; echo done"}
              after: {command: "echo after", requires: [work]}
        """,
    )
    store = FlakyStore()
    async with harness.running(store=store) as h:
        await h.post("/api/jobs/MASTER.slow", command="start")
        await h.wait_run_state("MASTER.slow.1", "running")
        store.fail_next(2)
        run = await h.wait_run_state("MASTER.slow.1", "succeeded")
        assert store.failed == 2
        assert [a["state"] for a in run["runs"]] == ["succeeded", "succeeded"]
        stored = {r.run_num: r for r in await store.load_job_runs("MASTER.slow")}[1]
        assert [a.state.value for a in stored.action_runs] == ["succeeded", "succeeded"]


async def test_a_store_failure_when_a_run_fires_is_retried_later(harness: Harness) -> None:
    write_config(harness.config_dir, _minutely())
    store = FlakyStore()
    async with harness.running(store=store) as h:
        assert h.daemon is not None
        store.fail_next(1)
        await h.clock.advance(timedelta(minutes=1))
        await wait_until(lambda: store.failed == 1)
        assert _runs(h.daemon, "MASTER.minutely")[0][1] == "scheduled"  # nothing half-done
        await h.clock.advance(timedelta(seconds=5))
        await h.wait_run_state("MASTER.minutely.0", "succeeded")
