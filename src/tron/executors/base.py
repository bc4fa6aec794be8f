"""The Executor contract: start an action under the supervisor, watch it, signal it, reattach."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from tron.config.model import NodeConfig
from tron.errors import NodeError

# Exit statuses with a meaning of their own (spec 5.4), shown as text by the CLIs.
EXIT_INVALID_COMMAND = -1
EXIT_NODE_ERROR = -2
EXIT_STOP_KILL = -3
EXIT_TRIGGER_TIMEOUT = -4


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionSpec:
    """What to run: one attempt of one action run.

    `output_dir` is a directory on the daemon's machine, owned by this attempt: the executor
    writes `stdout` and `stderr` there (streamed back from remote nodes) and may keep its
    supervisor records there too. `node` is None for the built-in local node.
    """

    action_run_id: str
    attempt: int
    command: str
    output_dir: Path
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    node: NodeConfig | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Handle:
    """A started attempt, as plain data: the store keeps it so a new daemon can reattach."""

    action_run_id: str
    attempt: int
    node: str | None
    output_dir: str
    pid: int | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def to_record(self) -> dict[str, Any]:
        return {
            "action_run_id": self.action_run_id,
            "attempt": self.attempt,
            "node": self.node,
            "output_dir": self.output_dir,
            "pid": self.pid,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Handle:
        return cls(
            action_run_id=str(record["action_run_id"]),
            attempt=int(record["attempt"]),
            node=record.get("node"),
            output_dir=str(record["output_dir"]),
            pid=record.get("pid"),
            extra=MappingProxyType(dict(record.get("extra") or {})),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ExitStatus:
    """How an attempt ended. `exit_code` is None when it cannot be known (record lost).

    A process killed by signal N reports exit_code 128+N as a shell would, and `signal` N.
    `final` is False when the executor lost sight of a process that may still run (a node
    that stays unreachable): the engine records the action run as `unknown` and calls
    `wait` again, so a later reconnect can still settle it with its real exit status.
    """

    exit_code: int | None
    signal: int | None = None
    reason: str | None = None
    final: bool = True


class AttemptNotStarted(NodeError):
    """From `reattach`: the attempt's supervisor left no record and never will, so its command
    never ran and launching the attempt again runs it once. The executor makes sure of it
    before raising (LocalExecutor claims the attempt's exit record, so that a supervisor still
    on its way starts nothing)."""


class Executor(Protocol):
    """Runs actions on one kind of node. Implementations: LocalExecutor, SshExecutor.

    Every action runs under the POSIX `sh` supervisor, detached from the daemon, so the
    daemon may exit while it runs and a later daemon may `reattach` to it.
    """

    async def start(self, spec: ActionSpec) -> Handle:
        """Launch the attempt and return once its supervisor has recorded the child's pid.

        Raises NodeError when the node cannot be reached or refuses the command.
        """
        ...

    async def wait(self, handle: Handle) -> ExitStatus:
        """Resolve when the attempt ends (immediately if it already has)."""
        ...

    async def signal(self, handle: Handle, signum: int) -> None:
        """Send `signum` to the attempt's whole process group; no error if it has ended."""
        ...

    async def reattach(self, handle: Handle) -> Handle:
        """Pick up an attempt started by an earlier daemon; `wait` then works on it.

        Raises AttemptNotStarted when it provably never started (the SSH executor can tell only
        when the node answers), NodeError when the node cannot say.
        """
        ...

    async def close(self) -> None:
        """Release connections and watchers; running attempts keep running."""
        ...
