"""MemoryStore: the Store contract kept in dicts, for tests and throwaway daemons."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from tron.core.records import ActionRun, JobRun
from tron.errors import ConflictError, NotFoundError
from tron.store.alerts_memory import MemoryAlerts
from tron.store.base import ConfigVersion, JobState, Transition
from tron.store.common import Now, bumped_run_num, make_transition, system_now, transition_key
from tron.store.renames import name_taken, renamed_action_run, renamed_run

RunKey = tuple[str, int]


class MemoryStore(MemoryAlerts):
    """Everything in process memory; forgotten on exit. Behaves like SqliteStore otherwise.

    Records are immutable, so they are kept as given rather than copied.
    """

    def __init__(self, *, now: Now = system_now) -> None:
        super().__init__()
        self._now = now
        self._versions: list[ConfigVersion] = []
        self._job_states: dict[str, JobState] = {}
        self._runs: dict[RunKey, JobRun] = {}
        self._slots: dict[RunKey, str] = {}
        self._slot_owners: dict[tuple[str, str], RunKey] = {}
        self._action_runs: dict[RunKey, dict[str, ActionRun]] = {}
        self._transitions: dict[str, list[Transition]] = {}
        self._handles: dict[str, dict[str, Any]] = {}
        self._events: dict[str, None] = {}

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def save_config_version(self, namespace: str, text: str, hash: str) -> ConfigVersion:
        previous = [v.version for v in self._versions if v.namespace == namespace]
        version = ConfigVersion(
            version=max(previous, default=0) + 1,
            namespace=namespace,
            text=text,
            hash=hash,
            saved_at=self._now(),
        )
        self._versions.append(version)
        return version

    async def config_versions(self, namespace: str | None = None) -> list[ConfigVersion]:
        return [v for v in self._versions if namespace is None or v.namespace == namespace]

    async def load_job_states(self) -> dict[str, JobState]:
        return dict(self._job_states)

    async def set_job_enabled(self, job_name: str, enabled: bool | None) -> None:
        state = self._job_states.get(job_name, JobState(job_name=job_name))
        self._job_states[job_name] = dataclasses.replace(state, enabled=enabled)

    async def create_job_run(self, job_run: JobRun, *, slot: str | None = None) -> bool:
        key = (job_run.job_name, job_run.run_num)
        if slot is not None and (job_run.job_name, slot) in self._slot_owners:
            return False
        if key in self._runs:
            raise ConflictError(f"job run {job_run.id} already exists")
        self._runs[key] = dataclasses.replace(job_run, action_runs=())
        if slot is not None:
            self._slots[key] = slot
            self._slot_owners[(job_run.job_name, slot)] = key
        self._action_runs[key] = {}
        for action_run in job_run.action_runs:
            self._put_action_run(action_run, reason=None)
        self._bump_run_num(job_run)
        return True

    async def save_job_run(self, job_run: JobRun) -> None:
        key = (job_run.job_name, job_run.run_num)
        if key not in self._runs:
            raise NotFoundError(f"job run {job_run.id} not found")
        self._runs[key] = dataclasses.replace(job_run, action_runs=())

    async def save_action_run(self, action_run: ActionRun, *, reason: str | None = None) -> None:
        if (action_run.job_name, action_run.run_num) not in self._runs:
            raise NotFoundError(f"job run {action_run.id.job_run_id} not found")
        self._put_action_run(action_run, reason=reason)

    async def save_run_changes(
        self,
        job_run: JobRun,
        action_runs: Sequence[ActionRun],
        *,
        header: bool,
        handle: tuple[str, dict[str, Any]] | None = None,
        events: Sequence[str] = (),
    ) -> None:
        # Checked before anything changes, so a refused change changes nothing.
        if (job_run.job_name, job_run.run_num) not in self._runs:
            raise NotFoundError(f"job run {job_run.id} not found")
        if header:
            self._runs[(job_run.job_name, job_run.run_num)] = dataclasses.replace(
                job_run, action_runs=()
            )
        for action_run in action_runs:
            self._put_action_run(action_run, reason=None)
        if handle is not None:
            self._handles[handle[0]] = dict(handle[1])
        for event_id in events:
            self._events.setdefault(event_id, None)

    async def save_handle(self, action_run_id: str, handle: dict[str, Any] | None) -> None:
        if handle is None:
            self._handles.pop(action_run_id, None)
        else:
            self._handles[action_run_id] = dict(handle)

    async def load_handles(self) -> dict[str, dict[str, Any]]:
        return {k: dict(v) for k, v in self._handles.items()}

    async def load_job_runs(self, job_name: str | None = None) -> list[JobRun]:
        keys = sorted(k for k in self._runs if job_name is None or k[0] == job_name)
        return [self._assemble(k) for k in keys]

    async def transitions(self, action_run_id: str) -> list[Transition]:
        return list(self._transitions.get(action_run_id, ()))

    async def delete_job_run(self, job_name: str, run_num: int) -> None:
        key = (job_name, run_num)
        for action_run in self._action_runs.pop(key, {}).values():
            self._transitions.pop(str(action_run.id), None)
            self._handles.pop(str(action_run.id), None)
        self._runs.pop(key, None)
        slot = self._slots.pop(key, None)
        if slot is not None:
            del self._slot_owners[(job_name, slot)]

    async def rename_job(self, old: str, new: str) -> None:
        if any(job == new for job, _ in self._runs):
            raise name_taken(new)
        for key in sorted(k for k in self._runs if k[0] == old):
            new_key = (new, key[1])
            self._runs[new_key] = renamed_run(self._runs.pop(key), new)
            renamed = {}
            for name, action_run in self._action_runs.pop(key).items():
                was, moved = str(action_run.id), renamed_action_run(action_run, new)
                renamed[name] = moved
                log = self._transitions.pop(was, [])
                self._transitions[str(moved.id)] = [
                    dataclasses.replace(t, action_run_id=str(moved.id)) for t in log
                ]
                if was in self._handles:
                    self._handles[str(moved.id)] = self._handles.pop(was)
            self._action_runs[new_key] = renamed
            slot = self._slots.pop(key, None)
            if slot is not None:
                del self._slot_owners[(old, slot)]
                self._slots[new_key] = slot
                self._slot_owners[(new, slot)] = new_key
        self._job_states.pop(new, None)
        if old in self._job_states:
            state = self._job_states.pop(old)
            self._job_states[new] = dataclasses.replace(state, job_name=new)
        self.rename_alerts(old, new)

    async def add_event(self, event_id: str) -> bool:
        if event_id in self._events:
            return False
        self._events[event_id] = None
        return True

    async def delete_event(self, event_id: str) -> bool:
        if event_id not in self._events:
            return False
        del self._events[event_id]
        return True

    async def events(self) -> list[str]:
        return list(self._events)

    def _bump_run_num(self, job_run: JobRun) -> None:
        state = self._job_states.get(job_run.job_name, JobState(job_name=job_run.job_name))
        next_num = bumped_run_num(state.next_run_num, job_run.run_num)
        self._job_states[job_run.job_name] = dataclasses.replace(state, next_run_num=next_num)

    def _put_action_run(self, action_run: ActionRun, *, reason: str | None) -> None:
        runs = self._action_runs[(action_run.job_name, action_run.run_num)]
        stored = runs.get(action_run.action_name)
        runs[action_run.action_name] = action_run
        if stored is None or transition_key(stored) != transition_key(action_run):
            log = self._transitions.setdefault(str(action_run.id), [])
            log.append(make_transition(action_run, seq=len(log) + 1, at=self._now(), reason=reason))

    def _assemble(self, key: RunKey) -> JobRun:
        action_runs = tuple(self._action_runs[key].values())
        return dataclasses.replace(self._runs[key], action_runs=action_runs)
