"""Unicode job, action and namespace names, commands and output round-trip through the API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest
import pytest_asyncio

from tests.integration.api_demo import SAMPLES, UNICODE_JOB, demo_harness
from tests.integration.conftest import Harness

pytestmark = pytest.mark.asyncio(loop_scope="module")

NAMESPACE = "ünï_日本"
UPLOAD = """jobs:
  job_喂:
    node: localhost
    schedule: "cron 0 9 * * *"
    actions:
      a_ключ:
        command: "printf '%s\\n' 'zwölf 🚀 ✓' 'שלום'"
"""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    async with demo_harness(tmp_path_factory.mktemp("unicode")).running() as h:
        yield h


def captured_result(name: str) -> str:
    text = (SAMPLES / name).read_text(encoding="utf-8")
    body = json.loads(next(line for line in text.splitlines() if line.startswith("{")))
    result: str = body["result"]
    return result


async def test_start_by_percent_encoded_path_matches_tron(api: Harness) -> None:
    assert api.client is not None
    path = "/api/jobs/" + quote(UNICODE_JOB, safe="")
    assert "%C3%BC" in path
    response = await api.client.post(path, data={"command": "start"})
    assert response.json()["result"] == captured_result(
        "http_post_start_unicode_job_percent_encoded.txt"
    )
    await api.wait_run_state(f"{UNICODE_JOB}.1", "succeeded")


async def test_job_url_is_percent_encoded_like_trons(api: Harness) -> None:
    job = await api.get(f"/api/jobs/{UNICODE_JOB}")
    assert job["url"] == "/jobs/demo.uni_%C3%BCn%C3%AFcode_job"
    assert job["action_names"] == ["grüß"]


async def test_action_output_and_command_round_trip(api: Harness) -> None:
    action = await api.get(
        f"/api/jobs/{UNICODE_JOB}/1/grüß", include_stdout=1, include_stderr=1, num_lines=5
    )
    assert action["id"] == f"{UNICODE_JOB}.1.grüß"
    assert action["stdout"] == ["héllo wörld ✓ 日本語 🚀"]
    assert action["stderr"] == ["ünïcode on stderr"]
    assert "日本語 🚀" in action["command"]


async def test_followed_output_round_trips(api: Harness) -> None:
    path = "/api/jobs/" + "/".join(quote(p, safe="") for p in (UNICODE_JOB, "1", "grüß"))
    chunk = await api.get(path + "/output", stream="stdout")
    assert chunk["data"] == "héllo wörld ✓ 日本語 🚀\n"
    assert chunk["offset"] == len("héllo wörld ✓ 日本語 🚀\n".encode())


async def test_unicode_namespace_upload_runs_and_reads_back(api: Harness) -> None:
    answer = await api.post("/api/config", name=NAMESPACE, config=UPLOAD)
    assert answer["status"] == "Active"
    assert answer["changes"]["added"] == [f"{NAMESPACE}.job_喂"]
    assert (await api.get("/api/config", name=NAMESPACE))["config"] == UPLOAD
    job = f"{NAMESPACE}.job_喂"
    assert NAMESPACE in (await api.get("/api"))["namespaces"]
    await api.post(f"/api/jobs/{quote(job, safe='')}", command="start")
    await api.wait_run_state(f"{job}.1", "succeeded")
    action = await api.get(f"/api/jobs/{job}/1/a_ключ", include_stdout=1)
    assert action["stdout"] == ["zwölf 🚀 ✓", "שלום"]


async def test_unknown_unicode_names_are_404_with_the_name(api: Harness) -> None:
    assert api.client is not None
    response = await api.client.get("/api/jobs/demo.ñø_such")
    assert (response.status_code, response.json()) == (
        404,
        {"error": "Cannot find child 'demo.ñø_such'"},
    )
