"""Every error tron raises on purpose, in families the API maps to HTTP statuses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class TronError(Exception):
    """Base of every error tron raises deliberately."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a config: where it is and what is wrong."""

    file: str
    line: int
    key_path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.key_path}: {self.message}"


class ConfigError(TronError):
    """A config was rejected; `problems` lists every problem found, in file order."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid config")


class ScheduleError(TronError, ValueError):
    """A schedule string or mapping cannot be parsed or can never fire."""


class ContextError(TronError, ValueError):
    """A command cannot be rendered: an unknown variable or a malformed template."""

    def __init__(self, message: str, *, variable: str | None = None) -> None:
        self.variable = variable
        super().__init__(message)


class NotFoundError(TronError):
    """A job, job run, action run or namespace does not exist."""


class ConflictError(TronError):
    """The request is valid but cannot apply to the object in its current state."""


class InvalidTransitionError(ConflictError):
    """An action run cannot take this event in its current state."""

    def __init__(self, state: str, event: str) -> None:
        self.state = state
        self.event = event
        super().__init__(f"cannot {event} from state {state}")


class CommandRefusedError(ConflictError):
    """A command that does not apply to the object now, which Tron answers with 200 and a
    `result` text (so its CLI exits 0); our API adds `"refused": true` beside the text."""


class BadRequestError(TronError):
    """A request is malformed: a missing or invalid parameter."""


class NodeError(TronError):
    """A node could not be reached or refused to run an action."""


class StoreError(TronError):
    """The state store failed to read or write."""


class UnknownCommandError(TronError):
    """A command that does not apply to this kind of object (Tron answers 501)."""

    def __init__(self, command: str, target: str, hint: str = "") -> None:
        super().__init__(f"Unknown command '{command}' for '{target}'{hint}")


class StaleConfigError(ConflictError):
    """The config changed since the client read it (its hash is stale)."""

    def __init__(self) -> None:
        super().__init__("Configuration has changed. Please try again.")
