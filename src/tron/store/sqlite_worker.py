"""The SQLite worker thread: one connection, batched transactions, retries when locked or full.

Every call becomes an operation run on the worker's own thread, so the event loop never
blocks on the disk. Operations that arrive while a transaction commits wait and then share
the next transaction (group commit): one fsync serves many callers. Each operation runs in
its own savepoint, so one failing operation does not undo the others, and each caller's
await returns only once the transaction holding its operation has committed.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tron.errors import StoreError

logger = logging.getLogger(__name__)

T = TypeVar("T")
Operation = Callable[[sqlite3.Connection], Any]

# Busy or locked by another connection, or the disk (or max_page_count) is full: these
# pass, so the whole transaction is rolled back and tried again later.
_TRANSIENT_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL})


@dataclass(frozen=True, slots=True, kw_only=True)
class RetrySettings:
    """How long a transaction keeps trying before its callers get StoreError."""

    attempts: int = 6
    first_delay: float = 0.05
    max_delay: float = 2.0
    busy_timeout: float = 2.0  # how long SQLite itself waits for another connection's lock

    def delay(self, failures: int) -> float:
        """Seconds to wait after `failures` failed tries (doubling, capped)."""
        return float(min(self.max_delay, self.first_delay * 2 ** (failures - 1)))


@dataclass(slots=True)
class _Request:
    operation: Operation
    future: asyncio.Future[Any]


@dataclass(frozen=True, slots=True)
class _Outcome:
    result: Any = None
    error: BaseException | None = None


_STOP = object()


def is_transient(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _TRANSIENT_CODES


class SqliteWorker:
    """Owns one sqlite3 connection on one thread and runs operations on it in batches."""

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        *,
        retry: RetrySettings,
        max_batch: int = 2000,
    ) -> None:
        self._connect = connect
        self._retry = retry
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Request | object] = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Future[None] | None = None
        self._closing = False

    async def start(self) -> None:
        """Start the thread and open the connection; raises what `connect` raised."""
        self._loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = self._loop.create_future()
        self._stopped = self._loop.create_future()
        thread = threading.Thread(target=self._main, args=(ready,), name="tron-store", daemon=True)
        thread.start()
        await ready

    async def call(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Run `operation` in a transaction; return its result once that has committed."""
        if self._loop is None or self._closing:
            raise StoreError("the store is not open")
        future: asyncio.Future[T] = self._loop.create_future()
        self._queue.put(_Request(operation, future))
        return await future

    async def stop(self) -> None:
        """Finish the operations already queued, then close the connection."""
        if self._stopped is None or self._closing:
            return
        self._closing = True
        self._queue.put(_STOP)
        await asyncio.shield(self._stopped)

    def _main(self, ready: asyncio.Future[None]) -> None:
        try:
            conn = self._connect()
        except BaseException as exc:
            self._closing = True
            self._settle(ready, _Outcome(error=exc))
            self._settle(self._stopped, _Outcome())
            return
        self._settle(ready, _Outcome())
        try:
            self._serve(conn)
        finally:
            conn.close()
            self._settle(self._stopped, _Outcome())

    def _serve(self, conn: sqlite3.Connection) -> None:
        stopping = False
        while not stopping:
            batch, stopping = self._next_batch()
            if batch:
                self._run_batch(conn, batch)

    def _next_batch(self) -> tuple[list[_Request], bool]:
        """Block for one request, then take every request already waiting."""
        item = self._queue.get()
        batch: list[_Request] = []
        while item is not _STOP:
            assert isinstance(item, _Request)
            batch.append(item)
            if len(batch) >= self._max_batch or self._queue.empty():
                return batch, False
            item = self._queue.get()
        return batch, True

    def _run_batch(self, conn: sqlite3.Connection, batch: list[_Request]) -> None:
        for failures in range(1, self._retry.attempts + 1):
            try:
                outcomes = self._transact(conn, batch)
            except sqlite3.Error as exc:
                _rollback(conn)
                if not is_transient(exc) or failures == self._retry.attempts:
                    self._fail(batch, exc, failures)
                    return
                delay = self._retry.delay(failures)
                logger.warning(
                    "store transaction of %d operations failed (%s); retry %d/%d in %.2f s",
                    len(batch), exc, failures, self._retry.attempts - 1, delay,
                )  # fmt: skip
                time.sleep(delay)
                continue
            logger.debug("store committed %d operations", len(batch))
            self._settle_all([request.future for request in batch], outcomes)
            return

    def _transact(self, conn: sqlite3.Connection, batch: list[_Request]) -> list[_Outcome]:
        # IMMEDIATE takes the write lock up front, so a lock wait happens here, never midway.
        conn.execute("BEGIN IMMEDIATE")
        outcomes = _run_all(conn, batch)
        if outcomes is None:
            # One operation failed: start again with each in its own savepoint, so only the
            # failed one is undone. Operations only touch the database, so running them
            # again is safe (a transient error retries whole batches the same way).
            _rollback(conn)
            conn.execute("BEGIN IMMEDIATE")
            outcomes = [_run_one(conn, request.operation) for request in batch]
        conn.execute("COMMIT")
        return outcomes

    def _fail(self, batch: list[_Request], exc: sqlite3.Error, tries: int) -> None:
        logger.error("store transaction failed after %d tries: %s", tries, exc)
        outcomes = []
        for _ in batch:
            error = StoreError(f"store write failed: {exc}")
            error.__cause__ = exc
            outcomes.append(_Outcome(error=error))
        self._settle_all([request.future for request in batch], outcomes)

    def _settle(self, future: asyncio.Future[Any] | None, outcome: _Outcome) -> None:
        if future is not None:
            self._settle_all([future], [outcome])

    def _settle_all(self, futures: list[asyncio.Future[Any]], outcomes: list[_Outcome]) -> None:
        # One wake-up of the event loop for the whole batch, not one per caller.
        if self._loop is None:
            return
        try:
            self._loop.call_soon_threadsafe(_resolve_all, futures, outcomes)
        except RuntimeError:
            logger.debug("event loop closed before a store result could be delivered")


