"""The jobs list stays fast with 10,000 jobs: only the rows in view exist in the page."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, Route, expect

from tests.integration.trond_process import TrondProcess
from tests.web.conftest import screenshot

pytestmark = pytest.mark.browser
COUNT = 10_000


def fake_job(i: int) -> dict[str, object]:
    return {
        "name": f"ns{i % 7}.job_{i:05d}",
        "status": "enabled" if i % 3 else "disabled",
        "scheduler": {"type": "cron", "value": "*/5 * * * *", "jitter": ""},
        "node_pool": {"name": f"node{i % 4}", "nodes": []},
        "next_run": "2030-01-01 00:00:00",
        "runs": [
            {
                "run_num": 1,
                "state": "failed" if i % 11 == 0 else "succeeded",
                "start_time": "2026-01-01 00:00:00",
                "duration": "0:00:42",
            }
        ],
    }


def serve_many_jobs(route: Route) -> None:
    body = json.dumps({"jobs": [fake_job(i) for i in range(COUNT)]})
    route.fulfill(status=200, content_type="application/json", body=body)


def test_ten_thousand_jobs_render_only_the_visible_rows(page: Page, trond: TrondProcess) -> None:
    # The browser answers /api/jobs itself: the UI under test is real, the 10,000 jobs are not.
    page.route("**/api/jobs?*", serve_many_jobs)
    page.goto(f"{trond.url}/web/#/jobs")
    expect(page.get_by_role("status").first).to_have_text(
        f"{COUNT} of {COUNT} jobs", timeout=60_000
    )
    assert page.locator(".vrow").count() < 80
    screenshot(page, "jobs-10000")

    page.locator(".vlist").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    expect(page.locator('.vrow[data-job="ns3.job_09999"]')).to_be_visible()
    assert page.locator(".vrow").count() < 80

    page.locator("[data-filter]").fill("job_0999")
    expect(page.locator(".vrow")).to_have_count(10)
    page.locator("select[name=state]").select_option("failed")
    expect(page.get_by_role("status").first).to_have_text(f"1 of {COUNT} jobs")
