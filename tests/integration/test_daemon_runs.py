"""The daemon runs jobs: DAGs, cleanup, retries, schedules, overlap, through the HTTP API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.conftest import Harness, wait_until, write_config
from tron.engine.lockfile import DaemonLockedError

DAG = """
jobs:
  dag:
    node: localhost
    schedule: "cron 0 4 * * *"
    actions:
      extract:
        command: "echo extracting {runid}"
      transform:
        command: "echo transforming"
        requires: [extract]
      report:
        command: "echo report"
        requires: [extract]
      load:
        command: "echo loaded {shortdate}"
        requires: [transform, report]
    cleanup_action:
      command: "echo cleanup {cleanup_job_status}"
  failing:
    node: localhost
    schedule: "cron 0 5 * * *"
    actions:
      boom:
        command: "echo try; echo oops >&2; exit 3"
        retries: 2
      after:
        command: "echo never"
        requires: [boom]
"""


async def test_manual_start_runs_the_dag_in_order_then_cleanup(harness: Harness) -> None:
    write_config(harness.config_dir, DAG)
    async with harness.running() as h:
        result = await h.post("/api/jobs/MASTER.dag", command="start")
        assert result == {"result": "Created JobRun:MASTER.dag.1"}
        run = await h.wait_run_state("MASTER.dag.1", "succeeded")
        actions = {a["action_name"]: a for a in run["runs"]}
        assert set(actions) == {"extract", "transform", "report", "load", "cleanup"}
        assert all(a["state"] == "succeeded" for a in actions.values())
        assert actions["extract"]["end_time"] <= actions["transform"]["start_time"]
        assert (
            max(actions["transform"]["end_time"], actions["report"]["end_time"])
            <= (actions["load"]["start_time"])
        )
        assert actions["load"]["end_time"] <= actions["cleanup"]["start_time"]
        extract = await h.action("MASTER.dag.1.extract", include_stdout=1, num_lines=10)
        assert extract["stdout"] == ["extracting MASTER.dag.1"]
        cleanup = await h.action("MASTER.dag.1.cleanup", include_stdout=1)
        assert cleanup["stdout"] == ["cleanup SUCCESS"]


async def test_retries_keep_each_attempt_apart(harness: Harness) -> None:
    write_config(harness.config_dir, DAG)
    async with harness.running() as h:
        await h.post("/api/jobs/MASTER.failing", command="start")
        run = await h.wait_run_state("MASTER.failing.1", "failed")
        boom = await h.action("MASTER.failing.1.boom", include_stdout=1, include_stderr=1)
        assert boom["state"] == "failed"
        assert boom["exit_status"] == 3
        assert boom["exit_statuses"] == [3, 3, 3]
        assert [a["exit_status"] for a in boom["attempts"]] == [3, 3, 3]
        assert boom["stdout"] == ["try", "try", "try"]
        assert boom["stderr"] == ["oops", "oops", "oops"]
        after = next(a for a in run["runs"] if a["action_name"] == "after")
        assert after["state"] == "waiting"


async def test_skip_of_a_failed_action_lets_dependants_run(harness: Harness) -> None:
    write_config(harness.config_dir, DAG)
    async with harness.running() as h:
        await h.post("/api/jobs/MASTER.failing", command="start")
        await h.wait_run_state("MASTER.failing.1", "failed")
        result = await h.post("/api/jobs/MASTER.failing/1/boom", command="skip")
        assert result == {"result": "ActionRun: MASTER.failing.1.boom now in state skipped"}
        await h.wait_run_state("MASTER.failing.1", "succeeded")


async def test_invalid_action_command_is_409_with_tron_text(harness: Harness) -> None:
    write_config(harness.config_dir, DAG)
    async with harness.running() as h:
        await h.post("/api/jobs/MASTER.dag", command="start")
        await h.wait_run_state("MASTER.dag.1", "succeeded")
        body = await h.post("/api/jobs/MASTER.dag/1/extract", expect=409, command="start")
        assert body == {"error": "Failed to start on extract. State is succeeded."}


async def test_scheduled_run_fires_at_its_time_and_next_is_scheduled(harness: Harness) -> None:
    write_config(
        harness.config_dir,
        """
        jobs:
          every_minute:
            node: localhost
            schedule: "cron * * * * *"
            actions:
              beat: {command: "echo beat {ymdhm}"}
        """,
    )
    async with harness.running() as h:
        job = await h.get("/api/jobs/MASTER.every_minute")
        assert job["next_run"] == "2026-03-01 12:01:00"
        assert [r["state"] for r in job["runs"]] == ["scheduled"]
        await h.clock.advance(timedelta(minutes=1))
        run = await h.wait_run_state("MASTER.every_minute.0", "succeeded")
        beat = await h.action("MASTER.every_minute.0.beat", include_stdout=1)
        assert beat["stdout"] == ["beat 2026-03-01T12:01"]
        assert run["run_time"] == "2026-03-01 12:01:00"

        async def next_run() -> bool:
            job = await h.get("/api/jobs/MASTER.every_minute")
            return bool(job["next_run"] == "2026-03-01 12:02:00")

        await wait_until(next_run)


async def test_disable_cancels_the_pending_run_and_enable_reschedules(harness: Harness) -> None:
    write_config(harness.config_dir, DAG)
    async with harness.running() as h:
        assert await h.post("/api/jobs/MASTER.dag", command="disable") == {
            "result": "Job:MASTER.dag is disabled"
        }
        job = await h.get("/api/jobs/MASTER.dag")
        assert job["status"] == "disabled"
        assert [r["state"] for r in job["runs"]] == ["cancelled"]
        await h.post("/api/jobs/MASTER.dag", command="enable")
        job = await h.get("/api/jobs/MASTER.dag")
        assert job["status"] == "enabled"
        assert job["next_run"] == "2026-03-02 04:00:00"


async def test_overlapping_scheduled_run_is_queued_then_started(harness: Harness) -> None:
    write_config(
        harness.config_dir,
        """
        jobs:
          slow:
            node: localhost
            schedule: "cron * * * * *"
            actions:
              work: {command: "sleep 0.6"}
        """,
    )
    async with harness.running() as h:
        await h.clock.advance(timedelta(minutes=1))
        await h.wait_run_state("MASTER.slow.0", "running")
        await h.wait_run_state("MASTER.slow.1", "scheduled")
        await h.clock.advance(timedelta(minutes=1))
        queued = await h.wait_run_state("MASTER.slow.1", "queued")
        assert queued["start_time"] is None
        await h.wait_run_state("MASTER.slow.0", "succeeded")
        await h.wait_run_state("MASTER.slow.1", "succeeded")


async def test_unicode_names_commands_and_output_round_trip(harness: Harness) -> None:
    write_config(
        harness.config_dir,
        "jobs: {}\n",
        demo="""
        jobs:
          uni_ünïcode_job:
            node: localhost
            schedule: "cron 0 7 * * *"
            actions:
              grüß:
                command: "echo 'héllo wörld ✓ 日本語 🚀'"
        """,
    )
    async with harness.running() as h:
        assert h.client is not None
        response = await h.client.post(
            "/api/jobs/demo.uni_%C3%BCn%C3%AFcode_job", data={"command": "start"}
        )
        assert response.json() == {"result": "Created JobRun:demo.uni_ünïcode_job.1"}
        await h.wait_run_state("demo.uni_ünïcode_job.1", "succeeded")
        action = await h.action("demo.uni_ünïcode_job.1.grüß", include_stdout=1)
        assert action["stdout"] == ["héllo wörld ✓ 日本語 🚀"]


async def test_unknown_paths_and_objects_are_404_json(harness: Harness) -> None:
    write_config(harness.config_dir, DAG)
    async with harness.running() as h:
        assert h.client is not None
        missing = await h.client.get("/api/jobs/demo.nope")
        assert missing.status_code == 404
        assert missing.json() == {"error": "Cannot find child 'demo.nope'"}
        last = await h.client.get("/api/jobs/MASTER.dag/LAST")
        assert last.status_code == 404
        assert last.json() == {"error": "Cannot find job run 'LAST' for 'Job:MASTER.dag'"}


async def test_max_runtime_stops_the_action_with_its_reason(harness: Harness) -> None:
    write_config(
        harness.config_dir,
        """
        jobs:
          bounded:
            node: localhost
            schedule: "cron * * * * *"
            max_runtime: 30s
            actions:
              forever: {command: "sleep 30"}
        """,
    )
    async with harness.running() as h:
        await h.clock.advance(timedelta(minutes=1))
        await h.wait_run_state("MASTER.bounded.0", "running")
        await h.clock.advance(timedelta(seconds=31))
        await h.wait_run_state("MASTER.bounded.0", "failed")
        action = await h.action("MASTER.bounded.0.forever")
        assert "max_runtime" in action["reason"]
        assert action["exit_status"] != 0


async def test_lock_file_refuses_a_second_daemon(harness: Harness) -> None:
    write_config(harness.config_dir, DAG)
    async with harness.running():
        second = Harness(harness.root)
        with pytest.raises(DaemonLockedError, match="another trond"):
            async with second.running():
                pass


async def test_cancelled_run_still_records_the_real_exit_of_its_attempt(harness: Harness) -> None:
    write_config(harness.config_dir, DAG.replace('"echo extracting {runid}"', '"sleep 0.5"'))
    async with harness.running() as h:
        await h.post("/api/jobs/MASTER.dag", command="start")
        await h.wait_run_state("MASTER.dag.1", "running")
        result = await h.post("/api/jobs/MASTER.dag/1", command="cancel")
        assert result == {"result": "JobRun:MASTER.dag.1 now in state cancelled"}

        async def recorded() -> bool:
            extract = await h.action("MASTER.dag.1.extract")
            return bool(extract["attempts"][0]["exit_status"] == 0)

        await wait_until(recorded)
        extract = await h.action("MASTER.dag.1.extract")
        assert extract["state"] == "cancelled"


CONTEXT = """
command_context: {{env: {env}}}
jobs:
  ctx:
    node: localhost
    schedule: "cron 0 4 * * *"
    actions:
      work:
        command: "{command}"