def _run_all(conn: sqlite3.Connection, batch: list[_Request]) -> list[_Outcome] | None:
    """Run the batch without savepoints (they cost as much as a small operation); None as
    soon as one operation fails. Transient errors propagate, to retry the whole batch."""
    outcomes = []
    for request in batch:
        try:
            outcomes.append(_Outcome(result=request.operation(conn)))
        except sqlite3.Error as exc:
            if is_transient(exc):
                raise
            return None
        except Exception:
            return None
    return outcomes


def _run_one(conn: sqlite3.Connection, operation: Operation) -> _Outcome:
    conn.execute("SAVEPOINT operation")
    try:
        result = operation(conn)
    except sqlite3.Error as exc:
        if is_transient(exc):
            raise
        _undo_operation(conn)
        error = StoreError(f"store operation failed: {exc}")
        error.__cause__ = exc
        return _Outcome(error=error)
    except Exception as exc:
        # The caller gets its own error (NotFoundError, a bug...); the thread must live on.
        _undo_operation(conn)
        return _Outcome(error=exc)
    conn.execute("RELEASE operation")
    return _Outcome(result=result)


def _undo_operation(conn: sqlite3.Connection) -> None:
    conn.execute("ROLLBACK TO operation")
    conn.execute("RELEASE operation")


def _rollback(conn: sqlite3.Connection) -> None:
    if not conn.in_transaction:
        return  # SQLite already rolled back (it may, on SQLITE_FULL)
    try:
        conn.execute("ROLLBACK")
    except sqlite3.Error as exc:
        logger.warning("store rollback failed: %s", exc)


def _resolve_all(futures: list[asyncio.Future[Any]], outcomes: list[_Outcome]) -> None:
    for future, outcome in zip(futures, outcomes, strict=True):
        if future.done():
            continue  # the caller was cancelled; the write itself stands
        if outcome.error is not None:
            future.set_exception(outcome.error)
        else:
            future.set_result(outcome.result)
