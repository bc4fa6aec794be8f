"""trond's state and action output are private, whatever the umask (issue 11)."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import START, wait_until, write_config
from tron.__main__ import api_token, parse_args, settings_from
from tron.api.app import create_app
from tron.engine.clock import ManualClock
from tron.engine.daemon import Daemon, DaemonSettings

ECHO = """
jobs:
  echo:
    node: localhost
    schedule: "cron 0 4 * * *"
    actions:
      say: {command: "echo secret; echo oops >&2"}
"""


@contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@asynccontextmanager
async def running(root: Path, *, group_readable: bool = False) -> AsyncIterator[httpx.AsyncClient]:
    settings = DaemonSettings(
        working_dir=root / "work",
        config_path=root / "config",
        default_time_zone="UTC",
        group_readable=group_readable,
    )
    async with Daemon(settings, clock=ManualClock(START)) as daemon:
        transport = httpx.ASGITransport(app=create_app(daemon))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            yield client


async def run_echo(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/jobs/MASTER.echo", data={"command": "start"})
    assert response.status_code == 200, response.text

    async def succeeded() -> bool:
        run = (await client.get("/api/jobs/MASTER.echo/1")).json()
        return bool(run.get("state") == "succeeded")

    await wait_until(succeeded)


def state_files(work: Path) -> dict[Path, int]:
    """Every directory and file trond made in its working dir, with their modes."""
    found = {work: mode(work)}
    for path in work.rglob("*"):
        if path.parent != work / "config":
            found[path] = mode(path)
    return found


@pytest.mark.parametrize(
    ("group_readable", "mask", "dirs", "files"),
    [(False, 0o022, 0o700, 0o600), (False, 0o000, 0o700, 0o600), (True, 0o077, 0o750, 0o640)],
)
async def test_state_and_output_get_private_modes_whatever_the_umask(
    tmp_path: Path, group_readable: bool, mask: int, dirs: int, files: int
) -> None:
    write_config(tmp_path / "config", ECHO)
    work = tmp_path / "work"
    with umask(mask):
        async with running(tmp_path, group_readable=group_readable) as client:
            await run_echo(client)
            modes = state_files(work)
    output = work / "output"
    streams = [p for p in modes if p.name in ("stdout", "stderr")]
    assert len(streams) == 2
    assert (work / "tron_state.sqlite-wal") in modes
    for path in [work / "tron.lock", work / "tron_state.sqlite", *streams]:
        assert modes[path] == files, path
    for path in [work, output, *(p for p in modes if p.is_relative_to(output) and p.is_dir())]:
        assert modes[path] == dirs, path
    # Others cannot even enter a directory, so the supervisor's records (pids and exit
    # statuses, made by the shell with the umask) are out of their reach too.
    assert all(m & 0o007 == 0 for p, m in modes.items() if p.is_dir())


async def test_existing_state_is_tightened_with_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_config(tmp_path / "config", ECHO)
    work = tmp_path / "work"
    async with running(tmp_path) as client:
        await run_echo(client)
    loose = [work, work / "tron.lock", work / "tron_state.sqlite", work / "output"]
    for path in loose:
        path.chmod(0o755 if path.is_dir() else 0o644)
    caplog.set_level(logging.INFO, logger="tron.engine.daemon")
    async with running(tmp_path):
        pass
    lines = [r.getMessage() for r in caplog.records if "private" in r.getMessage()]
    assert len(lines) == 1
    for path in loose:
        was, now = ("0755", "0700") if path.is_dir() else ("0644", "0600")
        assert f"{path} {was} -> {now}" in lines[0]
        assert mode(path) == int(now, 8)


async def test_a_shared_output_dir_is_left_alone_but_runs_in_it_are_private(
    tmp_path: Path,
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    write_config(tmp_path / "config", f"output_stream_dir: {shared}\n{ECHO}")
    async with running(tmp_path) as client:
        await run_echo(client)
    assert mode(shared) == 0o1777
    namespace_dir = shared / "MASTER"
    assert mode(namespace_dir) == 0o750  # never more than group read
    made = list(namespace_dir.rglob("*"))
    assert all(mode(p) & 0o007 == 0 for p in made if p.is_dir() or p.name in ("stdout", "stderr"))


def test_group_readable_is_a_trond_flag() -> None:
    assert settings_from(parse_args(["--group-readable"])).group_readable is True
    assert settings_from(parse_args([])).group_readable is False


def test_a_loose_api_token_is_tightened(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    token = tmp_path / "api_token"
    token.write_text("t0ken\n")
    token.chmod(0o644)
    args = parse_args(["--host", "0.0.0.0", "--group-readable"])
    assert api_token(args, tmp_path) == "t0ken"
    assert mode(token) == 0o600  # a credential: owner-only even when the group may read
    assert f"made the API token private: {token} 0644 -> 0600" in caplog.text
