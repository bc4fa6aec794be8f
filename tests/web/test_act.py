"""Acting without the CLI (issue 16) and the operator panels of issue 13, in Chromium against a
real trond: buttons that follow state, start with a run time, backfill, the config editor,
alerts with ack and silence, the why panel and the command history."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.integration.trond_process import TrondProcess
from tests.web.a11y import axe_violations, need_axe, unreachable_by_tab
from tests.web.conftest import NEVER, screenshot, wait_for

pytestmark = pytest.mark.browser

MASTER = """\
time_zone: UTC
notifications:
  check_every: 1s
  retry_initial: 1s
  retry_max: 2s
  channels:
    nowhere: {type: webhook, url: "http://127.0.0.1:9/hook"}
  default_channels: [nowhere]
jobs: {}
"""

ACT = f"""\
jobs:
  quick:
    node: localhost
    schedule: "{NEVER}"
    actions:
      hello: {{command: "echo hello"}}
  daily:
    node: localhost
    schedule: "{NEVER}"
    actions:
      load: {{command: "echo loading {{shortdate}}"}}
  slow:
    node: localhost
    schedule: "{NEVER}"
    actions:
      first: {{command: "sleep 1"}}
      second: {{command: "echo second", requires: [first]}}
  flaky:
    node: localhost
    schedule: "{NEVER}"
    monitoring: {{team: data, runbook: "http://runbooks/flaky"}}
    actions:
      boom: {{command: "echo going down; exit 3"}}
"""

EDITS = f"""\
jobs:
  keeper:
    node: localhost
    schedule: "{NEVER}"
    actions:
      one: {{command: "echo one"}}
  goner:
    node: localhost
    schedule: "{NEVER}"
    actions:
      two: {{command: "echo two"}}
