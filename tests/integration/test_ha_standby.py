"""A standby follows the database change by change: new, changed and deleted runs, flags and
config versions reach its view within its refresh bound, and a refresh touches only the jobs
that changed (the others keep their cached rendering). Two daemons in one process on one
real PostgreSQL server. Silences, which a standby never evaluates, are shown from the
database."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.contract.test_store import job_run
from tests.integration.conftest import wait_until, write_config
from tron.api.app import create_app
from tron.core import job_run as jr
from tron.engine.clock import SystemClock
from tron.engine.daemon import Daemon, DaemonSettings
from tron.store.postgres import PostgresStore

pytestmark = pytest.mark.postgres

MASTER = """\
state_persistence: {{store_type: postgres, connection: "{url}", lease_seconds: 30}}
jobs:
  pruned:
    node: localhost
    schedule: "cron 0 0 1 1 *"
    run_limit: 2
    actions:
      a: {{command: "true"}}
  quiet:
    node: localhost
    schedule: "cron 0 0 1 1 *"
    actions:
      a: {{command: "true"}}
"""


@asynccontextmanager
async def trond(root: Path, config: Path) -> AsyncIterator[Daemon]:
    settings = DaemonSettings(
        working_dir=root, config_path=config, default_time_zone="UTC",
        standby_refresh_seconds=0.05, advertise_address=f"http://{root.name}",
    )  # fmt: skip
    async with Daemon(settings, clock=SystemClock()) as daemon:
        yield daemon


@asynccontextmanager
async def leader_and_standby(tmp_path: Path, pg_url: str) -> AsyncIterator[tuple[Daemon, Daemon]]:
    """Two trond on one database: the first leads, the second is a standby."""
    config = write_config(tmp_path / "config", MASTER.format(url=pg_url))
    async with trond(tmp_path / "one", config) as leader:
        await wait_until(lambda: leader.role == "leader", 30)
        async with trond(tmp_path / "two", config) as standby:
            assert standby.role == "standby"
            yield leader, standby


def runs(daemon: Daemon, job: str) -> dict[int, str]:
    return {
        num: jr.job_run_state(run).value for num, run in daemon.registry.get_job(job).runs.items()
    }


async def start(leader: Daemon) -> int:
    result = await leader.commands.job("MASTER.pruned", "start")
    return int(result.rsplit(".", 1)[1])


async def test_a_standby_sees_new_changed_and_deleted_runs_flags_and_config(
    tmp_path: Path, pg_url: str
) -> None:
    async with leader_and_standby(tmp_path, pg_url) as (leader, standby):
        quiet = standby.registry.get_job("MASTER.quiet")
        version = quiet.version

        async def finished(num: int) -> None:
            await wait_until(lambda: runs(leader, "MASTER.pruned").get(num) == "succeeded")

        # A new run, then its changes (started, succeeded), reach the standby.
        first = await start(leader)
        await finished(first)
        await wait_until(lambda: runs(standby, "MASTER.pruned").get(first) == "succeeded")
        # Two more: the first is pruned (run_limit 2), and the standby drops it too.
        for _ in range(2):
            await finished(await start(leader))
        await wait_until(lambda: runs(standby, "MASTER.pruned") == runs(leader, "MASTER.pruned"))
        assert first not in runs(standby, "MASTER.pruned")
        # A flag.
        await leader.commands.job("MASTER.pruned", "disable")
        await wait_until(lambda: not standby.registry.get_job("MASTER.pruned").enabled)
        # The job nothing happened to was left as it was: not rebuilt at each refresh.
        assert standby.registry.get_job("MASTER.quiet") is quiet
        assert quiet.version == version
        # A config version saved by the leader.
        text = leader.namespace("MASTER")[0] + (
            '  added:\n    node: localhost\n    schedule: "cron 0 0 1 1 *"\n'
            '    actions:\n      a: {command: "true"}\n'
        )
        await leader.update_namespace("MASTER", text, None)
        await wait_until(lambda: "MASTER.added" in standby.registry.jobs)
        assert runs(standby, "MASTER.pruned") == runs(leader, "MASTER.pruned")


async def test_run_changes_since_a_mark_are_only_what_was_written_after_it(
    tmp_path: Path, pg_url: str
) -> None:
    store = PostgresStore(pg_url)
    await store.open()
    try:
        await store.create_job_run(job_run("j", 1))
        await store.create_job_run(job_run("j", 2))
        full = await store.run_changes(None)
        assert full.full
        assert sorted(r.run_num for r in full.runs) == [1, 2]
        nothing = await store.run_changes(full.mark)
        assert (nothing.full, nothing.runs, nothing.deleted) == (False, [], [])
        await store.create_job_run(job_run("j", 3))
        await store.delete_job_run("j", 1)
        changed = dataclasses.replace(full.runs[1].action_runs[0], exit_status=7)
        await store.save_action_run(changed)
        later = await store.run_changes(nothing.mark)
        assert sorted(r.run_num for r in later.runs) == [2, 3]
        (two,) = [r for r in later.runs if r.run_num == 2]
        assert two.action_runs[0].exit_status == 7
        assert later.deleted == [("j", 1)]
        assert later.config_mark == nothing.config_mark
        await store.save_config_version("MASTER", "jobs: {}\n", "h")
        assert (await store.run_changes(later.mark)).config_mark > later.config_mark
    finally:
        await store.close()


async def test_a_standby_says_which_jobs_are_silenced_as_the_leader_does(
    tmp_path: Path, pg_url: str
) -> None:
    async with leader_and_standby(tmp_path, pg_url) as (leader, standby):
        transport = httpx.ASGITransport(app=create_app(standby))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as api:

            async def why() -> Any:
                response = await api.get("/api/jobs/MASTER.quiet/why")
                assert response.status_code == 200, response.text
                return response.json()["silenced_until"]

            until = await leader.silence_job("MASTER.quiet", timedelta(hours=1))
            assert until is not None
            seen: list[Any] = []

            async def shown() -> bool:
                seen[:] = [await why()]
                return seen[0] is not None

            await wait_until(shown)
            assert seen == [until.isoformat()]
            await leader.silence_job("MASTER.quiet", None)

            async def lifted() -> bool:
                return await why() is None

            await wait_until(lifted)
