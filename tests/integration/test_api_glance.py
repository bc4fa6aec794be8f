"""/api/recent and /api/grid: compact run history for the web UI's at-a-glance views."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.integration.conftest import Harness, write_config

pytestmark = pytest.mark.asyncio(loop_scope="module")

MASTER = """
time_zone: UTC
jobs:
  mixed:
    node: localhost
    schedule: "cron 0 4 * * *"
    expected_runtime: 90s
    actions:
      first: {command: "true"}
      second: {command: "test -e /nonexistent-{runid}", requires: [first]}
  idle:
    node: localhost
    schedule: "cron 0 5 * * *"
    actions:
      nap: {command: "true"}
"""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    harness = Harness(tmp_path_factory.mktemp("glance"))
    write_config(harness.config_dir, MASTER)
    async with harness.running() as h:
        for _ in range(2):
            await h.post("/api/jobs/MASTER.mixed", command="start")
        await h.wait_run_state("MASTER.mixed.1", "failed")
        await h.wait_run_state("MASTER.mixed.2", "failed")
        await h.post("/api/jobs/MASTER.mixed/2/second", command="success")
        await h.wait_run_state("MASTER.mixed.2", "succeeded")
        yield h


async def test_recent_gives_each_jobs_newest_runs_and_success_rate(api: Harness) -> None:
    body = await api.get("/api/recent", num_runs=5)
    assert body["fields"] == ["run_num", "state", "seconds", "start_time"]
    mixed = body["jobs"]["MASTER.mixed"]
    assert [run[:2] for run in mixed["runs"]][:2] == [[2, "succeeded"], [1, "failed"]]
    assert all(run[2] is None or run[2] >= 0 for run in mixed["runs"])
    assert mixed["success_rate"] == 0.5
    assert body["jobs"]["MASTER.idle"]["success_rate"] is None


async def test_recent_is_bounded_and_filtered_by_namespace(api: Harness) -> None:
    assert (await api.get("/api/recent", num_runs=1))["jobs"]["MASTER.mixed"]["runs"][0][0] == 2
    assert (await api.get("/api/recent", namespace="other"))["jobs"] == {}
    assert api.client is not None
    response = await api.client.get("/api/recent", params={"num_runs": "101"})
    assert response.status_code == 400


async def test_grid_gives_one_jobs_runs_by_action(api: Harness) -> None:
    body = await api.get("/api/grid", job="MASTER.mixed")
    assert body["actions"] == ["first", "second"]
    assert body["expected_runtime"] == 90
    newest = body["runs"][0]
    assert newest["run"][:2] == [2, "succeeded"]
    assert newest["actions"]["first"][0] == "succeeded"
    assert body["runs"][1]["actions"]["second"][0] == "failed"


async def test_grid_of_an_unknown_job_is_a_404_in_plain_words(api: Harness) -> None:
    assert api.client is not None
    response = await api.client.get("/api/grid", params={"job": "MASTER.nope"})
    assert response.status_code == 404
    assert "MASTER.nope" in response.json()["error"]
