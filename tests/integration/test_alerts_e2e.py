"""Alerts against a real trond and real receivers: the API and CLIs, and kill -9 during
delivery (every notification arrives, repeats carry the same idempotency key)."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import without_user_config
from tests.integration.trond_process import TrondProcess
from tests.receivers import SmtpReceiver, WebhookReceiver
from tron.cli import tronctl, tronview

pytestmark = pytest.mark.slow
JOBS = 5


def master(hook: str, smtp_port: int) -> str:
    jobs = "\n".join(
        f"""\
  fails{n}:
    node: localhost
    schedule: "cron 0 4 * * *"
    monitoring: {{team: data, runbook: http://runbooks/fails{n}, realert_every: 1d}}
    actions:
      boom: {{command: "echo going down {n}; exit 3"}}"""
        for n in range(JOBS)
    )
    return f"""\
time_zone: UTC
notifications:
  check_every: 1s
  retry_initial: 1s
  retry_max: 2s
  web_url: http://tron.example
  channels:
    hook: {{type: webhook, url: "{hook}"}}
    mail: {{type: email, host: 127.0.0.1, port: {smtp_port}, from: tron@example.com}}
  default_channels: [hook]
jobs:
  mailed:
    node: localhost
    schedule: "cron 0 4 * * *"
    monitoring: {{notification_email: "oncall@example.com"}}
    actions:
      boom: {{command: "exit 1"}}
{jobs}
"""


def wait_for(predicate: Callable[[], bool], what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


@pytest.fixture
def trond(tmp_path: Path, hook: WebhookReceiver, smtp: SmtpReceiver) -> Iterator[TrondProcess]:
    config = tmp_path / "config"
    config.mkdir()
    (config / "MASTER.yaml").write_text(textwrap.dedent(master(hook.url, smtp.port)))
    process = TrondProcess(tmp_path / "work", config)
    process.start()
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def _no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    without_user_config(monkeypatch, tmp_path)
    monkeypatch.setenv("USER", "alice")


def cli(main: Callable[..., int], trond: TrondProcess, capsys: pytest.CaptureFixture[str],
        *argv: str) -> str:  # fmt: skip
    code = main(["--server", trond.url, *argv])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    return out


def opened(hook: WebhookReceiver) -> dict[str, set[str]]:
    """The idempotency keys received for each alert's open notice."""
    found: dict[str, set[str]] = {}
    for received in list(hook.received):
        if received.body["event"] == "open":
            found.setdefault(received.body["alert_id"], set()).add(
                received.headers["idempotency-key"]
            )
    return found


def test_api_and_clis(
    trond: TrondProcess,
    hook: WebhookReceiver,
    smtp: SmtpReceiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cli(tronctl.main, trond, capsys, "start", "fails0")
    cli(tronctl.main, trond, capsys, "start", "mailed")
    wait_for(lambda: len(opened(hook)) == 2, "two alerts told")
    wait_for(lambda: len(smtp.messages) == 1, "the email")
    assert smtp.messages[0][0] == ["oncall@example.com"]
    body = next(r.body for r in hook.received if r.body["job"] == "MASTER.fails0")
    assert body["stdout_tail"] == ["going down 0"]
    assert body["exit_status"] == 3
    alerts = trond.get("/api/alerts")["alerts"]
    assert {a["kind"] for a in alerts} == {"failed"}
    why = cli(tronview.main, trond, capsys, "--why", "fails0")
    assert why.startswith("Its next run MASTER.fails0.")
    assert "open alert MASTER.fails0/failed@" in why
    alert_id = next(a["id"] for a in alerts if a["job"] == "MASTER.fails0")
    out = cli(tronctl.main, trond, capsys, "ack", alert_id)
    assert out.strip() == f"acknowledged {alert_id}"
    out = cli(tronctl.main, trond, capsys, "silence", "fails0", "--for", "2h")
    assert out.startswith("silenced MASTER.fails0 until ")
    cli(tronctl.main, trond, capsys, "disable", "fails0")
    history = cli(tronview.main, trond, capsys, "--history", "fails0")
    assert "disable" in history
    assert "silence for=7200" in history
    assert "alice@127.0.0.1" in history
    why = cli(tronview.main, trond, capsys, "--why", "fails0")
    assert why.startswith("MASTER.fails0 is disabled since ")
    assert "(by alice@127.0.0.1)" in why
    audit = trond.get("/api/audit")["history"]
    assert any(e["target"] == "alerts/ack" and e["ok"] for e in audit)
    # The silence is the job's: its target names the job, its command says what was done.
    silences = [e for e in audit if e["command"].startswith("silence")]
    assert [e["target"] for e in silences] == ["MASTER.fails0"]
    assert trond.get("/api/health")["scheduling"] is True
    metrics = httpx.get(f"{trond.url}/metrics", timeout=10).text
    assert 'tron_alerts_open{kind="failed"} 2.0' in metrics
    assert "tron_notifications_sent_total" in metrics
    assert "tron_outbox_oldest_age_seconds" in metrics


def test_kill_9_during_delivery_loses_nothing(
    trond: TrondProcess, hook: WebhookReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    hook.fail_first = 4
    hook.delay = 0.3
    for n in range(JOBS):
        cli(tronctl.main, trond, capsys, "start", f"fails{n}")
    for kill in range(1, 4):
        wait_for(
            lambda k=kill: len(hook.tries) >= 2 * k or len(opened(hook)) == JOBS,
            f"tries before kill {kill}",
        )
        trond.kill9()
        trond.start(timeout=60)
    wait_for(lambda: len(opened(hook)) == JOBS, "every alert told")
    keys = opened(hook)
    assert all(len(found) == 1 for found in keys.values())  # repeats: the same key
    every_key = {key for found in keys.values() for key in found}
    assert set(hook.tries) <= every_key  # every try of any of them used its one key
    # Once delivered it is never sent again: the outbox drains and stays empty.
    wait_for(lambda: trond.get("/api/notifications")["pending"] == 0, "the outbox drained")
