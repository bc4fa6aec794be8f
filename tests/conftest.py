"""Suite-wide fixtures: real sshd servers and a real PostgreSQL server on loopback
(session-scoped, started on first use)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import pg, strays
from tests.pg import PgServer
from tests.receivers import SmtpReceiver, WebhookReceiver
from tests.sshd import SSHD, SshKit, start_kit

_BASETEMPS: list[Path] = []


@pytest.fixture(scope="session", autouse=True)
def _basetemp(tmp_path_factory: pytest.TempPathFactory) -> None:
    """This process's temporary root, for pytest_sessionfinish (each xdist worker has one)."""
    _BASETEMPS.append(tmp_path_factory.getbasetemp())


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Once every fixture is torn down (sshd and PostgreSQL stopped), end what tests left
    running under this process's temporary root (tests.strays)."""
    for base in _BASETEMPS:
        strays.end_left_behind(base)


@pytest.fixture(scope="session")
def ssh_kit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshKit]:
    """Two sshd nodes (`node1`, `node2`) with a stock config and no SFTP, a client key and
    known_hosts."""
    if not SSHD.exists():
        pytest.skip("openssh-server is not installed (./scripts/test installs it)")
    kit = start_kit(tmp_path_factory.mktemp("ssh"))
    yield kit
    kit.stop()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A private PostgreSQL server for the session (each xdist worker starts its own)."""
    if not pg.available():
        pytest.skip("postgresql is not installed (./scripts/test installs it)")
    server = PgServer.start()
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """The URL of a fresh database on the session's server."""
    return pg_server.new_database()


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    """A real HTTP receiver on loopback that records every request (it can fail the first N)."""
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    """A real SMTP server (aiosmtpd) on loopback that keeps every message."""
    receiver = SmtpReceiver()
    yield receiver
    receiver.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow modules first and the browser's last: pytest-xdist (`--dist loadfile` in
    pyproject.toml) hands whole modules out in this order, so the longest ones start at once and
    the many short ones fill in around them, instead of a test that takes minutes starting last
    and keeping one worker busy long after the others are done. The browser's last because
    Playwright's sync API keeps an event loop running in the worker from its first use on, where
    no asyncio test can run any more."""

    def rank(item: pytest.Item) -> int:
        if item.get_closest_marker("slow"):
            return 0
        return 2 if item.get_closest_marker("browser") else 1

    items.sort(key=rank)
