"""The node's side of an SSH attempt: where its supervisor records live, the shell lines that
signal and delete it, and the SFTP tail that copies its output and records back to trond.

An attempt's files sit side by side in one directory per node (`<root>/runs`), named
`<prefix><record>`, so that starting one creates no directory on the node."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import posixpath
import shlex
import signal
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from tron.executors.base import ExitStatus
from tron.executors.supervisor import (
    COMMAND_FILE,
    STDERR_FILE,
    STDOUT_FILE,
    VANISHED,
    Record,
    exit_status,
    parse_records,
)

_STREAMS = (STDOUT_FILE, STDERR_FILE)
# Every file an attempt may leave on the node (its records, its long command, its output).
ATTEMPT_FILES = (*(str(record) for record in Record), COMMAND_FILE, *_STREAMS)
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


async def _read_small(sftp: asyncssh.SFTPClient, path: str) -> str | None:
    try:
        async with sftp.open(path, "rb") as remote:
            data: bytes = await remote.read()
    except asyncssh.SFTPNoSuchFile:
        return None
    return data.decode("ascii", errors="replace")


@dataclass(slots=True, kw_only=True)
class Tail:
    """Copies one attempt's output and records from the node to its local directory.

    Output is appended locally from where the local copy ends, so a new daemon resumes the
    copy without duplicating a byte. Open remote files are tied to one SFTP session.
    """

    prefix: str
    local_dir: Path
    client: asyncssh.SFTPClient | None = None
    files: dict[str, asyncssh.SFTPClientFile] = field(default_factory=dict)
    polls: int = 0

    async def poll(self, sftp: asyncssh.SFTPClient) -> ExitStatus | None:
        """Copy new output; return the ExitStatus once the `exit` record exists."""
        if sftp is not self.client:
            await self.close()
            self.client = sftp
        self.polls += 1
        # One round trip: the server answers in order, so a stream read sent after the exit
        # check never misses output written before the exit record.
        exit_text, *_ = await asyncio.gather(
            _read_small(sftp, self.prefix + Record.EXIT),
            *(self._pull(sftp, stream) for stream in _STREAMS),
        )
        if exit_status(exit_text) is None:  # absent, or reserved and not yet written
            return await self._check_alive(sftp) if self.polls % LIVENESS_EVERY == 0 else None
        # Reads sent after the exit record was seen: the output is complete.
        signal_text, *_ = await asyncio.gather(
            _read_small(sftp, self.prefix + Record.SIGNAL),
            *(self._pull(sftp, stream) for stream in _STREAMS),
        )
        return exit_status(exit_text, signal_text)

    async def _pull(self, sftp: asyncssh.SFTPClient, stream: str) -> None:
        remote = self.files.get(stream)
        if remote is None:
            try:
                remote = await sftp.open(self.prefix + stream, "rb")
            except asyncssh.SFTPNoSuchFile:
                return  # the supervisor has not created it yet
            self.files[stream] = remote
        local = self.local_dir / stream
        offset = local.stat().st_size if local.exists() else 0
        data: bytes = await remote.read(-1, offset)
        if data:
            with local.open("ab") as out:
                out.write(data)

    async def _check_alive(self, sftp: asyncssh.SFTPClient) -> ExitStatus | None:
        """VANISHED when the records are gone, or (on Linux nodes) both processes are."""
        found = [await _read_small(sftp, self.prefix + r) for r in (Record.SUPERVISOR, Record.PID)]
        if found == [None, None]:
            return ExitStatus(exit_code=None, reason=VANISHED)
        texts = (text or "" for text in found)
        records = parse_records(dict(zip((Record.SUPERVISOR, Record.PID), texts, strict=True)))
        pids = [pid for pid in (records.supervisor_pid, records.pid) if pid is not None]
        if not pids or not await sftp.isdir("/proc/self"):
            return None
        for pid in pids:
            if await sftp.isdir(f"/proc/{pid}"):
                return None
        exit_text = await _read_small(sftp, self.prefix + Record.EXIT)
        if exit_status(exit_text) is not None:
            return await self.poll(sftp)
        return ExitStatus(exit_code=None, reason=VANISHED)

    def record(self, status: ExitStatus) -> None:
        """Keep the exit locally, so later waits (and a new daemon) need no node at all."""
        if status.exit_code is None:
            return
        if status.signal is not None:
            (self.local_dir / Record.SIGNAL).write_text(f"{status.signal}\n")
        (self.local_dir / Record.EXIT).write_text(f"{status.exit_code}\n")

    async def close(self) -> None:
        files, self.files = self.files, {}
        for remote in files.values():
            with contextlib.suppress(Exception):
                await remote.close()


async def read_pid(sftp: asyncssh.SFTPClient, prefix: str) -> int | None:
    text = await _read_small(sftp, prefix + Record.PID)
    return parse_records({str(Record.PID): text or ""}).pid


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
