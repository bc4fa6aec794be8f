"""The records of the POSIX supervisors (local.sh, ssh_agent.sh), and reading them.

local.sh keeps all its records in one file of the attempt's directory, `exit`, because each
file is an inode to allocate per launch (on ext4 without a journal, right after many
deletions, 150-300 us each):

    bytes 0-16   the exit slot: reserved first, overwritten in place with the status (below)
    then lines   `supervisor PID` (in the reservation's own write: an attempt's claim always
                 names its supervisor) and `pid PID` (the command), appended by one write(2)

ssh_agent.sh on a node (and local.sh of earlier versions) leaves one file per record:

    exit        reserved first, then the command's exit status (the same 17 bytes as the slot)
    supervisor  the supervisor's pid
    group       the attempt's process group (local.sh of earlier versions only; local.sh's
                supervisor leads the group, so its pid says as much)
    pid         the command's pid (under ssh_agent.sh also its process group)
    signal      N when the command ended with status 128+N, written before `exit` ends

and both leave `stdout` and `stderr`, the command's output. A reader tells the two layouts
apart by the size of `exit`: the single-file layout is longer than the slot from its first
write on; the separate records never are (and before that write, the empty file reads the same
in both). Attempts started by an earlier version are thus
still read (and reattached) after an upgrade. The single file needs no `signal` line: local.sh
wrote one exactly when the status was 128+N with N below 65, so the status says as much.

Every record, and every line after the slot, is one write(2) ending in a newline: a reader
ignores a record or last line without it, as still being written. The `exit` record (or slot)
is reserved before the command starts, as EXIT_PLACEHOLDER (17 spaces, no newline), so that
its disk space is allocated while there is some: at the end the supervisor overwrites it in
place (`1<>`, which neither truncates nor appends) with the status left-aligned in 16 columns
and a newline, the same 17 bytes, so a full disk cannot eat the exit status (the lines after
the slot fit in the same block, allocated by the first write; on copy-on-write file systems
such as btrfs or ZFS an overwrite needs space too: there it narrows the window but does not
close it). Readers decide thus:

    no file, blank, or no final newline (the placeholder, or the overwrite in progress)
        not ended yet: the command runs, or its supervisor died before it could write
    a newline-terminated integer (spaces around it ignored; `0\\n` of older supervisors too)
        ended with that status
    anything else newline-terminated (garbled: only the supervisor's last write adds one)
        ended, status unknown: ExitStatus(exit_code=None, reason=UNREADABLE)

local.sh reserves with `set -C` (O_EXCL): the reservation is also its claim on the attempt, and
it starts nothing if `exit` is already there. LocalExecutor.reattach, finding no record at all,
claims the attempt first with NOT_STARTED (a complete record), so an attempt trond lost before
its supervisor ran is provably never started, and stays so. Read, it is ExitStatus(exit_code=
None, reason=NOT_STARTED). The file keeps its name `exit` in both layouts so that this claim
is one O_EXCL file for every runner version, an earlier one still starting included.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from tron.errors import NodeError
from tron.executors.base import ExitStatus

COMMAND_FILE = "command"
STDOUT_FILE = "stdout"
STDERR_FILE = "stderr"
VANISHED = "supervisor vanished"
UNREADABLE = "unreadable exit record"
NOT_STARTED = "never started"
EXIT_WIDTH = 16
EXIT_PLACEHOLDER = " " * (EXIT_WIDTH + 1)
# A status past this is 128+N, a command ended by signal N: only then is there a `signal` record
# (in the separate layout).
_SIGNAL_BASE = 128


class Record(StrEnum):
    """The supervisor's records: files of the separate layout, and the names of the lines
    after the exit slot in the single-file one (supervisor and pid)."""

    SUPERVISOR = "supervisor"
    PID = "pid"
    SIGNAL = "signal"
    EXIT = "exit"
    GROUP = "group"


@dataclass(frozen=True, slots=True, kw_only=True)
class SupervisorRecords:
    """What the supervisor has recorded so far; a field is None until its record is complete.

    `exit_reason` is set when the `exit` record is complete but holds no status: UNREADABLE
    (garbled) or NOT_STARTED (see the module docstring).
    """

    supervisor_pid: int | None = None
    pid: int | None = None
    exit_code: int | None = None
    signal: int | None = None
    group: int | None = None
    exit_reason: str | None = None

    @property
    def has_exited(self) -> bool:
        return self.exit_code is not None or self.exit_reason is not None

    @property
    def exit_status(self) -> ExitStatus | None:
        """The attempt's ExitStatus once its `exit` record is complete, else None."""
        if self.exit_code is None:
            if self.exit_reason is None:
                return None
            return ExitStatus(exit_code=None, reason=self.exit_reason)
        return ExitStatus(exit_code=self.exit_code, signal=self.signal)


