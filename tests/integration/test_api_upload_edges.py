"""A config upload on a full disk answers 507 and keeps the old config, in memory and on disk;
a store that fails answers 503; an upload in flight when SIGTERM arrives completes (200)."""

from __future__ import annotations

import errno
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.fakes import FlakyStore
from tests.integration.conftest import Harness, wait_until, write_config
from tests.integration.trond_process import TrondProcess
from tron.engine.configstore import ConfigDir
from tron.store.base import ConfigVersion
from tron.store.sqlite import SqliteStore
from tron.store.sqlite_worker import RetrySettings

MASTER = "time_zone: UTC\njobs: {}\n"
FORM = "application/x-www-form-urlencoded"
OLD = """
jobs:
  old_jöb:
    node: localhost
    schedule: "cron 0 4 * * *"
    actions:
      a: {command: "echo old"}
"""
NEW = OLD.replace("old_jöb", "new_jöb").replace("echo old", "echo new ✓")


def full_disk_under(monkeypatch: pytest.MonkeyPatch, directory: Path) -> None:
    """fsync (where a full disk shows, with delayed allocation) fails for files there."""
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if os.readlink(f"/proc/self/fd/{fd}").startswith(str(directory)):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)


def files(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.iterdir())}


async def upload(h: Harness, text: str, expect: int) -> dict[str, object]:
    _, digest = h.daemon.namespace("team") if h.daemon else ("", "")
    body: dict[str, object] = await h.post(
        "/api/config", expect=expect, name="team", config=text, hash=digest
    )
    return body


async def assert_old_config_in_effect(h: Harness, before: dict[str, str]) -> None:
    assert h.daemon is not None
    assert set(h.daemon.registry.jobs) == {"team.old_jöb"}
    assert (await h.get("/api/config", name="team"))["config"] == before["team.yaml"]
    assert files(h.config_dir) == before  # no new file, no temporary left behind


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
async def test_full_disk_writing_the_namespace_file_is_507_and_keeps_the_old_config(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    write_config(harness.config_dir, MASTER, team=OLD)
    before = files(harness.config_dir)
    async with harness.running() as h:
        full_disk_under(monkeypatch, harness.config_dir)
        body = await upload(h, NEW, expect=507)
        assert body["error"] == "not enough space on disk: No space left on device"
        await assert_old_config_in_effect(h, before)
        monkeypatch.undo()
        await upload(h, NEW, expect=200)
        assert h.daemon is not None
        assert set(h.daemon.registry.jobs) == {"team.new_jöb"}


async def test_full_store_is_507_with_the_stores_message_and_keeps_the_old_config(
    harness: Harness,
) -> None:
    write_config(harness.config_dir, MASTER, team=OLD)
    before = files(harness.config_dir)
    store = SqliteStore(
        harness.working_dir / "full.sqlite", retry=RetrySettings(attempts=2, first_delay=0.01)
    )
    harness.working_dir.mkdir(parents=True)
    async with harness.running(store=store) as h:
        # SQLite's own full-disk error, for real: the file may not grow by one more page.
        await store.run(lambda conn: conn.execute("PRAGMA max_page_count = 1"))
        body = await upload(h, NEW + "# " + "ü" * 100_000 + "\n", expect=507)
        assert "database or disk is full" in str(body["error"])
        await assert_old_config_in_effect(h, before)
        versions = await h.get("/api/config/versions", name="team")
        assert all("new_jöb" not in v["config"] for v in versions)


async def test_store_error_during_upload_is_503_and_keeps_the_old_config(
    harness: Harness,
) -> None:
    class BrokenConfigStore(FlakyStore):
        async def save_config_version(self, namespace: str, text: str, hash: str) -> ConfigVersion:
            self._maybe_fail()
            return await super().save_config_version(namespace, text, hash)

    write_config(harness.config_dir, MASTER, team=OLD)
    before = files(harness.config_dir)
    store = BrokenConfigStore()
    async with harness.running(store=store) as h:

        async def startup_version_recorded() -> bool:
            return {v.namespace for v in await store.config_versions()} == {"MASTER", "team"}

        # trond records the config it started with in the background, one namespace after the
        # other: let it finish first, or the failure meant for the upload may hit its last one.
        await wait_until(startup_version_recorded)
        store.fail_next(1)
        body = await upload(h, NEW, expect=503)
        assert body["error"] == "database or disk is full"  # FlakyStore's words, no cause
        await assert_old_config_in_effect(h, before)


def test_staged_write_discarded_leaves_the_old_file(tmp_path: Path) -> None:
    write_config(tmp_path, MASTER, team=OLD)
    config_dir = ConfigDir(tmp_path)
    staged = config_dir.stage("team", NEW)
    staged.discard()
    assert (tmp_path / "team.yaml").read_text(encoding="utf-8") == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["MASTER.yaml", "team.yaml"]
    config_dir.stage("fresh", NEW).commit()
    assert (tmp_path / "fresh.yaml").read_text(encoding="utf-8") == NEW


@pytest.mark.slow
def test_upload_in_flight_when_sigterm_arrives_completes_and_answers_200(tmp_path: Path) -> None:
    trond = TrondProcess(tmp_path / "work", write_config(tmp_path / "config", MASTER))
    trond.start()
    try:
        body = urlencode({"name": "team", "config": NEW}).encode()
        first_sent, signalled = threading.Event(), threading.Event()

        def chunks() -> Iterator[bytes]:
            yield body[:10]
            first_sent.set()
            signalled.wait(30)
            # Longer than the 2 s grace trond used to give requests in flight.
            time.sleep(3)
            yield body[10:]

        outcome: dict[str, httpx.Response] = {}

        def send() -> None:
            headers = {"Content-Type": FORM, "Content-Length": str(len(body))}
            outcome["response"] = httpx.post(
                f"{trond.url}/api/config", content=chunks(), headers=headers, timeout=60
            )

        sender = threading.Thread(target=send)
        sender.start()
        assert first_sent.wait(30)
        # The upload's bytes are written, but trond may not have read them yet, and a
        # connection it has read nothing from is idle: shutting down closes it unanswered.
        # An answer on another connection, asked after those bytes went out, comes from a
        # later turn of trond's event loop than the one that read them.
        httpx.get(f"{trond.url}/api/status", timeout=30).raise_for_status()
        assert trond.proc is not None
        trond.proc.send_signal(signal.SIGTERM)
        wait_for(lambda: "stopping" in trond.log.read_text())
        signalled.set()
        sender.join(60)
        assert trond.proc.wait(60) == 0
    finally:
        signalled.set()
        trond.stop()
    response = outcome["response"]
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "Active"
    assert (tmp_path / "config" / "team.yaml").read_text(encoding="utf-8") == NEW


def wait_for(condition: Callable[[], bool], limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)
