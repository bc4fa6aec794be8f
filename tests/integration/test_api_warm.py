"""The API's caches filled after start-up, and `/api`'s action lists read from the config."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.integration.conftest import Harness, wait_until, write_config
from tron.api.app import create_app
from tron.api.cache import JobJsonCache, RecentCache
from tron.api.routes.glance import DEFAULT_RECENT
from tron.api.run_index import RunIndex
from tron.api.warm import CLIENT_INCLUDES, warm_caches

pytestmark = pytest.mark.asyncio(loop_scope="module")

MASTER = """
time_zone: UTC
jobs:
  work:
    node: localhost
    schedule: "cron 0 4 * * *"
    actions:
      first: {command: "echo one ✓"}
      second: {command: "echo two", requires: [first]}
    cleanup_action: {command: "echo tidy"}
  idle:
    node: localhost
    schedule: "cron 0 5 * * *"
    enabled: false
    actions:
      only: {command: "true"}
"""


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    h = Harness(tmp_path_factory.mktemp("warm"))
    write_config(h.config_dir, MASTER)
    async with h.running():
        await h.post("/api/jobs/MASTER.work", command="start")
        await h.wait_run_state("MASTER.work.1", "succeeded")
        yield h


def never(*_: Any) -> Any:
    raise AssertionError("rendered: the cache was cold")


async def test_warming_fills_what_the_clients_ask_for(api: Harness) -> None:
    assert api.daemon is not None
    app = create_app(api.daemon)
    jobs = api.daemon.jobs()
    assert await warm_caches(app) == len(jobs)
    cache: JobJsonCache = app.state.job_cache
    index: RunIndex = app.state.run_index
    for name, job in jobs.items():
        for include in CLIENT_INCLUDES:
            cache.get(name, include, job.version, never)
        assert index.of(name, job) is index.of(name, job)
        recent: RecentCache = app.state.recent_cache
        recent.get(name, DEFAULT_RECENT, job.version, never)
    # And what the warmed app answers is what a cold one renders.
    cold = create_app(api.daemon)
    for params in [
        {"include_job_runs": 0, "include_action_runs": 0, "include_action_graph": 0,
         "include_node_pool": 0},
        {"include_job_runs": 0, "include_action_graph": 0},
        {},
    ]:  # fmt: skip
        assert await body(app, "/api/jobs", params) == await body(cold, "/api/jobs", params)
    recent = {"num_runs": DEFAULT_RECENT}
    assert await body(app, "/api/recent", recent) == await body(cold, "/api/recent", recent)


async def body(app: Any, path: str, params: dict[str, Any]) -> bytes:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
        return (await client.get(path, params=params)).content


async def test_index_lists_each_jobs_actions_as_its_newest_run_has_them(api: Harness) -> None:
    body = await api.get("/api")
    for name, actions in body["jobs"].items():
        job = await api.get(f"/api/jobs/{name}", num_runs=1)
        if not job["runs"]:
            assert actions == []  # as Tron: no run, no actions listed
            continue
        newest = await api.job_run(job["runs"][0]["id"], include_action_runs=1)
        assert [a["name"] for a in actions] == [a["action_name"] for a in newest["runs"]]
        assert [a["command"] for a in actions] == [a["raw_command"] for a in newest["runs"]]
    assert [a["name"] for a in body["jobs"]["MASTER.work"]] == ["first", "second", "cleanup"]
    assert body["jobs"]["MASTER.work"][0]["command"] == "echo one ✓"
    assert body["jobs"]["MASTER.idle"] == []


async def test_runs_pages_follow_new_runs(api: Harness) -> None:
    before = await api.get("/api/runs", job="MASTER.work")
    await api.post("/api/jobs/MASTER.work", command="start")
    await api.wait_run_state("MASTER.work.2", "succeeded")

    async def shown() -> bool:
        after = await api.get("/api/runs", job="MASTER.work")
        return after["total"] == before["total"] + 1

    await wait_until(shown, 30)
