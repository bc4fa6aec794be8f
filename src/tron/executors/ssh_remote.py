"""The node's side of an SSH attempt: where its supervisor records live, the shell lines that
signal and delete it, and the tail that copies its output and records back to trond (over exec
channels: see ssh_records).

An attempt's files sit side by side in one directory per node (`<root>/runs`), named
`<prefix><record>`, so that starting one creates no directory on the node."""

from __future__ import annotations

import hashlib
import itertools
import posixpath
import shlex
import signal
from dataclasses import dataclass
from pathlib import Path

from tron.executors.base import ExitStatus
from tron.executors.ssh_records import STREAMS, Answer, Liveness, Query
from tron.executors.supervisor import (
    COMMAND_FILE,
    NOT_STARTED,
    STDERR_FILE,
    STDOUT_FILE,
    VANISHED,
    Record,
    exit_status,
    parse_records,
)

# Every file an attempt may leave on the node (its records, its long command, its output).
ATTEMPT_FILES = (*(str(record) for record in Record), COMMAND_FILE, *STREAMS)
# How many polls pass between checks that a silent attempt still has a live supervisor.
LIVENESS_EVERY = 10


def tron_root(status_path: str) -> str:
    return posixpath.join(status_path or "/tmp", "tron")


def runs_dir(status_path: str) -> str:
    """The directory on the node that holds every attempt's files."""
    return posixpath.join(tron_root(status_path), "runs")


def attempt_prefix(status_path: str, action_run_id: str, attempt: int, output_dir: str) -> str:
    """What the attempt's file names on the node start with; the digest of trond's own
    directory keeps two daemons (or two test runs) sharing a node from sharing a file."""
    digest = hashlib.sha1(output_dir.encode("utf-8", "surrogateescape")).hexdigest()[:10]
    return posixpath.join(runs_dir(status_path), f"{action_run_id}.{attempt}.{digest}.")


def signal_line(prefix: str, signum: int) -> str:
    """Signal the attempt's process group (the pid the supervisor recorded), unless it ended.

    It has ended once its `exit` record ends in a newline, which `read` needs to succeed: the
    record reserved at the start has none.
    """
    try:
        name = signal.Signals(signum).name.removeprefix("SIG")
        flag = f"-s {name}"
    except ValueError:
        flag = f"-{int(signum)}"
    exit_file, pid_file = (shlex.quote(prefix + record) for record in (Record.EXIT, Record.PID))
    return (
        f"{{ IFS= read -r p <{exit_file} || {{ p=$(cat {pid_file}) && "
        f'{{ kill {flag} -- -"$p" || kill {flag} "$p"; }}; }}; }} 2>/dev/null; true'
    )


@dataclass(slots=True, kw_only=True)
class Tail:
    """Copies one attempt's output and records from the node to its local directory.

    Output is appended locally from where the local copy ends, so a new daemon resumes the
    copy without duplicating a byte. Each poll is one query to the node's RecordReader, which
    answers many attempts' queries over one exec channel.
    """

    prefix: str
    local_dir: Path
    polls: int = 0

    def query(self) -> Query:
        """What the next poll asks; every LIVENESS_EVERY-th also checks the processes."""
        self.polls += 1
        offsets = (self._local_size(STDOUT_FILE), self._local_size(STDERR_FILE))
        return Query(prefix=self.prefix, offsets=offsets, check=self.polls % LIVENESS_EVERY == 0)

    def take(self, query: Query, answer: Answer) -> ExitStatus | None:
        """Append the new output; return the ExitStatus once the attempt ended and its output
        is all copied (VANISHED when its processes are gone without an exit record)."""
        for stream, offset in zip(STREAMS, query.offsets, strict=True):
            chunk = answer.chunks.get(stream)
            # Appended only where it belongs: the local copy may not have moved since.
            if chunk is not None and chunk.data and self._local_size(stream) == offset:
                with (self.local_dir / stream).open("ab") as out:
                    out.write(chunk.data)
        exit_text = answer.texts.get(Record.EXIT)
        if exit_status(exit_text) is None:  # absent, or reserved and not yet written
            if answer.liveness in (Liveness.GONE, Liveness.DEAD):
                return ExitStatus(exit_code=None, reason=VANISHED)
            return None
        if not answer.copied_all(query.offsets):
            return None  # the rest of the output comes with the next poll
        return exit_status(exit_text, answer.texts.get(Record.SIGNAL))

    def _local_size(self, stream: str) -> int:
        try:
            return (self.local_dir / stream).stat().st_size
        except FileNotFoundError:
            return 0

    def record(self, status: ExitStatus) -> None:
        """Keep the exit locally, so later waits (and a new daemon) need no node at all."""
        if status.exit_code is None:
            return
        if status.signal is not None:
            (self.local_dir / Record.SIGNAL).write_text(f"{status.signal}\n")
        (self.local_dir / Record.EXIT).write_text(f"{status.exit_code}\n")


def claim_line(prefix: str) -> str:
    """Claim the attempt as never started, unless the agent reserved its `exit` record first:
    both create it with O_EXCL (`set -C`), so exactly one of them owns the attempt. Prints
    `claimed` (also when an earlier claim holds it) or `taken`."""
    exit_file = shlex.quote(prefix + Record.EXIT)
    text = shlex.quote(NOT_STARTED)
    script = (
        f"mkdir -p {shlex.quote(posixpath.dirname(prefix))} 2>/dev/null; set -C; "
        f"if {{ printf '%s\\n' {text} >{exit_file}; }} 2>/dev/null; then echo claimed; "
        f'elif {{ IFS= read -r x <{exit_file}; }} 2>/dev/null && [ "$x" = {text} ]; '
        "then echo claimed; else echo taken; fi"
    )
    return f"exec /bin/sh -c {shlex.quote(script)}"


def untouched(answer: Answer) -> bool:
    """Whether the node shows no sign that the attempt's supervisor ever ran (or only trond's
    own claim that it never did)."""
    exit_text = answer.texts.get(Record.EXIT)
    return answer.liveness is Liveness.GONE and exit_text in (None, f"{NOT_STARTED}\n")


def answer_pid(answer: Answer) -> int | None:
    return parse_records({str(Record.PID): answer.texts.get(Record.PID, "")}).pid


def remove_line(prefixes: list[str]) -> str:
    """One shell line that deletes finished attempts' files on the node.

    Names are relative to their directory, to keep the line short (it is one argument of the
    login shell, which Linux limits to 128 KiB)."""
    parts = []
    for directory, group in itertools.groupby(sorted(prefixes), key=posixpath.dirname):
        names = [posixpath.basename(prefix) + file for prefix in group for file in ATTEMPT_FILES]
        quoted = " ".join(shlex.quote(name) for name in names)
        parts.append(f"{{ cd {shlex.quote(directory)} && rm -f -- {quoted}; }}")
    return "; ".join(parts) or "true"
