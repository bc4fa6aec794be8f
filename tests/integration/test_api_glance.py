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
  later:
    node: localhost
    schedule: "cron 0 6 * * *"
    actions:
      nap: {command: "sleep 0.3"}
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
    # Newest run time first: the next scheduled run, then the two started by hand.
    assert [run[:2] for run in mixed["runs"]] == [[0, "scheduled"], [2, "succeeded"], [1, "failed"]]
    assert all(run[2] is None or run[2] >= 0 for run in mixed["runs"])
    assert mixed["success_rate"] == 0.5
    assert body["jobs"]["MASTER.idle"]["success_rate"] is None


async def test_recent_is_bounded_and_filtered_by_namespace(api: Harness) -> None:
    assert len((await api.get("/api/recent", num_runs=1))["jobs"]["MASTER.mixed"]["runs"]) == 1
    assert (await api.get("/api/recent", namespace="other"))["jobs"] == {}
    assert api.client is not None
    response = await api.client.get("/api/recent", params={"num_runs": "101"})
    assert response.status_code == 400


async def test_grid_gives_one_jobs_runs_by_action(api: Harness) -> None:
    body = await api.get("/api/grid", job="MASTER.mixed")
    assert body["actions"] == ["first", "second"]
    assert body["expected_runtime"] == 90
    assert [run["run"][:2] for run in body["runs"]][1:] == [[2, "succeeded"], [1, "failed"]]
    assert body["runs"][1]["actions"]["first"][0] == "succeeded"
    assert body["runs"][2]["actions"]["second"][0] == "failed"
    assert body["runs"][0]["actions"]["second"] == ["scheduled", None]


async def test_grid_of_an_unknown_job_is_a_404_in_plain_words(api: Harness) -> None:
    assert api.client is not None
    response = await api.client.get("/api/grid", params={"job": "MASTER.nope"})
    assert response.status_code == 404
    assert "MASTER.nope" in response.json()["error"]


async def test_recent_follows_a_new_run_after_being_served(api: Harness) -> None:
    before = (await api.get("/api/recent"))["jobs"]["MASTER.later"]["runs"]
    await api.post("/api/jobs/MASTER.later", command="start")
    await api.wait_run_state("MASTER.later.1", "running", "succeeded")
    after = (await api.get("/api/recent"))["jobs"]["MASTER.later"]["runs"]
    assert [run[0] for run in after] == [0, 1] != [run[0] for run in before]
    await api.wait_run_state("MASTER.later.1", "succeeded")
    done = (await api.get("/api/recent"))["jobs"]["MASTER.later"]["runs"]
    assert done[1][1] == "succeeded"
