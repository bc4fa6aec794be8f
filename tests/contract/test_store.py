"""The Store contract, run unchanged against every backend (memory, sqlite, postgres)."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tron.core.records import ActionRun, Attempt, JobRun
from tron.core.states import ActionRunState
from tron.errors import ConflictError, NotFoundError
from tron.store import Store
from tron.store.memory import MemoryStore
from tron.store.postgres import PostgresStore
from tron.store.sqlite import SqliteStore

PACIFIC = ZoneInfo("America/Los_Angeles")
T0 = datetime(2024, 3, 10, 1, 30, tzinfo=PACIFIC)


class TickingClock:
    """A clock that moves one second on every reading."""

    def __init__(self) -> None:
        self._ticks = itertools.count()

    def __call__(self) -> datetime:
        return datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=next(self._ticks))


def make_store(kind: str, where: Path | str, now: Callable[[], datetime]) -> Store:
    if kind == "memory":
        return MemoryStore(now=now)
    if kind == "postgres":
        return PostgresStore(str(where), now=now)
    return SqliteStore(Path(where) / "state.sqlite", now=now)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    where = request.getfixturevalue("pg_url") if request.param == "postgres" else tmp_path
    store = make_store(request.param, where, TickingClock())
    await store.open()
    yield store
    await store.close()


def action_run(job: str, num: int, name: str, **changes: Any) -> ActionRun:
    fields: dict[str, Any] = {
        "job_name": job,
        "run_num": num,
        "action_name": name,
        "raw_command": f"echo {name}",
        "original_command": f"echo {name}",
    }
    return ActionRun(**(fields | changes))


def job_run(job: str = "ns.job", num: int = 0, actions: tuple[str, ...] = ("a",)) -> JobRun:
    return JobRun(
        job_name=job,
        run_num=num,
        run_time=T0 + timedelta(hours=num),
        action_runs=tuple(action_run(job, num, a) for a in actions),
    )


def full_job_run() -> JobRun:
    """A run with every field away from its default, unicode included."""
    job, paris = "équipe.tâche_☃", ZoneInfo("Europe/Paris")
    attempt = Attempt(
        number=1,
        command="echo 'héllo wörld' ✓",
        node="nœud-1",
        start_time=datetime(2024, 10, 27, 2, 30, tzinfo=paris),
        end_time=datetime(2024, 10, 27, 2, 31, 0, 123456, tzinfo=UTC),
        exit_status=3,
        reason="失败",
    )
    ar = ActionRun(
        job_name=job,
        run_num=7,
        action_name="étape",
        state=ActionRunState.FAILED,
        node="nœud-1",
        raw_command="echo {shortdate} ✓",
        original_command="echo {shortdate}",
        command="echo 2024-10-27 ✓",
        requires=("avant", "autre"),
        is_cleanup=True,
        retries_remaining=2,
        retries_delay=timedelta(days=1, seconds=3, microseconds=7),
        attempts=(attempt, dataclasses.replace(attempt, number=2, exit_status=None)),
        start_time=datetime(2024, 10, 27, 2, 30, tzinfo=paris),
        end_time=datetime(2024, 10, 27, 3, 0, tzinfo=timezone(timedelta(hours=-5))),
        exit_status=3,
        retry_at=datetime(2024, 10, 28, tzinfo=UTC),
        triggered_by=("ns.other.shortdate.2024-10-27",),
        trigger_downstreams=("done", "publié"),
        env=MappingProxyType({"CLÉ": "valeur ☃", "EMPTY": ""}),
        reason="kill ⚡",
        triggers_done=("ns.other.shortdate.2024-10-27",),
        restart_on_exit=True,
    )
    return JobRun(
        job_name=job,
        run_num=7,
        run_time=datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=paris),
        manual=True,
        node="nœud-1",
        action_runs=(ar,),
        start_time=datetime(2024, 10, 27, 2, 30, tzinfo=paris),
        end_time=datetime(2024, 10, 27, 4, 0, tzinfo=paris),
        context=MappingProxyType({"GREETING": "héllo", "node_hostnames": ["a", "b"], "n": 3}),
        last_success=datetime(2024, 10, 26, 2, 30, tzinfo=paris),
    )


async def test_job_run_round_trips_every_field(store: Store) -> None:
    run = full_job_run()
    assert await store.create_job_run(run)
    (loaded,) = await store.load_job_runs()
    assert loaded == run
    assert loaded.run_time.tzinfo == ZoneInfo("Europe/Paris")
    assert loaded.run_time.utcoffset() == run.run_time.utcoffset()
    assert dict(loaded.action_runs[0].env) == {"CLÉ": "valeur ☃", "EMPTY": ""}


async def test_action_run_round_trips_after_save(store: Store) -> None:
    run = full_job_run()
    await store.create_job_run(dataclasses.replace(run, action_runs=()))
    await store.save_action_run(run.action_runs[0])
    (loaded,) = await store.load_job_runs()
    assert loaded.action_runs == run.action_runs


async def test_load_job_runs_returns_oldest_first_by_job(store: Store) -> None:
    for job, num in [("ns.b", 1), ("ns.a", 2), ("ns.b", 0), ("ns.a", 10), ("ns.a", 9)]:
        await store.create_job_run(job_run(job, num))
    runs = await store.load_job_runs()
    assert [(r.job_name, r.run_num) for r in runs] == [
        ("ns.a", 2), ("ns.a", 9), ("ns.a", 10), ("ns.b", 0), ("ns.b", 1),
    ]  # fmt: skip


async def test_load_job_runs_filters_by_job(store: Store) -> None:
    await store.create_job_run(job_run("ns.a", 0))
    await store.create_job_run(job_run("ns.b", 0, actions=("x", "y")))
    (run,) = await store.load_job_runs("ns.b")
    assert [a.action_name for a in run.action_runs] == ["x", "y"]
    assert await store.load_job_runs("ns.none") == []


async def test_load_job_runs_keeps_action_order(store: Store) -> None:
    await store.create_job_run(job_run(actions=("z", "a", "m")))
    await store.save_action_run(action_run("ns.job", 0, "b"))
    (run,) = await store.load_job_runs()
    assert [a.action_name for a in run.action_runs] == ["z", "a", "m", "b"]


async def test_create_job_run_returns_false_without_writing_when_slot_taken(
    store: Store,
) -> None:
    assert await store.create_job_run(job_run(num=0), slot="2024-03-10T01:30")
    assert not await store.create_job_run(job_run(num=1), slot="2024-03-10T01:30")
    assert [r.run_num for r in await store.load_job_runs()] == [0]
    assert (await store.load_job_states())["ns.job"].next_run_num == 1
    assert await store.transitions("ns.job.1.a") == []


async def test_create_job_run_takes_a_slot_per_job(store: Store) -> None:
    assert await store.create_job_run(job_run("ns.a", 0), slot="s")
    assert await store.create_job_run(job_run("ns.b", 0), slot="s")
    assert await store.create_job_run(job_run("ns.a", 1), slot="t")


async def test_create_job_run_takes_slot_once_when_raced(store: Store) -> None:
    results = await asyncio.gather(
        store.create_job_run(job_run(num=0), slot="s"),
        store.create_job_run(job_run(num=1), slot="s"),
    )
    assert sorted(results) == [False, True]
    assert len(await store.load_job_runs()) == 1


async def test_create_job_run_without_slot_never_conflicts_on_slot(store: Store) -> None:
    assert await store.create_job_run(job_run(num=0))
    assert await store.create_job_run(job_run(num=1))
    assert len(await store.load_job_runs()) == 2


async def test_create_job_run_raises_conflict_when_run_num_exists(store: Store) -> None:
    await store.create_job_run(job_run(num=3))
    with pytest.raises(ConflictError):
        await store.create_job_run(job_run(num=3), slot="other")
    assert len(await store.load_job_runs()) == 1


async def test_create_job_run_bumps_next_run_num_and_never_lowers_it(store: Store) -> None:
    await store.create_job_run(job_run(num=5))
    await store.create_job_run(job_run(num=2))
    states = await store.load_job_states()
    assert states["ns.job"].next_run_num == 6
    assert states["ns.job"].enabled is None


async def test_set_job_enabled_is_remembered(store: Store) -> None:
    await store.set_job_enabled("ns.off", False)
    await store.set_job_enabled("ns.on", False)
    await store.set_job_enabled("ns.on", True)
    await store.create_job_run(job_run("ns.off", 4))
    states = await store.load_job_states()
    assert states["ns.off"].enabled is False
    assert states["ns.off"].next_run_num == 5
    assert states["ns.on"].enabled is True
    assert states["ns.on"].next_run_num == 0


async def test_save_job_run_updates_header_fields(store: Store) -> None:
    run = job_run(actions=("a", "b"))
    await store.create_job_run(run)
    started = T0 + timedelta(minutes=1)
    await store.save_job_run(
        dataclasses.replace(run, start_time=started, node="n2", action_runs=())
    )
    (loaded,) = await store.load_job_runs()
    assert (loaded.start_time, loaded.node) == (started, "n2")
    assert loaded.action_runs == run.action_runs


async def test_save_job_run_raises_not_found_when_missing(store: Store) -> None:
    with pytest.raises(NotFoundError):
        await store.save_job_run(job_run(num=9))


async def test_save_action_run_raises_not_found_when_job_run_missing(store: Store) -> None:
    with pytest.raises(NotFoundError):
        await store.save_action_run(action_run("ns.job", 9, "a"))
    assert await store.load_job_runs() == []


async def test_save_action_run_of_a_new_action_records_its_first_transition(
    store: Store,
) -> None:
    await store.create_job_run(job_run(actions=()))
    await store.save_action_run(action_run("ns.job", 0, "b"), reason="added")
    (first,) = await store.transitions("ns.job.0.b")
    assert (first.seq, first.state, first.reason) == (1, "scheduled", "added")


async def test_create_job_run_records_first_transition(store: Store) -> None:
    await store.create_job_run(job_run())
    (first,) = await store.transitions("ns.job.0.a")
    assert (first.seq, first.state, first.action_run_id) == (1, "scheduled", "ns.job.0.a")
    assert first.at.tzinfo is not None


async def test_save_action_run_appends_transitions_in_order(store: Store) -> None:
    await store.create_job_run(job_run())
    ar = action_run("ns.job", 0, "a")
    running = dataclasses.replace(ar, state=ActionRunState.RUNNING, node="n1")
    await store.save_action_run(running, reason="started")
    done = dataclasses.replace(running, state=ActionRunState.SUCCEEDED, exit_status=0)
    await store.save_action_run(done)
    log = await store.transitions("ns.job.0.a")
    assert [(t.seq, t.state, t.exit_status, t.node, t.reason) for t in log] == [
        (1, "scheduled", None, None, None),
        (2, "running", None, "n1", "started"),
        (3, "succeeded", 0, "n1", None),
    ]
    assert log[0].at < log[1].at < log[2].at


async def test_save_action_run_skips_transition_when_state_unchanged(store: Store) -> None:
    await store.create_job_run(job_run())
    ar = action_run("ns.job", 0, "a", command="echo rendered")
    await store.save_action_run(ar)
    (loaded,) = await store.load_job_runs()
    assert loaded.action_runs == (ar,)
    assert len(await store.transitions("ns.job.0.a")) == 1


async def test_save_action_run_appends_transition_when_attempts_change(store: Store) -> None:
    ar = action_run("ns.job", 0, "a", state=ActionRunState.RUNNING)
    await store.create_job_run(dataclasses.replace(job_run(), action_runs=(ar,)))
    retried = dataclasses.replace(ar, attempts=(Attempt(number=1, command="x", node=None),))
    await store.save_action_run(retried)
    await store.save_action_run(dataclasses.replace(retried, exit_status=1))
    log = await store.transitions("ns.job.0.a")
    assert [(t.state, t.exit_status) for t in log] == [
        ("running", None), ("running", None), ("running", 1),
    ]  # fmt: skip


async def test_save_handle_remembers_replaces_and_forgets(store: Store) -> None:
    await store.save_handle("ns.job.0.a", {"pid": 1, "node": "n1", "paths": ["ö"]})
    await store.save_handle("ns.job.0.b", {"pid": 2})
    await store.save_handle("ns.job.0.a", {"pid": 3})
    await store.save_handle("ns.job.0.b", None)
    await store.save_handle("ns.job.0.missing", None)
    assert await store.load_handles() == {"ns.job.0.a": {"pid": 3}}


async def test_delete_job_run_removes_run_and_everything_of_it(store: Store) -> None:
    await store.create_job_run(job_run(num=1, actions=("a", "b")), slot="s1")
    await store.create_job_run(job_run(num=10), slot="s10")
    await store.save_handle("ns.job.1.a", {"pid": 1})
    await store.save_handle("ns.job.10.a", {"pid": 10})
    await store.delete_job_run("ns.job", 1)
    assert [r.run_num for r in await store.load_job_runs()] == [10]
    assert await store.transitions("ns.job.1.a") == []
    assert len(await store.transitions("ns.job.10.a")) == 1
    assert await store.load_handles() == {"ns.job.10.a": {"pid": 10}}
    assert (await store.load_job_states())["ns.job"].next_run_num == 11


async def test_delete_job_run_ignores_missing_run(store: Store) -> None:
    await store.create_job_run(job_run(num=0))
    await store.delete_job_run("ns.job", 5)
    await store.delete_job_run("ns.other", 0)
    assert len(await store.load_job_runs()) == 1


async def test_config_versions_are_numbered_per_namespace_and_ordered(store: Store) -> None:
    first = await store.save_config_version("MASTER", "jobs: []\n", "h1")
    await store.save_config_version("billing", "jobs: [☃]\n", "h2")
    third = await store.save_config_version("MASTER", "jobs: [x]\n", "h3")
    assert (first.version, third.version) == (1, 2)
    every = await store.config_versions()
    assert [(v.namespace, v.version, v.hash) for v in every] == [
        ("MASTER", 1, "h1"), ("billing", 1, "h2"), ("MASTER", 2, "h3"),
    ]  # fmt: skip
    assert every[0] == first
    assert [v.text for v in await store.config_versions("MASTER")] == ["jobs: []\n", "jobs: [x]\n"]
    assert await store.config_versions("none") == []


async def test_events_add_once_and_delete(store: Store) -> None:
    assert await store.add_event("ns.job.shortdate.2024-01-01")
    assert await store.add_event("ns.other.é")
    assert not await store.add_event("ns.job.shortdate.2024-01-01")
    assert await store.events() == ["ns.job.shortdate.2024-01-01", "ns.other.é"]
    assert await store.delete_event("ns.other.é")
    assert not await store.delete_event("ns.other.é")
    assert await store.events() == ["ns.job.shortdate.2024-01-01"]


async def test_concurrent_saves_all_land(store: Store) -> None:
    names = tuple(f"a{i}" for i in range(50))
    await store.create_job_run(job_run(actions=names))
    await asyncio.gather(
        *(
            store.save_action_run(action_run("ns.job", 0, n, state=ActionRunState.RUNNING))
            for n in names
        )
    )
    (run,) = await store.load_job_runs()
    assert {a.state for a in run.action_runs} == {ActionRunState.RUNNING}


async def test_failing_save_does_not_undo_concurrent_saves(store: Store) -> None:
    await store.create_job_run(job_run(actions=("a",)))
    good = action_run("ns.job", 0, "a", state=ActionRunState.RUNNING)
    results = await asyncio.gather(
        store.save_action_run(action_run("ns.job", 8, "a")),
        store.save_action_run(good),
        return_exceptions=True,
    )
    assert isinstance(results[0], NotFoundError)
    assert results[1] is None
    (run,) = await store.load_job_runs()
    assert run.action_runs == (good,)


async def test_create_job_run_keeps_one_action_run_per_name_when_a_name_repeats(
    store: Store,
) -> None:
    first = action_run("ns.job", 0, "a")
    later = action_run("ns.job", 0, "a", command="echo later")
    run = dataclasses.replace(job_run(), action_runs=(first, action_run("ns.job", 0, "b"), later))
    assert await store.create_job_run(run)
    [loaded] = await store.load_job_runs()
    assert [a.action_name for a in loaded.action_runs] == ["a", "b"]
    assert loaded.action_runs[0] == later


async def test_set_job_enabled_none_forgets_the_flag_and_keeps_run_numbers(store: Store) -> None:
    await store.create_job_run(job_run("ns.gone", 3))
    await store.set_job_enabled("ns.gone", False)
    await store.set_job_enabled("ns.gone", None)
    state = (await store.load_job_states())["ns.gone"]
    assert (state.enabled, state.next_run_num) == (None, 4)


async def test_save_run_changes_lands_header_action_runs_and_handle_together(
    store: Store,
) -> None:
    run = job_run(actions=("a", "b"))
    await store.create_job_run(run)
    started = T0 + timedelta(minutes=1)
    a = dataclasses.replace(run.action_runs[0], state=ActionRunState.RUNNING, node="n1")
    changed = dataclasses.replace(run, start_time=started, action_runs=(a, run.action_runs[1]))
    await store.save_run_changes(changed, [a], header=True, handle=("ns.job.0.a", {"pid": 7}))
    (loaded,) = await store.load_job_runs()
    assert loaded == changed
    assert await store.load_handles() == {"ns.job.0.a": {"pid": 7}}
    assert [t.state for t in await store.transitions("ns.job.0.a")] == ["scheduled", "running"]


async def test_save_run_changes_of_a_missing_run_writes_nothing(store: Store) -> None:
    run = job_run(num=9)
    with pytest.raises(NotFoundError):
        await store.save_run_changes(
            run, list(run.action_runs), header=False, handle=("ns.job.9.a", {"pid": 1})
        )
    assert await store.load_job_runs() == []
    assert await store.load_handles() == {}


async def test_save_run_changes_of_only_a_handle_needs_the_run(store: Store) -> None:
    run = job_run(num=0)
    with pytest.raises(NotFoundError):
        await store.save_run_changes(run, [], header=False, handle=("ns.job.0.a", {"pid": 1}))
    assert await store.load_handles() == {}
    await store.create_job_run(run)
    await store.save_run_changes(
        run, [], header=False, handle=("ns.job.0.a", {"pid": 2}), events=["ns.job.0.a.done"]
    )
    assert await store.load_handles() == {"ns.job.0.a": {"pid": 2}}
    assert await store.events() == ["ns.job.0.a.done"]
