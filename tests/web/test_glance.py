"""At a glance and find anything (issue 16): grids, the jobs list's run strips, trends, the
timeline over /api/runs, quick find, output search and the not-found page, in Chromium."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

from tests.integration.trond_process import TrondProcess
from tests.web.a11y import axe_violations, need_axe, unreachable_by_tab
from tests.web.conftest import MASTER, NEVER, screenshot, wait_for

pytestmark = pytest.mark.browser

# Odd runs of `mixed` fail; even ones outlast expected_runtime (late). `calm` never runs and
# is due daily, so a week's timeline shows it as a hollow bar.
GLANCE = f"""\
jobs:
  mixed:
    node: localhost
    schedule: "{NEVER}"
    expected_runtime: 1s
    actions:
      slow:
        command: "case {{runid}} in *[02468]) sleep 1.3;; esac"
      flaky:
        command: "case {{runid}} in *[13579]) exit 3;; esac"
        requires: [slow]
  calm:
    node: localhost
    schedule: "daily 04:00:00"
    actions:
      nap:
        command: "true"
  talker:
    node: localhost
    schedule: "{NEVER}"
    actions:
      say:
        command: "printf 'alpha\\\\nbeta one\\\\ngamma\\\\nbeta two ✓\\\\n'"
"""
RUNS = 4
SHOWN = RUNS + 1  # and the scheduled next run


def wait_for_state(trond: TrondProcess, run_id: str, *states: str) -> None:
    job, _, num = run_id.rpartition(".")

    def reached() -> bool:
        return trond.get(f"/api/jobs/{job}/{num}")["state"] in states

    wait_for(reached, f"{run_id} reaches {states}")


@pytest.fixture(scope="module")
def glance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrondProcess]:
    root = tmp_path_factory.mktemp("trond-glance")
    config = root / "config"
    config.mkdir()
    (config / "MASTER.yaml").write_text(MASTER, encoding="utf-8")
    (config / "glance.yaml").write_text(textwrap.dedent(GLANCE), encoding="utf-8")
    process = TrondProcess(root / "work", config)
    process.start()
    try:
        for _ in range(RUNS):
            process.post("/api/jobs/glance.mixed", command="start")
        process.post("/api/jobs/glance.talker", command="start")
        for num in range(1, RUNS + 1):
            wait_for_state(process, f"glance.mixed.{num}", "succeeded", "failed")
        wait_for_state(process, "glance.talker.1", "succeeded")
        yield process
    finally:
        process.stop()


def test_job_grid_shows_runs_by_action_with_glyphs_durations_and_links(
    page: Page, glance: TrondProcess
) -> None:
    page.goto(f"{glance.url}/web/#/grid/glance.mixed")
    grid = page.locator(".glance-grid")
    expect(grid).to_have_attribute("data-runs", str(SHOWN))
    failed = grid.locator('a.cell[href$="/1/flaky"]')
    expect(failed).to_have_attribute("data-state", "failed")
    expect(failed).to_have_text("✗")
    expect(failed).to_have_attribute("title", re.compile(r"^flaky · run 1 · failed · \d"))
    expect(grid.locator('a.cell[href$="/2/slow"]')).to_have_text("✓")
    screenshot(page, "grid-job")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "grid-job-dark")
    failed.click()
    expect(page).to_have_url(re.compile(r"#/job/glance\.mixed/1/flaky$"))
    expect(page.get_by_role("heading", name=re.compile("glance.mixed.1.flaky"))).to_be_visible()


def test_namespace_grid_shows_each_job_by_its_last_runs(page: Page, glance: TrondProcess) -> None:
    page.goto(f"{glance.url}/web/#/grid/glance")
    expect(page.locator('.row-name[data-job="glance.mixed"]')).to_have_text("mixed")
    expect(page.locator('.glance-grid a.cell[href*="glance.mixed"]')).to_have_count(SHOWN)
    expect(page.locator('.glance-grid a.cell[data-state="failed"]')).to_have_count(RUNS // 2)
    expect(page.locator('.row-name[data-job="glance.calm"]')).to_be_visible()
    expect(page.locator('[data-note="runs"]')).to_contain_text("at most 100 runs a job")
    screenshot(page, "grid-namespace")


def test_jobs_list_shows_loading_then_run_strips_success_rate_and_why_it_is_empty(
    page: Page, glance: TrondProcess
) -> None:
    # The job list is held back until the loading state has been seen.
    held: list[Route] = []
    page.route("**/api/jobs?*", lambda route: held.append(route))
    page.goto(f"{glance.url}/web/#/jobs")
    expect(page.get_by_text("Loading jobs…")).to_be_visible()
    while not held:
        page.wait_for_timeout(50)
    held[0].continue_()
    row = page.locator('.vrow[data-job="glance.mixed"]')
    expect(row.locator(".strip .tick")).to_have_count(SHOWN)
    expect(row.locator(".strip .tick").last).to_have_attribute("data-state", "scheduled")
    expect(row.locator(".strip .tick").first).to_have_text("✗")
    expect(row.locator(".rate")).to_have_text("50%")
    expect(page.get_by_text("Loading jobs…")).to_be_hidden()
    screenshot(page, "jobs-strips")
    page.locator("[data-filter]").fill("zzz")
    expect(page.get_by_text("no job matches 'zzz'")).to_be_visible()
    expect(page.locator(".vrow")).to_have_count(0)


def test_trends_draw_durations_expected_runtime_and_mark_late_runs(
    page: Page, glance: TrondProcess
) -> None:
    page.goto(f"{glance.url}/web/#/trends/glance.mixed")
    chart = page.locator("svg.trend")
    expect(chart.locator("rect.dot")).to_have_count(RUNS)
    expect(chart.locator("line.expected")).to_have_count(1)
    expect(chart.locator('rect[data-late="true"]')).to_have_count(RUNS // 2)
    expect(page.locator("[data-late-count]")).to_have_text(f"{RUNS // 2} late")
    screenshot(page, "trends")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "trends-dark")


def test_timeline_defaults_to_the_activity_shows_due_runs_hollow_and_filters(
    page: Page, glance: TrondProcess
) -> None:
    page.goto(f"{glance.url}/web/#/timeline")
    bars = page.locator("svg.bars rect.bar")
    expect(bars.first).to_be_visible()
    # A run of a second is a visible bar, not a sliver of a fixed day (drawn at the 3 px least).
    widths = [float(w) for w in bars.evaluate_all("els => els.map(e => e.getAttribute('width'))")]
    assert max(widths) > 6
    page.locator("select[name=state]").select_option("failed")
    expect(bars).to_have_count(RUNS // 2)
    expect(page).to_have_url(re.compile("state=failed"))
    page.locator("select[name=state]").select_option("")
    page.get_by_role("button", name="7d").click()
    expect(page.locator("svg.bars rect.bar.hollow")).to_have_count(1)
    page.locator("select[name=ns]").select_option("glance")
    expect(page).to_have_url(re.compile("ns=glance"))
    expect(page.locator("svg.bars rect.bar.hollow")).to_have_count(1)
    page.locator("select[name=state]").select_option("cancelled")
    expect(page.get_by_text("Nothing ran in this window.")).to_have_text(
        'Nothing ran in this window. Filtered by state cancelled and namespace glance: choose "all"'
        " or a longer window to see more."
    )
    screenshot(page, "timeline-empty-filter")


FAKE_RUNS = 7000  # past the 5,000 runs one drawing fetches
FAKE_JOBS = 650  # past the 300 jobs one drawing shows


def serve_many_runs(route: Route) -> None:
    """/api/runs over FAKE_RUNS runs of FAKE_JOBS jobs, all in the last hours, newest first."""
    query = parse_qs(urlsplit(route.request.url).query)
    offset, limit = int(query["offset"][0]), int(query["limit"][0])
    now = datetime.now(UTC)
    runs = []
    for i in range(offset, min(offset + limit, FAKE_RUNS)):
        start = now - timedelta(seconds=5 * i + 60)
        stamp = start.isoformat(timespec="seconds")
        job = f"ns{i % FAKE_JOBS % 3}.job_{i % FAKE_JOBS:03d}"
        end = (start + timedelta(seconds=30)).isoformat(timespec="seconds")
        runs.append(
            {
                **{"id": f"{job}.{i}", "job": job, "run_num": i, "state": "succeeded"},
                **{"run_time": stamp, "start_time": stamp, "end_time": end},
            }
        )
    more = offset + limit if offset + limit < FAKE_RUNS else None
    body = {"runs": runs, "total": FAKE_RUNS, "next_offset": more}
    route.fulfill(status=200, content_type="application/json", body=json.dumps(body))


def test_timeline_pages_through_jobs_past_300_and_runs_past_5000(
    page: Page, glance: TrondProcess
) -> None:
    # The browser answers /api/runs itself: the UI under test is real, the 7,000 runs are not.
    page.route("**/api/runs?*", serve_many_runs)
    page.goto(f"{glance.url}/web/#/timeline?window=24h")
    summary = page.locator("main p[role=status]")
    expect(summary).to_contain_text("runs 1–5000 of 7000, newest first", timeout=60_000)
    expect(summary).to_contain_text(f"jobs 1–300 of {FAKE_JOBS}")
    labels = page.locator("svg.bars .row-label")
    expect(labels).to_have_count(300)
    expect(labels.first).to_have_text("ns0.job_000")
    pager = page.get_by_role("navigation", name="Pages of the timeline")
    pager.get_by_role("button", name="Next 300 jobs ›").click()
    expect(summary).to_contain_text(f"jobs 301–600 of {FAKE_JOBS}")
    expect(page).to_have_url(re.compile("jobs=2"))
    pager.get_by_role("button", name="Next 300 jobs ›").click()
    expect(summary).to_contain_text(f"jobs 601–{FAKE_JOBS} of {FAKE_JOBS}")
    expect(labels).to_have_count(FAKE_JOBS - 600)
    expect(pager.get_by_role("button", name="Next 300 jobs ›")).to_have_count(0)
    assert not axe_violations(page)
    screenshot(page, "timeline-paged")
    pager.get_by_role("button", name="‹ Jobs 301–600").click()
    expect(summary).to_contain_text(f"jobs 301–600 of {FAKE_JOBS}")
    pager.get_by_role("button", name="Older runs (2000 more) ›").click()
    expect(summary).to_contain_text("runs 5001–7000 of 7000, newest first")
    expect(summary).to_contain_text(f"jobs 1–300 of {FAKE_JOBS}")
    assert "runs=2" in page.url
    assert "jobs=" not in page.url
    expect(pager.get_by_role("button", name=re.compile("Older runs"))).to_have_count(0)
    pager.get_by_role("button", name="‹ Newer runs").click()
    expect(summary).to_contain_text("runs 1–5000 of 7000")


def test_timeline_a_slower_earlier_load_does_not_draw_over_a_newer_filter(
    page: Page, glance: TrondProcess
) -> None:
    held: list[Route] = []
    page.route("**/api/runs?*", lambda route: route.continue_() if held else held.append(route))
    page.goto(f"{glance.url}/web/#/timeline")
    while not held:
        page.wait_for_timeout(50)
    # The page's first load (every state) is held; the filter's load answers first.
    page.locator("select[name=state]").select_option("failed")
    bars = page.locator("svg.bars rect.bar")
    expect(bars).to_have_count(RUNS // 2)
    with page.expect_response(lambda response: "state=" not in response.url):
        held[0].continue_()
    page.evaluate("() => new Promise((done) => setTimeout(done, 200))")  # its drawing, if any
    # Counted now, not awaited: a later live reload would hide a stale drawing.
    assert bars.count() == RUNS // 2
    expect(page.get_by_role("status").filter(has_text="Hollow bars")).to_contain_text(
        f"{RUNS // 2} runs"
    )


def test_quick_find_opens_on_slash_and_goes_to_runs_and_actions(
    page: Page, glance: TrondProcess
) -> None:
    page.goto(f"{glance.url}/web/#/grid/glance.mixed")
    expect(page.locator(".glance-grid")).to_be_visible()
    page.keyboard.press("/")
    box = page.get_by_role("combobox", name="Find a job, run or action")
    expect(box).to_be_focused()
    box.type("glance.mixed.2")
    expect(page.get_by_role("option").first).to_contain_text("glance.mixed.2")
    screenshot(page, "quick-find")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#/job/glance\.mixed/2$"))
    # The run page drawn (and focused) first: a key pressed while it renders may land nowhere.
    expect(page.get_by_role("heading", name=re.compile(r"glance\.mixed\.2"))).to_be_visible()
    page.keyboard.press("/")
    box.fill("flak")
    option = page.get_by_role("option").filter(has_text="glance.mixed.flaky")
    expect(option).to_have_count(1)
    option.click()
    expect(page).to_have_url(re.compile(r"#/job/glance\.mixed/HEAD/flaky$"))
    page.keyboard.press("/")
    box.fill("cal")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#/job/glance\.calm$"))


def test_output_search_highlights_matches_and_jumps_between_them(
    page: Page, glance: TrondProcess
) -> None:
    page.goto(f"{glance.url}/web/#/job/glance.talker/1/say")
    expect(page.locator('pre[data-stream="stdout"]')).to_contain_text("beta two ✓")
    search = page.get_by_role("searchbox", name="Search the output (regular expression)")
    search.fill("beta \\w+")
    search.press("Enter")
    matches = page.locator("ol.grep-matches li")
    expect(matches).to_have_count(2)
    expect(matches.first.locator("mark")).to_have_text("beta one")
    expect(page.locator('li[aria-current="true"]')).to_have_attribute("data-line", "2")
    sizes = "() => [CSS.highlights.get('grep').size, CSS.highlights.get('grep-current').size]"
    assert page.evaluate(sizes) == [1, 1]
    page.get_by_role("button", name="Next match ›").click()
    expect(page.locator('li[aria-current="true"]')).to_have_attribute("data-line", "4")
    expect(page.get_by_text("match 2 of 2: stdout line 4")).to_be_visible()
    assert "grep=" in page.url
    screenshot(page, "output-search")


def test_not_found_page_says_what_is_missing_in_plain_words(
    page: Page, glance: TrondProcess
) -> None:
    page.goto(f"{glance.url}/web/#/job/MASTER.nope")
    expect(page.get_by_role("alert")).to_have_text("No job named MASTER.nope.")
    expect(page.get_by_text("Cannot find child")).to_have_count(0)
    screenshot(page, "not-found")
    page.goto(f"{glance.url}/web/#/job/glance.mixed/999")
    expect(page.get_by_role("alert")).to_contain_text("Job glance.mixed has no run 999")
    page.goto(f"{glance.url}/web/#/job/glance.mixed/1/nope")
    expect(page.get_by_role("alert")).to_have_text("Run glance.mixed.1 has no action named nope.")
    page.goto(f"{glance.url}/web/#/grid/MASTER.nope")
    expect(page.get_by_role("alert")).to_have_text("No job named MASTER.nope.")


# The glance pages, as (screenshot name, route, a selector that shows it has loaded).
GLANCE_PAGES = (
    ("grid-job", "#/grid/glance.mixed", ".glance-grid a.cell"),
    ("grid-namespace", "#/grid/glance", ".glance-grid a.cell"),
    ("trends", "#/trends/glance.mixed", "svg.trend rect.dot"),
    ("timeline-filtered", "#/timeline?window=7d&ns=glance&state=failed", "svg.bars rect.bar"),
    ("jobs-strips", "#/jobs", '.vrow[data-job="glance.mixed"] .strip .tick'),
    ("output-search", "#/job/glance.talker/1/say?grep=beta", 'li[aria-current="true"]'),
    ("not-found", "#/job/MASTER.nope", ".not-found"),
)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_glance_pages_pass_axe_in_both_themes_and_are_screenshot(
    page: Page, glance: TrondProcess, scheme: str
) -> None:
    need_axe()
    page.emulate_media(color_scheme=scheme)
    problems: dict[str, list[str]] = {}
    for name, route, ready in GLANCE_PAGES:
        page.goto(f"{glance.url}/web/{route}")
        expect(page.locator(ready).first).to_be_visible(timeout=30_000)
        page.wait_for_timeout(300)  # let the last regions fill in before the audit
        problems[name] = axe_violations(page)
        screenshot(page, f"glance-{name}-{scheme}")
    # Quick find, open over a page with results listed and one selected.
    page.keyboard.press("/")
    page.get_by_role("combobox", name="Find a job, run or action").fill("glance")
    expect(page.get_by_role("option").first).to_have_attribute("aria-selected", "true")
    problems["quick find"] = axe_violations(page)
    screenshot(page, f"glance-quick-find-{scheme}")
    problems = {name: found for name, found in problems.items() if found}
    assert not problems, "\n".join(f"{k}: {v}" for k, vs in problems.items() for v in vs)


def test_every_control_of_the_glance_pages_is_reachable_by_keyboard(
    page: Page, glance: TrondProcess
) -> None:
    for _name, route, ready in GLANCE_PAGES:
        page.goto(f"{glance.url}/web/{route}")
        expect(page.locator(ready).first).to_be_visible(timeout=30_000)
        page.wait_for_timeout(300)
        missing = unreachable_by_tab(page)
        assert not missing, f"{route}: not reachable by Tab: {missing}"
