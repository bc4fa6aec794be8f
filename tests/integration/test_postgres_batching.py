"""Group commit on PostgreSQL (store/postgres_batch.py): writes queued together share one
transaction; a failing write fails only its own caller; a transient failure retries the whole
batch; a fenced leader's batch writes nothing, pipelined statements included."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from tests.contract.test_store import job_run
from tron.core.records import ActionRunState
from tron.errors import ConflictError, NotFoundError, StoreError
from tron.store.lease import FencedError
from tron.store.postgres import PostgresStore

pytestmark = pytest.mark.postgres


@pytest.fixture
async def leader(pg_url: str) -> AsyncIterator[PostgresStore]:
    """A store fenced with the epoch of the lease it holds, as a leader's is."""
    store = PostgresStore(pg_url)
    await store.open()
    lease = await store.acquire_lease("leader", "http://leader", 60)
    assert lease is not None
    store.fence(lease.epoch)
    try:
        yield store
    finally:
        await store.close()


async def _transactions(store: PostgresStore) -> int:
    """How many transactions wrote the runs (each row keeps its writer's id)."""

    async def count(cur: Any, _: bool) -> int:
        await cur.execute("SELECT count(DISTINCT changed) FROM job_runs")
        (n,) = await cur.fetchone()
        return int(n)

    return await store.read(count)


async def test_writes_queued_together_commit_in_one_transaction(
    leader: PostgresStore,
) -> None:
    assert all(await asyncio.gather(*(leader.create_job_run(job_run(num=n)) for n in range(40))))
    assert [r.run_num for r in await leader.load_job_runs()] == list(range(40))
    assert await _transactions(leader) == 1
    assert (await leader.load_job_states())["ns.job"].next_run_num == 40


async def test_a_failing_write_fails_only_its_own_caller(leader: PostgresStore) -> None:
    assert await leader.create_job_run(job_run(num=0))

    async def broken_sql(cur: Any, _: bool) -> None:
        await cur.execute("SELECT 1 / 0")

    results = await asyncio.gather(
        leader.create_job_run(job_run(num=1)),
        leader.create_job_run(job_run(num=0)),  # there already
        leader.write(broken_sql),
        leader.save_job_run(job_run(num=9)),  # missing
        leader.create_job_run(job_run(num=2)),
        leader.add_event("e1"),
        return_exceptions=True,
    )
    assert results[0] is True
    assert isinstance(results[1], ConflictError)
    assert isinstance(results[2], StoreError)
    assert "division by zero" in str(results[2])
    assert isinstance(results[3], NotFoundError)
    assert results[4:] == [True, True]
    assert [r.run_num for r in await leader.load_job_runs()] == [0, 1, 2]
    assert await leader.events() == ["e1"]


async def test_an_unusual_change_in_a_batch_takes_the_plain_path(leader: PostgresStore) -> None:
    """A run change that adds an action run cannot finish pipelined: the batch runs again
    write by write, and every write in it lands once."""
    run = job_run(num=0, actions=("a",))
    assert await leader.create_job_run(run)
    added = dataclasses.replace(job_run(num=0, actions=("a", "b")).action_runs[1])
    grown = dataclasses.replace(run, action_runs=(*run.action_runs, added))
    await asyncio.gather(
        leader.save_run_changes(grown, [added], header=False, events=["grew"]),
        leader.create_job_run(job_run(num=1)),
    )
    loaded = {r.run_num: r for r in await leader.load_job_runs()}
    assert [a.action_name for a in loaded[0].action_runs] == ["a", "b"]
    assert sorted(loaded) == [0, 1]
    assert await leader.events() == ["grew"]
    assert [t.state for t in await leader.transitions("ns.job.0.b")] == ["scheduled"]


async def test_a_transient_failure_retries_the_whole_batch(leader: PostgresStore) -> None:
    tries = 0

    async def flaky(cur: Any, retrying: bool) -> bool:
        nonlocal tries
        tries += 1
        await cur.execute("INSERT INTO events (event_id) VALUES ('flaky')")
        if tries == 1:
            raise psycopg.errors.SerializationFailure("as if another transaction won")
        return retrying

    results = await asyncio.gather(
        leader.create_job_run(job_run(num=0)),
        leader.write(flaky),
        leader.create_job_run(job_run(num=1)),
    )
    assert results == [True, True, True]  # the second try knew it was one
    assert tries == 2
    assert [r.run_num for r in await leader.load_job_runs()] == [0, 1]
    assert await leader.events() == ["flaky"]


async def test_a_fenced_leaders_batch_writes_nothing(pg_url: str, leader: PostgresStore) -> None:
    """The old leader's statements reach the server before its epoch is checked (one round
    trip for all), yet none of them commits."""
    run = job_run(num=0)
    assert await leader.create_job_run(run)
    newer = PostgresStore(pg_url)
    await newer.open()
    try:
        await newer.release_lease("leader", 1)  # as if it had lapsed
        lease = await newer.acquire_lease("newer", "http://newer", 60)
        assert lease is not None
        assert lease.epoch == 2
        running = dataclasses.replace(run.action_runs[0], state=ActionRunState.RUNNING)
        results = await asyncio.gather(
            *(leader.create_job_run(job_run(num=n)) for n in range(1, 20)),
            leader.save_run_changes(
                dataclasses.replace(run, action_runs=(running,)),
                [running],
                header=False,
                handle=("ns.job.0.a", {"pid": 1}),
                events=["done"],
            ),
            leader.set_job_enabled("ns.job", False),
            leader.add_event("e"),
            return_exceptions=True,
        )
        assert all(isinstance(r, FencedError) for r in results)
        assert {(r.mine, r.current) for r in results if isinstance(r, FencedError)} == {(1, 2)}
        assert await newer.load_job_runs() == [run]
        assert await newer.load_handles() == {}
        assert await newer.events() == []
        assert (await newer.load_job_states())["ns.job"].enabled is None
        assert [t.state for t in await newer.transitions("ns.job.0.a")] == ["scheduled"]
    finally:
        await newer.close()


async def test_a_caller_that_stops_waiting_does_not_stop_its_write(
    leader: PostgresStore,
) -> None:
    write = asyncio.ensure_future(leader.create_job_run(job_run(num=0)))
    await asyncio.sleep(0)  # queued
    write.cancel()
    assert await leader.create_job_run(job_run(num=1))
    assert [r.run_num for r in await leader.load_job_runs()] == [0, 1]


async def test_a_write_the_server_can_never_take_fails_alone_and_at_once(
    leader: PostgresStore,
) -> None:
    """A value too big for its index is an OperationalError to psycopg (program limit
    exceeded), but no retry will help it: its caller hears at once, the others land."""
    huge = os.urandom(8000).hex()  # incompressible, past the index's row limit
    results = await asyncio.gather(
        leader.add_event(huge), leader.create_job_run(job_run(num=0)), return_exceptions=True
    )
    assert isinstance(results[0], StoreError)
    assert "index row" in str(results[0])
    assert results[1] is True
    assert await leader.events() == []
