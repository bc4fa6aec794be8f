"""What operators ask of alerting, behind the Daemon's facade: alerts, acknowledgements,
silences, the audit log, "why is this job not running?" and the scheduler's health."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tron.core.alerts.model import Alert, AuditEntry, Notification
from tron.core.alerts.signals import JobFacts, heartbeat_signal
from tron.core.alerts.why import Why, explain
from tron.engine.alerting.evaluator import Evaluator
from tron.engine.clock import Clock
from tron.engine.registry import JobNotFoundError, Registry
from tron.errors import NotFoundError
from tron.store.alerts_base import AlertStore, OutboxStats


@dataclass(frozen=True, slots=True, kw_only=True)
class Health:
    scheduling: bool
    last_beat: datetime | None
    reason: str | None


class AlertNotFoundError(NotFoundError):
    def __init__(self, alert_id: str) -> None:
        super().__init__(f"no open alert {alert_id}")


class AlertService:
    def __init__(
        self,
        *,
        registry: Registry,
        store: AlertStore,
        evaluator: Evaluator,
        clock: Clock,
    ) -> None:
        self._registry = registry
        self._store = store
        self._evaluator = evaluator
        self._clock = clock

    async def alerts(
        self, *, job: str | None = None, open_only: bool = False, limit: int = 100
    ) -> list[Alert]:
        return await self._store.load_alerts(job=job, open_only=open_only, limit=limit)

    async def notifications(self, alert_id: str | None, limit: int = 100) -> list[Notification]:
        return await self._store.notifications(alert_id=alert_id, limit=limit)

    async def outbox(self) -> OutboxStats:
        return await self._store.outbox_stats()

    async def acknowledge(self, alert_id: str, who: str) -> Alert:
        acked = await self._evaluator.acknowledge(alert_id, who)
        if acked is None:
            raise AlertNotFoundError(alert_id)
        return acked

    async def silence(self, job: str, duration: timedelta | None) -> datetime | None:
        """Silence `job` for `duration` (None or zero: lift the silence); the end, if any."""
        self._registry.get_job(job)  # JobNotFoundError for an unknown job
        until = self._clock.now() + duration if duration else None
        await self._evaluator.silence(job, until)
        return until

    async def why(self, job_name: str) -> Why:
        job = self._registry.jobs.get(job_name)
        if job is None:
            raise JobNotFoundError(job_name)
        disabled_by: str | None = None
        since = self._evaluator.disabled_since(job_name)
        if not job.enabled:
            for entry in await self._store.audit_log(target=job_name, limit=50):
                if entry.command == "disable" and entry.target == job_name and entry.ok:
                    disabled_by, since = entry.who, entry.at
                    break
        facts = JobFacts(
            config=job.config,
            enabled=job.enabled,
            runs=list(job.runs.values()),
            disabled_since=since,
        )
        return explain(facts, self._clock.now(), disabled_by=disabled_by)

    async def record(self, entry: AuditEntry) -> AuditEntry:
        return await self._store.add_audit(entry)

    async def audit_log(self, target: str | None = None, limit: int = 100) -> list[AuditEntry]:
        return await self._store.audit_log(target=target, limit=limit)

    def silenced_until(self, job: str) -> datetime | None:
        return self._evaluator.silenced_until(job)

    def health(self, limit: timedelta) -> Health:
        last = self._evaluator.last_beat
        stale = heartbeat_signal(last, self._clock.now(), limit)
        return Health(
            scheduling=last is not None and stale is None,
            last_beat=last,
            reason=stale.reason if stale else (None if last else "no check has run yet"),
        )
