"""Every page loads against a live trond, shows unicode names and reacts to the keyboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.integration.trond_process import TrondProcess
from tests.web.conftest import JOB_COUNT, screenshot

pytestmark = pytest.mark.browser


def test_jobs_page_lists_every_job_with_unicode_names(page: Page, trond: TrondProcess) -> None:
    page.goto(f"{trond.url}/")
    expect(page).to_have_url(re.compile(r"/web/"))
    rows = page.locator(".vrow")
    expect(rows).to_have_count(JOB_COUNT)
    expect(page.locator('.vrow[data-job="web.uni_ünïcode_jöb"] .name a')).to_have_text(
        "uni_ünïcode_jöb"
    )
    expect(page.get_by_role("status").first).to_have_text(f"{JOB_COUNT} of {JOB_COUNT} jobs")
    screenshot(page, "jobs")


def test_jobs_filter_narrows_the_list_and_keeps_it_in_the_url(
    page: Page, trond: TrondProcess
) -> None:
    page.goto(f"{trond.url}/web/#/jobs")
    expect(page.locator(".vrow")).to_have_count(JOB_COUNT)
    page.keyboard.press("f")
    page.keyboard.type("stream")
    expect(page.locator(".vrow")).to_have_count(1)
    expect(page.locator(".vrow .name")).to_have_text("streamer")
    assert "q=stream" in page.url
    page.reload()
    expect(page.locator(".vrow")).to_have_count(1)
    screenshot(page, "jobs-filtered")


def test_jobs_sort_by_name_descending_when_the_sorted_header_is_clicked(
    page: Page, trond: TrondProcess
) -> None:
    page.goto(f"{trond.url}/web/#/jobs")
    expect(page.locator(".vrow")).to_have_count(JOB_COUNT)
    page.locator(".vhead button").first.click()
    expect(page.get_by_role("columnheader").first).to_have_attribute("aria-sort", "descending")
    names = [page.locator(f'.vrow[data-index="{i}"] .name').inner_text() for i in range(JOB_COUNT)]
    assert names == ["uni_ünïcode_jöb", "streamer", "pipeline", "big"]


def test_job_page_draws_the_action_graph_with_cleanup_apart(
    page: Page, trond: TrondProcess
) -> None:
    page.goto(f"{trond.url}/web/#/job/web.pipeline")
    graph = page.locator("svg.dag")
    for name in ("fetch", "build", "publish", "cleanup"):
        expect(graph.locator(f'g.node[data-action="{name}"]')).to_have_count(1)
    expect(graph.locator("path.edge")).to_have_count(2)
    expect(graph.locator("text.caption")).to_have_text("runs last")
    expect(page.get_by_role("button", name="Start", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Disable")).to_be_visible()
    screenshot(page, "job")


def test_unknown_page_says_not_found(page: Page, trond: TrondProcess) -> None:
    page.goto(f"{trond.url}/web/#/nowhere/at/all/really")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()


def test_keyboard_shortcuts_go_to_the_timeline_and_config(page: Page, trond: TrondProcess) -> None:
    page.goto(f"{trond.url}/web/#/jobs")
    expect(page.locator(".vrow")).to_have_count(JOB_COUNT)
    page.keyboard.press("g")
    page.keyboard.press("t")
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    page.keyboard.press("g")
    page.keyboard.press("c")
    expect(page.get_by_role("heading", name="Config", exact=True)).to_be_visible()


def test_dark_mode_follows_the_system_preference(page: Page, trond: TrondProcess) -> None:
    page.emulate_media(color_scheme="dark")
    page.goto(f"{trond.url}/web/#/jobs")
    expect(page.locator(".vrow")).to_have_count(JOB_COUNT)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(21, 23, 28)"
    screenshot(page, "jobs-dark")
