"""The records of the POSIX supervisors (local.sh, ssh_agent.sh), and reading them.

Each attempt's supervisor leaves these files in the attempt's directory (on the node, for SSH):

    exit        reserved first, then the command's exit status (below)
    supervisor  the supervisor's pid
    group       the attempt's process group (local.sh of earlier versions only; local.sh's
                supervisor leads the group, so its pid says as much)
    pid         the command's pid (under ssh_agent.sh also its process group)
    signal      N when the command ended with status 128+N, written before `exit` ends
    stdout, stderr  the command's output

Every record but `exit` is one write(2) of `VALUE\\n`: a reader ignores one without its final
newline, as still being written. The `exit` record is reserved before the command starts, as
EXIT_PLACEHOLDER (17 spaces, no newline), so that its disk space is allocated while there is
some: at the end the supervisor overwrites it in place (`1<>`, which neither truncates nor
appends) with the status left-aligned in 16 columns and a newline, the same 17 bytes, so a full
disk cannot eat the exit status (on copy-on-write file systems such as btrfs or ZFS an overwrite
needs space too: there it narrows the window but does not close it). Readers decide thus:

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
None, reason=NOT_STARTED).
"""

from __future__ import annotations

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
# A status past this is 128+N, a command ended by signal N: only then is there a `signal` record.
_SIGNAL_BASE = 128


class Record(StrEnum):
    """The files the supervisor writes into an attempt's directory."""

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


def read_records(directory: Path) -> SupervisorRecords:
    """Read the records present in `directory` (on this machine); never raises for absent ones."""
    texts = {}
    for record in Record:
        text = _read(directory / record)
        if text is not None:
            texts[str(record)] = text
    return parse_records(texts)


def read_exit_status(directory: Path) -> ExitStatus | None:
    """The ExitStatus once the `exit` record is complete; cheaper than read_records."""
    exit_text = _read(directory / Record.EXIT)
    ended = exit_status(exit_text)
    if ended is None or ended.exit_code is None or ended.exit_code <= _SIGNAL_BASE:
        return ended  # no `signal` record to read: it is written only past 128
    return exit_status(exit_text, _read(directory / Record.SIGNAL))


def final_status(output: bytes) -> ExitStatus | None:
    """The exit status local.sh writes to its pipe after its `exit` record (`STATUS\\n`), with
    the signal its `signal` record would hold; None without one."""
    text = output.decode("ascii", errors="replace")
    if not text.endswith("\n"):
        return None
    try:
        code = int(text)
    except ValueError:
        return None
    signal = code - _SIGNAL_BASE if _SIGNAL_BASE < code < _SIGNAL_BASE + 65 else None
    return ExitStatus(exit_code=code, signal=signal)


def parse_launch_output(output: bytes) -> int:
    """The command's pid that the supervisor prints once started; NodeError if it did not."""
    text = output.decode("ascii", errors="replace").strip()
    try:
        return int(text)
    except ValueError:
        raise NodeError(f"supervisor did not start the command (said {text[:200]!r})") from None
