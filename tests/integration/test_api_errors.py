"""Every bad request gets a 4xx JSON body with `error` (Tron's texts where Tron has one)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.integration.api_demo import SAMPLES, UNICODE_JOB, demo_harness, sample
from tests.integration.conftest import Harness
from tron.api.params import MAX_BODY_BYTES

pytestmark = pytest.mark.asyncio(loop_scope="module")

FORM = {"content-type": "application/x-www-form-urlencoded"}
BROKEN_NODE = "jobs:\n  a:\n    node: nope\n    schedule: bad\n    actions:\n      x: {}\n"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    async with demo_harness(tmp_path_factory.mktemp("errors")).running() as h:
        yield h


async def request(h: Harness, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    assert h.client is not None
    response = await h.client.request(method, path, **kwargs)
    assert response.headers["content-type"].startswith("application/json"), response.text
    return response.status_code, response.json()


# (method, path, request arguments, status, exact `error` text)
TRON_ERRORS: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("GET", "/api/jobs/demo.nope", {}, 404, "Cannot find child 'demo.nope'"),
    (
        "GET",
        "/api/jobs/demo.dag_job/LAST",
        {},
        404,
        "Cannot find job run 'LAST' for 'Job:demo.dag_job'",
    ),
    (
        "GET",
        "/api/jobs/demo.dag_job/0/nope",
        {},
        404,
        "Cannot find action 'nope' for 'JobRun:demo.dag_job.0'",
    ),
    ("GET", "/api/nope", {}, 404, "No Such Resource"),
    (
        "POST",
        "/api/jobs/demo.dag_job",
        {"data": {"command": "retry"}},
        501,
        "Unknown command 'retry' for 'demo.dag_job'",
    ),
    (
        "POST",
        "/api/jobs/demo.dag_job/0",
        {"data": {"command": "retry"}},
        501,
        "Unknown command 'retry' for 'JobRun:demo.dag_job.0'. Did you mean 'rerun'?",
    ),
    (
        "POST",
        "/api/jobs/demo.dag_job/0/extract",
        {"data": {"command": "skip"}},
        409,
        "Failed to skip on extract. State is scheduled.",
    ),
    (
        "POST",
        "/api/config",
        {"data": {"config": "jobs: {}"}},
        400,
        "'name' for config is required.",
    ),
    (
        "POST",
        "/api/events",
        {"data": {"command": "nope", "event": "e"}},
        400,
        "Unknown command: nope",
    ),
    (
        "POST",
        "/api/jobs",
        {"data": {"command": "move", "old_name": "demo.nope", "new_name": "demo.x"}},
        404,
        "demo.nope doesn't exist",
    ),
    (
        "POST",
        "/api/jobs",
        {"data": {"command": "move", "old_name": "demo.dag_job", "new_name": "demo.cleanup_job"}},
        409,
        "demo.cleanup_job exists already",
    ),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "error"), TRON_ERRORS)
async def test_error_has_trons_status_and_text(
    api: Harness, method: str, path: str, kwargs: dict[str, Any], status: int, error: str
) -> None:
    assert await request(api, method, path, **kwargs) == (status, {"error": error})


async def test_not_found_bodies_match_the_captures(api: Harness) -> None:
    for path, name in (
        ("/api/jobs/demo.nope", "api_jobs_nonexistent.json"),
        ("/api/jobs/demo.dag_job/LAST", "api_jobrun_dag_last.json"),
    ):
        assert await request(api, "GET", path) == (404, sample(name))


def captured_body(name: str) -> Any:
    """The JSON line of a raw `http_post_*.txt` capture."""
    text = (SAMPLES / name).read_text(encoding="utf-8")
    return json.loads(next(line for line in text.splitlines() if line.startswith("{")))


async def test_stale_hash_is_refused_with_trons_body(api: Harness) -> None:
    status, body = await request(
        api, "POST", "/api/config", data={"name": "demo", "config": "jobs: {}", "hash": "stale"}
    )
    assert (status, body) == (409, captured_body("http_post_config_stale_hash.txt"))


# (method, path, request arguments, status): bad input of every kind, never a 5xx.
BAD_REQUESTS: list[tuple[str, str, dict[str, Any], int]] = [
    ("GET", "/api/jobs/demo.dag_job/abc", {}, 404),
    ("GET", "/api/jobs/demo.dag_job/-99", {}, 404),
    ("GET", "/api/jobs/demo.dag_job/99/extract", {}, 404),
    ("GET", "/api/jobs/%FF%FE", {}, 404),
    ("GET", "/api/jobs/demo.dag_job/%FF", {}, 404),
    ("GET", "/api/jobs/demo.dag_job/0/%C3", {}, 404),
    ("GET", "/api/jobs/demo.dag_job/0/extract/output", {"params": {"stream": "x"}}, 400),
    ("POST", "/api/jobs/demo.dag_job", {"data": {}}, 400),
    ("POST", "/api/jobs/demo.dag_job", {"data": {"command": "bogus"}}, 501),
    ("POST", "/api/jobs/demo.nope", {"data": {"command": "start"}}, 404),
    ("POST", "/api/jobs/demo.dag_job", {"data": {"command": "start", "run_time": "soon"}}, 400),
    (
        "POST",
        "/api/jobs/demo.dag_job",
        {"data": {"command": "start", "run_time": "9999-12-31 23:59:59"}},
        400,
    ),
    ("POST", "/api/jobs/demo.dag_job/7", {"data": {"command": "start"}}, 404),
    ("POST", "/api/jobs/demo.dag_job/0/nope", {"data": {"command": "start"}}, 404),
    ("POST", "/api/jobs", {"data": {"command": "move"}}, 400),
    ("POST", "/api/jobs", {"data": {"command": "bogus"}}, 501),
    ("POST", "/api/events", {"data": {"command": "publish"}}, 409),  # the bus is off
    ("POST", "/api/jobs/demo.dag_job", {"content": b"\x00\xff\x01", "headers": FORM}, 400),
    (
        "POST",
        "/api/jobs/demo.dag_job",
        {"content": b"command=%FF", "headers": FORM},
        400,
    ),
    (
        "POST",
        "/api/jobs/demo.dag_job",
        {"content": b"\x00\x01", "headers": {"content-type": "application/octet-stream"}},
        415,
    ),
    (
        "POST",
        "/api/jobs/demo.dag_job",
        {"content": b"command=start", "headers": {"content-type": "text/plain"}},
        415,
    ),
    (
        "POST",
        "/api/config",
        {"content": b"{nope", "headers": {"content-type": "application/json"}},
        400,
    ),
    ("POST", "/api/config", {"json": ["a", "list"]}, 400),
    (
        "POST",
        "/api/jobs/demo.dag_job",
        {"content": b"--x\r\nbroken", "headers": {"content-type": "multipart/form-data"}},
        400,
    ),
    (
        "POST",
        "/api/config",
        {"content": b"config=" + b"a" * (MAX_BODY_BYTES + 1), "headers": FORM},
        413,
    ),
    ("DELETE", "/api/jobs", {}, 405),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), BAD_REQUESTS)
async def test_bad_request_is_a_json_4xx(
    api: Harness, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    got, body = await request(api, method, path, **kwargs)
    assert (got, sorted(body)) == (status, ["error"])
    assert body["error"]


async def test_invalid_config_lists_every_problem_and_keeps_the_old_one(api: Harness) -> None:
    before = await api.get("/api/config", name="demo")
    status, body = await request(
        api, "POST", "/api/config", data={"name": "demo", "config": BROKEN_NODE}
    )
    assert status == 400
    assert body["status"] == "Active"
    assert body.keys() == {"status", "error", "problems"}
    messages = [p["message"] for p in body["problems"]]
    assert len(messages) >= 2
    assert any("nope" in m for m in messages)
    assert all(p["message"] in body["error"] for p in body["problems"])
    assert await api.get("/api/config", name="demo") == before
    assert "demo.dag_job" in (await api.get("/api"))["jobs"]


async def test_check_only_upload_reports_problems_without_applying(api: Harness) -> None:
    status, body = await request(
        api, "POST", "/api/config", data={"name": "extra", "config": BROKEN_NODE, "check": "1"}
    )
    assert status == 400
    assert body["problems"]
    assert "extra" not in (await api.get("/api"))["namespaces"]


async def test_command_results_use_trons_texts(api: Harness) -> None:
    assert await api.post("/api/jobs/demo.cleanup_job", command="disable") == {
        "result": "Job:demo.cleanup_job is disabled"
    }
    assert await api.post("/api/jobs/demo.cleanup_job", command="enable") == {
        "result": "Job:demo.cleanup_job is enabled"
    }
    assert await api.post("/api/jobs/demo.dag_job/0", command="cancel") == {
        "result": "JobRun:demo.dag_job.0 now in state cancelled"
    }
    assert await api.post("/api/jobs/demo.dag_job/0", command="cancel") == {
        "result": "Failed to cancel, JobRun:demo.dag_job.0 in state cancelled",
        "refused": True,
    }


async def test_refusals_tron_answers_with_200_carry_refused(api: Harness) -> None:
    """Tron's 200 and text (its tronctl exits 0), and beside it `refused` for our tronctl."""

    def refusal(text: str) -> dict[str, object]:
        return {"result": text, "refused": True}

    runs = (await api.get("/api/jobs/demo.cleanup_job"))["runs"]
    pending = next(r["run_num"] for r in runs if r["state"] == "scheduled")
    work = f"/api/jobs/demo.cleanup_job/{pending}/work"
    assert await api.post(work, command="start") == refusal(
        "Action run cannot be started if its job run is still scheduled."
    )
    assert await api.post(work, command="recover") == refusal(
        "Action run cannot be recovered if its state is not unknown."
    )
    created = await api.post("/api/jobs/demo.cleanup_job", command="start")
    run_num = created["result"].rsplit(".", 1)[1]
    await api.wait_run_state(f"demo.cleanup_job.{run_num}", "succeeded")
    assert await api.post(f"/api/jobs/demo.cleanup_job/{run_num}/work", command="retry") == (
        refusal("JobRun has run a cleanup action, use rerun instead")
    )
    assert await api.post(f"/api/jobs/demo.cleanup_job/{run_num}", command="cancel") == refusal(
        f"Failed to cancel, JobRun:demo.cleanup_job.{run_num} in state succeeded"
    )
    # The operators' audit log counts them as not done either.
    history = (await api.get("/api/audit"))["history"]
    refused = [e for e in history if "use rerun" in e["result"] or "still scheduled" in e["result"]]
    assert len(refused) == 2
    assert not any(e["ok"] for e in refused)


