"""A task cancelled while it waits for one of the store's pooled connections stops.

A deposed leader's engine is dropped by cancelling its tasks; many of them are writing
(refused by fencing, and tried again by the engine) and wait for a pooled connection.
psycopg_pool waits with `asyncio.wait_for`, which on Python 3.11 drops a cancellation that
lands as the connection arrives; such a task went on retrying, and stepping down waited for
it for tens of seconds (a trond that neither leads nor stands by meanwhile)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tron.engine.retrying import until_done
from tron.errors import StoreError
from tron.store.postgres import PostgresStore

pytestmark = pytest.mark.postgres

WRITERS = 40  # more than the pool's connections, so most of them wait for one
ROUNDS = 30  # the race is narrow: each round gives it WRITERS chances


async def _select(cur: object, _: bool) -> None:
    await cur.execute("SELECT 1")  # type: ignore[attr-defined]


async def test_cancelled_writers_waiting_for_a_connection_all_stop(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.CRITICAL, logger="tron.engine.retrying")
    store = PostgresStore(pg_url, pool_size=8)
    await store.open()
    store.fence(None)  # a standby's, or a deposed leader's: every write is refused
    try:
        for round in range(ROUNDS):
            writers = [
                asyncio.create_task(
                    until_done(lambda: store.write(_select), what="write", retry_on=(StoreError,))
                )
                for _ in range(WRITERS)
            ]
            await asyncio.sleep(0.001 * round)  # cancelled at different moments of their work
            for writer in writers:
                writer.cancel()
            # Each one stops at once; the limit only guards against a hang.
            _, running = await asyncio.wait(writers, timeout=30)
            for writer in running:
                writer.cancel()
            assert not running, f"round {round}: {len(running)} cancelled writers still run"
            assert all(w.cancelled() for w in writers)
    finally:
        await store.close()
