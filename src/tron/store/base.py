"""The Store contract: the durable record of config versions, job state, runs and events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from tron.core.records import ActionRun, JobRun
from tron.store.alerts_base import AlertStore


@dataclass(frozen=True, slots=True, kw_only=True)
class JobState:
    """What the store remembers of a job besides its runs."""

    job_name: str
    enabled: bool | None = None
    next_run_num: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigVersion:
    version: int
    namespace: str
    text: str
    hash: str
    saved_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """One recorded change of an action run's state, in order."""

    action_run_id: str
    seq: int
    state: str
    at: datetime
    exit_status: int | None = None
    node: str | None = None
    reason: str | None = None


class Store(AlertStore, Protocol):
    """Durable state, alerts included. Every `save_*`/`create_*` returns only once the write
    is durable, so the engine never acts on something a crash could forget. Implementations:
    MemoryStore, SqliteStore and PostgresStore; one contract suite tests them all.
    """

    async def open(self) -> None:
        """Create or migrate the schema. Raises StoreError if the store is unusable."""
        ...

    async def close(self) -> None: ...

    async def save_config_version(self, namespace: str, text: str, hash: str) -> ConfigVersion: ...

    async def config_versions(self, namespace: str | None = None) -> list[ConfigVersion]:
        """Every saved version, oldest first (of one namespace, or all)."""
        ...

    async def load_job_states(self) -> dict[str, JobState]: ...

    async def set_job_enabled(self, job_name: str, enabled: bool | None) -> None:
        """Remember the job's runtime enabled flag; None forgets it (the config decides)."""
        ...

    async def create_job_run(self, job_run: JobRun, *, slot: str | None = None) -> bool:
        """Record a new job run and its action runs, and take its run number.

        `slot` names the launch it stands for (a scheduled time, or a manual request key):
        if that slot of the job was already taken, nothing is written and False is returned.
        That is how a scheduled run is created exactly once across crashes and restarts.
        """
        ...

    async def save_job_run(self, job_run: JobRun) -> None:
        """Update the run's header fields (start/end time, node); action runs are separate."""
        ...

    async def save_action_run(self, action_run: ActionRun, *, reason: str | None = None) -> None:
        """Update an action run; a state change also appends a Transition."""
        ...

    async def save_run_changes(
        self,
        job_run: JobRun,
        action_runs: Sequence[ActionRun],
        *,
        header: bool,
        handle: tuple[str, dict[str, Any]] | None = None,
        events: Sequence[str] = (),
    ) -> None:
        """One change of a job run, all or nothing: the run's header fields when `header`,
        the given action runs (as `save_action_run`), a handle (as `save_handle`) and the
        trigger events the change publishes (as `add_event`)."""
        ...

    async def save_handle(self, action_run_id: str, handle: dict[str, Any] | None) -> None:
        """Remember (or forget, with None) how to reattach to a running attempt."""
        ...

    async def load_handles(self) -> dict[str, dict[str, Any]]: ...

    async def load_job_runs(self, job_name: str | None = None) -> list[JobRun]:
        """Every retained run (of one job, or all), oldest first, with their action runs."""
        ...

    async def transitions(self, action_run_id: str) -> list[Transition]: ...

    async def delete_job_run(self, job_name: str, run_num: int) -> None: ...

    async def rename_job(self, old: str, new: str) -> None:
        """Move everything recorded under job `old` to `new`, all or nothing (see
        store/renames.py for what moves). Raises ConflictError, changing nothing, when runs
        are already recorded under `new`."""
        ...

    async def add_event(self, event_id: str) -> bool:
        """Store a trigger event; False if it was already there."""
        ...

    async def delete_event(self, event_id: str) -> bool: ...

    async def events(self) -> list[str]: ...
