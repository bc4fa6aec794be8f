"""SqliteStore: the Store contract in one SQLite file, written by one worker thread.

Durability: WAL with `synchronous=FULL`, so the WAL is fsynced at every commit and a
committed transaction survives power loss, not only a crash of the daemon. (`NORMAL` would
only lose the last transactions on power loss, but the engine acts as soon as a save
returns, so it must not be lost.) Group commit (see sqlite_worker) keeps that affordable.

Ownership: an open store holds an exclusive lock on its database file (see ownership), so a
second store on the same file, in this process or another, is refused with StoreError.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from tron.core.records import ActionRun, JobRun
from tron.errors import StoreError
from tron.store import sqlite_queries as q
from tron.store.alerts_sqlite import SqliteAlerts
from tron.store.base import ConfigVersion, JobState, Transition
from tron.store.common import DamagedRecordError, Now, system_now
from tron.store.migrations import apply_migrations
from tron.store.ownership import StateLock
from tron.store.sqlite_worker import RetrySettings, SqliteWorker

__all__ = ["RetrySettings", "SqliteStore"]

T = TypeVar("T")


class SqliteStore(SqliteAlerts):
    """The embedded default store. `open()` creates or migrates the file."""

    def __init__(
        self,
        path: str | Path,
        *,
        retry: RetrySettings | None = None,
        now: Now = system_now,
        file_mode: int = 0o600,
    ) -> None:
        self.path = Path(path)
        self.file_mode = file_mode
        self._retry = retry or RetrySettings()
        self._now = now
        self._worker: SqliteWorker | None = None
        self._lock: StateLock | None = None
        self._is_new = False

    async def open(self) -> None:
        if self._worker is not None:
            return
        # Before the lock, which creates a missing file: an empty file found here is not ours.
        self._is_new = _check_file(self.path)
        lock = StateLock.acquire(self.path, mode=self.file_mode)
        worker = SqliteWorker(self._connect, retry=self._retry)
        try:
            await worker.start()
        except BaseException:
            lock.release()  # the worker closed its connection before failing
            raise
        self._worker, self._lock = worker, lock

    async def close(self) -> None:
        if self._worker is not None:
            await self._worker.stop()
            self._worker = None
        if self._lock is not None:
            self._lock.release()  # after the connection closed: see ownership
            self._lock = None

    async def run(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Run `operation` on the store's connection in its next transaction.

        For maintenance and tests; the result is returned once the transaction committed.
        """
        if self._worker is None:
            raise StoreError("the store is not open")
        try:
            return await self._worker.call(operation)
        except DamagedRecordError as exc:
            raise exc.in_file(str(self.path)) from exc

    def _connect(self) -> sqlite3.Connection:
        # Runs on the worker thread, which then owns the connection.
        is_new = self._is_new
        try:
            conn = sqlite3.connect(
                self.path, timeout=self._retry.busy_timeout, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {self.path}: {exc}") from exc
        try:
            if is_new:
                # Before WAL is on: SQLite gives -wal and -shm the mode of the database.
                os.chmod(self.path, self.file_mode)
            _prepare(conn)
        except StoreError as exc:
            conn.close()
            raise StoreError(f"{self.path}: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        return conn

    async def save_config_version(self, namespace: str, text: str, hash: str) -> ConfigVersion:
        return await self.run(
            functools.partial(q.save_config_version, namespace=namespace, text=text,
                              hash=hash, saved_at=self._now())
        )  # fmt: skip

    async def config_versions(self, namespace: str | None = None) -> list[ConfigVersion]:
        return await self.run(functools.partial(q.config_versions, namespace=namespace))

    async def load_job_states(self) -> dict[str, JobState]:
        return await self.run(q.load_job_states)

    async def set_job_enabled(self, job_name: str, enabled: bool | None) -> None:
        await self.run(functools.partial(q.set_job_enabled, job_name=job_name, enabled=enabled))

    async def create_job_run(self, job_run: JobRun, *, slot: str | None = None) -> bool:
        return await self.run(
            functools.partial(q.create_job_run, job_run=job_run, slot=slot, now=self._now())
        )

    async def save_job_run(self, job_run: JobRun) -> None:
        await self.run(functools.partial(q.save_job_run, job_run=job_run))

    async def save_action_run(self, action_run: ActionRun, *, reason: str | None = None) -> None:
        await self.run(
            functools.partial(q.save_action_run, action_run=action_run, reason=reason,
                              now=self._now())
        )  # fmt: skip

    async def save_run_changes(
        self,
        job_run: JobRun,
        action_runs: Sequence[ActionRun],
        *,
        header: bool,
        handle: tuple[str, dict[str, Any]] | None = None,
        events: Sequence[str] = (),
    ) -> None:
        await self.run(
            functools.partial(q.save_run_changes, job_run=job_run, action_runs=action_runs,
                              header=header, handle=handle, events=events, now=self._now())
        )  # fmt: skip

    async def save_handle(self, action_run_id: str, handle: dict[str, Any] | None) -> None:
        await self.run(functools.partial(q.save_handle, action_run_id=action_run_id, handle=handle))

    async def load_handles(self) -> dict[str, dict[str, Any]]:
        return await self.run(q.load_handles)

    async def load_job_runs(self, job_name: str | None = None) -> list[JobRun]:
        return await self.run(functools.partial(q.load_job_runs, job_name=job_name))

    async def transitions(self, action_run_id: str) -> list[Transition]:
        return await self.run(functools.partial(q.transitions, action_run_id=action_run_id))

    async def delete_job_run(self, job_name: str, run_num: int) -> None:
        await self.run(functools.partial(q.delete_job_run, job_name=job_name, run_num=run_num))

    async def rename_job(self, old: str, new: str) -> None:
        await self.run(functools.partial(q.rename_job, old=old, new=new))

    async def add_event(self, event_id: str) -> bool:
        return await self.run(functools.partial(q.add_event, event_id=event_id))

    async def delete_event(self, event_id: str) -> bool:
        return await self.run(functools.partial(q.delete_event, event_id=event_id))

    async def events(self) -> list[str]:
        return await self.run(q.events)


def _check_file(path: Path) -> bool:
    """Whether the database is new; StoreError when the file is there but holds nothing.

    SQLite takes an empty file for a new database, and trond would start with no history
    and no word about it. Our databases are never empty: WAL mode writes their header.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return True
    except OSError as exc:
        raise StoreError(f"cannot open {path}: {exc.strerror or exc}") from exc
    if size == 0:
        raise StoreError(f"{path} is empty: not a tron state database; move it away to start fresh")
    return False


def _prepare(conn: sqlite3.Connection) -> None:
    """Set the connection's pragmas and bring the schema up to date."""
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        # Every operation runs in a savepoint, whose undo journal is otherwise a temporary
        # file: in memory, it halves the cost of small operations. Commits are unaffected.
        conn.execute("PRAGMA temp_store = MEMORY")
    except sqlite3.Error as exc:
        raise StoreError(f"cannot use the state store: {exc}") from exc
    apply_migrations(conn)
