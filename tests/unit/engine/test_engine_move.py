"""`tronctl move OLD NEW` in the engine: the job goes on under its new name with its history
and its scheduled run; Tron's refusals change nothing; the config catches up by an upload."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.unit.engine.engine_kit import EngineKit

from tron.core.alerts.model import AlertKind
from tron.engine.daemon import Daemon
from tron.errors import BadRequestError, ConflictError, NotFoundError, StoreError
from tron.store.memory import MemoryStore

OLD, NEW = "MASTER.nightly", "MASTER.renamed"

CONFIG = """
notifications:
  check_every: 10s
jobs:
  nightly:
    node: localhost
    schedule: "cron 0 * * * *"
    actions:
      work: {command: "work"}
  other:
    node: localhost
    schedule: "cron 0 * * * *"
    actions:
      work: {command: "work"}
"""


class RenameFailsOnce(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.fail = True

    async def rename_job(self, old: str, new: str) -> None:
        if self.fail:
            self.fail = False
            raise StoreError("database or disk is full")
        await super().rename_job(old, new)


@pytest.fixture
async def kit(tmp_path: Path) -> AsyncIterator[EngineKit]:
    made = EngineKit(tmp_path, CONFIG, store=RenameFailsOnce())
    made.store.fail = False  # type: ignore[attr-defined]
    yield made
    await made.stop()


async def failed_run(kit: EngineKit, daemon: Daemon) -> str:
    """A manual run of the old job that failed (its output written, an alert open)."""
    created = await started(kit, daemon)
    await kit.finish(f"{created}.work", 1)
    await kit.until(lambda: bool(daemon.evaluator.open_alerts()))
    return created


async def started(kit: EngineKit, daemon: Daemon) -> str:
    """A manual run of the old job, its action launched; its id."""
    (created,) = (await daemon.commands.job(OLD, "start")).removeprefix("Created JobRun:").split()
    await kit.until(lambda: kit.executor.launch_count(f"{created}.work") == 1)
    return created


async def test_the_job_goes_on_under_its_new_name_with_its_history(kit: EngineKit) -> None:
    daemon = await kit.start()
    failed = await failed_run(kit, daemon)
    pending = kit.run(f"{OLD}.0")
    output = daemon.output_root / "MASTER" / "nightly" / failed.rsplit(".", 1)[1]
    output.mkdir(parents=True)  # the scripted executor writes none
    (output / "stdout").write_text("ünïcode\n")

    assert await daemon.move_job(OLD, NEW) == f"Moving {OLD} to {NEW} succeeded."

    assert OLD not in daemon.registry.jobs
    moved = daemon.registry.jobs[NEW]
    assert moved.name == NEW
    assert sorted(moved.runs) == [0, 1]
    assert kit.run(f"{NEW}.1").action_runs[0].exit_status == 1
    assert kit.run(f"{NEW}.0").run_time == pending.run_time
    assert await kit.store.load_job_runs(OLD) == []
    assert [r.run_num for r in await kit.store.load_job_runs(NEW)] == [0, 1]
    assert (daemon.output_root / "MASTER" / "renamed" / "1" / "stdout").read_text() == "ünïcode\n"
    assert not output.exists()
    (alert,) = await daemon.alerts(open_only=True)
    assert (alert.key.job, alert.key.kind) == (NEW, AlertKind.FAILED)
    assert [a.key.job for a in daemon.evaluator.open_alerts()] == [NEW]

    # Its scheduled run fires under the new name, once.
    await kit.advance(3600)
    await kit.until(lambda: kit.executor.launch_count(f"{NEW}.0.work") == 1)
    assert kit.executor.launch_count(f"{OLD}.0.work") == 0
    await kit.finish(f"{NEW}.0.work", 0)
    assert kit.state(f"{NEW}.0") == "succeeded"
    assert sorted(daemon.registry.jobs[NEW].runs) == [0, 1, 2]  # the next one is scheduled


async def test_an_upload_that_renames_the_job_updates_the_moved_one(kit: EngineKit) -> None:
    daemon = await kit.start()
    await failed_run(kit, daemon)
    pending_time = kit.run(f"{OLD}.0").run_time
    await daemon.move_job(OLD, NEW)
    moved = daemon.registry.jobs[NEW]
    text = CONFIG.replace("  nightly:", "  renamed:").replace('"work"}\n  other', '"v2"}\n  other')
    preview = (await daemon.upload_namespace("MASTER", text, None, check=True)).changes
    assert (preview.added, preview.removed) == ((), ())
    assert preview.notes == (
        f"{OLD} was moved away by tronctl move: nothing to remove",
        f"{NEW} is the job tronctl move renamed: updated in place",
    )
    await daemon.update_namespace("MASTER", text, None)
    assert daemon.registry.jobs[NEW] is moved  # the same job, its runs kept
    assert OLD not in daemon.registry.jobs
    assert sorted(moved.runs) == [1, 2]  # the scheduled run 0 was rebuilt as 2 (spec 5.11)
    assert moved.runs[2].run_time == pending_time
    assert moved.config.actions["work"].command == "v2"
    assert moved.runs[2].action_runs[0].raw_command == "v2"
    assert moved.config.full_name == NEW


async def test_trons_refusals_change_nothing(kit: EngineKit) -> None:
    daemon = await kit.start()
    with pytest.raises(NotFoundError, match=r"MASTER\.nope doesn't exist"):
        await daemon.move_job("MASTER.nope", NEW)
    with pytest.raises(ConflictError, match=r"MASTER\.other exists already"):
        await daemon.move_job(OLD, "MASTER.other")
    for bad in ("nodot", "MASTER.bad name", "a/b.job", "MASTER."):
        with pytest.raises(BadRequestError, match="cannot name a job"):
            await daemon.move_job(OLD, bad)
    created = await started(kit, daemon)
    with pytest.raises(ConflictError, match=f"Moving {OLD} to {NEW} failed. Job is still running"):
        await daemon.move_job(OLD, NEW)
    await kit.finish(f"{created}.work", 0)
    assert set(daemon.registry.jobs) == {OLD, "MASTER.other"}
    assert [r.job_name for r in await kit.store.load_job_runs()].count(OLD) == 2


async def test_a_failed_rename_leaves_the_job_where_it_was(kit: EngineKit) -> None:
    daemon = await kit.start()
    kit.store.fail = True  # type: ignore[attr-defined]
    with pytest.raises(StoreError):
        await daemon.move_job(OLD, NEW)
    assert NEW not in daemon.registry.jobs
    assert sorted(daemon.registry.jobs[OLD].runs) == [0]
    await kit.advance(3600)  # its scheduled run still fires, under the old name
    await kit.until(lambda: kit.executor.launch_count(f"{OLD}.0.work") == 1)