"""


async def test_each_attempt_renders_with_the_live_context_and_retry_can_take_the_latest(
    harness: Harness,
) -> None:
    # As Tron: the frozen template, rendered when each attempt starts with MASTER
    # `command_context` as it is then; `use_latest_command=1` (what Tron's tronctl sends for
    # `retry --use-latest-command`) renders the newest config's template.
    write_config(harness.config_dir, CONTEXT.format(env="old", command="echo {env}; exit 1"))
    async with harness.running() as h:
        await h.post("/api/jobs/MASTER.ctx", command="start")
        await h.wait_run_state("MASTER.ctx.1", "failed")
        current = await h.get("/api/config", name="MASTER")
        new = CONTEXT.format(env="new", command="echo latest {env}")
        await h.post("/api/config", name="MASTER", config=new, hash=current["hash"])
        await h.post("/api/jobs/MASTER.ctx/1/work", command="retry", use_latest_command="0")
        await h.wait_run_state("MASTER.ctx.1", "failed")
        await h.post("/api/jobs/MASTER.ctx/1/work", command="retry", use_latest_command="1")
        await h.wait_run_state("MASTER.ctx.1", "succeeded")
        work = await h.action("MASTER.ctx.1.work", include_stdout=1)
        assert [a["command"] for a in work["attempts"]] == [
            "echo old; exit 1",
            "echo new; exit 1",
            "echo latest new",
        ]
        assert work["stdout"] == ["old", "new", "latest new"]
