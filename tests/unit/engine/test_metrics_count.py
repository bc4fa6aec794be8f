"""Metrics.count: the labelled series a launch counts in, looked up once and then reused."""

from __future__ import annotations

from tron.engine.metrics import Metrics


def test_count_adds_to_the_series_of_the_label_values() -> None:
    metrics = Metrics()
    metrics.count(metrics.runs_started, "ns.a")
    metrics.count(metrics.runs_started, "ns.a")
    metrics.count(metrics.runs_started, "ns.b")
    metrics.count(metrics.action_runs_completed, "local", "success", "0")
    sample = metrics.registry.get_sample_value
    assert sample("tron_runs_started_total", {"job": "ns.a"}) == 2
    assert sample("tron_runs_started_total", {"job": "ns.b"}) == 1
    labels = {"executor": "local", "outcome": "success", "exit_status": "0"}
    assert sample("tron_action_runs_completed_total", labels) == 1
