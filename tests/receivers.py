"""Real receivers for notification tests: an HTTP server that records what it is sent (and
can refuse the first N, or be slow), and an SMTP server (aiosmtpd) that records messages."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from tests.integration.trond_process import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class WebhookReceiver:
    """`fail_first` requests answer 503; each answer waits `delay` seconds first."""

    fail_first: int = 0
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    refused: int = 0
    tries: list[str] = field(default_factory=list)  # the Idempotency-Key of every request

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                if len(raw) < length:
                    return  # the sender died mid-request (kill -9): nothing was received
                time.sleep(receiver.delay)
                with receiver._lock:
                    receiver.tries.append(self.headers.get("Idempotency-Key", ""))
                    if receiver.refused < receiver.fail_first:
                        receiver.refused += 1
                        status = 503
                    else:
                        status = 200
                        try:
                            body: Any = json.loads(raw)
                        except ValueError:
                            body = raw.decode()
                        headers = {k.lower(): v for k, v in self.headers.items()}
                        receiver.received.append(Received(self.path, headers, body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # shutdown() waits for the loop to look again: at the default 0.5 s, every test using
        # a receiver paid about half a second on closing it.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def keys(self) -> list[str]:
        with self._lock:
            return [r.headers.get("idempotency-key", "") for r in self.received]

    def bodies(self) -> list[Any]:
        with self._lock:
            return [r.body for r in self.received]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Recorder:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


class SmtpReceiver:
    def __init__(self) -> None:
        self._recorder = _Recorder()
        self.port = free_port()
        self._controller = Controller(self._recorder, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    @property
    def messages(self) -> list[tuple[list[str], Message]]:
        return list(self._recorder.messages)

    def close(self) -> None:
        self._controller.stop()
