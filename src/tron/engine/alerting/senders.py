"""Sending one notification to one channel: a webhook (JSON or a body template), Slack's
incoming-webhook format, or email over SMTP. Each raises DeliveryError unless the receiver
accepted it (a 2xx answer, or the SMTP server took the message)."""

from __future__ import annotations

import asyncio
import json
import os
import smtplib
import string
from email.message import EmailMessage
from typing import Any

import httpx

from tron.config.notifications import ChannelConfig
from tron.core.alerts.model import Notification
from tron.engine.alerting.routing import OVERRIDE


class DeliveryError(Exception):
    """The receiver did not take the notification; it will be tried again."""


class Senders:
    """One HTTP client for every webhook; SMTP runs in a thread (smtplib blocks)."""

    def __init__(self, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._transport = transport
        # Made on the first webhook: an HTTP client loads the CA bundle (about 50 ms of CPU),
        # which every trond start, and every daemon a test makes, would pay for nothing.
        self._client: httpx.AsyncClient | None = None

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self._transport, follow_redirects=False)
        return self._client

    async def send(self, channel: ChannelConfig, notification: Notification) -> None:
        override = notification.channel.partition(OVERRIDE)[2] or None
        if channel.type == "email":
            await asyncio.to_thread(_send_mail, channel, notification, override)
            return
        if channel.type == "slack":
            body: dict[str, Any] = {"text": _text(notification)}
            if override:
                body["channel"] = override
            content = json.dumps(body).encode()
        elif channel.body is not None:
            fields = {k: v for k, v in notification.payload.items() if isinstance(v, str)}
            content = string.Template(channel.body).safe_substitute(fields).encode()
        else:
            content = json.dumps(dict(notification.payload), default=str).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": notification.key,
            "X-Tron-Event": notification.event.value,
            **channel.headers,
        }
        assert channel.url is not None  # the config requires it for webhooks
        try:
            response = await self._http().post(
                channel.url, content=content, headers=headers, timeout=channel.timeout
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"HTTP {response.status_code}")


def _text(notification: Notification) -> str:
    payload = notification.payload
    lines = [str(payload.get("summary", ""))]
    for key in ("run", "action", "runbook", "tip"):
        if payload.get(key):
            lines.append(f"{key}: {payload[key]}")
    links = payload.get("links") or {}
    link = links.get("run") or links.get("job") or links.get("web")
    if link:
        lines.append(str(link))
    return "\n".join(lines)


def _send_mail(channel: ChannelConfig, notification: Notification, override: str | None) -> None:
    recipients = override.split(",") if override else list(channel.to)
    if not recipients:
        raise DeliveryError(f"channel {channel.name} has no recipients")
    message = EmailMessage()
    message["Subject"] = str(notification.payload.get("summary", "tron alert"))[:200]
    message["From"] = channel.sender
    message["To"] = ", ".join(recipients)
    # The same Message-ID on every try: mail systems drop the repeats.
    message["Message-ID"] = f"<{notification.key}@tron>"
    message["X-Tron-Idempotency-Key"] = notification.key
    payload = json.dumps(dict(notification.payload), indent=2, default=str)
    message.set_content(f"{_text(notification)}\n\n{payload}\n")
    try:
        with smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout) as smtp:
            if channel.starttls:
                smtp.starttls()
            if channel.username:
                password = os.environ.get(channel.password_env or "", "")
                smtp.login(channel.username, password)
            smtp.send_message(message, to_addrs=recipients)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"SMTP: {exc}") from exc
