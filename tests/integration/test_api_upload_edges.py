"""A config upload on a full disk answers 507 and keeps the old config, in memory and on disk;
a store that fails answers 503."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from tests.fakes import FlakyStore
from tests.integration.conftest import Harness, write_config
from tron.engine.configstore import ConfigDir
from tron.store.sqlite import SqliteStore
from tron.store.sqlite_worker import RetrySettings

MASTER = "time_zone: UTC\njobs: {}\n"
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
        async def save_config_version(self, namespace: str, text: str, hash: str) -> object:
            self._maybe_fail()
            return await super().save_config_version(namespace, text, hash)

    write_config(harness.config_dir, MASTER, team=OLD)
    before = files(harness.config_dir)
    store = BrokenConfigStore()
    async with harness.running(store=store) as h:
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
