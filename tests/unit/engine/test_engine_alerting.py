"""Alerts end to end in the engine: the manual clock, the memory store, the scripted executor,
and real receivers (an HTTP server and an SMTP server started by the test)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from tests.receivers import SmtpReceiver, WebhookReceiver
from tests.unit.engine.engine_kit import EngineKit

from tron.core.alerts.model import AlertKind

JOB = "MASTER.nightly"


def config(hook: str, smtp_port: int, monitoring: str = "", extra: str = "") -> str:
    return f"""
notifications:
  web_url: http://tron.example:8089
  check_every: 10s
  retry_initial: 1s
  retry_max: 4s
  channels:
    hook: {{type: webhook, url: "{hook}", headers: {{X-Team: data}}}}
    mail: {{type: email, host: 127.0.0.1, port: {smtp_port}, from: tron@example.com}}
  default_channels: [hook]
jobs:
  nightly:
    node: localhost
    schedule: "cron 0 * * * *"
    monitoring: {{team: data, runbook: "http://runbooks/nightly", {monitoring}}}
    {extra}
    actions:
      work: {{command: "work", expected_runtime: 20m}}
"""


async def wait_for(predicate: Callable[[], bool], what: str, seconds: float = 20.0) -> None:
    """Wait on a condition, with a generous deadline (never a duration assertion)."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.01)


@pytest.fixture
async def kit(
    tmp_path: Path, hook: WebhookReceiver, smtp: SmtpReceiver
) -> AsyncIterator[EngineKit]:
    made = EngineKit(
        tmp_path, config(hook.url, smtp.port, 'notification_email: "oncall@example.com"')
    )
    yield made
    await made.stop()


def events(hook: WebhookReceiver) -> list[tuple[str, str]]:
    return [(b["event"], b["kind"]) for b in hook.bodies()]


async def run_and_finish(kit: EngineKit, num: int, code: int) -> None:
    await kit.advance(3600)
    await kit.until(
        lambda: (
            f"{JOB}.{num}.work" in [launch.spec.action_run_id for launch in kit.executor.launches]
        )
    )
    await kit.finish(f"{JOB}.{num}.work", code)


async def test_failure_is_told_to_webhook_and_email_then_resolved(
    kit: EngineKit, hook: WebhookReceiver, smtp: SmtpReceiver
) -> None:
    await kit.start()
    await run_and_finish(kit, 0, 1)
    await wait_for(lambda: events(hook) == [("open", "failed")], "the failure told")
    body = hook.bodies()[0]
    assert body["job"] == JOB
    assert body["run"] == f"{JOB}.0"
    assert body["action"] == f"{JOB}.0.work"
    assert body["exit_status"] == 1
    assert body["state"] == "failed"
    assert body["runbook"] == "http://runbooks/nightly"
    assert body["links"]["run"] == "http://tron.example:8089/web/#/job/MASTER.nightly/0"
    assert "stdout_tail" in body
    assert body["start_time"] is not None
    headers = hook.received[0].headers
    assert headers["idempotency-key"] == body["idempotency_key"]
    assert headers["x-team"] == "data"
    await wait_for(lambda: len(smtp.messages) == 1, "the email")
    recipients, message = smtp.messages[0]
    assert recipients == ["oncall@example.com"]
    assert message["Subject"].startswith("[ALERT] MASTER.nightly failed")
    assert message["X-Tron-Idempotency-Key"] in message["Message-ID"]
    await run_and_finish(kit, 1, 0)
    await wait_for(lambda: ("resolve", "failed") in events(hook), "the resolve")
    assert len(set(hook.keys())) == len(hook.keys())  # each notice once


async def test_a_refusing_receiver_gets_it_with_backoff_and_one_key(
    kit: EngineKit, hook: WebhookReceiver
) -> None:
    hook.fail_first = 3
    daemon = await kit.start()
    await run_and_finish(kit, 0, 1)
    attempts: list[int] = []

    async def tried(count: int) -> None:
        # The refusal is recorded before the next try is armed: wait for both.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            found = [n for n in await daemon.alert_notifications() if n.channel == "hook"]
            if found and found[0].attempts == count:
                attempts.append(count)
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"never tried {count} times")

    await tried(1)
    pending = [n for n in await daemon.alert_notifications() if n.channel == "hook"]
    assert pending[0].next_attempt_at == kit.clock.now() + timedelta(seconds=1)
    for seconds, count in ((1, 2), (2, 3)):
        await kit.advance(seconds)
        await tried(count)
    await kit.advance(4)
    await wait_for(lambda: len(hook.received) == 1, "the delivery")
    assert len(set(hook.tries)) == 1  # every try carried the same idempotency key


