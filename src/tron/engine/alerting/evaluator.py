"""The evaluator: applies the core's alert rules to the live jobs and makes the outcome
durable (alerts and their notifications in one write) before the delivery worker sees it.

It is fed two ways, both passed in by the Daemon: `job_changed` (the RunWriter's hook, called
after each durable run change) and a periodic check armed on the Timers, which also catches
conditions that come with time alone (a slot that did not start, a run too long) and stamps
the heartbeat. Evaluations are serialized; the open alerts are read back at start, so a
restart neither re-fires what was sent nor forgets what was due.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from tron.config.model import Config, JobConfig
from tron.core.alerts.model import Alert, AlertKind, Notice, Notification
from tron.core.alerts.rules import Decision, acknowledged, reconcile, repeat_policy
from tron.core.alerts.signals import DAEMON, JobFacts, heartbeat_signal, job_signals
from tron.core.records import JobRun
from tron.engine.alerting.metrics import AlertMetrics
from tron.engine.alerting.routing import Tail, channel_labels, notifications_for, payload
from tron.engine.clock import Clock
from tron.engine.registry import Registry
from tron.engine.timers import TimerKey, TimerKind, Timers
from tron.engine.turns import LoopTurns
from tron.store.alerts_base import AlertStore

logger = logging.getLogger(__name__)
CHECK_KEY = TimerKey(TimerKind.ALERTS, "", 0)
DEFAULT_REALERT_CHECKS = 120  # repeats, when realert_every is unset: every 120 checks (1 h)
# The newest runs are enough for every rule; older ones would only slow the check at 10k jobs.
RECENT_RUNS = 20
PRUNE_EVERY = timedelta(hours=1)


class Evaluator:
    def __init__(
        self,
        *,
        registry: Registry,
        store: AlertStore,
        clock: Clock,
        timers: Timers,
        config: Callable[[], Config],
        tail: Tail | None,
        on_queued: Callable[[], None],
        metrics: AlertMetrics,
    ) -> None:
        self._registry = registry
        self._store = store
        self._clock = clock
        self._timers = timers
        self._config = config
        self._tail = tail
        self._on_queued = on_queued
        self._metrics = metrics
        self._open: dict[str, list[Alert]] = {}
        self._silences: dict[str, datetime] = {}
        self._disabled_since: dict[str, datetime] = {}
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self.last_beat: datetime | None = None
        self._pruned_at: datetime | None = None

    async def start(self) -> None:
        """Read back the open alerts and silences, and arm the first check (now)."""
        for alert in await self._store.load_alerts(open_only=True):
            self._open.setdefault(alert.key.job, []).append(alert)
        self._silences = await self._store.silences()
        self._arm(self._clock.now())

    def job_changed(self, run: JobRun) -> None:
        """The RunWriter's hook: a run of this job changed durably. Cheap and synchronous."""
        self._dirty.add(run.job_name)
        self._wake.set()

    async def follow_changes(self) -> None:
        """Evaluate the jobs whose runs changed, until cancelled."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            names, self._dirty = self._dirty, set()
            await self.evaluate(names)

    def _arm(self, when: datetime) -> None:
        self._timers.set(CHECK_KEY, when, self._check)

    async def _check(self) -> None:
        now = self._clock.now()
        self.last_beat = now
        self._metrics.heartbeat.set(now.timestamp())
        # Armed again first: a failing evaluation must not stop the checks.
        self._arm(now + self._config().notifications.check_every)
        await self.evaluate([*self._registry.jobs, *self._open])
        await self._prune(now)

    async def _prune(self, now: datetime) -> None:
        """Delete old history (resolved alerts, delivered notifications), once an hour."""
        keep = self._config().notifications.keep_history
        if keep is None or (self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY):
            return
        self._pruned_at = now
        pruned = await self._store.prune_history(now - keep)
        if pruned:
            logger.info("pruned %d alerts and notifications older than %s", pruned, keep)

    async def evaluate(self, names: Iterable[str]) -> None:
        async with self._lock:
            now = self._clock.now()
            # Every job, every check: with 10,000 jobs and their history, seconds.
            turns = LoopTurns(asyncio.get_running_loop())
            decisions = []
            for name in dict.fromkeys(names):
                await turns.wait_if_held()
                decisions.append(self._decide(name, now))
            await self._record(decisions, now)

    async def watch_heartbeat(self) -> None:
        """Until cancelled: tell when the daemon itself stops scheduling.

        Its own loop on the clock, not a timer: the heartbeat it watches is stamped by the
        timers' loop, which is what may be stuck. Every `check_every` it looks; once the
        heartbeat is older than `heartbeat_timeout`, the daemon's `not_scheduling` alert
        opens (and repeats) like a job's, through the outbox and the delivery worker, which
        run apart from the timers. The next check that runs resolves it (its job is not in
        the registry, so nothing holds it open). A daemon whose whole event loop is frozen
        tells nothing: that is what `/api/health` and the heartbeat metric are for. A
        daemon that never beat at all (no check since start) is left to those too.
        """
        never = asyncio.Event()
        seen, looks = self.last_beat, 0
        while True:
            settings = self._config().notifications
            await self._clock.sleep_until(self._clock.now() + settings.check_every, never)
            if self.last_beat != seen:
                seen, looks = self.last_beat, 0
                continue
            # Stale by its own looks, not by the clock alone: a clock that jumps (a machine
            # waking from suspend) wakes this loop once, and the check due at that moment
            # beats before the next look.
            looks += 1
            if looks * settings.check_every <= settings.heartbeat_timeout:
                continue
            async with self._lock:
                now = self._clock.now()
                stale = heartbeat_signal(self.last_beat, now, settings.heartbeat_timeout)
                if stale is None:
                    continue
                repeat = repeat_policy(
                    None, settings.check_every, settings.check_every * DEFAULT_REALERT_CHECKS
                )
                open_alerts = self._open.get(DAEMON, [])
                await self._record([reconcile(open_alerts, [stale], now=now, repeat=repeat)], now)

    async def _record(self, decisions: Iterable[Decision], now: datetime) -> None:
        """Make the decisions' alert changes and notices durable together, then follow them."""
        alerts: list[Alert] = []
        queued: list[Notification] = []
        for decision in decisions:
            if decision.changed:
                alerts += decision.changed
                queued += self._route(decision.notices, now)
        if not alerts:
            return
        await self._store.save_alerts(alerts, queued)
        for alert in alerts:
            self._remember(alert)
        self._count()
        if queued:
            self._on_queued()

    def _decide(self, name: str, now: datetime) -> Decision:
        job = self._registry.jobs.get(name)
        config = self._config().notifications
        open_alerts = self._open.get(name, [])
        if job is None:
            signals = []  # removed from the config: its alerts resolve
            realert = None
        else:
            if job.enabled:
                self._disabled_since.pop(name, None)
            else:
                self._disabled_since.setdefault(name, now)
            facts = JobFacts(
                config=job.config,
                enabled=job.enabled,
                runs=job.runs_newest_first()[:RECENT_RUNS],
                disabled_since=self._disabled_since.get(name),
            )
            signals = job_signals(facts, now)
            realert = job.config.alerting.realert_every
        repeat = repeat_policy(
            realert, config.check_every, config.check_every * DEFAULT_REALERT_CHECKS
        )
        silenced = self._silences.get(name) is not None and now < self._silences[name]
        return reconcile(open_alerts, signals, now=now, repeat=repeat, silenced=silenced)

    def _route(self, notices: list[Notice], now: datetime) -> list[Notification]:
        config = self._config()
        queued: list[Notification] = []
        for notice in notices:
            job = self._job_config(config, notice.alert.key.job)
            labels = channel_labels(config.notifications, job, notice.alert)
            if not labels:
                continue
            run = self._run(notice.alert)
            body = payload(
                notice,
                job,
                run,
                web_url=config.notifications.web_url,
                tail=self._tail,
                lines=config.notifications.output_lines,
            )
            queued += notifications_for(notice, labels, body, now)
        return queued

    def _job_config(self, config: Config, name: str) -> JobConfig | None:
        return config.jobs.get(name) if name in self._registry.jobs else None

    def _run(self, alert: Alert) -> JobRun | None:
        job = self._registry.owner(alert.key.job)
        if job is None or alert.run_num is None:
            return None
        return job.runs.get(alert.run_num)

    def _remember(self, alert: Alert) -> None:
        kept = [a for a in self._open.get(alert.key.job, []) if a.id != alert.id]
        if alert.is_open:
            kept.append(alert)
        if kept:
            self._open[alert.key.job] = kept
        else:
            self._open.pop(alert.key.job, None)

    def _count(self) -> None:
        counts = dict.fromkeys(AlertKind, 0)
        for alerts in self._open.values():
            for alert in alerts:
                counts[alert.key.kind] += 1
        for kind, count in counts.items():
            self._metrics.open_alerts.labels(kind=kind.value).set(count)

    # -- operators --------------------------------------------------------------------------

    def open_alerts(self) -> list[Alert]:
        return [alert for alerts in self._open.values() for alert in alerts]

    async def acknowledge(self, alert_id: str, who: str) -> Alert | None:
        """Stop an open alert's repeats; None if no open alert has that id."""
        async with self._lock:
            found = next((a for a in self.open_alerts() if a.id == alert_id), None)
            if found is None:
                return None
            acked = acknowledged(found, who=who, now=self._clock.now())
            await self._store.save_alerts([acked])
            self._remember(acked)
            return acked

    async def silence(self, job: str, until: datetime | None) -> None:
        async with self._lock:
            await self._store.set_silence(job, until)
            if until is None:
                self._silences.pop(job, None)
            else:
                self._silences[job] = until
        self._dirty.add(job)
        self._wake.set()

    async def job_moving(self, old: str, new: str, move: Callable[[], Awaitable[None]]) -> None:
        """Run `move` (the store's rename of the job `old`) between two evaluations, then
        follow the job's open alerts, silence and disabled time under its new name."""
        async with self._lock:
            await move()
            self._open.pop(old, None)
            moved = await self._store.load_alerts(job=new, open_only=True)
            if moved:
                self._open[new] = moved
            for held in (self._silences, self._disabled_since):
                held.pop(new, None)
                if old in held:
                    held[new] = held.pop(old)

    def show_silences(self, silences: dict[str, datetime]) -> None:
        """Hold the silences as stored, for a standby: it never starts evaluating, so this
        is how `silenced_until` answers there."""
        self._silences = dict(silences)

    def silenced_until(self, job: str) -> datetime | None:
        until = self._silences.get(job)
        return until if until is not None and until > self._clock.now() else None

    def disabled_since(self, job: str) -> datetime | None:
        return self._disabled_since.get(job)
