"""Prometheus metrics of alerting, in the daemon's registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class AlertMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.open_alerts = Gauge("tron_alerts_open", "Open alerts, by kind", ["kind"], registry=r)
        self.sent = Counter(
            "tron_notifications_sent", "Notifications delivered", ["channel"], registry=r
        )
        self.failed = Counter(
            "tron_notifications_failed",
            "Delivery tries that failed (each is tried again)",
            ["channel"],
            registry=r,
        )
        self.pending = Gauge(
            "tron_notifications_pending", "Notifications not yet delivered", registry=r
        )
        self.outbox_age = Gauge(
            "tron_outbox_oldest_age_seconds",
            "Age of the oldest undelivered notification",
            registry=r,
        )
        self.heartbeat = Gauge(
            "tron_scheduler_heartbeat_timestamp_seconds",
            "When the scheduler's timers last ran the alert check (Unix time)",
            registry=r,
        )
