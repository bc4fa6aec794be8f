"""Acting from the UI and watching it change: start a job, follow output, diff config versions."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.integration.trond_process import TrondProcess
from tests.web.conftest import JOB_COUNT, TokenTrond, screenshot

pytestmark = pytest.mark.browser
CREATED = re.compile(r"Created JobRun:web\.(\w+)\.(\d+)")


def start_from_ui(page: Page, job: str) -> str:
    page.get_by_role("button", name="Start", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Start {job} now")
    dialog.get_by_role("button", name="Start").click()
    toast = page.locator("#toast")
    expect(toast).to_contain_text("Created JobRun:")
    found = CREATED.search(toast.inner_text())
    assert found is not None
    return found.group(2)


def test_starting_a_job_from_the_ui_colours_its_graph_live(page: Page, trond: TrondProcess) -> None:
    page.goto(f"{trond.url}/web/#/job/web.pipeline")
    run = start_from_ui(page, "web.pipeline")
    page.goto(f"{trond.url}/web/#/job/web.pipeline/{run}")
    expect(page.locator('svg.dag g.node[data-action="fetch"]')).to_have_attribute(
        "data-state", re.compile("starting|running")
    )
    screenshot(page, "run-running")
    publish = page.locator('svg.dag g.node[data-action="publish"]')
    expect(publish).to_have_attribute("data-state", "succeeded", timeout=15_000)
    expect(page.locator('svg.dag g.node[data-action="cleanup"]')).to_have_attribute(
        "data-state", "succeeded", timeout=10_000
    )
    expect(page.locator("h1 .badge")).to_have_text("succeeded", timeout=10_000)
    screenshot(page, "run")


def test_action_output_follows_while_the_action_runs(page: Page, trond: TrondProcess) -> None:
    created = trond.post("/api/jobs/web.streamer", command="start")["result"]
    run = CREATED.search(created).group(2)  # type: ignore[union-attr]
    page.goto(f"{trond.url}/web/#/job/web.streamer/{run}/talk")
    stdout = page.locator('pre.output[data-stream="stdout"]')
    expect(stdout).to_contain_text("line 2 ✓ ünïcode 日本")
    assert "line 8" not in stdout.inner_text()
    expect(page.locator("h1 .badge")).to_have_text("running")
    expect(stdout).to_contain_text("line 8", timeout=15_000)
    red = stdout.locator("span", has_text="line 1").first
    expect(red).to_have_css("color", "rgb(204, 51, 51)")
    assert "\x1b" not in stdout.inner_text()
    expect(page.locator('pre.output[data-stream="stderr"]')).to_contain_text("oops")
    expect(page.locator("h1 .badge")).to_have_text("succeeded", timeout=10_000)
    screenshot(page, "action")


def test_large_output_is_paged_not_loaded_whole(page: Page, trond: TrondProcess) -> None:
    trond.post("/api/jobs/web.big", command="start")
    page.goto(f"{trond.url}/web/#/job/web.big/-1/flood")
    expect(page.locator("h1 .badge")).to_have_text("succeeded", timeout=10_000)
    page.reload()
    stdout = page.locator('pre.output[data-stream="stdout"]')
    expect(page.locator(".pager").first).to_contain_text("page 1 of 2")
    assert "the-end" not in stdout.inner_text()
    page.get_by_role("button", name="Next ›").click()
    expect(stdout).to_contain_text("the-end")
    expect(page.locator(".pager").first).to_contain_text("page 2 of 2")


def test_action_commands_ask_for_a_confirmation_that_names_what_happens(
    page: Page, trond: TrondProcess
) -> None:
    trond.post("/api/jobs/web.uni_ünïcode_jöb", command="start")
    page.goto(f"{trond.url}/web/#/job/web.uni_ünïcode_jöb/-1/grüß")
    expect(page.locator('pre.output[data-stream="stdout"]')).to_contain_text("héllo wörld ✓ 日本語")
    # The action has succeeded: Kill is refused (test_act.py), Retry asks first.
    page.get_by_role("button", name="Retry").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("run its command again")
    expect(dialog).to_contain_text("web.uni_ünïcode_jöb.")
    screenshot(page, "action-confirm")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(page.locator("#toast.show")).to_have_count(0)


def upload(trond: TrondProcess, text: str) -> None:
    current = trond.get("/api/config", name="web")
    trond.post("/api/config", name="web", config=text, hash=current["hash"])


def test_config_page_shows_the_diff_between_two_uploaded_versions(
    page: Page, trond: TrondProcess
) -> None:
    original = trond.get("/api/config", name="web")["config"]
    upload(trond, original.replace("echo published", "echo published v2"))
    upload(trond, original.replace("echo published", "echo published v3"))
    page.goto(f"{trond.url}/web/#/config/web")
    expect(page.locator("pre.code .line").first).to_be_visible()
    expect(page.locator("table.diff .diff-del")).to_contain_text("echo published v2")
    expect(page.locator("table.diff .diff-add")).to_contain_text("echo published v3")
    screenshot(page, "config")


def test_timeline_shows_the_recent_runs(page: Page, trond: TrondProcess) -> None:
    trond.post("/api/jobs/web.uni_ünïcode_jöb", command="start")
    page.goto(f"{trond.url}/web/#/timeline")
    expect(page.locator("svg.bars rect.bar").first).to_be_visible()
    expect(page.locator("svg.bars")).to_contain_text("web.uni_ünïcode_jöb")
    expect(page.get_by_role("button", name="auto")).to_have_attribute("aria-pressed", "true")
    screenshot(page, "timeline")


def test_ui_asks_for_the_token_once_when_the_api_answers_401(
    page: Page, token_trond: TokenTrond
) -> None:
    assert httpx.get(f"{token_trond.url}/api/jobs").status_code == 401
    page.goto(f"{token_trond.url}/web/#/jobs")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Token required")
    screenshot(page, "token")
    dialog.get_by_label("API token").fill(token_trond.token)
    dialog.get_by_role("button", name="Use token").click()
    expect(page.locator(".vrow")).to_have_count(JOB_COUNT)
    page.goto(f"{token_trond.url}/web/#/job/web.pipeline")
    expect(page.locator("svg.dag")).to_be_visible()
    expect(page.locator(".why-sentence")).to_contain_text("web.pipeline")
    # The editor's checks are POSTs: they carry the token too, and pass the site guard.
    page.goto(f"{token_trond.url}/web/#/config-edit/web")
    expect(page.locator(".region.verdict")).to_contain_text("no change")
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_ui_opens_the_event_stream_with_a_ticket_never_the_token(
    page: Page, token_trond: TokenTrond
) -> None:
    urls: list[str] = []
    streams: list[int] = []
    page.on("request", lambda request: urls.append(request.url))
    page.on(
        "response",
        lambda r: streams.append(r.status) if "/api/stream?ticket=" in r.url else None,
    )
    page.goto(f"{token_trond.url}/web/#/jobs")
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("API token").fill(token_trond.token)
    dialog.get_by_role("button", name="Use token").click()
    expect(page.locator(".vrow")).to_have_count(JOB_COUNT)
    deadline = time.monotonic() + 30
    while not streams and time.monotonic() < deadline:
        page.wait_for_timeout(50)  # lets the page's network events be delivered
    assert streams == [200]
    assert not [url for url in urls if token_trond.token in url or "token=" in url]
