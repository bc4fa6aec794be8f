"""The daemon's own `not_scheduling` alert told through the outbox, a `slack` channel posting
Slack's incoming-webhook format (both to a real HTTP receiver), and old history pruned."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.receivers import WebhookReceiver
from tests.unit.engine.engine_kit import EngineKit
from tests.unit.engine.test_engine_alerting import JOB, run_and_finish, wait_for

from tron.engine.alerting.evaluator import CHECK_KEY


def master(url: str) -> str:
    return f"""
notifications:
  web_url: http://tron.example:8089
  check_every: 10s
  heartbeat_timeout: 1m
  keep_history: 1d
  channels:
    hook: {{type: webhook, url: "{url}"}}
    chat: {{type: slack, url: "{url}"}}
  default_channels: [chat]
  routes:
    - {{severity: page, channels: [hook]}}
jobs:
  nightly:
    node: localhost
    schedule: "cron 0 * * * *"
    monitoring: {{team: data, runbook: "http://runbooks/nightly", slack_channels: ["#data-ü"]}}
    actions:
      work: {{command: "work"}}
"""


@pytest.fixture
async def kit(tmp_path: Path, hook: WebhookReceiver) -> AsyncIterator[EngineKit]:
    made = EngineKit(tmp_path, master(hook.url))
    yield made
    await made.stop()


async def test_a_stuck_scheduler_is_told_then_resolved(
    kit: EngineKit, hook: WebhookReceiver
) -> None:
    daemon = await kit.start()
    await kit.advance(10)
    assert daemon.evaluator.last_beat == kit.clock.now()
    # The timers' loop stops beating (as if stuck): told once the timeout (6 checks) passed.
    daemon.timers.cancel(CHECK_KEY)
    steps = 0
    while not await daemon.alerts(open_only=True):
        assert steps < 20, "never opened"
        await kit.advance(10)
        steps += 1
    assert 7 <= steps <= 8  # past 60 s of checks that did not come, not before
    await wait_for(lambda: len(hook.bodies()) == 2, "the open, to the default and the route")
    for body in hook.bodies():
        assert (body.get("kind"), body.get("event")) in {("not_scheduling", "open"), (None, None)}
    told = next(b for b in hook.bodies() if "kind" in b)  # the webhook's (the route for pages)
    assert told["severity"] == "page"
    assert told["job"] == "trond"
    assert "has not scheduled anything since" in told["reason"]
    assert told["links"] == {"web": "http://tron.example:8089/web/"}
    slack = next(b for b in hook.bodies() if "kind" not in b)
    assert set(slack) == {"text"}
    assert slack["text"].startswith("[ALERT] trond not_scheduling: trond has not scheduled")
    assert slack["text"].endswith("\nhttp://tron.example:8089/web/")
    assert (await daemon.alerts(open_only=True))[0].key.kind.value == "not_scheduling"
    # Its supervisor restarts it: the open alert is read back, the first check resolves it.
    daemon = await kit.restart()
    await wait_for(lambda: ("resolve", "not_scheduling") in told_events(hook), "the resolve")
    assert await daemon.alerts(open_only=True) == []
    # Told once (a delivery cut by the restart comes again with the same key).
    opens = {b["idempotency_key"] for b in hook.bodies() if b.get("event") == "open"}
    assert len(opens) == 1


def told_events(hook: WebhookReceiver) -> list[tuple[str, str]]:
    return [(b["event"], b["kind"]) for b in hook.bodies() if "kind" in b]


async def test_slack_gets_its_incoming_webhook_format(
    kit: EngineKit, hook: WebhookReceiver
) -> None:
    await kit.start()
    await run_and_finish(kit, 0, 1)
    await wait_for(lambda: len(hook.received) == 2, "the default channel and #data-ü")
    by_channel = {r.body.get("channel"): r for r in hook.received}
    assert set(by_channel) == {None, "#data-ü"}
    for received in hook.received:
        assert received.headers["content-type"] == "application/json"
        assert set(received.body) <= {"text", "channel"}
        text = received.body["text"]
        lines = text.splitlines()
        assert lines[0].startswith(f"[ALERT] {JOB} failed")
        assert f"run: {JOB}.0" in lines
        assert "runbook: http://runbooks/nightly" in lines
        assert lines[-1] == "http://tron.example:8089/web/#/job/MASTER.nightly/0"


async def test_history_past_keep_history_is_pruned(kit: EngineKit, hook: WebhookReceiver) -> None:
    daemon = await kit.start()
    await run_and_finish(kit, 0, 1)
    await run_and_finish(kit, 1, 0)
    (told,) = await daemon.alerts(limit=1)
    assert told.resolved_at is not None
    deadline = time.monotonic() + 20
    while (await daemon.outbox_stats()).pending:  # delivered to the real receiver
        assert time.monotonic() < deadline, "never delivered"
        await asyncio.sleep(0.01)
    told_count = len(await daemon.alert_notifications(told.id))
    assert told_count >= 4  # open and resolve (and repeats), to two channels
    await daemon.commands.job(JOB, "disable")
    await kit.advance(23 * 3600)
    assert len(await daemon.alert_notifications(told.id)) == told_count  # not a day old yet
    await kit.advance(3600 + 10)
    assert told.id not in [a.id for a in await daemon.alerts(job=JOB, open_only=False)]
    assert await daemon.alert_notifications(told.id) == []
