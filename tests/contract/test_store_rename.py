"""`rename_job` (`tronctl move`), run unchanged against every backend: everything recorded
under the job's name moves, all or nothing, and nothing else does."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.contract.test_alert_store import T0, alert, note
from tests.contract.test_store import TickingClock, full_job_run, job_run, make_store

from tron.core.alerts.model import AlertKind, AuditEntry, DeliveryState
from tron.core.records import JobRun
from tron.core.states import ActionRunState
from tron.errors import ConflictError
from tron.store.memory import MemoryStore
from tron.store.postgres import PostgresStore
from tron.store.sqlite import SqliteStore

Both = MemoryStore | SqliteStore | PostgresStore


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Both]:
    where = request.getfixturevalue("pg_url") if request.param == "postgres" else tmp_path
    made = make_store(request.param, where, TickingClock())
    assert isinstance(made, MemoryStore | SqliteStore | PostgresStore)
    await made.open()
    yield made
    await made.close()


def renamed(run: JobRun, new: str) -> JobRun:
    return dataclasses.replace(
        run,
        job_name=new,
        action_runs=tuple(dataclasses.replace(a, job_name=new) for a in run.action_runs),
    )


async def fill(store: Both, job: str) -> list[JobRun]:
    """Two runs of `job`, one with a state change and a handle, the job switched off."""
    first, second = job_run(job, 0, ("a", "b")), job_run(job, 1, ("a",))
    await store.create_job_run(first, slot="s0")
    await store.create_job_run(second, slot="s1")
    running = dataclasses.replace(first.action_runs[0], state=ActionRunState.RUNNING, node="n")
    await store.save_action_run(running, reason="started")
    await store.save_handle(f"{job}.0.a", {"pid": 7})
    await store.set_job_enabled(job, False)
    return await store.load_job_runs(job)


async def test_runs_transitions_handles_and_flags_move(store: Both) -> None:
    before = await fill(store, "ns.job")
    await fill(store, "ns.job2")  # a name the old one is a prefix of: untouched
    transitions = await store.transitions("ns.job.0.a")
    next_num = (await store.load_job_states())["ns.job"].next_run_num

    await store.rename_job("ns.job", "üns.new")

    assert await store.load_job_runs("ns.job") == []
    assert await store.load_job_runs("üns.new") == [renamed(r, "üns.new") for r in before]
    moved = await store.transitions("üns.new.0.a")
    assert [(t.seq, t.state, t.reason) for t in moved] == [
        (t.seq, t.state, t.reason) for t in transitions
    ]
    assert all(t.action_run_id == "üns.new.0.a" for t in moved)
    assert await store.transitions("ns.job.0.a") == []
    handles = await store.load_handles()
    assert handles["üns.new.0.a"] == {"pid": 7}
    assert "ns.job.0.a" not in handles
    states = await store.load_job_states()
    assert "ns.job" not in states
    assert (states["üns.new"].enabled, states["üns.new"].next_run_num) == (False, next_num)
    # Its slots moved with it: the same launch is not created twice under the new name.
    assert not await store.create_job_run(job_run("üns.new", 5), slot="s1")
    assert await store.create_job_run(job_run("ns.job", 0), slot="s1")  # the old name is free
    assert len(await store.load_job_runs("ns.job2")) == 2
    assert (await store.load_job_states())["ns.job2"].enabled is False


async def test_a_run_with_every_field_moves_unchanged(store: Both) -> None:
    run = full_job_run()
    await store.create_job_run(run)
    await store.rename_job(run.job_name, "ns.renamed")
    assert await store.load_job_runs("ns.renamed") == [renamed(run, "ns.renamed")]


async def test_a_name_with_runs_is_refused_and_nothing_moves(store: Both) -> None:
    before = await fill(store, "ns.job")
    await store.create_job_run(job_run("ns.taken", 0))
    with pytest.raises(ConflictError, match=r"ns\.taken exists already"):
        await store.rename_job("ns.job", "ns.taken")
    assert await store.load_job_runs("ns.job") == before
    assert len(await store.load_job_runs("ns.taken")) == 1


async def test_a_job_with_nothing_recorded_moves_nothing(store: Both) -> None:
    await store.set_job_enabled("ns.gone", True)  # a state left by a removed job of that name
    await store.rename_job("ns.nothing", "ns.gone")
    assert await store.load_job_runs() == []
    assert "ns.nothing" not in await store.load_job_states()


async def test_alerts_notifications_and_silence_move_but_not_the_audit_log(store: Both) -> None:
    opened, other = alert("ns.job"), alert("ns.job2", AlertKind.LATE, at=1)
    await store.save_alerts([opened, other], [note(opened, "k1"), note(other, "k2")])
    delivered = alert("ns.job", AlertKind.TOO_LONG, at=2)
    await store.save_alerts([delivered], [note(delivered, "k3")])
    k3 = next(n for n in await store.pending_notifications() if n.key == "k3")
    await store.mark_delivered(k3.seq, T0)
    await store.set_silence("ns.job", T0 + timedelta(hours=1))
    entry = AuditEntry(at=T0, who="a", command="disable", target="ns.job", result="200", ok=True)
    await store.add_audit(entry)

    await store.rename_job("ns.job", "ns.new")

    alerts = await store.load_alerts()
    assert [(a.key.job, a.key.kind) for a in alerts] == [
        ("ns.new", AlertKind.TOO_LONG), ("ns.job2", AlertKind.LATE), ("ns.new", AlertKind.FAILED),
    ]  # fmt: skip
    moved = alerts[-1]
    assert moved.id.startswith("ns.new/failed@")
    assert dataclasses.replace(moved, id=opened.id, key=opened.key) == opened
    assert await store.get_alert(opened.id) is None
    assert await store.load_alerts(job="ns.job") == []
    notes: dict[str, Any] = {n.key: n for n in await store.notifications()}
    assert (notes["k1"].job, notes["k1"].alert_id) == ("ns.new", moved.id)
    assert notes["k1"].payload == note(opened, "k1").payload  # what was said stays
    assert notes["k3"].state is DeliveryState.DELIVERED
    assert notes["k2"].job == "ns.job2"
    assert [n.key for n in await store.pending_notifications()] == ["k1", "k2"]
    assert await store.silences() == {"ns.new": T0 + timedelta(hours=1)}
    assert [e.target for e in await store.audit_log()] == ["ns.job"]
