"""Tron's run semantics where its users notice (issue 14), through the whole engine on the
manual clock, the memory store and the scripted executor."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tests.unit.engine.engine_kit import EngineKit, settle

from tron.core import job_run as jr
from tron.core.states import ActionRunState

PIPELINE = """
command_context: {{env: {env}}}
jobs:
  etl:
    node: localhost
    schedule: "cron 0 4 * * *"
    actions:
      extract: {{command: "{extract}"}}
      load: {{command: "load {{last_success#shortdate}} {{env}}", requires: [extract]}}
"""


def _pipeline(env: str = "old", extract: str = "extract {env}") -> str:
    return PIPELINE.format(env=env, extract=extract)


def _commands(kit: EngineKit, action_id: str) -> list[str]:
    return [launch.spec.command for launch in kit.executor.launches if launch.key[0] == action_id]


async def test_job_run_success_on_a_failed_run_runs_the_dependants(tmp_path: Path) -> None:
    kit = EngineKit(tmp_path, _pipeline())
    daemon = await kit.start()
    await daemon.commands.job("MASTER.etl", "start")
    await settle()
    await kit.finish("MASTER.etl.1.extract", 1)
    assert kit.state("MASTER.etl.1") == "failed"
    result = await daemon.commands.job_run("MASTER.etl", "1", "success")
    assert result == "JobRun:MASTER.etl.1 now in state starting"
    await kit.until(lambda: bool(_commands(kit, "MASTER.etl.1.load")))
    await kit.finish("MASTER.etl.1.load", 0)
    assert kit.state("MASTER.etl.1") == "succeeded"
    assert kit.run("MASTER.etl.1") == await kit.stored("MASTER.etl.1")


async def test_job_run_fail_on_a_succeeded_run_marks_it_failed(tmp_path: Path) -> None:
    kit = EngineKit(tmp_path, _pipeline())
    daemon = await kit.start()
    await daemon.commands.job("MASTER.etl", "start")
    await settle()
    await kit.finish("MASTER.etl.1.extract", 0)
    await kit.finish("MASTER.etl.1.load", 0)
    assert kit.state("MASTER.etl.1") == "succeeded"
    result = await daemon.commands.job_run("MASTER.etl", "1", "fail")
    assert result == "JobRun:MASTER.etl.1 now in state failed"


async def test_an_attempt_renders_with_the_context_of_its_start(tmp_path: Path) -> None:
    # Spec 4, as Tron: MASTER `command_context` after a reconfiguration, and `last_success`
    # when the attempt starts, not when the run was created.
    kit = EngineKit(tmp_path, _pipeline())
    daemon = await kit.start()
    await daemon.commands.job("MASTER.etl", "start")
    await settle()
    assert _commands(kit, "MASTER.etl.1.extract") == ["extract old"]
    # Meanwhile a run of 1 March succeeds, and the context changes.
    await daemon.commands.job("MASTER.etl", "start", run_time=datetime(2026, 3, 1, 4, 0))
    await settle()
    await kit.finish("MASTER.etl.2.extract", 0)
    await kit.finish("MASTER.etl.2.load", 0)
    assert kit.state("MASTER.etl.2") == "succeeded"
    await daemon.update_namespace("MASTER", _pipeline(env="new"), None)
    await kit.finish("MASTER.etl.1.extract", 0)
    await kit.until(lambda: bool(_commands(kit, "MASTER.etl.1.load")))
    assert _commands(kit, "MASTER.etl.1.load") == ["load 2026-03-01 new"]
    # What was launched is what was recorded with the `starting` mark.
    stored = jr.get_action_run(await kit.stored("MASTER.etl.1"), "load")
    assert stored.current_attempt is not None
    assert stored.current_attempt.command == "load 2026-03-01 new"


async def test_retry_renders_the_frozen_template_or_the_newest_with_use_latest_command(
    tmp_path: Path,
) -> None:
    kit = EngineKit(tmp_path, _pipeline())
    daemon = await kit.start()
    await daemon.commands.job("MASTER.etl", "start")
    await settle()
    await kit.finish("MASTER.etl.1.extract", 1)
    await daemon.update_namespace("MASTER", _pipeline(env="new", extract="extract2 {env}"), None)
    await daemon.commands.action_run("MASTER.etl", "1", "extract", "retry")
    await kit.until(lambda: len(_commands(kit, "MASTER.etl.1.extract")) == 2)
    await kit.finish("MASTER.etl.1.extract", 1)
    await daemon.commands.action_run("MASTER.etl", "1", "extract", "retry", use_latest_command=True)
    await kit.until(lambda: len(_commands(kit, "MASTER.etl.1.extract")) == 3)
    assert _commands(kit, "MASTER.etl.1.extract") == [
        "extract old",
        "extract new",
        "extract2 new",
    ]


async def test_a_command_that_no_longer_renders_fails_its_attempt_with_minus_one(
    tmp_path: Path,
) -> None:
    # `{env}` leaves MASTER `command_context` while a run whose template uses it waits: as
    # Tron, the attempt fails (-1, `Invalid command`, no retry) and nothing is launched.
    kit = EngineKit(tmp_path, _pipeline())
    daemon = await kit.start()
    await daemon.commands.job("MASTER.etl", "start")
    await settle()
    gone = _pipeline().replace("command_context: {env: old}", "").replace("{env}", "x")
    await daemon.update_namespace("MASTER", gone, None)
    await kit.finish("MASTER.etl.1.extract", 0)
    await kit.until(lambda: kit.state("MASTER.etl.1") == "failed")
    load = kit.action("MASTER.etl.1.load")
    assert (load.exit_status, load.reason, load.exit_statuses) == (-1, "Invalid command", (-1,))
    assert _commands(kit, "MASTER.etl.1.load") == []


async def test_a_relaunch_after_a_crash_runs_the_command_rendered_before_it(
    tmp_path: Path,
) -> None:
    # The rendered command is durable with the `starting` mark: recovery relaunches that
    # very command, even when the context changed while trond was down.
    kit = EngineKit(tmp_path, _pipeline())
    daemon = await kit.start()
    kit.executor.start_error = "trond died before this launch"
    kit.executor.hold_starts()
    await daemon.commands.job("MASTER.etl", "start")
    await settle()
    kit.executor.start_error = None
    kit.write_config(_pipeline(env="new"))
    await kit.restart()  # the held launch dies with the engine
    await kit.until(lambda: bool(_commands(kit, "MASTER.etl.1.extract")))
    assert _commands(kit, "MASTER.etl.1.extract") == ["extract old"]
    assert len(kit.action("MASTER.etl.1.extract").attempts) == 1


def _disabled(text: str) -> str:
    return text.replace("    node: localhost", "    node: localhost\n    enabled: false")


async def test_a_change_of_enabled_alone_is_not_applied(tmp_path: Path) -> None:
    # Spec 5.11 (Tron's equality leaves `enabled` out): the job stays enabled until something
    # else in it changes too; then the change of `enabled` since the applied config counts.
    kit = EngineKit(tmp_path, _pipeline())
    daemon = await kit.start()
    await daemon.update_namespace("MASTER", _disabled(_pipeline()), None)
    job = daemon.registry.get_job("MASTER.etl")
    assert job.enabled
    assert [jr.job_run_state(r) for r in job.runs.values()] == [ActionRunState.SCHEDULED]
    await daemon.update_namespace("MASTER", _disabled(_pipeline(extract="extract2")), None)
    await settle()
    assert not job.enabled
    assert not any(jr.is_pending(r) for r in job.runs.values())


async def test_a_change_of_enabled_alone_is_not_applied_by_a_restart(tmp_path: Path) -> None:
    # As Tron, whose job state keeps the runtime flag: the config's `enabled` counts only
    # when it changes.
    kit = EngineKit(tmp_path, _pipeline())
    daemon = await kit.start()
    await daemon.update_namespace("MASTER", _disabled(_pipeline()), None)
    daemon = await kit.restart()
    job = daemon.registry.get_job("MASTER.etl")
    assert job.enabled
    await daemon.update_namespace("MASTER", _pipeline(extract="extract2"), None)
    assert job.enabled
    await daemon.update_namespace("MASTER", _disabled(_pipeline(extract="extract3")), None)
    assert not job.enabled


async def test_run_limit_prunes_the_pending_run_and_schedules_the_next_when_a_run_ends(
    tmp_path: Path,
) -> None:
    # Spec 5.6, as Tron: the oldest run by creation goes, the pending one too; the job gets
    # its next scheduled run when a run ends.
    kit = EngineKit(
        tmp_path,
        _pipeline().replace("    node: localhost", "    run_limit: 2\n    node: localhost"),
    )
    daemon = await kit.start()
    job = daemon.registry.get_job("MASTER.etl")
    await daemon.commands.job("MASTER.etl", "start")
    await daemon.commands.job("MASTER.etl", "start")
    await settle()
    assert sorted(job.runs) == [1, 2]  # the pending .0 went, with its timer
    await kit.finish("MASTER.etl.1.extract", 0)
    await kit.finish("MASTER.etl.1.load", 0)
    await kit.until(lambda: len(job.runs) == 2 and any(jr.is_pending(r) for r in job.runs.values()))
    assert sorted(job.runs) == [2, 3]  # .3 scheduled, and .1 pruned for it
    assert jr.is_active(job.runs[2])
    assert sorted(r.run_num for r in await kit.store.load_job_runs("MASTER.etl")) == [2, 3]


async def test_a_run_unknown_after_its_cleanup_failed_counts_as_tron_counts_it(
    tmp_path: Path,
) -> None:
    text = _pipeline().replace(
        "    actions:", '    cleanup_action: {command: "tidy"}\n    actions:'
    )
    kit = EngineKit(tmp_path, text)
    daemon = await kit.start()
    await daemon.commands.job("MASTER.etl", "start")
    await settle()
    for name, code in (("extract", 0), ("load", 0), ("cleanup", 1)):
        await kit.until(lambda name=name: bool(_commands(kit, f"MASTER.etl.1.{name}")))
        await kit.finish(f"MASTER.etl.1.{name}", code)
    assert kit.state("MASTER.etl.1") == "unknown"
    registry = daemon.metrics.registry
    name = "tron_job_runs_completed_total"
    assert registry.get_sample_value(name, {"outcome": "success"}) == 1
    assert registry.get_sample_value(name, {"outcome": "fail"}) is None
