"""Accessibility checks shared by the browser tests: axe-core's WCAG 2.1 A/AA rules on the page
as it stands, and whether Tab reaches every control."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"

# What Tab must reach. `tabindex="-1"` takes a link out of the order on purpose, and only where
# it repeats one that is reachable (the jobs list's run ticks: each run is on the job's page).
FOCUSABLE = ":is(a[href], button, input, select, textarea, [tabindex]):not([tabindex='-1'])"


def need_axe() -> None:
    if not AXE.exists():
        pytest.skip("web/node_modules/axe-core is missing (./scripts/build-web installs it)")


def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.1 A and AA violations on the page, one line each with where."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => {
            const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            const where = (n) =>
                `${n.target.join(" ")} (${n.failureSummary.replace(/\\s+/g, " ")})`;
            return result.violations.map(
                (v) => `${v.id}: ${v.help} at ${v.nodes.slice(0, 5).map(where).join("; ")}`);
        }"""
    )
    assert isinstance(found, list)
    return [str(x) for x in found]


def unreachable_by_tab(page: Page) -> list[str]:
    """The visible controls that pressing Tab from the top of the page never focuses."""
    count = page.evaluate(
        f"""() => [...document.querySelectorAll(`{FOCUSABLE}`)]
            .filter((el) => el.getClientRects().length && !el.closest("[hidden]"))
            .map((el, i) => (el.dataset.k = i)).length"""
    )
    seen: set[str] = set()
    page.locator("body").focus()
    # Date and time inputs hold a Tab stop per field: allow several presses per control.
    for _ in range(count * 5 + 20):
        page.keyboard.press("Tab")
        key = page.evaluate("document.activeElement?.dataset?.k ?? ''")
        if key:
            seen.add(key)
        if len(seen) == count:
            break
    missing = page.evaluate(
        """(seen) => [...document.querySelectorAll("[data-k]")]
            .filter((el) => !seen.includes(el.dataset.k))
            .map((el) => el.outerHTML.slice(0, 80))""",
        sorted(seen),
    )
    return [str(x) for x in missing]
