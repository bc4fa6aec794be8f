"""Pure helpers around the POSIX supervisor (wrapper.sh): launching it, reading its records."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from tron.errors import NodeError
from tron.executors.base import ExitStatus

WRAPPER_PATH = Path(__file__).with_name("wrapper.sh")
COMMAND_FILE = "command"
STDOUT_FILE = "stdout"
STDERR_FILE = "stderr"
VANISHED = "supervisor vanished"

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class Record(StrEnum):
    """The files the supervisor writes into an attempt's directory."""

    SUPERVISOR = "supervisor"
    STARTED = "started"
    PID = "pid"
    SIGNAL = "signal"
    EXIT = "exit"
    GROUP = "group"


@dataclass(frozen=True, slots=True, kw_only=True)
class SupervisorRecords:
    """What the supervisor has recorded so far; a field is None until its record is complete."""

    supervisor_pid: int | None = None
    pid: int | None = None
    started: float | None = None
    exit_code: int | None = None
    signal: int | None = None
    group: int | None = None

    @property
    def process_group(self) -> int | None:
        """The attempt's process group: the local runner's own (`group`), else the command's."""
        return self.group if self.group is not None else self.pid

    @property
    def has_exited(self) -> bool:
        return self.exit_code is not None

    @property
    def exit_status(self) -> ExitStatus | None:
        """The attempt's ExitStatus once the `exit` record exists, else None."""
        if self.exit_code is None:
            return None
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


def _as_float(text: str | None) -> float | None:
    value = _complete(text)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def parse_records(texts: Mapping[str, str]) -> SupervisorRecords:
    """Build records from file name -> content; missing, partial or garbled records are None."""
    return SupervisorRecords(
        supervisor_pid=_as_int(texts.get(Record.SUPERVISOR)),
        pid=_as_int(texts.get(Record.PID)),
        started=_as_float(texts.get(Record.STARTED)),
        exit_code=_as_int(texts.get(Record.EXIT)),
        signal=_as_int(texts.get(Record.SIGNAL)),
        group=_as_int(texts.get(Record.GROUP)),
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
    """The ExitStatus if the `exit` record exists; cheaper than read_records on the hot path."""
    code = _as_int(_read(directory / Record.EXIT))
    if code is None:
        return None
    return ExitStatus(exit_code=code, signal=_as_int(_read(directory / Record.SIGNAL)))


def launch_argv(
    directory: str,
    *,
    shell: str = "/bin/sh",
    wrapper: str = str(WRAPPER_PATH),
    in_session: bool,
    started: float | None = None,
) -> list[str]:
    """Argv that starts the supervisor for `directory`.

    `in_session` says the caller already gives the supervisor its own session (so it skips
    re-running itself under `setsid`). `started` (epoch seconds) saves the supervisor a `date`.
    """
    flags = ["-s"] if in_session else []
    when = [] if started is None else [f"{started:.6f}"]
    return [shell, wrapper, *flags, directory, *when]


def launch_line(directory: str, *, wrapper: str, env: Mapping[str, str]) -> str:
    """A shell command line that starts the supervisor with `env` applied (for remote nodes).

    Raises NodeError for an environment variable name a shell cannot assign.
    """
    for name in env:
        if not _ENV_NAME.match(name):
            raise NodeError(f"invalid environment variable name: {name!r}")
    assignments = [f"{name}={shlex.quote(value)}" for name, value in env.items()]
    words = [*assignments, "exec", "/bin/sh", shlex.quote(wrapper), shlex.quote(directory)]
    return " ".join(words)


def write_file_line(path: str, text: str) -> str:
    """A shell command line that writes `text` verbatim to `path` (for remote nodes)."""
    return f"printf %s {shlex.quote(text)} >{shlex.quote(path)}"


def parse_launch_output(output: bytes) -> int:
    """The command's pid that the supervisor prints once started; NodeError if it did not."""
    text = output.decode("ascii", errors="replace").strip()
    try:
        return int(text)
    except ValueError:
        raise NodeError(f"supervisor did not start the command (said {text[:200]!r})") from None


def wrapper_text() -> str:
    """The supervisor script itself, to install on nodes."""
    return WRAPPER_PATH.read_text(encoding="utf-8")
