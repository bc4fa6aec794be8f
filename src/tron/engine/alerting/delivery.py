"""The delivery worker: drains the outbox, oldest first, one notification at a time per job
and channel (so each receiver sees a job's notices in order), with exponential backoff.

A notification is marked delivered only after the receiver accepted it; a crash between the
two sends it again with the same idempotency key, which is how receivers drop the repeat.
Nothing is ever given up: a receiver down for an hour gets everything when it is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from tron.config.notifications import NotificationsConfig
from tron.core.alerts.model import Notification
from tron.core.alerts.rules import retry_delay
from tron.engine.alerting.metrics import AlertMetrics
from tron.engine.alerting.routing import OVERRIDE
from tron.engine.alerting.senders import DeliveryError, Senders
from tron.engine.clock import Clock
from tron.store.alerts_base import AlertStore

logger = logging.getLogger(__name__)
BATCH = 500
PARALLEL = 8


class DeliveryWorker:
    def __init__(
        self,
        *,
        store: AlertStore,
        clock: Clock,
        settings: Callable[[], NotificationsConfig],
        senders: Senders,
        metrics: AlertMetrics,
    ) -> None:
        self._store = store
        self._clock = clock
        self._settings = settings
        self._senders = senders
        self._metrics = metrics
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(PARALLEL)

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled."""
        while True:
            self._wake.clear()
            pending = await self._store.pending_notifications(BATCH)
            await self._count(len(pending))
            heads = _heads(pending)
            now = self._clock.now()
            due = [n for n in heads if n.next_attempt_at is None or n.next_attempt_at <= now]
            if due:
                await asyncio.gather(*(self._deliver(n) for n in due))
                continue
            later = [n.next_attempt_at for n in heads if n.next_attempt_at is not None]
            if later:
                await self._clock.sleep_until(min(later), self._wake)
            else:
                await self._wake.wait()

    async def _deliver(self, notification: Notification) -> None:
        async with self._slots:
            settings = self._settings()
            name = notification.channel.partition(OVERRIDE)[0]
            channel = settings.channels.get(name)
            try:
                if channel is None:
                    raise DeliveryError(f"channel {name} is no longer configured")
                await self._senders.send(channel, notification)
            except (DeliveryError, OSError) as exc:
                attempts = notification.attempts + 1
                wait = retry_delay(attempts, settings.retry_initial, settings.retry_max)
                logger.warning(
                    "notification %s to %s failed (try %d, again in %.0fs): %s",
                    notification.key, notification.channel, attempts, wait.total_seconds(), exc,
                )  # fmt: skip
                self._metrics.failed.labels(channel=name).inc()
                await self._store.mark_failed(
                    notification.seq,
                    attempts=attempts,
                    retry_at=self._clock.now() + wait,
                    error=str(exc)[:500],
                )
                return
            await self._store.mark_delivered(notification.seq, self._clock.now())
            self._metrics.sent.labels(channel=name).inc()

    async def _count(self, pending: int) -> None:
        stats = await self._store.outbox_stats()
        self._metrics.pending.set(stats.pending)
        oldest = stats.oldest_pending_at
        age = (self._clock.now() - oldest).total_seconds() if oldest else 0.0
        self._metrics.outbox_age.set(max(age, 0.0))


def _heads(pending: list[Notification]) -> list[Notification]:
    """The oldest pending notification of each job and channel: only it may be sent."""
    heads: dict[tuple[str, str], Notification] = {}
    for notification in pending:
        heads.setdefault((notification.job, notification.channel), notification)
    return list(heads.values())
