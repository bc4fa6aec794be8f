"""The supervisor records: their formats and how they are read."""

from __future__ import annotations

from pathlib import Path

import pytest

from tron.errors import NodeError
from tron.executors.base import ExitStatus
from tron.executors.supervisor import (
    EXIT_PLACEHOLDER,
    NOT_STARTED,
    UNREADABLE,
    SupervisorRecords,
    exit_status,
    final_status,
    parse_launch_output,
    parse_records,
    read_exit_status,
    read_records,
)


def test_parse_records_reads_complete_records() -> None:
    records = parse_records(
        {
            "supervisor": "10\n",
            "pid": "11\n",
            "exit": "137\n",
            "signal": "9\n",
        }
    )
    assert records == SupervisorRecords(supervisor_pid=10, pid=11, exit_code=137, signal=9)
    assert records.has_exited
    assert records.exit_status == ExitStatus(exit_code=137, signal=9)


def test_parse_records_ignores_partial_and_garbled_records() -> None:
    records = parse_records({"pid": "12", "exit": "\n", "group": "soon\n", "supervisor": "x\n"})
    assert records == SupervisorRecords()
    assert not records.has_exited
    assert records.exit_status is None


def test_read_records_of_missing_directory_is_empty(tmp_path: Path) -> None:
    assert read_records(tmp_path / "absent") == SupervisorRecords()
    assert read_exit_status(tmp_path / "absent") is None


def test_read_exit_status_includes_signal(tmp_path: Path) -> None:
    (tmp_path / "exit").write_text("143\n")
    (tmp_path / "signal").write_text("15\n")
    assert read_exit_status(tmp_path) == ExitStatus(exit_code=143, signal=15)
    assert read_records(tmp_path).exit_code == 143


def test_parse_launch_output_reads_pid() -> None:
    assert parse_launch_output(b"1234\n") == 1234


def test_parse_launch_output_without_pid_raises() -> None:
    with pytest.raises(NodeError, match="did not start"):
        parse_launch_output(b"sh: cannot open\n")


def test_parse_records_reads_the_group_record_of_earlier_local_runners() -> None:
    assert parse_records({"pid": "11\n", "group": "10\n", "supervisor": "10\n"}).group == 10


def test_reserved_exit_record_means_not_ended(tmp_path: Path) -> None:
    (tmp_path / "exit").write_text(EXIT_PLACEHOLDER)
    (tmp_path / "pid").write_text("11\n")
    assert read_exit_status(tmp_path) is None
    records = read_records(tmp_path)
    assert not records.has_exited
    assert records.exit_status is None
    assert records.pid == 11


def test_overwritten_exit_record_gives_the_status(tmp_path: Path) -> None:
    (tmp_path / "exit").write_text(EXIT_PLACEHOLDER)
    with (tmp_path / "exit").open("r+") as record:  # as `1<>` does: in place, no truncation
        record.write(f"{143:<16}\n")
    (tmp_path / "signal").write_text("15\n")
    assert (tmp_path / "exit").stat().st_size == len(EXIT_PLACEHOLDER)
    assert read_exit_status(tmp_path) == ExitStatus(exit_code=143, signal=15)
    assert read_records(tmp_path).exit_status == ExitStatus(exit_code=143, signal=15)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, None),  # no record
        ("", None),  # created, nothing written (a full disk before this format)
        (EXIT_PLACEHOLDER, None),  # reserved
        ("\n", None),  # blank
        (" " * 16 + "\n", None),  # a blank reservation with a newline
        ("14" + EXIT_PLACEHOLDER[2:], None),  # an overwrite seen half done: no newline yet
        ("0\n", ExitStatus(exit_code=0)),  # an older supervisor's record
        (f"{3:<16}\n", ExitStatus(exit_code=3)),
        (f"{-1:<16}\n", ExitStatus(exit_code=-1)),
        ("1x" + " " * 14 + "\n", ExitStatus(exit_code=None, reason=UNREADABLE)),
        ("\ufffd\ufffd\n", ExitStatus(exit_code=None, reason=UNREADABLE)),
        (f"{NOT_STARTED}\n", ExitStatus(exit_code=None, reason=NOT_STARTED)),  # trond's claim
    ],
)
def test_exit_record_reading_is_decided_by_its_text(
    text: str | None, expected: ExitStatus | None
) -> None:
    assert exit_status(text) == expected
    records = parse_records({} if text is None else {"exit": text})
    assert records.exit_status == expected
    assert records.has_exited is (expected is not None)