async def test_move_renames_a_job_with_its_history_and_back(api: Harness) -> None:
    renamed = "démo.renamed_ü"
    before = await api.get(f"/api/jobs/{UNICODE_JOB}")
    moved = await request(
        api, "POST", "/api/jobs",
        data={"command": "move", "old_name": UNICODE_JOB, "new_name": renamed},
    )  # fmt: skip
    assert moved == (200, {"result": f"Moving {UNICODE_JOB} to {renamed} succeeded."})
    status, _ = await request(api, "GET", f"/api/jobs/{UNICODE_JOB}")
    assert status == 404
    after = await api.get(f"/api/jobs/{renamed}")
    assert after["name"] == renamed
    assert [r["run_num"] for r in after["runs"]] == [r["run_num"] for r in before["runs"]]
    assert all(r["id"].startswith(f"{renamed}.") for r in after["runs"])
    status, body = await request(
        api, "POST", "/api/jobs",
        data={"command": "move", "old_name": renamed, "new_name": "no_namespace"},
    )  # fmt: skip
    assert status == 400
    assert "no_namespace cannot name a job" in body["error"]
    back = await request(
        api, "POST", "/api/jobs",
        data={"command": "move", "old_name": renamed, "new_name": UNICODE_JOB},
    )  # fmt: skip
    assert back[0] == 200
    assert [r["id"] for r in (await api.get(f"/api/jobs/{UNICODE_JOB}"))["runs"]] == [
        r["id"] for r in before["runs"]
    ]