def _complete(text: str | None) -> str | None:
    # The supervisor ends every record with a newline: anything else is still being written.
    if text is None or not text.endswith("\n"):
        return None
    return text.strip()


def _as_int(text: str | None) -> int | None:
    value = _complete(text)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def exit_status(exit_text: str | None, signal_text: str | None = None) -> ExitStatus | None:
    """The ExitStatus an `exit` record (and `signal` record) say; None while not ended."""
    value = _complete(exit_text)
    if not value:
        return None
    if value == NOT_STARTED:
        return ExitStatus(exit_code=None, reason=NOT_STARTED)
    try:
        code = int(value)
    except ValueError:
        return ExitStatus(exit_code=None, reason=UNREADABLE)
    return ExitStatus(exit_code=code, signal=_as_int(signal_text))


def parse_records(texts: Mapping[str, str]) -> SupervisorRecords:
    """Build records from file name -> content; missing, partial or garbled records are None."""
    ended = exit_status(texts.get(Record.EXIT), texts.get(Record.SIGNAL))
    return SupervisorRecords(
        supervisor_pid=_as_int(texts.get(Record.SUPERVISOR)),
        pid=_as_int(texts.get(Record.PID)),
        exit_code=None if ended is None else ended.exit_code,
        signal=_as_int(texts.get(Record.SIGNAL)),
        group=_as_int(texts.get(Record.GROUP)),
        exit_reason=None if ended is None or ended.exit_code is not None else ended.reason,
    )


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, NotADirectoryError):
        return None


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _signal_of(code: int) -> int | None:
    # local.sh wrote a `signal` record exactly for these statuses, with this value.
    return code - _SIGNAL_BASE if _SIGNAL_BASE < code < _SIGNAL_BASE + 65 else None


def _single_file(data: bytes) -> SupervisorRecords:
    """Records of the single-file layout: the exit slot, then `NAME VALUE` lines."""
    width = len(EXIT_PLACEHOLDER)  # cut in bytes: a garbled slot does not move the lines
    slot, lines = (part.decode("utf-8", errors="replace") for part in (data[:width], data[width:]))
    values: dict[str, int] = {}
    # The last line is still being written unless it ends with a newline.
    for line in lines.split("\n")[:-1]:
        name, _, value = line.partition(" ")
        with contextlib.suppress(ValueError):
            values[name] = int(value)
    ended = exit_status(slot)
    code = None if ended is None else ended.exit_code
    return SupervisorRecords(
        supervisor_pid=values.get(Record.SUPERVISOR),
        pid=values.get(Record.PID),
        exit_code=code,
        signal=None if code is None else _signal_of(code),
        exit_reason=None if ended is None or code is not None else ended.reason,
    )


def _is_single_file(data: bytes) -> bool:
    # Its first write already goes past the slot; separate `exit` records never do.
    return len(data) > len(EXIT_PLACEHOLDER)


def read_records(directory: Path) -> SupervisorRecords:
    """Read the records present in `directory` (on this machine), in either layout; never
    raises for absent ones."""
    data = _read_bytes(directory / Record.EXIT)
    if data is not None and _is_single_file(data):
        return _single_file(data)
    texts = {}
    if data is not None:
        texts[str(Record.EXIT)] = data.decode("utf-8", errors="replace")
    for record in Record:
        if record is Record.EXIT:
            continue
        text = _read(directory / record)
        if text is not None:
            texts[str(record)] = text
    return parse_records(texts)


def read_exit_status(directory: Path) -> ExitStatus | None:
    """The ExitStatus once the exit record is complete; cheaper than read_records."""
    data = _read_bytes(directory / Record.EXIT)
    if data is not None and _is_single_file(data):
        return _single_file(data).exit_status
    exit_text = None if data is None else data.decode("utf-8", errors="replace")
    ended = exit_status(exit_text)
    if ended is None or ended.exit_code is None or ended.exit_code <= _SIGNAL_BASE:
        return ended  # no `signal` record to read: it is written only past 128
    return exit_status(exit_text, _read(directory / Record.SIGNAL))


def final_status(output: bytes) -> ExitStatus | None:
    """The exit status local.sh writes to its pipe after its exit slot (`STATUS\\n`), with the
    signal its records say; None without one."""
    text = output.decode("ascii", errors="replace")
    if not text.endswith("\n"):
        return None
    try:
        code = int(text)
    except ValueError:
        return None
    return ExitStatus(exit_code=code, signal=_signal_of(code))


def parse_launch_output(output: bytes) -> int:
    """The command's pid that the supervisor prints once started; NodeError if it did not."""
    text = output.decode("ascii", errors="replace").strip()
    try:
        return int(text)
    except ValueError:
        raise NodeError(f"supervisor did not start the command (said {text[:200]!r})") from None
