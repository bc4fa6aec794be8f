"""The one ordered path for every change to a job run: the core decides, the store makes it
durable, then memory and the event stream learn of it.

Changes to one run are serialized (one writer per run), so a decision is always made on the
version of the run that is on disk, and memory never runs ahead of disk: when the store
refuses a change, memory keeps the version before it and the caller sees the error.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from tron.core import job_run as jr
from tron.core.effects import Effect, PublishTrigger
from tron.core.records import ActionRun, JobRun
from tron.engine.events import EventHub
from tron.engine.keyed_locks import KeyedLocks
from tron.engine.registry import Registry
from tron.store.base import Store

Decision = Callable[[JobRun], tuple[JobRun, Sequence[Effect]]]
# Told of each run change once it is durable (the alert evaluator); must not block.
ChangeHook = Callable[[JobRun], None]
RunKey = tuple[str, int]


def changed_action_runs(old: JobRun, new: JobRun) -> list[ActionRun]:
    """Action runs of `new` that are not `old`'s. Unchanged records are the same objects
    (changes go through `replace`), so identity decides it in O(n), not a deep compare."""
    if len(old.action_runs) == len(new.action_runs):
        return [b for a, b in zip(old.action_runs, new.action_runs, strict=True) if a is not b]
    before = {a.action_name: a for a in old.action_runs}
    return [a for a in new.action_runs if before.get(a.action_name) is not a]


def _header(run: JobRun) -> tuple[object, ...]:
    return (run.run_time, run.manual, run.node, run.start_time, run.end_time)


class RunWriter:
    """Serializes, persists and announces the changes of job runs."""

    def __init__(
        self,
        *,
        registry: Registry,
        store: Store,
        events: EventHub,
        on_change: ChangeHook | None = None,
    ) -> None:
        self._registry = registry
        self._store = store
        self._events = events
        self._on_change = on_change
        self._locks: KeyedLocks[RunKey] = KeyedLocks()

    @contextlib.asynccontextmanager
    async def holding(self, run: JobRun) -> AsyncIterator[None]:
        """Hold `run`'s writer lock (for changes that are not a core decision: deletion)."""
        async with self._locks.holding((run.job_name, run.run_num)):
            yield

    async def change(
        self,
        run: JobRun,
        decide: Decision,
        *,
        handle: tuple[str, dict[str, Any]] | None = None,
    ) -> tuple[JobRun, list[Effect]]:
        """Decide on the newest version of `run`, make the result durable, then publish it.

        Returns the new version and the effects the caller must carry out. A run no longer
        in the registry (deleted meanwhile) is left alone.
        """
        async with self.holding(run):
            current = self._registry.find(run)
            if current is None:
                return run, []
            new, effects = decide(current)
            if new is current and handle is None:
                return current, list(effects)
            actions = changed_action_runs(current, new)
            # Events the change publishes land with it: a crash cannot keep the one without
            # the other (an action recorded succeeded whose downstream never hears of it).
            events = [e.event_id for e in effects if isinstance(e, PublishTrigger)]
            await self._store.save_run_changes(
                new,
                actions,
                header=_header(current) != _header(new),
                handle=handle,
                events=events,
            )
            self._registry.put_run(new)
            self._announce(current, new, actions)
            if self._on_change is not None:
                self._on_change(new)
            return new, list(effects)

    def _announce(self, old: JobRun, new: JobRun, changed: list[ActionRun]) -> None:
        before = {a.action_name: a.state for a in old.action_runs}
        for action_run in changed:
            if before.get(action_run.action_name) != action_run.state:
                self._events.publish(
                    "action_run", id=str(action_run.id), state=action_run.state.value
                )
        old_state, new_state = jr.job_run_state(old), jr.job_run_state(new)
        if old_state != new_state:
            self._events.publish("job_run", id=str(new.id), state=new_state.value)
