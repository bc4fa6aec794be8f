"""The action graph of a job: topological order, requires and dependants, ready actions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from tron.config.model import JobConfig
from tron.core.states import COMPLETE_STATES, ActionRunState

_NOT_STARTED = frozenset({ActionRunState.SCHEDULED, ActionRunState.QUEUED, ActionRunState.WAITING})


@dataclass(frozen=True, slots=True)
class ActionGraph:
    """Regular actions with their `requires`, plus the cleanup action (never required).

    Assumes an acyclic graph (config validation rejects cycles with `find_cycle`); actions
    caught in a cycle anyway come last in `order`, in their given order.
    """

    _requires: Mapping[str, tuple[str, ...]]
    cleanup: str | None = None

    @classmethod
    def from_job(cls, job: JobConfig) -> ActionGraph:
        cleanup = job.cleanup_action.name if job.cleanup_action else None
        return cls.from_requires({a.name: a.requires for a in job.actions.values()}, cleanup)

    @classmethod
    def from_requires(
        cls, requires: Mapping[str, Sequence[str]], cleanup: str | None = None
    ) -> ActionGraph:
        frozen = {name: tuple(reqs) for name, reqs in requires.items()}
        return cls(MappingProxyType(frozen), cleanup)

    @property
    def names(self) -> tuple[str, ...]:
        """Regular action names in their given order."""
        return tuple(self._requires)

    @property
    def order(self) -> tuple[str, ...]:
        """Regular actions in topological order (ties keep the given order), cleanup last."""
        done: list[str] = []
        pending = list(self._requires)
        while pending:
            ready = [n for n in pending if all(r in done for r in self._known(n))]
            if not ready:
                break
            done.extend(ready)
            pending = [n for n in pending if n not in ready]
        cleanup = (self.cleanup,) if self.cleanup else ()
        return (*done, *pending, *cleanup)

    def requires(self, name: str) -> tuple[str, ...]:
        return self._requires.get(name, ())

    def dependants(self, name: str) -> tuple[str, ...]:
        """Actions that require `name` directly, in the given order."""
        return tuple(n for n, reqs in self._requires.items() if name in reqs)

    def ready(self, states: Mapping[str, ActionRunState]) -> tuple[str, ...]:
        """Regular actions not yet started whose requires are all complete (succeeded/skipped)."""
        return tuple(
            name
            for name in self.order
            if name != self.cleanup
            and states.get(name) in _NOT_STARTED
            and all(states.get(r) in COMPLETE_STATES for r in self.requires(name))
        )

    def _known(self, name: str) -> tuple[str, ...]:
        return tuple(r for r in self._requires[name] if r in self._requires)


def find_cycle(requires: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A cycle in `requires` as a closed path (`['a', 'b', 'a']`: a requires b requires a).

    Returns None when the graph is acyclic. Names not in the mapping are ignored (checked
    elsewhere). Deterministic: the first cycle found walking names in mapping order.
    """
    finished: set[str] = set()
    for start in requires:
        cycle = _walk(start, requires, [], finished)
        if cycle:
            return cycle
    return None


def _walk(
    name: str, requires: Mapping[str, Sequence[str]], path: list[str], finished: set[str]
) -> list[str] | None:
    if name in path:
        return [*path[path.index(name) :], name]
    if name in finished or name not in requires:
        return None
    path.append(name)
    for required in requires[name]:
        cycle = _walk(required, requires, path, finished)
        if cycle:
            return cycle
    path.pop()
    finished.add(name)
    return None
