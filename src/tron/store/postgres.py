"""PostgresStore: the Store contract on a PostgreSQL server that several trond may share.

Reads run each in a transaction of its own on a pooled connection (psycopg 3, async; the
lease has a connection of its own). Durability is the server's: a commit returns once its
WAL is flushed (the server's defaults).

Writes go through group commit (postgres_batch): every write queued while a transaction runs
shares the next one, which begins (in the same round trip as the writes' statements) with
the fencing check once `fence(epoch)` was called (by the leader loop): a shared advisory
lock, then the lease's epoch, which must still be ours before anything commits. A takeover
takes the same lock exclusively while it raises the epoch, so it waits for every write in
flight, and every later write (its statement snapshot taken after the lock) sees the new
epoch: a deposed leader cannot write after the new one took over, whatever its clock or its
pauses. (A shared advisory lock costs far less than `FOR SHARE` on the lease row, which
turns every concurrent write into a multixact.) A store never fenced (tests,
`trond migrate-state`) writes freely.

Lost connections (the server restarting, a network blip) are retried with a back-off for a
while: an operation whose commit may have landed before the break is written so that doing
it again changes nothing more (see postgres_queries.create_job_run).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from tron.core.records import ActionRun, JobRun
from tron.errors import StoreError
from tron.store import postgres_piped as piped
from tron.store import postgres_queries as q
from tron.store.alerts_postgres import PostgresAlerts
from tron.store.base import ConfigVersion, JobState, Transition
from tron.store.common import Now, system_now
from tron.store.dsn import masked, scrubbed
from tron.store.lease import FencedError, Lease, RunChanges
from tron.store.postgres_batch import (
    FENCE_LOCK,
    Backoff,
    Piped,
    WriteBatcher,
    pooled,
    unfenced,
)
from tron.store.postgres_schema import apply_migrations

logger = logging.getLogger(__name__)

__all__ = ["FencedError", "PostgresStore"]

T = TypeVar("T")
Operation = Callable[[q.Cursor, bool], Awaitable[T]]


class PostgresStore(PostgresAlerts):
    """`PostgresStore(dsn)`; `open()` connects, creates or migrates the schema."""

    def __init__(
        self,
        dsn: str,
        *,
        now: Now = system_now,
        pool_size: int = 16,
        retry_for: float = 30.0,
        connect_timeout: float = 5.0,
    ) -> None:
        self.dsn = dsn
        self._now = now
        self._pool_size = pool_size
        self._retry_for = retry_for
        self._connect_timeout = connect_timeout
        self._pool: AsyncConnectionPool[AsyncConnection[Any]] | None = None
        self._lease_pool: AsyncConnectionPool[AsyncConnection[Any]] | None = None
        self._epoch: object = unfenced()
        self._writes = WriteBatcher(
            lambda: self._pool,
            epoch=lambda: self._epoch,
            say=self._say,
            where=self.where,
            retry_for=retry_for,
        )

    @property
    def where(self) -> str:
        """The server, for messages: the DSN without its password."""
        return masked(self.dsn)

    def _new_pool(self, size: int, name: str) -> AsyncConnectionPool[AsyncConnection[Any]]:
        return AsyncConnectionPool(
            self.dsn,
            min_size=1,
            max_size=size,
            open=False,
            timeout=self._connect_timeout,
            # Autocommit: a batch of writes begins its transaction by hand, so the BEGIN
            # travels with the fence check and the writes (postgres_batch).
            kwargs={"connect_timeout": max(1, round(self._connect_timeout)), "autocommit": True},
            # A connection broken by a server restart is noticed (and replaced) when it is
            # given back; reconnecting goes on in the background.
            reconnect_timeout=0,
            name=name,
        )

    async def open(self) -> None:
        if self._pool is not None:
            return
        pool = self._new_pool(self._pool_size, "tron-store")
        # The lease has a connection of its own: a renewal never waits behind a burst of
        # writes for a pooled one (which would pause launches, or lose the lease, under load).
        lease_pool = self._new_pool(1, "tron-lease")
        try:
            await pool.open(wait=True, timeout=self._connect_timeout)
            await lease_pool.open(wait=True, timeout=self._connect_timeout)
            async with pool.connection() as conn:
                await apply_migrations(conn)
        except (psycopg.Error, PoolTimeout) as exc:
            await asyncio.gather(pool.close(), lease_pool.close())
            raise StoreError(f"cannot use the database {self.where}: {self._say(exc)}") from exc
        except BaseException:
            await asyncio.gather(pool.close(), lease_pool.close())
            raise
        self._pool, self._lease_pool = pool, lease_pool
        logger.info("state store: PostgreSQL at %s", self.where)

    async def close(self) -> None:
        await self._writes.drain()
        pools = [p for p in (self._pool, self._lease_pool) if p is not None]
        self._pool = self._lease_pool = None
        for pool in pools:
            await pool.close()

    # -- fencing ---------------------------------------------------------------------------

    def fence(self, epoch: int | None) -> None:
        """Make every later write conditional on the lease's epoch being `epoch`; None
        refuses every write (a standby)."""
        self._epoch = epoch

    # -- running operations ----------------------------------------------------------------

    async def write(self, operation: Operation[T] | Piped[T]) -> T:
        """Run `operation` in the next fenced transaction (group commit), retrying lost
        connections."""
        return await self._writes.call(operation)

    async def read(self, operation: Operation[T]) -> T:
        """Run `operation` in a transaction of its own, retrying lost connections."""
        backoff = Backoff(self._retry_for, self.where, self._say)
        while True:
            try:
                return await self._transact(operation, retrying=backoff.retrying)
            except (psycopg.OperationalError, PoolTimeout) as exc:
                # Connection lost or refused, a serialization failure or deadlock: the
                # transaction did not commit (or, for a break at COMMIT, see the module doc).
                await backoff.wait(exc, "retrying")
            except psycopg.Error as exc:
                raise StoreError(f"database {self.where}: {self._say(exc)}") from exc

    async def _transact(self, operation: Operation[T], *, retrying: bool, lease: bool = False) -> T:
        pool = self._lease_pool if lease else self._pool
        if pool is None:
            raise StoreError("the store is not open")
        async with pooled(pool) as conn, conn.cursor() as cur, conn.transaction():
            return await operation(cur, retrying)

    def _say(self, exc: BaseException) -> str:
        text = " ".join(str(exc).split()) or type(exc).__name__
        return scrubbed(text, self.dsn)

    # -- the Store contract ----------------------------------------------------------------

    async def save_config_version(self, namespace: str, text: str, hash: str) -> ConfigVersion:
        at = self._now()
        return await self.write(
            lambda cur, _: q.save_config_version(cur, namespace, text, hash, at)
        )

    async def config_versions(self, namespace: str | None = None) -> list[ConfigVersion]:
        return await self.read(lambda cur, _: q.config_versions(cur, namespace))

    async def load_job_states(self) -> dict[str, JobState]:
        return await self.read(lambda cur, _: q.load_job_states(cur))

    async def set_job_enabled(self, job_name: str, enabled: bool | None) -> None:
        await self.write(lambda cur, _: q.set_job_enabled(cur, job_name, enabled))

    async def create_job_run(self, job_run: JobRun, *, slot: str | None = None) -> bool:
        now = self._now()

        async def operation(cur: q.Cursor, retrying: bool) -> bool:
            return await q.create_job_run(cur, job_run, slot, now, retrying)

        names = {action_run.action_name for action_run in job_run.action_runs}
        if len(names) < len(job_run.action_runs):
            return await self.write(operation)  # a name given twice: see q.create_job_run
        return await self.write(Piped(operation, piped.create_job_run(job_run, slot, now)))

    async def save_job_run(self, job_run: JobRun) -> None:
        await self.write(lambda cur, _: q.save_job_run(cur, job_run))

    async def save_action_run(self, action_run: ActionRun, *, reason: str | None = None) -> None:
        now = self._now()
        await self.write(lambda cur, _: q.save_action_run(cur, action_run, reason, now))

    async def save_run_changes(
        self,
        job_run: JobRun,
        action_runs: Sequence[ActionRun],
        *,
        header: bool,
        handle: tuple[str, dict[str, Any]] | None = None,
        events: Sequence[str] = (),
    ) -> None:
        now = self._now()
        operation = functools.partial(
            _save_run_changes, job_run=job_run, action_runs=action_runs, header=header,
            handle=handle, events=events, now=now,
        )  # fmt: skip
        send = piped.save_run_changes(job_run, action_runs, header, handle, events, now)
        await self.write(Piped(operation, send))

    async def save_handle(self, action_run_id: str, handle: dict[str, Any] | None) -> None:
        await self.write(lambda cur, _: q.save_handle(cur, action_run_id, handle))

    async def load_handles(self) -> dict[str, dict[str, Any]]:
        return await self.read(lambda cur, _: q.load_handles(cur))

    async def load_job_runs(self, job_name: str | None = None) -> list[JobRun]:
        return await self.read(lambda cur, _: q.load_job_runs(cur, job_name))

    async def transitions(self, action_run_id: str) -> list[Transition]:
        return await self.read(lambda cur, _: q.transitions(cur, action_run_id))

    async def delete_job_run(self, job_name: str, run_num: int) -> None:
        await self.write(lambda cur, _: q.delete_job_run(cur, job_name, run_num))

    async def rename_job(self, old: str, new: str) -> None:
        await self.write(lambda cur, retrying: q.rename_job(cur, old, new, retrying))

    async def add_event(self, event_id: str) -> bool:
        return await self.write(lambda cur, _: q.add_event(cur, event_id))

    async def delete_event(self, event_id: str) -> bool:
        return await self.write(lambda cur, _: q.delete_event(cur, event_id))

    async def events(self) -> list[str]:
        return await self.read(lambda cur, _: q.events(cur))

    async def run_changes(self, since: int | None) -> RunChanges:
        return await self.read(lambda cur, _: q.run_changes(cur, since))

    # -- the leader's lease (never fenced: it is what fencing is made of) ------------------

    async def acquire_lease(self, holder: str, address: str, seconds: float) -> Lease | None:
        async def take(cur: q.Cursor, _: bool) -> Lease | None:
            await cur.execute("SELECT pg_advisory_xact_lock(%s)", (FENCE_LOCK,))
            await cur.execute(
                "UPDATE lease SET holder = %(holder)s, address = %(address)s,"
                " epoch = epoch + 1, acquired_at = clock_timestamp(),"
                " renewed_at = clock_timestamp(),"
                " expires_at = clock_timestamp() + make_interval(secs => %(secs)s)"
                " WHERE id = 1 AND (holder IS NULL OR expires_at <= clock_timestamp())"
                " RETURNING holder, address, epoch, 0.0, %(secs)s::float8",
                {"holder": holder, "address": address, "secs": seconds},
            )
            row = await cur.fetchone()
            return None if row is None else _lease(row)

        return await self._once(take)

    async def renew_lease(self, holder: str, epoch: int, seconds: float) -> bool:
        async def renew(cur: q.Cursor, _: bool) -> bool:
            await cur.execute(
                "UPDATE lease SET renewed_at = clock_timestamp(),"
                " expires_at = clock_timestamp() + make_interval(secs => %s)"
                " WHERE id = 1 AND epoch = %s AND holder = %s",
                (seconds, epoch, holder),
            )
            return cur.rowcount == 1

        return await self._once(renew)

    async def release_lease(self, holder: str, epoch: int) -> None:
        async def release(cur: q.Cursor, _: bool) -> None:
            await cur.execute(
                "UPDATE lease SET expires_at = clock_timestamp()"
                " WHERE id = 1 AND epoch = %s AND holder = %s",
                (epoch, holder),
            )

        await self._once(release)

    async def read_lease(self) -> Lease:
        async def read(cur: q.Cursor, _: bool) -> Lease:
            await cur.execute(
                "SELECT holder, address, epoch,"
                " extract(epoch FROM clock_timestamp() - renewed_at)::float8,"
                " extract(epoch FROM expires_at - clock_timestamp())::float8"
                " FROM lease WHERE id = 1"
            )
            row = await cur.fetchone()
            if row is None:
                raise StoreError(f"database {self.where}: the lease row is missing")
            return _lease(row)

        return await self._once(read)

    async def _once(self, operation: Operation[T]) -> T:
        """One try, no retries: the lease loop has its own rhythm and must not lag behind."""
        try:
            return await self._transact(operation, retrying=False, lease=True)
        except (psycopg.Error, PoolTimeout) as exc:
            raise StoreError(f"database {self.where}: {self._say(exc)}") from exc


async def _save_run_changes(cur: q.Cursor, _: bool, **changes: Any) -> None:
    await q.save_run_changes(cur, **changes)


def _lease(row: Sequence[Any]) -> Lease:
    holder, address, epoch, age, remaining = row
    return Lease(
        holder=holder,
        address=address,
        epoch=int(epoch),
        age=None if age is None else float(age),
        remaining=None if remaining is None else float(remaining),
    )
