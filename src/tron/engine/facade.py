"""What the API may ask of the engine: read views of jobs and runs, operator commands, trigger
events, output, metrics and the event stream. The API sees the engine through this surface
only (an import-linter contract keeps it so): it never holds the registry, the store or the
dispatcher, and never changes engine state but through a command here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from prometheus_client import CollectorRegistry

from tron.config.model import Config, JobConfig
from tron.core.alerts.model import Alert, AuditEntry, Notification
from tron.core.alerts.why import Why
from tron.core.records import ActionRun, JobRun
from tron.engine.alerting.service import AlertService, Health
from tron.engine.commands import Commands
from tron.engine.dispatch import output_dir
from tron.engine.events import EventHub
from tron.engine.grep import FileResult, search
from tron.engine.metrics import Metrics
from tron.engine.nodes import NodeExecutors
from tron.engine.output import read_from, tail_lines
from tron.engine.registry import Registry
from tron.store.alerts_base import OutboxStats
from tron.store.base import ConfigVersion, Store


class JobView(Protocol):
    """A job as the API shows it (read only)."""

    @property
    def config(self) -> JobConfig: ...

    @property
    def enabled(self) -> bool: ...

    @property
    def runs(self) -> Mapping[int, JobRun]: ...

    @property
    def version(self) -> int: ...

    @property
    def name(self) -> str: ...

    def runs_newest_first(self) -> list[JobRun]: ...


class EngineFacade:
    """The Daemon's face to the API; the Daemon builds the parts named here."""

    config: Config
    registry: Registry
    commands: Commands
    store: Store
    nodes: NodeExecutors
    events: EventHub
    metrics: Metrics
    published: set[str]
    default_time_zone: str | None
    alerting: AlertService

    @property
    def output_root(self) -> Any:
        raise NotImplementedError

    def now(self) -> datetime:
        raise NotImplementedError

    # -- reading ---------------------------------------------------------------------------

    def jobs(self) -> Mapping[str, JobView]:
        return MappingProxyType(self.registry.jobs)

    def job(self, name: str) -> JobView:
        """Raises NotFoundError (Tron's words) for an unknown job."""
        return self.registry.get_job(name)

    def run(self, job_name: str, ref: str | int) -> JobRun:
        """A run by number, `HEAD` or a negative index; NotFoundError otherwise."""
        return self.registry.get_run(job_name, ref)

    def action_run(self, run: JobRun, action_name: str) -> ActionRun:
        """The newest version of an action run of `run`; NotFoundError for an unknown one."""
        return self.registry.get_action_run(self.registry.current(run), action_name)

    def node_pool(self, node_or_pool: str) -> tuple[str, ...]:
        return self.nodes.pool(node_or_pool)

    def published_events(self) -> list[str]:
        return sorted(self.published)

    def published_set(self) -> AbstractSet[str]:
        """The published events, read only (no copy: the job list asks once per job)."""
        return self.published

    async def config_versions(self, namespace: str | None) -> list[ConfigVersion]:
        return await self.store.config_versions(namespace)

    def metrics_registry(self) -> CollectorRegistry:
        return self.metrics.registry

    def subscribe(self, after: int) -> AsyncIterator[dict[str, Any]]:
        """State changes with a sequence number above `after`, then live ones."""
        return self.events.subscribe(after)

    # -- output ----------------------------------------------------------------------------

    def output_lines(self, action_run: ActionRun, stream: str, count: int) -> list[str]:
        """The last `count` lines of a stream, across attempts (oldest attempt first)."""
        lines: list[str] = []
        for attempt in action_run.attempts:
            path = output_dir(self.output_root, action_run, attempt.number) / stream
            lines.extend(tail_lines(path, count))
        return lines[-count:] if count > 0 else lines

    def output_from(
        self, action_run: ActionRun, stream: str, offset: int, *, attempt: int | None = None
    ) -> tuple[str, int]:
        return read_from(self._stream_path(action_run, stream, attempt), offset)

    async def grep_output(
        self,
        action_run: ActionRun,
        stream: str,
        pattern: str,
        *,
        attempt: int | None,
        offset: int,
        limit: int,
    ) -> FileResult:
        """Lines of one attempt's stream (the current one by default) matching `pattern`,
        from byte `offset`, bounded in bytes, matches and time (tron.engine.grep)."""
        path = self._stream_path(action_run, stream, attempt)
        [result] = await search(pattern, [(path, offset)], limit=limit, lines=True)
        return result

    def _stream_path(self, action_run: ActionRun, stream: str, attempt: int | None) -> Path:
        """Where an attempt's stream is written: attempt `attempt`, or else the current one."""
        current = action_run.current_attempt
        number = attempt if attempt is not None else (current.number if current else 0)
        return output_dir(self.output_root, action_run, number) / stream

    async def search_outputs(
        self, runs: Sequence[JobRun], pattern: str, limit: int
    ) -> list[tuple[ActionRun, str, FileResult]]:
        """How many lines of each action's stdout and stderr (all attempts) match, per file,
        for `runs` in the order given, within one search's budgets."""
        files: list[tuple[ActionRun, str]] = []
        paths: list[tuple[Path, int]] = []
        for run in runs:
            for action_run in run.action_runs:
                for attempt in action_run.attempts:
                    for stream in ("stdout", "stderr"):
                        files.append((action_run, stream))
                        paths.append(
                            (output_dir(self.output_root, action_run, attempt.number) / stream, 0)
                        )
        results = await search(pattern, paths, limit=limit, lines=False)
        return [(a, stream, r) for (a, stream), r in zip(files, results, strict=True)]

    # -- commands (each returns once its decision is durable) --------------------------------

    async def job_command(self, name: str, command: str, **options: Any) -> str:
        return await self.commands.job(name, command, **options)

    async def job_run_command(self, job_name: str, ref: str, command: str) -> str:
        return await self.commands.job_run(job_name, ref, command)

    async def action_run_command(
        self, job_name: str, ref: str, action_name: str, command: str, **options: Any
    ) -> str:
        return await self.commands.action_run(job_name, ref, action_name, command, **options)

    # -- alerts (the work is in engine/alerting/service.py) ---------------------------

    async def why(self, job_name: str) -> Why:
        return await self.alerting.why(job_name)

    async def alerts(
        self, *, job: str | None = None, open_only: bool = False, limit: int = 100
    ) -> list[Alert]:
        return await self.alerting.alerts(job=job, open_only=open_only, limit=limit)

    async def alert_notifications(
        self, alert_id: str | None = None, limit: int = 100
    ) -> list[Notification]:
        return await self.alerting.notifications(alert_id, limit)

    def silenced_until(self, job_name: str) -> datetime | None:
        return self.alerting.silenced_until(job_name)

    async def outbox_stats(self) -> OutboxStats:
        return await self.alerting.outbox()

    async def acknowledge_alert(self, alert_id: str, who: str) -> Alert:
        return await self.alerting.acknowledge(alert_id, who)

    async def silence_job(self, job_name: str, duration: timedelta | None) -> datetime | None:
        return await self.alerting.silence(job_name, duration)

    async def record_audit(self, entry: AuditEntry) -> AuditEntry:
        return await self.alerting.record(entry)

    async def audit_log(self, target: str | None = None, limit: int = 100) -> list[AuditEntry]:
        return await self.alerting.audit_log(target, limit)

    def health(self) -> Health:
        return self.alerting.health(self.config.notifications.heartbeat_timeout)
