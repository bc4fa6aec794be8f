"""Fixtures for running a whole daemon in-process: config dirs, a ManualClock, an API client."""

from __future__ import annotations

import asyncio
import textwrap
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tron.api.app import create_app
from tron.engine.clock import ManualClock
from tron.engine.daemon import Daemon, DaemonSettings
from tron.store.base import Store

START = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def without_user_config(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """Our CLIs as on a fresh account: no ~/.tron, no server, token or pager from the
    environment of whoever runs the suite."""
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TRON_CONFIG", str(home / "none.yaml"))
    for name in ("TRON_TOKEN", "TRON_TOKEN_FILE", "TRON_SERVER", "PAGER"):
        monkeypatch.delenv(name, raising=False)


def write_config(config_dir: Path, master: str, **namespaces: str) -> Path:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "MASTER.yaml").write_text(textwrap.dedent(master), encoding="utf-8")
    for name, text in namespaces.items():
        (config_dir / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return config_dir


async def wait_until(
    predicate: Callable[[], bool | Awaitable[bool]], limit: float = 60.0, interval: float = 0.02
) -> None:
    """Poll until `predicate` holds; real processes take real (short) time to end."""
    deadline = time.monotonic() + limit
    while True:
        result = predicate()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


class Harness:
    """A daemon on a config dir, with its clock and an API client."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.working_dir = root / "work"
        self.config_dir = root / "config"
        self.clock = ManualClock(START)
        self.daemon: Daemon | None = None
        self.client: httpx.AsyncClient | None = None

    @asynccontextmanager
    async def running(self, store: Store | None = None) -> AsyncIterator[Harness]:
        settings = DaemonSettings(
            working_dir=self.working_dir, config_path=self.config_dir, default_time_zone="UTC"
        )
        async with Daemon(settings, clock=self.clock, store=store) as daemon:
            self.daemon = daemon
            transport = httpx.ASGITransport(app=create_app(daemon))
            async with httpx.AsyncClient(
                transport=transport, base_url="http://localhost"
            ) as client:
                self.client = client
                yield self
        self.daemon = None
        self.client = None

    async def get(self, path: str, **params: Any) -> Any:
        assert self.client is not None
        response = await self.client.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    async def post(self, path: str, expect: int = 200, **form: str) -> Any:
        assert self.client is not None
        response = await self.client.post(path, data=form)
        assert response.status_code == expect, response.text
        return response.json()

    async def action(self, action_id: str, **params: Any) -> Any:
        job, run, action = action_id.rsplit(".", 2)
        return await self.get(f"/api/jobs/{job}/{run}/{action}", **params)

    async def job_run(self, run_id: str, **params: Any) -> Any:
        job, run = run_id.rsplit(".", 1)
        return await self.get(f"/api/jobs/{job}/{run}", **params)

    async def wait_run_state(self, run_id: str, *states: str, limit: float = 60.0) -> Any:
        seen: dict[str, Any] = {}

        async def check() -> bool:
            assert self.client is not None
            job, run = run_id.rsplit(".", 1)
            response = await self.client.get(
                f"/api/jobs/{job}/{run}", params={"include_action_runs": 1}
            )
            if response.status_code == 404:  # not created yet
                return False
            seen.update(response.json())
            return seen["state"] in states

        await wait_until(check, limit)
        return seen


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


HarnessFactory = Callable[[], Harness]
