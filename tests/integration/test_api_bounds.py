"""Every integer parameter is range-checked (4xx naming it), and metrics labels are bounded."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from tests.integration.conftest import Harness, write_config
from tron.api.app import create_app

pytestmark = pytest.mark.asyncio(loop_scope="module")

MASTER = """
time_zone: UTC
jobs:
  talk:
    node: localhost
    schedule: "cron 0 4 * * *"
    actions:
      say: {command: "echo héllo ✓"}
"""
ACTION = "/api/jobs/MASTER.talk/1/say"
HUGE = "9" * 4301  # int() refuses more than 4,300 digits
OVER = [str(2**63), str(2**64), HUGE, "-1", "-" + HUGE, "+" + HUGE, "1e3", "0x10", "１２"]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    harness = Harness(tmp_path_factory.mktemp("bounds"))
    write_config(harness.config_dir, MASTER)
    async with harness.running() as h:
        await h.post("/api/jobs/MASTER.talk", command="start")
        await h.wait_run_state("MASTER.talk.1", "succeeded")
        yield h


async def status_and_error(h: Harness, path: str, **kwargs: object) -> tuple[int, str]:
    assert h.client is not None
    response = await h.client.get(path, **kwargs)  # type: ignore[arg-type]
    body = (
        response.json() if response.headers["content-type"].startswith("application/json") else {}
    )
    return response.status_code, str(body.get("error", "")) if isinstance(body, dict) else ""


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/jobs/MASTER.talk", "num_runs"),
        (ACTION, "num_lines"),
        (ACTION + "/output", "offset"),
        (ACTION + "/output", "attempt"),
    ],
)
async def test_out_of_range_integers_get_400_naming_the_parameter_and_range(
    api: Harness, path: str, name: str
) -> None:
    for value in OVER:
        status, error = await status_and_error(api, path, params={name: value})
        assert status == 400, (name, value[:20], error)
        assert f"'{name}' must be an integer from 0 to " in error


async def test_integers_at_their_bounds_are_served(api: Harness) -> None:
    output = ACTION + "/output"
    big = str(2**63 - 1)
    for path, params in [
        ("/api/jobs/MASTER.talk", {"num_runs": "0"}),
        ("/api/jobs/MASTER.talk", {"num_runs": "1000000"}),
        (ACTION, {"num_lines": "0", "include_stdout": "1"}),
        (ACTION, {"num_lines": "1000000", "include_stdout": "1"}),
        (output, {"offset": big}),
        (output, {"offset": "0", "attempt": "0"}),
        (output, {"attempt": "1000000"}),
        (output, {"offset": ""}),
    ]:
        status, error = await status_and_error(api, path, params=params)
        assert status == 200, (path, params, error)
    body = await api.get(output, offset=big)
    assert body["data"] == ""
    assert (await api.get(output, offset="0"))["data"] == "héllo ✓\n"


async def test_long_flags_fall_back_to_tron_rules_without_error(api: Harness) -> None:
    body = await api.get(ACTION, include_stdout="0" * 5000 + "1", num_lines="1")
    assert body["stdout"] == ["héllo ✓"]
    body = await api.get(ACTION, include_stdout="0" * 5000)
    assert not body.get("stdout")


@pytest.mark.parametrize("value", [v for v in OVER if v.isascii()])  # headers are ASCII
async def test_last_event_id_is_bounded(api: Harness, value: str) -> None:
    status, error = await status_and_error(api, "/api/stream", headers={"Last-Event-ID": value})
    assert status == 400
    assert "'last-event-id' must be an integer from 0 to 9223372036854775807" in error


async def test_huge_content_length_is_413_not_500(api: Harness) -> None:
    assert api.client is not None
    response = await api.client.post(
        "/api/config", content=b"name=x", headers={"Content-Length": HUGE}
    )
    assert response.status_code == 413


async def test_made_up_methods_do_not_grow_the_metrics(api: Harness) -> None:
    assert api.daemon is not None
    app = create_app(api.daemon)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
        await http.request("BREW", "/api/status")
        before = len((await http.get("/api/metrics")).content)
        for number in range(5_000):  # any unknown method would add a label
            response = await http.request(f"M{number}", "/api/status")
            assert response.status_code == 405
        after = await http.get("/api/metrics")
    methods = {timer["dimensions"]["method"] for timer in after.json()["timer"]}
    assert methods == {"GET", "other"}
    assert set(app.state.meters.timers) == {("status", "other"), ("tron_metrics", "GET")}
    # One more timer (the metrics route's own) at most: counts, not names, grew.
    assert len(after.content) < before + 1000