@pytest.mark.parametrize(
    ("output", "status"),
    [
        (b"0\n", ExitStatus(exit_code=0)),
        (b"3\n", ExitStatus(exit_code=3)),
        (b"143\n", ExitStatus(exit_code=143, signal=15)),
        (b"200\n", ExitStatus(exit_code=200)),
        (b"", None),  # killed before it could say
        (b"14", None),  # cut short
        (b"x\n", None),
    ],
)
def test_the_status_on_the_runners_pipe_reads_as_its_records_would(
    output: bytes, status: ExitStatus | None
) -> None:
    assert final_status(output) == status


def single_file(slot: str, lines: str) -> str:
    """The `exit` file of today's local.sh: the 17-byte slot, then its record lines."""
    assert len(slot) == len(EXIT_PLACEHOLDER)
    return slot + lines


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Reserved, with the supervisor in the same write: running (or died) before the command.
        (single_file(EXIT_PLACEHOLDER, "supervisor 10\n"), SupervisorRecords(supervisor_pid=10)),
        # The pid line still being written is not read.
        (
            single_file(EXIT_PLACEHOLDER, "supervisor 10\npid 1"),
            SupervisorRecords(supervisor_pid=10),
        ),
        (
            single_file(EXIT_PLACEHOLDER, "supervisor 10\npid 11\n"),
            SupervisorRecords(supervisor_pid=10, pid=11),
        ),
        # The slot seen half overwritten: not ended yet.
        (
            single_file("14" + EXIT_PLACEHOLDER[2:], "supervisor 10\npid 11\n"),
            SupervisorRecords(supervisor_pid=10, pid=11),
        ),
        (
            single_file(f"{0:<16}\n", "supervisor 10\npid 11\n"),
            SupervisorRecords(supervisor_pid=10, pid=11, exit_code=0),
        ),
        # 128+N says signal N, as the separate `signal` record did; past 192 it is a status.
        (
            single_file(f"{143:<16}\n", "supervisor 10\npid 11\n"),
            SupervisorRecords(supervisor_pid=10, pid=11, exit_code=143, signal=15),
        ),
        (
            single_file(f"{200:<16}\n", "supervisor 10\npid 11\n"),
            SupervisorRecords(supervisor_pid=10, pid=11, exit_code=200),
        ),
        (
            single_file("1x" + " " * 14 + "\n", "supervisor 10\npid x\nwhat 3\n"),
            SupervisorRecords(supervisor_pid=10, exit_reason=UNREADABLE),
        ),
    ],
)
def test_single_file_records_are_read_from_the_slot_and_complete_lines(
    tmp_path: Path, text: str, expected: SupervisorRecords
) -> None:
    (tmp_path / "exit").write_text(text)
    assert read_records(tmp_path) == expected
    assert read_exit_status(tmp_path) == expected.exit_status


def test_single_file_records_ignore_separate_records_left_beside_them(tmp_path: Path) -> None:
    # Written by an earlier runner in the same directory, before this launch.
    for name, value in (("supervisor", "7\n"), ("pid", "8\n"), ("signal", "9\n"), ("group", "7\n")):
        (tmp_path / name).write_text(value)
    (tmp_path / "exit").write_text(single_file(f"{0:<16}\n", "supervisor 10\npid 11\n"))
    assert read_records(tmp_path) == SupervisorRecords(supervisor_pid=10, pid=11, exit_code=0)
    assert read_exit_status(tmp_path) == ExitStatus(exit_code=0)


def test_single_file_slot_is_cut_in_bytes(tmp_path: Path) -> None:
    # Garbled bytes in the slot do not shift where the lines begin.
    (tmp_path / "exit").write_bytes(b"\xff\xfe" + b" " * 14 + b"\nsupervisor 10\n")
    assert read_records(tmp_path) == SupervisorRecords(supervisor_pid=10, exit_reason=UNREADABLE)
