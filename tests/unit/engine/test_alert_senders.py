"""Senders makes its HTTP client on the first webhook, not with every daemon: a client loads the
CA bundle, which every trond start and every daemon a test makes would otherwise pay for."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from tests.receivers import WebhookReceiver

from tron.config.notifications import ChannelConfig
from tron.core.alerts.model import NoticeEvent, Notification
from tron.engine.alerting import senders as senders_module
from tron.engine.alerting.senders import Senders


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> list[httpx.AsyncClient]:
    """Every HTTP client the senders module makes."""
    made: list[httpx.AsyncClient] = []
    real = httpx.AsyncClient

    def counting(**kwargs: Any) -> httpx.AsyncClient:
        client = real(**kwargs)
        made.append(client)
        return client

    monkeypatch.setattr(senders_module.httpx, "AsyncClient", counting)
    return made


def notification(key: str) -> Notification:
    return Notification(
        key=key,
        alert_id="a1",
        job="MASTER.etl",
        channel="ops",
        event=NoticeEvent.OPEN,
        payload={"summary": "MASTER.etl failed"},
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
    )


async def test_senders_that_send_nothing_make_no_http_client(
    clients: list[httpx.AsyncClient],
) -> None:
    senders = Senders()
    await senders.close()
    assert clients == []


async def test_webhooks_share_one_client_made_on_the_first(
    clients: list[httpx.AsyncClient], hook: WebhookReceiver
) -> None:
    senders = Senders()
    channel = ChannelConfig(name="ops", type="webhook", url=hook.url)
    await senders.send(channel, notification("k1"))
    await senders.send(channel, notification("k2"))
    await senders.close()
    assert len(clients) == 1
    assert clients[0].is_closed
    assert hook.tries == ["k1", "k2"]
