"""Browser fixtures: a real trond on a test config, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from tests.integration.trond_process import TrondProcess, free_port

# Playwright's assertions wait 5 s by default: on a busy machine (the suite runs beside other
# work, on 2 cores) a page can take longer to show what it will show. They wait on the
# condition, so a generous limit costs nothing when all goes well.
expect.set_options(timeout=30_000)

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
# Without network, Chromium stalls on refused connections unless these are off (NOTES.md).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
NEVER = "cron 0 0 1 1 *"

MASTER = """\
time_zone: UTC
jobs: {}
"""

WEB = f"""\
jobs:
  pipeline:
    node: localhost
    schedule: "{NEVER}"
    actions:
      fetch:
        command: "sleep 2.5; echo fetched"
      build:
        command: "echo building; sleep 1"
        requires: [fetch]
      publish:
        command: "echo published"
        requires: [build]
    cleanup_action:
      command: "echo cleanup"
  streamer:
    node: localhost
    schedule: "{NEVER}"
    actions:
      talk:
        command: >-
          for i in 1 2 3 4 5 6 7 8; do printf '\\033[31mline %s\\033[0m ✓ ünïcode 日本\\n' "$i";
          sleep 0.5; done; echo oops >&2
  big:
    node: localhost
    schedule: "{NEVER}"
    actions:
      flood:
        command: "yes 0123456789abcdef | head -c 1500000; echo the-end"
  uni_ünïcode_jöb:
    node: localhost
    schedule: "{NEVER}"
    actions:
      grüß:
        command: "echo 'héllo wörld ✓ 日本語'"
"""

JOB_COUNT = 4  # jobs in WEB

pytestmark = pytest.mark.browser


def write_config(root: Path) -> Path:
    config = root / "config"
    config.mkdir(parents=True)
    (config / "MASTER.yaml").write_text(MASTER, encoding="utf-8")
    (config / "web.yaml").write_text(textwrap.dedent(WEB), encoding="utf-8")
    return config


@pytest.fixture(scope="session")
def trond(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrondProcess]:
    root = tmp_path_factory.mktemp("trond-web")
    process = TrondProcess(root / "work", write_config(root))
    process.start()
    yield process
    process.stop()


class TokenTrond:
    """A trond bound beyond loopback, so it demands a bearer token (TrondProcess binds loopback)."""

    def __init__(self, root: Path, token: str) -> None:
        self.port = free_port()
        self.token = token
        self.log = root / "trond.log"
        command = [
            *(sys.executable, "-m", "tron", "--working-dir", str(root / "work")),
            *("--config-path", str(write_config(root)), "--host", "0.0.0.0"),
            *("--port", str(self.port), "--token", token),
        ]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                command, stdout=log, stderr=log, env={**os.environ, "TZ": "UTC"}
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_up(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        headers = {"Authorization": f"Bearer {self.token}"}
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/status", headers=headers, timeout=1).is_success:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(self.log.read_text())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def token_trond(tmp_path: Path) -> Iterator[TokenTrond]:
    process = TokenTrond(tmp_path, "s3cret-token")
    try:
        process.wait_up()
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (./scripts/test installs it)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    # Playwright gives every launch a fresh profile directory of its own.
    instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield instance
    instance.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1300, "height": 900}, locale="en-GB")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def wait_for(check: Callable[[], Any], what: str, seconds: float = 60.0) -> Any:
    """Polls `check` until it gives something true, and returns that."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.1)
