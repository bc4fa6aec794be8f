"""Group commit for the PostgreSQL store: every write queued while a transaction runs shares
the next one, with one fencing check and one commit.

A write is an operation run on a cursor inside the shared transaction. It may also come in a
pipelined form (`Piped`): a send step that only sends statements, and a finish step that
reads their results once they are in. A batch then goes in two round trips whatever its size:

1. in pipeline mode: BEGIN, the fencing check (a shared advisory lock, then the lease's
   epoch), and every pipelined operation's statements; one sync;
2. once the epoch read is found to be ours and every finish step went through (the other
   operations run in between, one statement at a time): COMMIT.

Nothing commits before the epoch read in the same transaction was checked, so a deposed
leader's batch writes nothing, however many operations it holds.

When an operation fails (a database error, NotFoundError, anything a finish step raises),
its statements may have left the transaction half done: the batch is rolled back and run
again operation by operation, each in a savepoint, so only the failing operation's caller
gets its error. A transient failure (a lost connection, a serialization failure or deadlock,
the server short of room or restarting: see `is_transient`) fails nobody at first: the whole
batch is tried again on another connection, with a back-off, for a while.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import psycopg
from psycopg import AsyncConnection, AsyncCursor
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from tron.errors import StoreError
from tron.store.lease import FencedError

logger = logging.getLogger(__name__)

T = TypeVar("T")
Cursor = AsyncCursor[Any]
Connection = AsyncConnection[Any]
Operation = Callable[[Cursor, bool], Awaitable[T]]
Finish = Callable[[], Awaitable[T]]
# Sends the statements (never reading a result: no fetch, no rowcount) and says how to
# finish once they ran. The bool is `retrying`, as for an Operation.
Send = Callable[[Connection, bool], Awaitable[Finish[T]]]

# The advisory lock that orders leaders' writes against takeovers (see postgres.py).
FENCE_LOCK = 0x7472_6F6E_0002  # "tron" 2
_LOCK_SHARED = f"SELECT pg_advisory_xact_lock_shared({FENCE_LOCK})".encode()
_READ_EPOCH = b"SELECT epoch FROM lease WHERE id = 1"
_UNFENCED = object()  # no epoch to check: every write goes through
# SQLSTATE classes of errors worth a retry: connection exception, transaction rollback,
# insufficient resources, object in use (a lock not available), operator intervention.
_TRANSIENT_CLASSES = frozenset({"08", "40", "53", "55", "57"})


@dataclass(frozen=True, slots=True)
class Piped(Generic[T]):
    """A write in both forms: `operation` on its own (always right), `send` in a pipeline."""

    operation: Operation[T]
    send: Send[T]


@dataclass(slots=True)
class _Request:
    operation: Operation[Any]
    send: Send[Any] | None
    future: asyncio.Future[Any]


@dataclass(frozen=True, slots=True)
class _Outcome:
    result: Any = None
    error: BaseException | None = None


class Backoff:
    """The waits between tries of an operation that failed for the moment (a lost connection,
    say): 0.1 s doubling up to 2 s, for `retry_for` seconds in all."""

    def __init__(self, retry_for: float, where: str, say: Callable[[BaseException], str]):
        self._deadline = time.monotonic() + retry_for
        self._delay = 0.1
        self._where = where
        self._say = say
        self.retrying = False  # whether an earlier try failed (its commit may have landed)

    async def wait(self, exc: BaseException, doing: str) -> None:
        """Wait before the next try, or raise StoreError once out of time."""
        if time.monotonic() + self._delay > self._deadline:
            raise StoreError(f"database {self._where}: {self._say(exc)}") from exc
        logger.warning(
            "database %s: %s; %s in %.1f s", self._where, self._say(exc), doing, self._delay
        )
        await asyncio.sleep(self._delay)
        self._delay, self.retrying = min(self._delay * 2, 2.0), True


class _OneByOne(Exception):
    """An operation failed: the batch must be run again operation by operation."""


class WriteBatcher:
    """Runs writes in shared transactions, one batch at a time, on connections of `pool`."""

    def __init__(
        self,
        pool: Callable[[], AsyncConnectionPool[Connection] | None],
        *,
        epoch: Callable[[], object],
        say: Callable[[BaseException], str],
        where: str,
        retry_for: float,
        max_batch: int = 1000,
    ) -> None:
        self._pool = pool
        self._epoch = epoch
        self._say = say
        self._where = where
        self._retry_for = retry_for
        self._max_batch = max_batch
        self._queue: collections.deque[_Request] = collections.deque()
        self._committer: asyncio.Task[None] | None = None

    async def call(self, write: Operation[T] | Piped[T]) -> T:
        """Run `write` in the next transaction; return its result once that has committed."""
        if self._pool() is None:
            raise StoreError("the store is not open")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        if isinstance(write, Piped):
            self._queue.append(_Request(write.operation, write.send, future))
        else:
            self._queue.append(_Request(write, None, future))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_all(), name="tron-store-commit")
        # A caller that stops waiting does not stop the write (as with SQLite's worker).
        return await future

    async def drain(self) -> None:
        """Wait for every write already queued."""
        if self._committer is not None:
            await asyncio.shield(self._committer)

    async def _commit_all(self) -> None:
        while self._queue:
            batch = [self._queue.popleft() for _ in range(min(self._max_batch, len(self._queue)))]
            began = time.monotonic()
            try:
                outcomes = await self._run(batch)
                logger.debug("committed %d writes in %.3f s", len(batch), time.monotonic() - began)
            except Exception as exc:  # every caller must hear of it
                outcomes = [_Outcome(error=exc)] * len(batch)
            except BaseException:
                for request in (*batch, *self._queue):  # the loop is going away
                    request.future.cancel()
                self._queue.clear()
                raise
            _settle(batch, outcomes)

    async def _run(self, batch: list[_Request]) -> list[_Outcome]:
        backoff = Backoff(self._retry_for, self._where, self._say)
        one_by_one = False
        while True:
            pool = self._pool()
            if pool is None:
                raise StoreError("the store is not open")
            try:
                async with pooled(pool) as conn:
                    return await self._transact(conn, batch, backoff.retrying, one_by_one)
            except _OneByOne as exc:
                logger.info(
                    "a write failed (%s): its batch of %d runs again write by write",
                    self._say(exc.__cause__ or exc), len(batch),
                )  # fmt: skip
                one_by_one = True
            except FencedError as exc:
                return [_Outcome(error=exc)] * len(batch)
            except (psycopg.OperationalError, PoolTimeout) as exc:
                # Connection lost or refused, a serialization failure or deadlock: nothing
                # committed (for a break at COMMIT, see postgres_queries.create_job_run).
                await backoff.wait(exc, f"retrying {len(batch)} writes")
            except psycopg.Error as exc:
                raise StoreError(f"database {self._where}: {self._say(exc)}") from exc

    async def _transact(
        self, conn: Connection, batch: list[_Request], retrying: bool, one_by_one: bool
    ) -> list[_Outcome]:
        try:
            if one_by_one:
                outcomes = await self._one_by_one(conn, batch, retrying)
            else:
                outcomes = await self._all_at_once(conn, batch, retrying)
            await conn.execute(b"COMMIT")
        except BaseException:
            if not conn.broken:
                with contextlib.suppress(psycopg.Error):
                    await conn.execute(b"ROLLBACK")
            raise
        return outcomes

    async def _all_at_once(
        self, conn: Connection, batch: list[_Request], retrying: bool
    ) -> list[_Outcome]:
        mine = self._epoch()
        fence = conn.cursor()
        finishes: list[Finish[Any] | None] = []
        try:
            async with conn.pipeline():
                await fence.execute(b"BEGIN")
                if mine is not _UNFENCED:
                    await fence.execute(_LOCK_SHARED)
                    await fence.execute(_READ_EPOCH)
                for request in batch:
                    send = request.send
                    finishes.append(None if send is None else await send(conn, retrying))
            if mine is not _UNFENCED:
                _check_epoch(mine, await fence.fetchone())
            outcomes = []
            for request, finish in zip(batch, finishes, strict=True):
                if finish is None:
                    result = await request.operation(conn.cursor(), retrying)
                else:
                    result = await finish()
                outcomes.append(_Outcome(result=result))
        except FencedError:
            raise
        except Exception as exc:
            if is_transient(exc, conn):
                raise
            raise _OneByOne from exc
        return outcomes

    async def _one_by_one(
        self, conn: Connection, batch: list[_Request], retrying: bool
    ) -> list[_Outcome]:
        mine = self._epoch()
        async with conn.cursor() as fence:
            await fence.execute(b"BEGIN")
            if mine is not _UNFENCED:
                await fence.execute(_LOCK_SHARED)
                await fence.execute(_READ_EPOCH)
                _check_epoch(mine, await fence.fetchone())
        outcomes = []
        for request in batch:
            await conn.execute(b"SAVEPOINT operation")
            try:
                result = await request.operation(conn.cursor(), retrying)
            except Exception as exc:
                if is_transient(exc, conn):
                    raise  # the whole batch again
                await conn.execute(b"ROLLBACK TO SAVEPOINT operation")
                if isinstance(exc, psycopg.Error):
                    error = StoreError(f"database {self._where}: {self._say(exc)}")
                    error.__cause__ = exc
                    exc = error
                outcomes.append(_Outcome(error=exc))
                continue
            await conn.execute(b"RELEASE SAVEPOINT operation")
            outcomes.append(_Outcome(result=result))
        return outcomes


def _cancel_requests() -> int:
    """How many cancellations of the current task are pending (`Task.cancelling`)."""
    task = asyncio.current_task()
    return task.cancelling() if task is not None else 0


@contextlib.asynccontextmanager
async def pooled(pool: AsyncConnectionPool[Connection]) -> AsyncIterator[Connection]:
    """A connection of `pool`, or the cancellation the pool may lose on the way.

    The pool waits for a connection with asyncio.wait_for, which on Python 3.11 drops a
    cancellation that lands as the connection arrives (CPython gh-86296): the caller, a deposed
    leader's task say, would go on writing.
    """
    cancels = _cancel_requests()
    async with pool.connection() as conn:
        if _cancel_requests() > cancels:
            raise asyncio.CancelledError
        yield conn


def is_transient(exc: BaseException, conn: Connection) -> bool:
    """Whether `exc` says nothing about the operation but about the moment: the connection
    lost, a serialization failure or deadlock, the server short of room or shutting down."""
    if conn.broken:
        return True
    if not isinstance(exc, psycopg.OperationalError):
        return False
    if isinstance(exc, psycopg.errors.PipelineAborted):
        return False  # an earlier statement of the batch failed
    state = exc.sqlstate
    return state is None or state[:2] in _TRANSIENT_CLASSES


def unfenced() -> object:
    """The epoch of a store never fenced (tests, `trond migrate-state`)."""
    return _UNFENCED


def _check_epoch(mine: object, row: tuple[Any, ...] | None) -> None:
    current = int(row[0]) if row else -1
    if not isinstance(mine, int) or current != mine:
        raise FencedError(mine if isinstance(mine, int) else None, current)


def _settle(batch: list[_Request], outcomes: list[_Outcome]) -> None:
    for request, outcome in zip(batch, outcomes, strict=True):
        if request.future.done():
            continue
        if outcome.error is not None:
            request.future.set_exception(outcome.error)
        else:
            request.future.set_result(outcome.result)
