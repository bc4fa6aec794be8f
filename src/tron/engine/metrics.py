"""Prometheus metrics of one daemon, in its own registry (no module-level singletons)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENESS_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_DURATION_BUCKETS = (1, 2.5, 5, 10, 15, 30, 45, 60, 90, 120, 180, 240, 300, 600, 900, 1200)


class Metrics:
    """Counters by job, scheduler lateness, executor errors, and Tron's own metric names."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # Labelled series by (metric, label values): `labels()` checks and hashes its keywords
        # at every call, five times per launched action. Series are never removed.
        self._series: dict[tuple[int, tuple[str, ...]], Counter] = {}
        r = self.registry
        self.job_count = Gauge("tron_job_count", "Jobs in the config", registry=r)
        self.leader = Gauge(
            "tron_leader", "1 while this trond leads (holds the lease), 0 as a standby", registry=r
        )
        self.leader.set(1)  # a trond on its own store always leads
        self.action_count = Gauge("tron_action_count", "Actions in the config", registry=r)
        self.job_runs_created = Counter("tron_job_runs_created", "Job runs built", registry=r)
        self.job_runs_completed = Counter(
            "tron_job_runs_completed", "Job runs finished", ["outcome"], registry=r
        )
        self.action_runs_created = Counter(
            "tron_action_runs_created", "Action runs submitted", ["executor"], registry=r
        )
        self.action_runs_completed = Counter(
            "tron_action_runs_completed",
            "Action runs finished",
            ["executor", "outcome", "exit_status"],
            registry=r,
        )
        self.runs_started = Counter(
            "tron_runs_started", "Job runs started, by job", ["job"], registry=r
        )
        self.runs_succeeded = Counter(
            "tron_runs_succeeded", "Job runs succeeded, by job", ["job"], registry=r
        )
        self.runs_failed = Counter(
            "tron_runs_failed", "Job runs failed, by job", ["job"], registry=r
        )
        self.lateness = Histogram(
            "tron_scheduler_lateness_seconds",
            "Start time minus scheduled time of scheduled runs",
            buckets=_LATENESS_BUCKETS,
            registry=r,
        )
        self.action_runs_late = Counter(
            "tron_action_runs_late",
            "Action runs still running past their expected_runtime",
            ["job"],
            registry=r,
        )
        self.executor_errors = Counter(
            "tron_executor_errors", "Actions the executor failed to start", ["node"], registry=r
        )
        self.timer_failures = Counter(
            "tron_timer_failures",
            "Timer callbacks that failed and were tried again later",
            ["kind"],
            registry=r,
        )
        self.startup_duration = Histogram(
            "tron_startup_duration_seconds", "Start-up time", buckets=_DURATION_BUCKETS, registry=r
        )
        self.last_startup_duration = Gauge(
            "tron_last_startup_duration_seconds", "Last start-up time", registry=r
        )
        self.restore_duration = Histogram(
            "tron_restore_duration_seconds", "Recovery time", buckets=_DURATION_BUCKETS, registry=r
        )
        self.last_restore_duration = Gauge(
            "tron_last_restore_duration_seconds", "Last recovery time", registry=r
        )

    def count(self, counter: Counter, *values: str) -> None:
        """Add one to the series of `counter` with label `values` (in the labels' order)."""
        key = (id(counter), values)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = counter.labels(*values)
        series.inc()
