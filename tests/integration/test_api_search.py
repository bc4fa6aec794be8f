"""/api/runs, /output?grep= and /api/jobs/<job>/search on a daemon running real commands."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.integration.conftest import Harness, write_config

pytestmark = pytest.mark.asyncio(loop_scope="module")

MASTER = """
time_zone: UTC
jobs:
  talk:
    node: localhost
    schedule: "cron 0 4 * * *"
    actions:
      say:
        command: "printf '%s\\\\n' 'héllo ✓' 'plain' 'zwölf 🚀' 'héllo again' >&2; echo out ✓"
      slow:
        command: "python3 -c \\"print('a' * 5000 + 'b'); print('after')\\""
  quiet:
    node: localhost
    schedule: "cron 0 5 * * *"
    actions:
      hush: {command: "true"}
"""
SAY = "/api/jobs/MASTER.talk/1/say/output"
SLOW = "/api/jobs/MASTER.talk/1/slow/output"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    harness = Harness(tmp_path_factory.mktemp("search"))
    write_config(harness.config_dir, MASTER)
    async with harness.running() as h:
        await h.post("/api/jobs/MASTER.talk", command="start")
        await h.wait_run_state("MASTER.talk.1", "succeeded")
        await h.post("/api/jobs/MASTER.quiet", command="start")
        await h.wait_run_state("MASTER.quiet.1", "succeeded")
        yield h


async def error(h: Harness, path: str, **params: Any) -> tuple[int, str]:
    assert h.client is not None
    response = await h.client.get(path, params=params)
    return response.status_code, str(response.json().get("error", ""))


async def test_grep_returns_matching_lines_with_their_numbers(api: Harness) -> None:
    body = await api.get(SAY, stream="stderr", grep="h.llo")
    assert body["matches"] == [
        {"line": 1, "text": "héllo ✓"},
        {"line": 4, "text": "héllo again"},
    ]
    assert body["truncated"] is False
    assert body["timed_out"] is False
    assert (await api.get(SAY, grep="✓"))["matches"] == [{"line": 1, "text": "out ✓"}]
    assert (await api.get(SAY, stream="stderr", grep="🚀$"))["matches"][0]["line"] == 3


async def test_grep_pages_by_limit_and_next_offset(api: Harness) -> None:
    first = await api.get(SAY, stream="stderr", grep="llo", limit=1)
    assert [m["line"] for m in first["matches"]] == [1]
    assert first["truncated"] is True
    rest = await api.get(SAY, stream="stderr", grep="llo", offset=first["next_offset"])
    assert [m["line"] for m in rest["matches"]] == [4]
    assert rest["truncated"] is False


async def test_without_grep_output_is_unchanged(api: Harness) -> None:
    body = await api.get(SAY, stream="stderr")
    assert body["data"].startswith("héllo ✓\n")
    assert body["done"] is True


async def test_bad_patterns_and_params_are_400(api: Harness) -> None:
    for params in [
        {"grep": "("},
        {"grep": "a{2,1}"},
        {"grep": "x" * 201},
        {"grep": "a", "limit": "0"},
        {"grep": "a", "limit": "1001"},
        {"grep": "a", "offset": "-1"},
        {"grep": ""},
    ]:
        status, text = await error(api, SAY, **params)
        assert status == 400, (params, text)
    assert "regular expression" in (await error(api, SAY, grep="("))[1]
    assert (
        "'limit' must be an integer from 1 to 1000" in (await error(api, SAY, grep="a", limit=0))[1]
    )


async def test_catastrophic_pattern_returns_within_the_budget(api: Harness) -> None:
    deadline = time.monotonic() + 30  # generous: the budget is 2 s
    body = await api.get(SLOW, grep="(a+)+$")
    assert time.monotonic() < deadline
    assert body["timed_out"] is True
    assert body["truncated"] is True
    # The line that used the time up is skipped: resuming goes on past it.
    rest = await api.get(SLOW, grep="after", offset=body["next_offset"])
    assert rest["matches"] == [{"line": 2, "text": "after"}]


async def test_job_search_names_runs_and_actions_that_matched(api: Harness) -> None:
    body = await api.get("/api/jobs/MASTER.talk/search", grep="ö|llo")
    assert body["runs"] == [
        {"run": "MASTER.talk.1", "actions": [{"action": "say", "stream": "stderr", "matches": 3}]}
    ]
    assert body["searched_runs"] >= 1  # the next scheduled run too
    assert (await api.get("/api/jobs/MASTER.talk/search", grep="nowhere"))["runs"] == []
    assert (await error(api, "/api/jobs/MASTER.talk/search", grep="(", num_runs=1))[0] == 400
    assert (await error(api, "/api/jobs/MASTER.talk/search", grep="a", num_runs=101))[0] == 400
    assert (await error(api, "/api/jobs/MASTER.talk/search"))[0] == 400
    assert (await error(api, "/api/jobs/MASTER.nope/search", grep="a"))[0] == 404


async def test_runs_in_a_window_newest_first(api: Harness) -> None:
    body = await api.get("/api/runs")
    ids = [r["id"] for r in body["runs"]]
    assert {"MASTER.talk.1", "MASTER.quiet.1"} <= set(ids)
    times = [r["run_time"] for r in body["runs"]]
    assert times == sorted(times, reverse=True)
    talk = next(r for r in body["runs"] if r["id"] == "MASTER.talk.1")
    assert talk["job"] == "MASTER.talk"
    assert talk["run_num"] == 1
    assert talk["manual"] is True
    assert talk["state"] == "succeeded"
    assert talk["start_time"].endswith("+00:00")
    assert body["total"] == len(ids)


async def test_runs_filters_and_pages(api: Harness) -> None:
    only = await api.get("/api/runs", job="MASTER.quiet")
    assert "MASTER.quiet.1" in [r["id"] for r in only["runs"]]
    assert {r["job"] for r in only["runs"]} == {"MASTER.quiet"}
    scheduled = [r for r in only["runs"] if r["state"] == "scheduled"]
    assert all(r["start_time"] is None for r in scheduled)
    assert (await api.get("/api/runs", namespace="nope"))["runs"] == []
    assert all(
        r["state"] == "scheduled" for r in (await api.get("/api/runs", state="scheduled"))["runs"]
    )
    page = await api.get("/api/runs", limit=1)
    assert len(page["runs"]) == 1
    assert page["next_offset"] == 1
    assert page["total"] >= 2
    last = await api.get("/api/runs", limit=1, offset=page["total"] - 1)
    assert last["next_offset"] is None
    # The manual runs ran at the harness clock's time: 2026-03-01 12:00 UTC.
    assert (await api.get("/api/runs", until="2000-01-01"))["runs"] == []
    naive = await api.get("/api/runs", since="2026-03-01T11:59:00", until="2026-03-01T12:01")
    zoned = await api.get(
        "/api/runs", since="2026-03-01T12:59:00+01:00", until="2026-03-01T13:01+01:00"
    )
    assert naive["total"] == zoned["total"] >= 2


async def test_runs_bad_params_are_400_naming_them(api: Harness) -> None:
    assert "'since'" in (await error(api, "/api/runs", since="yesterday"))[1]
    assert "'until'" in (await error(api, "/api/runs", until="2026-13-01"))[1]
    assert (await error(api, "/api/runs", since="2026-03-02", until="2026-03-01"))[0] == 400
    assert (await error(api, "/api/runs", state="happy"))[0] == 400
    assert (await error(api, "/api/runs", limit="1001"))[0] == 400
