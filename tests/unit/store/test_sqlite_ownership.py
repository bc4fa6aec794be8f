"""One store per state file: the lock held on the SQLite file itself, with WAL still working."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from asyncio.subprocess import PIPE
from pathlib import Path

import pytest

from tron.errors import StoreError
from tron.store.sqlite import SqliteStore

HOLDER = """
import asyncio, sys
from tron.store.sqlite import SqliteStore

async def main():
    store = SqliteStore(sys.argv[1])
    await store.open()
    print("open", flush=True)
    sys.stdin.read()  # until the test closes our stdin
    await store.close()

asyncio.run(main())
"""


async def test_a_second_store_on_the_same_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    first = SqliteStore(path)
    await first.open()
    try:
        with pytest.raises(StoreError, match=f"{path} is in use by process {os.getpid()}"):
            await SqliteStore(path).open()
        # Even through another name for the same file.
        (tmp_path / "alias.sqlite").symlink_to(path)
        with pytest.raises(StoreError, match="in use"):
            await SqliteStore(tmp_path / "alias.sqlite").open()
        assert await first.add_event("still-works")  # the refusals left our own locks alone
    finally:
        await first.close()
    second = SqliteStore(path)
    await second.open()
    try:
        assert await second.events() == ["still-works"]
    finally:
        await second.close()


async def test_wal_mode_and_other_readers_work_with_the_lock_held(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    store = SqliteStore(path)
    await store.open()
    try:
        assert await store.run(lambda c: c.execute("PRAGMA journal_mode").fetchone()[0]) == "wal"
        assert await store.add_event("e1")
        assert (tmp_path / "state.sqlite-wal").exists()
        reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            assert reader.execute("SELECT count(*) FROM events").fetchone()[0] == 1
        finally:
            reader.close()
        assert await store.add_event("e2")  # and the store's own locks survived that
        assert await store.events() == ["e1", "e2"]
    finally:
        await store.close()


async def test_a_store_open_in_another_process_is_refused_naming_its_pid(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLDER, str(path), stdin=PIPE, stdout=PIPE
    )
    assert holder.stdin is not None
    assert holder.stdout is not None
    try:
        assert await asyncio.wait_for(holder.stdout.readline(), 30) == b"open\n"
        with pytest.raises(StoreError) as refused:
            await SqliteStore(path).open()
        assert str(refused.value) == (
            f"the state {path} is in use by process {holder.pid} (another trond?); "
            "one daemon per state: stop the other one first"
        )
    finally:
        holder.stdin.close()
        await asyncio.wait_for(holder.wait(), 30)
    store = SqliteStore(path)
    await store.open()  # the holder is gone: its lock went with it
    await store.close()


async def test_a_failed_open_leaves_no_lock_behind(tmp_path: Path) -> None:
    path = tmp_path / "tron_state"
    path.write_bytes(b"this is a shelve file, not sqlite" * 100)
    for _ in range(2):
        with pytest.raises(StoreError) as failed:
            await SqliteStore(path).open()
        assert "in use" not in str(failed.value)
