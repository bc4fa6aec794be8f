"""SshAgent: one long-lived shell per node connection (ssh_agent.sh) that starts attempts and
reports when they end, so that a launch is one message on an open channel and a short action's
end needs no polling at all."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import posixpath
import re
import secrets
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import asyncssh

from tron import tasks
from tron.errors import NodeError
from tron.executors.base import ExitStatus
from tron.executors.ssh_connections import NodeConnections, Session

logger = logging.getLogger(__name__)

_SCRIPT = Path(__file__).with_name("ssh_agent.sh").read_text(encoding="utf-8")
_SCRIPT_NAME = f"ssh-agent-{hashlib.sha1(_SCRIPT.encode()).hexdigest()[:12]}.sh"
_T = TypeVar("_T")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentExit:
    """An attempt's end as the agent reports it; `has_output` when stdout or stderr is not empty."""

    status: ExitStatus
    has_output: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Launched:
    """A started attempt: `ended` resolves with its end, or None if the agent is lost first."""

    pid: int
    ended: asyncio.Future[AgentExit | None]


@dataclass(slots=True, kw_only=True)
class _Pending:
    pid: asyncio.Future[int]
    ended: asyncio.Future[AgentExit | None]


def agent_line(root: str, runs: str) -> str:
    """Install the agent script under `root` if missing, then run it for attempts in `runs`."""
    script = posixpath.join(root, _SCRIPT_NAME)
    quoted = shlex.quote(script)
    install = (
        f"[ -f {quoted} ] || {{ mkdir -p {shlex.quote(root)} && "
        f"printf %s {shlex.quote(_SCRIPT)} >{quoted}.$$ && mv -f {quoted}.$$ {quoted}; }}"
    )
    return f"{install}; exec /bin/sh {quoted} {shlex.quote(runs)}"


def launch_request(
    request_id: int,
    prefix: str,
    command: str,
    env: Mapping[str, str],
    started: float,
    *,
    reclaim: bool = False,
) -> bytes:
    """The agent's request for one attempt; NodeError for an env name or prefix it can't take.

    `reclaim` lets it take back an attempt that trond claimed as never started; without it the
    agent refuses such an attempt (a request written before the claim must start nothing)."""
    for name in env:
        if not _ENV_NAME.match(name):
            raise NodeError(f"invalid environment variable name: {name!r}")
    if "\n" in prefix:
        raise NodeError(f"invalid remote path: {prefix!r}")
    exports = "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env.items())
    text = command if command.endswith("\n") or not command else command + "\n"
    marker = _marker(exports + text)
    mode = "reclaim" if reclaim else "-"
    header = f"{request_id} {started:.6f} {marker} {mode} {prefix}\n"
    return f"{header}{exports}{marker}\n{text}{marker}\n".encode("utf-8", "surrogateescape")


def _marker(text: str) -> str:
    lines = set(text.splitlines())
    while True:
        marker = f"TRON-END-{secrets.token_hex(8)}"
        if marker not in lines:
            return marker


def parse_reply(line: bytes) -> tuple[str, int, list[bytes]] | None:
    """(kind, request id, the rest's words) of one reply line; None if it is not one."""
    words = line.split()
    if not line.endswith(b"\n") or len(words) < 2 or not words[1].isdigit():
        return None
    return words[0].decode("ascii", "replace"), int(words[1]), words[2:]


def parse_exit(words: list[bytes]) -> AgentExit | None:
    """AgentExit from the words after `x ID`: STATUS SIGNAL OUT ERR."""
    # SIGNAL is `-` when the command was not killed.
    numbers = [-1 if word == b"-" else _as_int(word) for word in words]
    if len(numbers) != 4 or None in numbers:
        return None
    code, signal, out, err = (number for number in numbers if number is not None)
    status = ExitStatus(exit_code=code, signal=None if signal < 0 else signal)
    return AgentExit(status=status, has_output=bool(out or err))


@dataclass(slots=True, eq=False, kw_only=True)
class SshAgent:
    """The agent on one connection. Once it is lost, `launch` raises NodeError and every attempt
    it watched gets None as its end: the caller then polls the attempt's files instead."""

    session: Session
    pending: dict[int, _Pending] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=itertools.count)
    reader: asyncio.Task[None] | None = None
    is_lost: bool = False

    @classmethod
    async def start(cls, pool: NodeConnections, root: str, runs: str) -> SshAgent:
        session = await pool.open_session(agent_line(root, runs), stdin=b"", eof=False)
        agent = cls(session=session)
        agent.reader = asyncio.get_running_loop().create_task(agent._read())
        return agent

    @property
    def is_alive(self) -> bool:
        return not self.is_lost and not self.session.link.is_lost

    async def launch(
        self,
        prefix: str,
        command: str,
        env: Mapping[str, str],
        started: float,
        *,
        reclaim: bool = False,
    ) -> Launched:
        """Start an attempt; return once the agent reports its pid."""
        if not self.is_alive:
            raise NodeError("the agent is gone")
        number = next(self.ids)
        loop = asyncio.get_running_loop()
        pending = _Pending(pid=loop.create_future(), ended=loop.create_future())
        request = launch_request(number, prefix, command, env, started, reclaim=reclaim)
        self.pending[number] = pending
        try:
            self.session.process.stdin.write(request)
        except (BrokenPipeError, OSError, asyncssh.Error) as exc:
            self.pending.pop(number, None)
            raise NodeError(f"the agent is gone: {exc}") from exc
        pid = await asyncio.shield(pending.pid)
        return Launched(pid=pid, ended=pending.ended)

    async def _read(self) -> None:
        stdout = self.session.process.stdout
        try:
            while line := await stdout.readline():
                self._dispatch(line)
        except (asyncssh.Error, OSError, EOFError) as exc:
            logger.info("agent lost: %s", exc)
        finally:
            self._lose()

    def _dispatch(self, line: bytes) -> None:
        reply = parse_reply(line)
        pending = None if reply is None else self.pending.get(reply[1])
        if reply is None or pending is None:
            logger.warning("unexpected agent reply %r", line[:200])
            return
        kind, number, words = reply
        if kind == "p" and words and words[0].isdigit():
            _settle(pending.pid, int(words[0]))
        elif kind == "x":
            del self.pending[number]
            _settle(pending.ended, parse_exit(words))
        else:
            del self.pending[number]
            message = b" ".join(words).decode("utf-8", "replace")
            pending.pid.set_exception(NodeError(f"the agent could not start it: {message}"))

    def _lose(self) -> None:
        self.is_lost = True
        pending, self.pending = self.pending, {}
        for item in pending.values():
            if not item.pid.done():
                item.pid.set_exception(NodeError("the agent was lost before it started it"))
            _settle(item.ended, None)

    async def close(self) -> None:
        """Stop the agent (the attempts it started keep running)."""
        self._lose()
        await self.session.close()
        await tasks.stop(self.reader)


def _as_int(word: bytes) -> int | None:
    return int(word) if word.lstrip(b"-").isdigit() else None


def _settle(future: asyncio.Future[_T], value: _T) -> None:
    if not future.done():
        future.set_result(value)
