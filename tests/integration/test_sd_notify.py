"""trond tells systemd when its API answers and when it stops (Type=notify in the example unit)."""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.trond_process import TrondProcess
from tron.sdnotify import notify


@pytest.fixture
def manager() -> Iterator[tuple[socket.socket, str]]:
    # A short path: a socket's name must fit in 108 bytes, which pytest's tmp_path may not.
    with tempfile.TemporaryDirectory(prefix="sd") as folder:
        path = str(Path(folder) / "notify")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(path)
            sock.settimeout(60)  # generous: a busy machine starts trond slowly
            yield sock, path


def test_trond_says_ready_once_serving_and_stopping_on_sigterm(
    manager: tuple[socket.socket, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sock, path = manager
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    config = tmp_path / "config"
    config.mkdir()
    (config / "MASTER.yaml").write_text("jobs: {}\n", encoding="utf-8")
    trond = TrondProcess(tmp_path / "work", config)
    trond.start()
    try:
        assert sock.recv(4096).decode().splitlines()[0] == "READY=1"
        trond.stop()
        assert sock.recv(4096).decode() == "STOPPING=1"
    finally:
        trond.stop()


def test_notify_reaches_an_abstract_socket_and_is_quiet_without_one() -> None:
    name = f"tron-test-{id(object())}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(10)
        assert notify("READY=1", {"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(64) == b"READY=1"
    assert not notify("READY=1", {})
    assert not notify("READY=1", {"NOTIFY_SOCKET": "/nonexistent/notify"})