"""


@pytest.fixture(scope="module")
def trond(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrondProcess]:
    root = tmp_path_factory.mktemp("trond-act")
    config = root / "config"
    config.mkdir()
    for name, text in (("MASTER", MASTER), ("act", ACT), ("edits", EDITS)):
        (config / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    process = TrondProcess(root / "work", config)
    process.start()
    yield process
    process.stop()


def finished_run(trond: TrondProcess, job: str) -> str:
    """Starts a run of `job` and waits for its end; returns its number."""
    result = trond.post(f"/api/jobs/{job}", command="start")["result"]
    num = re.fullmatch(r"Created JobRun:[\w.]+\.(\d+)", result)
    assert num, result
    wait_for(
        lambda: trond.get(f"/api/jobs/{job}/{num[1]}")["state"] in ("succeeded", "failed"),
        f"{job} run {num[1]} ends",
    )
    return num[1]


def test_buttons_follow_state_and_say_why_the_others_are_refused(
    page: Page, trond: TrondProcess
) -> None:
    num = finished_run(trond, "act.quick")
    page.goto(f"{trond.url}/web/#/job/act.quick/{num}/hello")
    kill = page.locator('button[data-command="kill"]')
    expect(kill).to_have_attribute("aria-disabled", "true")
    expect(kill).to_have_attribute("title", re.compile("cannot kill from state succeeded"))
    expect(page.locator('button[data-command="retry"]')).not_to_have_attribute(
        "aria-disabled", "true"
    )
    refused = page.locator('.commands button[aria-disabled="true"]')
    expect(refused).to_have_count(4)  # start, cancel, stop, kill
    # Still reachable by keyboard; pressing it says why instead of asking to confirm.
    # `press` focuses the button as it is then: a live refresh that redraws the buttons
    # between a separate focus and key press would send the key to the page instead.
    kill.press("Enter")
    expect(page.locator("#toast")).to_contain_text("Kill is not possible now")
    expect(page.locator("dialog")).to_have_count(0)
    page.goto(f"{trond.url}/web/#/job/act.quick/{num}")
    head = page.locator(".region.head")
    expect(head.locator('button[data-command="rerun"]')).not_to_have_attribute(
        "aria-disabled", "true"
    )
    expect(head.locator('button[data-command="cancel"]')).to_have_attribute(
        "title", re.compile("in state succeeded")
    )
    # The run page's commands for one action run, from the action run's own endpoint.
    page.locator('tr[data-action="hello"]').get_by_role("button", name="Commands…").click()
    selected = page.locator(".selected-action")
    expect(selected.locator('button[data-command="kill"]')).to_have_attribute(
        "aria-disabled", "true"
    )
    expect(selected.locator('button[data-command="skip"]')).not_to_have_attribute(
        "aria-disabled", "true"
    )
    assert page.evaluate("document.activeElement.dataset.command") == "start"


def confirm(page: Page, verb: str) -> None:
    dialog = page.locator("dialog.modal")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=verb, exact=True).click()
    expect(dialog).to_have_count(0)


def run_times(trond: TrondProcess, job: str) -> list[str]:
    return sorted(r["run_time"] for r in trond.get(f"/api/jobs/{job}", num_runs=100)["runs"])


def test_start_with_a_run_time_from_the_job_page(page: Page, trond: TrondProcess) -> None:
    page.goto(f"{trond.url}/web/#/job/act.daily")
    page.get_by_label("Run time of the new run").fill("2025-02-03T04:05:06")
    page.get_by_role("button", name="Start at this time").click()
    confirm(page, "Start")
    expect(page.locator("#toast")).to_contain_text("Created run act.daily.")
    wait_for(lambda: "2025-02-03 04:05:06" in run_times(trond, "act.daily"), "the run exists")
    # The command is recorded and shown in the job's command history.
    expect(page.locator(".audit tr", has_text="start")).not_to_have_count(0)


def test_backfill_a_date_range_with_a_dry_run_and_live_progress(
    page: Page, trond: TrondProcess
) -> None:
    page.goto(f"{trond.url}/web/#/job/act.daily")
    backfill = page.locator("form.backfill")
    backfill.get_by_label("From").fill("2024-02-27")
    backfill.get_by_label("To").fill("2024-03-01")
    backfill.get_by_label("At once").fill("2")
    backfill.get_by_role("button", name="Dry run").click()
    days = ("02-27", "02-28", "02-29", "03-01")
    expect(backfill.locator(".dry-run li")).to_have_text(
        [f"tronctl start act.daily --run-date 2024-{d}" for d in days]
    )
    assert not any(t.startswith("2024-") for t in run_times(trond, "act.daily"))
    backfill.get_by_role("button", name="Backfill", exact=True).click()
    confirm(page, "Backfill")
    expect(backfill.locator(".backfill-progress")).to_have_text(
        "Backfill finished: 4/4 done, 0 failed, 0 running", timeout=60_000
    )
    expect(backfill.locator(".backfill-runs .badge")).to_have_text(["succeeded"] * 4)
    created = [t for t in run_times(trond, "act.daily") if t.startswith("2024-")]
    assert created == [f"2024-{d} 00:00:00" for d in days]


def test_backfill_cancel_all_cancels_the_runs_in_flight_and_starts_no_more(
    page: Page, trond: TrondProcess
) -> None:
    page.goto(f"{trond.url}/web/#/job/act.slow")
    backfill = page.locator("form.backfill")
    backfill.get_by_label("From").fill("2023-01-01")
    backfill.get_by_label("To").fill("2023-01-10")
    backfill.get_by_label("At once").fill("1")
    backfill.get_by_role("button", name="Backfill", exact=True).click()
    confirm(page, "Backfill")
    expect(backfill.locator(".backfill-progress")).to_contain_text("1 running")
    # Leaving the page and coming back finds the same backfill still going.
    page.goto(f"{trond.url}/web/#/jobs")
    page.goto(f"{trond.url}/web/#/job/act.slow")
    expect(backfill.locator(".backfill-progress")).to_contain_text("Backfill progress")
    backfill.get_by_role("button", name="Cancel all").click()
    expect(backfill.locator(".backfill-progress")).to_contain_text(
        "Backfill finished", timeout=60_000
    )
    started = [t for t in run_times(trond, "act.slow") if t.startswith("2023-")]
    assert len(started) < 10
    expect(backfill.locator(".backfill-runs .badge", has_text="not started")).not_to_have_count(0)


def test_config_editor_checks_as_you_type_diffs_and_applies_after_confirmation(
    page: Page, trond: TrondProcess
) -> None:
    page.goto(f"{trond.url}/web/#/config/edits")
    page.get_by_role("link", name="Edit edits").click()
    editor = page.get_by_label("YAML of namespace edits")
    expect(page.locator(".region.verdict")).to_contain_text("no change")
    original = editor.input_value()
    # A mistake: shown at its line, in the gutter (✗, not only a colour) and in the list.
    editor.fill(original + "  broken:\n    node: nowhere\n")
    problem = page.locator('ul.problems button[data-line="13"]')
    expect(problem).to_have_text("line 13")
    expect(page.locator('.gutter .ln.bad[data-line="13"]')).to_have_text("✗ 13")
    expect(page.get_by_role("button", name="Apply")).to_be_disabled()
    problem.click()
    assert page.evaluate("document.activeElement.tagName") == "TEXTAREA"
    # Fixed: the same summary as tronfig, the diff, and tronfig's question for a removal.
    editor.fill(original.replace("goner", "newer"))
    expect(page.locator("pre.summary")).to_have_text(
        "Namespace edits: 1 added, 1 removed, 0 changed jobs\n  + job edits.newer\n"
        "  - job edits.goner"
    )
    expect(page.locator("table.diff tr.diff-add")).to_have_count(1)
    expect(page.locator("table.diff tr.diff-del")).to_have_count(1)
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("dialog.modal h2")).to_have_text(
        "This removes jobs edits.goner from the running config. Apply?"
    )
    expect(page.locator("dialog.modal p")).to_contain_text("+ job edits.newer")
    screenshot(page, "act-config-edit-confirm")
    confirm(page, "Apply")
    expect(page.locator("#toast")).to_contain_text("Applied to namespace edits")
    wait_for(lambda: "newer" in trond.get("/api/config", name="edits")["config"], "applied")
    assert "edits.newer" in {j["name"] for j in trond.get("/api/jobs")["jobs"]}


def test_config_editor_refuses_to_apply_over_a_change_made_meanwhile(
    page: Page, trond: TrondProcess
) -> None:
    page.goto(f"{trond.url}/web/#/config-edit/edits")
    editor = page.get_by_label("YAML of namespace edits")
    expect(page.locator(".region.verdict")).to_contain_text("no change")
    current = trond.get("/api/config", name="edits")
    changed = current["config"].replace("echo one", "echo one, changed elsewhere")
    trond.post("/api/config", name="edits", config=changed, hash=current["hash"])
    editor.fill(current["config"].replace("echo one", "echo one, changed here"))
    expect(page.get_by_role("alert")).to_contain_text("Configuration has changed")
    expect(page.get_by_role("button", name="Apply")).to_be_disabled()
    page.get_by_role("button", name="Reload the running version").click()
    expect(editor).to_have_value(re.compile("changed elsewhere"))


def test_open_alerts_show_with_ack_and_silence_and_the_why_panel_answers(
    page: Page, trond: TrondProcess
) -> None:
    finished_run(trond, "act.flaky")
    wait_for(lambda: trond.get("/api/alerts", job="act.flaky")["alerts"], "the alert opens")
    page.goto(f"{trond.url}/web/#/jobs")
    listed = page.locator(".alerts li", has_text="act.flaky")
    expect(listed).to_contain_text("⚠ failed")
    expect(listed.get_by_role("link", name="act.flaky")).to_be_visible()
    page.goto(f"{trond.url}/web/#/job/act.flaky")
    expect(page.locator(".why-sentence")).to_contain_text("Its next run act.flaky.")
    unacked = page.locator(".alerts li", has=page.get_by_role("button", name="Acknowledge"))
    expect(unacked.first).to_contain_text("action boom exited 3")
    alert = page.locator(f'.alerts li[data-alert="{unacked.first.get_attribute("data-alert")}"]')
    alert.get_by_role("button", name="Acknowledge").click()
    confirm(page, "Acknowledge")
    expect(alert).to_contain_text("acknowledged by")
    expect(alert.get_by_role("button", name="Acknowledge")).to_have_count(0)
    why = page.locator(".why")
    why.get_by_label("Silence act.flaky for").select_option("2h")
    why.get_by_role("button", name="Silence for").click()
    expect(why).to_contain_text("Alerts silenced until")
    assert trond.get("/api/jobs/act.flaky/why")["silenced_until"]
    history = page.locator(".audit")
    expect(history.locator("tr", has_text="silence")).not_to_have_count(0)
    expect(history.locator("tr", has_text="start")).to_contain_text("✓ ok")


# Every page, as (screenshot name, route, a selector that shows it has loaded).
PAGES = (
    ("jobs", "#/jobs", ".alerts li"),
    ("job", "#/job/act.flaky", ".audit tr"),
    ("run", "#/job/act.quick/{quick}?action=hello", ".selected-action .commands"),
    ("action", "#/job/act.quick/{quick}/hello", 'button[data-command="kill"]'),
    ("timeline", "#/timeline", "svg"),
    ("config", "#/config/act", "table.diff, .region.versions p"),
    ("config-edit", "#/config-edit/act", ".region.verdict p"),
)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_passes_axe_in_both_themes_and_is_screenshot(
    page: Page, trond: TrondProcess, scheme: str
) -> None:
    need_axe()
    quick = finished_run(trond, "act.quick")
    if not trond.get("/api/alerts", job="act.flaky")["alerts"]:
        finished_run(trond, "act.flaky")
        wait_for(lambda: trond.get("/api/alerts", job="act.flaky")["alerts"], "an alert")
    page.emulate_media(color_scheme=scheme)
    problems: dict[str, list[str]] = {}
    for name, route, ready in PAGES:
        page.goto(f"{trond.url}/web/{route.format(quick=quick)}")
        expect(page.locator(ready).first).to_be_attached(timeout=30_000)
        page.wait_for_timeout(300)  # let the last regions fill in before the audit
        if found := axe_violations(page):
            problems[name] = found
        screenshot(page, f"act-{name}-{scheme}")
    # The states the editor and the backfill form reach after input.
    page.goto(f"{trond.url}/web/#/config-edit/edits")
    editor = page.get_by_label("YAML of namespace edits")
    expect(page.locator(".region.verdict p").first).to_be_attached()
    editor.fill(editor.input_value() + "  broken:\n    node: nowhere\n")
    expect(page.locator("ul.problems li").first).to_be_visible()
    problems["config-edit with problems"] = axe_violations(page)
    screenshot(page, f"act-config-edit-problems-{scheme}")
    page.goto(f"{trond.url}/web/#/job/act.daily")
    page.locator("form.backfill").get_by_role("button", name="Dry run").click()
    expect(page.locator(".dry-run li").first).to_be_visible()
    problems["backfill dry run"] = axe_violations(page)
    screenshot(page, f"act-backfill-dry-run-{scheme}")
    # A confirmation dialog, open over the page.
    page.goto(f"{trond.url}/web/#/job/act.quick/{quick}/hello")
    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    problems["confirmation dialog"] = axe_violations(page)
    screenshot(page, f"act-confirm-dialog-{scheme}")
    page.keyboard.press("Escape")
    problems = {name: found for name, found in problems.items() if found}
    assert not problems, "\n".join(f"{k}: {v}" for k, vs in problems.items() for v in vs)


def test_every_control_of_the_acting_pages_is_reachable_by_keyboard(
    page: Page, trond: TrondProcess
) -> None:
    quick = finished_run(trond, "act.quick")
    for route, ready in (
        ("#/jobs", ".vrow"),
        ("#/job/act.quick", ".audit tr"),
        (f"#/job/act.quick/{quick}?action=hello", ".selected-action .commands"),
        (f"#/job/act.quick/{quick}/hello", 'button[data-command="kill"]'),
        ("#/config-edit/act", ".region.verdict p"),
    ):
        page.goto(f"{trond.url}/web/{route}")
        expect(page.locator(ready).first).to_be_attached()
        page.wait_for_timeout(300)
        missing = unreachable_by_tab(page)
        assert not missing, f"{route}: not reachable by Tab: {missing}"