async def test_a_restart_neither_refires_nor_forgets(kit: EngineKit, hook: WebhookReceiver) -> None:
    hook.fail_first = 10**6
    daemon = await kit.start()
    await run_and_finish(kit, 0, 1)
    await wait_for(lambda: hook.refused >= 1, "a try")
    await kit.restart()
    await kit.restart()
    daemon = kit.daemon
    assert daemon is not None
    assert len(await daemon.alerts(open_only=True)) == 1
    hook.fail_first = 0
    await kit.advance(5)
    await wait_for(lambda: len(hook.received) == 1, "the delivery after restarts")
    await kit.advance(30)  # more checks: the open alert is not told again
    await asyncio.sleep(0.2)
    assert events(hook) == [("open", "failed")]


async def test_did_not_start_because_disabled_and_why(
    kit: EngineKit, hook: WebhookReceiver
) -> None:
    daemon = await kit.start()
    await daemon.commands.job(JOB, "disable")
    assert (await daemon.why(JOB)).state == "disabled"
    await kit.advance(3600 + 600)
    await wait_for(lambda: ("open", "did_not_start") in events(hook), "the missed slot")
    body = hook.bodies()[-1]
    assert body["reason"].endswith("cancelled before it started: the job was disabled")
    await daemon.commands.job(JOB, "enable")
    await kit.advance(10)
    why = await daemon.why(JOB)
    assert why.state == "scheduled"
    assert why.sentence.startswith(f"Its next run {JOB}.1 is at")
    await run_and_finish(kit, 1, 0)  # the next run succeeds: the missed slots resolve
    await wait_for(lambda: ("resolve", "did_not_start") in events(hook), "the resolve")
    assert (await daemon.why(JOB)).sentence.startswith(f"Its next run {JOB}.2 is at")


async def test_ran_longer_than_expected_then_ack_stops_repeats(
    tmp_path: Path, hook: WebhookReceiver, smtp: SmtpReceiver
) -> None:
    kit = EngineKit(tmp_path, config(hook.url, smtp.port, "realert_every: 1m"))
    daemon = await kit.start()
    await kit.advance(3600)
    await kit.until(
        lambda: f"{JOB}.0.work" in [launch.spec.action_run_id for launch in kit.executor.launches]
    )
    assert (await daemon.why(JOB)).state == "running"
    for _ in range(13):  # past the action's expected_runtime of 20 minutes
        await kit.advance(100)
    await wait_for(lambda: ("open", "too_long") in events(hook), "too long")
    await kit.advance(60)
    await wait_for(lambda: ("repeat", "too_long") in events(hook), "a repeat")
    alert = (await daemon.alerts(open_only=True))[0]
    assert alert.key.kind is AlertKind.TOO_LONG
    await daemon.acknowledge_alert(alert.id, "alice")
    told = len(hook.received)
    for _ in range(5):
        await kit.advance(60)
    await asyncio.sleep(0.2)
    assert len(hook.received) == told
    await kit.finish(f"{JOB}.0.work", 0)
    await wait_for(lambda: ("resolve", "too_long") in events(hook), "the resolve")
    await kit.stop()


async def test_silenced_job_tells_nothing(kit: EngineKit, hook: WebhookReceiver) -> None:
    daemon = await kit.start()
    until = await daemon.silence_job(JOB, timedelta(hours=2))
    assert until == kit.clock.now() + timedelta(hours=2)
    await run_and_finish(kit, 0, 1)
    await asyncio.sleep(0.2)
    assert hook.received == []
    assert (await daemon.alerts(open_only=True))[0].notified == 0
    await kit.advance(2 * 3600)
    await wait_for(lambda: ("open", "failed") in events(hook), "told after the silence")


async def test_late_start_after_downtime(kit: EngineKit, hook: WebhookReceiver) -> None:
    await kit.start()
    assert kit.daemon is not None
    await kit.daemon.abandon()
    await kit.clock.advance(timedelta(minutes=75))  # the 13:00 slot passes while down
    await kit.start()
    await kit.advance(1)
    await wait_for(lambda: ("open", "late") in events(hook), "the late start")
    assert "started 0:15:00 late" in hook.bodies()[-1]["reason"]
