"""Cross-job triggers, trigger timeouts, and actions flagged late."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.conftest import Harness, wait_until, write_config

TRIGGERS = """
jobs:
  upstream:
    node: localhost
    schedule: "cron 0 4 * * *"
    actions:
      produce:
        command: "echo produced"
        trigger_downstreams: true
  downstream:
    node: localhost
    schedule: "cron 0 4 * * *"
    actions:
      consume:
        command: "echo consumed {shortdate}"
        triggered_by: ["MASTER.upstream.produce.shortdate.{shortdate}"]
        trigger_timeout: 2h
"""


async def test_a_published_trigger_starts_the_waiting_action(harness: Harness) -> None:
    write_config(harness.config_dir, TRIGGERS)
    async with harness.running() as h:
        await h.post("/api/jobs/MASTER.downstream", command="start")
        waiting = await h.wait_run_state("MASTER.downstream.1", "waiting")
        consume = waiting["runs"][0]
        assert consume["triggered_by"] == "MASTER.upstream.produce.shortdate.2026-03-01"
        await h.post("/api/jobs/MASTER.upstream", command="start")
        await h.wait_run_state("MASTER.upstream.1", "succeeded")
        done = await h.wait_run_state("MASTER.downstream.1", "succeeded")
        assert done["runs"][0]["triggered_by"].endswith("2026-03-01 (done)")
        events = await h.get("/api/events")
        assert "MASTER.upstream.produce.shortdate.2026-03-01" in events["response"]


async def test_an_action_missing_its_trigger_fails_at_the_timeout(harness: Harness) -> None:
    write_config(harness.config_dir, TRIGGERS)
    async with harness.running() as h:
        await h.post("/api/jobs/MASTER.downstream", command="start")
        await h.wait_run_state("MASTER.downstream.1", "waiting")
        await h.clock.advance(timedelta(hours=2, seconds=1))
        await h.wait_run_state("MASTER.downstream.1", "failed")
        consume = await h.action("MASTER.downstream.1.consume")
        assert consume["exit_status"] == -4


async def test_an_action_past_its_expected_runtime_is_flagged_late(harness: Harness) -> None:
    write_config(
        harness.config_dir,
        """
        jobs:
          slow:
            node: localhost
            schedule: "cron 0 4 * * *"
            actions:
              work: {command: "sleep 2", expected_runtime: 10s}
        """,
    )
    async with harness.running() as h:
        assert h.client is not None
        await h.post("/api/jobs/MASTER.slow", command="start")
        await h.wait_run_state("MASTER.slow.1", "running")
        await h.clock.advance(timedelta(seconds=11))

        async def flagged() -> bool:
            assert h.client is not None
            text = (await h.client.get("/metrics")).text
            return 'tron_action_runs_late_total{job="MASTER.slow"} 1.0' in text

        await wait_until(flagged)
