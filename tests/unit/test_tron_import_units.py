"""Pieces of the Tron import: the db_dump listing, the restricted unpickler, in-flight runs."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

import pytest

from tron.core.states import ActionRunState
from tron.errors import StoreError
from tron.store.tron_import import bdb_dump, convert, unpickle


def test_printable_dump_is_parsed_with_escapes() -> None:
    dump = (
        b"VERSION=3\nformat=print\ntype=hash\nHEADER=END\n"
        b" job_state___a.b\n \\80\\02}q\\\\.\n"
        b" k2\n v\\0a2\nDATA=END\n"
    )
    assert bdb_dump.parse_printable(dump) == {
        b"job_state___a.b": b"\x80\x02}q\\.",
        b"k2": b"v\n2",
    }


def test_a_truncated_dump_is_refused() -> None:
    with pytest.raises(StoreError, match="DATA=END"):
        bdb_dump.parse_printable(b"HEADER=END\n k\n v\n")


def test_the_unpickler_reads_datetimes_sets_and_timedeltas() -> None:
    value = {
        "at": datetime(2026, 11, 30, 1, 55, tzinfo=UTC),
        "naive": datetime(2026, 11, 30, 1, 55, 9, 123),
        "delay": timedelta(seconds=1),
        "tags": {1, 2},
    }
    assert unpickle.loads(pickle.dumps(value, protocol=2)) == value


def test_the_unpickler_refuses_anything_else() -> None:
    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            import os

            return (os.system, ("true",))

    with pytest.raises(StoreError, match="not allowed"):
        unpickle.loads(pickle.dumps(Evil(), protocol=2))


def test_pytz_zones_become_zoneinfo() -> None:
    # pytz's named zone reduces to pytz._p('Europe/Paris', ...): written by hand here.
    data = b"\x80\x02cpytz\n_p\nq\x00X\x0c\x00\x00\x00Europe/Parisq\x01\x85q\x02Rq\x03."
    zone = unpickle.loads(data)
    assert str(zone) == "Europe/Paris"
    with pytest.raises(StoreError):
        unpickle.loads(b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x04\x00\x00\x00zlib\x86R.")


def _action(state: str, **more: object) -> dict[str, object]:
    return {"action_name": "work", "state": state, "original_command": "sleep 60", **more}


def test_in_flight_actions_become_unknown_as_tron_restarts_them() -> None:
    start = datetime(2026, 11, 30, 1, 55, 0)
    run = convert.job_run(
        {
            "job_name": "ns.job",
            "run_num": 4,
            "run_time": start,
            "node_name": "local",
            "manual": True,
            "runs": [
                _action(
                    "running",
                    start_time=start,
                    attempts=[{"rendered_command": "sleep 60", "start_time": start}],
                )
            ],
            "cleanup_run": None,
        },
        None,
        frozenset(),
    )
    (action,) = run.action_runs
    assert action.state is ActionRunState.UNKNOWN
    assert action.exit_status is None
    assert action.reason == convert.LOST_REASON
    assert action.attempts[0].command == "sleep 60"
    assert run.start_time == start.astimezone(UTC)


def test_an_unknown_state_name_is_refused() -> None:
    with pytest.raises(StoreError, match="unknown action run state"):
        convert.job_run(
            {"job_name": "a.b", "run_num": 0, "run_time": datetime(2026, 1, 1, tzinfo=UTC),
             "runs": [_action("exploded")]},
            None,
            frozenset(),
        )  # fmt: skip
