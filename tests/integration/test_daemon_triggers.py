"""Cross-job triggers, trigger timeouts, and actions flagged late."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from tests.integration.conftest import Harness, wait_until, write_config
from tron.core.records import ActionRun, JobRun
from tron.store.memory import MemoryStore

TRIGGERS = """
eventbus_enabled: true
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
        assert waiting["start_time"] is None  # Tron's: no action has started yet
        trigger = {"name": "MASTER.upstream.produce", "command": "TRIGGER", "dependencies": []}
        job = await h.get("/api/jobs/MASTER.downstream", include_action_graph=1)
        assert job["action_graph"][-1] == trigger
        run = await h.job_run("MASTER.downstream.1", include_action_graph=1)
        assert run["action_graph"][-1] == {**trigger, "state": "unknown"}
        assert run["action_graph"][0]["dependencies"] == ["MASTER.upstream.produce"]
        upstream = (await h.get("/api/jobs"))["jobs"]
        graph = next(j for j in upstream if j["name"] == "MASTER.upstream")["action_graph"]
        assert graph[-1] == {
            "name": "MASTER.downstream.consume",
            "command": "TRIGGER",
            "dependencies": ["produce"],
        }
        await h.post("/api/jobs/MASTER.upstream", command="start")
        await h.wait_run_state("MASTER.upstream.1", "succeeded")
        done = await h.wait_run_state("MASTER.downstream.1", "succeeded")
        assert done["runs"][0]["triggered_by"].endswith("2026-03-01 (done)")
        events = await h.get("/api/events")
        assert "MASTER.upstream.produce.shortdate.2026-03-01" in events["response"]


async def test_event_endpoints_follow_eventbus_enabled_as_tron(harness: Harness) -> None:
    """Off: Tron's `EventBus disabled` (409 here, 500 in Tron) on every event endpoint, while
    the triggers between jobs still work. On (after an upload of MASTER): Tron's answers."""
    bus_off = TRIGGERS.replace("eventbus_enabled: true\n", "")
    write_config(harness.config_dir, bus_off)
    disabled = {"error": "EventBus disabled"}
    event = "MASTER.upstream.produce.shortdate.2026-03-01"
    async with harness.running() as h:
        assert await h.post("/api/events", 409, command="publish", event="x") == disabled
        assert await h.post("/api/events", 409, command="discard", event="x") == disabled
        assert await h.post("/api/events", 400, command="nope", event="x") == {
            "error": "Unknown command: nope"
        }
        assert h.client is not None
        listed = await h.client.get("/api/events")
        assert (listed.status_code, listed.json()) == (409, disabled)
        await h.post("/api/jobs/MASTER.downstream", command="start")
        await h.post("/api/jobs/MASTER.upstream", command="start")
        await h.wait_run_state("MASTER.downstream.1", "succeeded")

        config = await h.get("/api/config", name="MASTER")
        await h.post("/api/config", name="MASTER", config=TRIGGERS, hash=config["hash"])
        assert (await h.get("/api/events"))["response"] == {event: {}}
        assert await h.post("/api/events", command="publish", event=event) == {
            "response": f"event {event} already published"
        }
        assert await h.post("/api/events", 400, command="publish") == {
            "error": "'event' is required."
        }
        assert await h.post("/api/events", 404, command="discard", event="never") == {
            "error": "could not discard never"
        }


class DiesAfterSuccess(MemoryStore):
    """A store whose writer dies (as trond would, kill -9) right after the write that records
    an action's success: every later write hangs, and what was written stays."""

    def __init__(self, action_name: str) -> None:
        super().__init__()
        self._action_name = action_name
        self.dead = False

    async def _die_if_dead(self) -> None:
        if self.dead:
            await asyncio.Event().wait()

    async def save_run_changes(
        self,
        job_run: JobRun,
        action_runs: Sequence[ActionRun],
        *,
        header: bool,
        handle: tuple[str, dict[str, Any]] | None = None,
        events: Sequence[str] = (),
    ) -> None:
        await self._die_if_dead()
        await super().save_run_changes(
            job_run, action_runs, header=header, handle=handle, events=events
        )
        self.dead = any(
            a.action_name == self._action_name and a.state.value == "succeeded" for a in action_runs
        )

    async def create_job_run(self, job_run: JobRun, *, slot: str | None = None) -> bool:
        await self._die_if_dead()
        return await super().create_job_run(job_run, slot=slot)

    async def add_event(self, event_id: str) -> bool:
        await self._die_if_dead()
        return await super().add_event(event_id)


async def test_a_trigger_survives_a_crash_right_after_its_success_is_recorded(
    harness: Harness,
) -> None:
    write_config(harness.config_dir, TRIGGERS)
    store = DiesAfterSuccess("produce")
    async with harness.running(store) as h:
        await h.post("/api/jobs/MASTER.downstream", command="start")
        await h.wait_run_state("MASTER.downstream.1", "waiting")
        await h.post("/api/jobs/MASTER.upstream", command="start")
        await wait_until(lambda: store.dead)
        assert h.daemon is not None
        await h.daemon.abandon()
    store.dead = False
    async with harness.running(store) as h:
        await h.wait_run_state("MASTER.downstream.1", "succeeded")
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
