"""A page of another origin cannot command trond through the operator's browser; trond's own
pages can. The attacking page is served by a tiny HTTP server on another loopback port."""

from __future__ import annotations

import http.server
import re
import textwrap
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Response, expect

from tests.integration.trond_process import TrondProcess, free_port
from tests.web.conftest import NEVER, screenshot

pytestmark = pytest.mark.browser

MASTER = f"""\
time_zone: UTC
jobs:
  victim:
    node: localhost
    schedule: "{NEVER}"
    actions:
      work: {{command: "echo victim"}}
"""
EVIL_NAMESPACE = f"""\
jobs:
  pwn:
    node: localhost
    schedule: "{NEVER}"
    actions:
      x: {{command: "echo pwned"}}
"""


def attack_page(target: str) -> str:
    """Two auto-submitted forms (no CORS preflight for those) and a `no-cors` fetch."""
    return textwrap.dedent(f"""\
        <!doctype html><meta charset="utf-8"><title>cute cats</title>
        <form id="upload" method="POST" action="{target}/api/config" target="sink1">
          <input name="name" value="evil"><textarea name="config">{EVIL_NAMESPACE}</textarea>
        </form>
        <form id="start" method="POST" action="{target}/api/jobs/MASTER.victim" target="sink2">
          <input name="command" value="start">
        </form>
        <iframe name="sink1"></iframe><iframe name="sink2"></iframe>
        <script>
          window.attack = () => {{
            document.getElementById("upload").submit();
            document.getElementById("start").submit();
            return fetch("{target}/api/jobs/MASTER.victim", {{
              method: "POST", mode: "no-cors",
              headers: {{"Content-Type": "application/x-www-form-urlencoded"}},
              body: "command=start",
            }}).then(() => "sent", (e) => String(e));
          }};
        </script>
    """)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def victim(tmp_path: Path) -> Iterator[TrondProcess]:
    config = tmp_path / "config"
    config.mkdir()
    (config / "MASTER.yaml").write_text(MASTER, encoding="utf-8")
    process = TrondProcess(tmp_path / "work", config)
    process.start()
    yield process
    process.stop()


@pytest.fixture
def evil_site(tmp_path: Path, victim: TrondProcess) -> Iterator[str]:
    root = tmp_path / "evil"
    root.mkdir()
    (root / "index.html").write_text(attack_page(victim.url), encoding="utf-8")
    handler = partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def manual_runs(trond: TrondProcess) -> list[Any]:
    return [r for r in trond.get("/api/jobs/MASTER.victim")["runs"] if r["manual"]]


def test_a_page_of_another_origin_cannot_upload_or_start(
    page: Page, victim: TrondProcess, evil_site: str
) -> None:
    target = re.compile(re.escape(victim.url) + "/api/")
    answers: list[tuple[str, int]] = []

    def note(response: Response) -> None:
        if target.match(response.url):
            answers.append((response.url, response.status))

    page.on("response", note)
    page.goto(f"{evil_site}/index.html")
    assert page.evaluate("window.attack()") == "sent"
    deadline = time.monotonic() + 30
    while len(answers) < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(50)  # lets the page's network events be delivered
    screenshot(page, "cross-site-attack")
    assert sorted(status for _, status in answers) == [403, 403, 403], answers
    assert "evil" not in victim.get("/api/config")
    assert manual_runs(victim) == []


def test_a_foreign_host_header_is_refused(victim: TrondProcess) -> None:
    """DNS rebinding: a page of evil.example whose name now points at 127.0.0.1."""
    headers = {"Host": f"evil.example:{victim.port}"}
    for method, path, data in (
        ("GET", "/api/jobs", None),
        ("POST", "/api/jobs/MASTER.victim", {"command": "start"}),
        ("POST", "/api/config", {"name": "evil", "config": EVIL_NAMESPACE}),
    ):
        response = httpx.request(method, f"{victim.url}{path}", data=data, headers=headers)
        assert response.status_code == 403, (method, path)
    assert "evil" not in victim.get("/api/config")
    assert manual_runs(victim) == []


def test_the_same_requests_from_tronds_own_pages_work(page: Page, victim: TrondProcess) -> None:
    page.goto(f"{victim.url}/web/#/jobs")
    expect(page.locator(".vrow")).to_have_count(1)
    with page.expect_response(f"{victim.url}/api/config") as upload:
        page.evaluate(
            """([text]) => {
                const form = document.createElement("form");
                form.method = "POST";
                form.action = "/api/config";
                form.target = "sink";
                for (const [name, value] of [["name", "mine"], ["config", text]]) {
                    const field = document.createElement("textarea");
                    field.name = name;
                    field.value = value;
                    form.append(field);
                }
                const sink = document.createElement("iframe");
                sink.name = "sink";
                document.body.append(sink, form);
                form.submit();
            }""",
            [EVIL_NAMESPACE.replace("pwn", "ours")],
        )
    assert upload.value.status == 200
    started = page.evaluate(
        """() => fetch("/api/jobs/MASTER.victim", {
            method: "POST",
            headers: {"Content-Type": "application/x-www-form-urlencoded"},
            body: "command=start",
        }).then((r) => r.status)"""
    )
    assert started == 200
    assert "mine" in victim.get("/api/config")
    assert len(manual_runs(victim)) == 1
