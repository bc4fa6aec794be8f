"""Prometheus /metrics moves when jobs run; /api/stream sends the state changes of a run."""

from __future__ import annotations

import json
import textwrap
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.api_demo import MASTER, demo_harness, start_demo_runs
from tests.integration.conftest import START, Harness, wait_until, write_config
from tests.integration.trond_process import TrondProcess, free_port

DEAD_NODE = f"""
time_zone: UTC
ssh_options:
  agent: false
  connect_timeout: 1
nodes:
  - name: dead
    hostname: 127.0.0.1
    port: {free_port()}
jobs:
  unreachable:
    node: dead
    schedule: "cron 0 4 * * *"
    actions:
      never: {{command: "echo never"}}
"""


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def scrape(h: Harness) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    assert h.client is not None
    response = await h.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


def by_job(name: str, job: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return (name, frozenset({("job", job)}))


async def _has(h: Harness, key: tuple[str, frozenset[tuple[str, str]]]) -> bool:
    return key in await scrape(h)


async def test_run_counters_move_by_job_when_jobs_run(tmp_path: Path) -> None:
    async with demo_harness(tmp_path).running() as h:
        before = await scrape(h)
        assert by_job("tron_runs_started_total", "demo.dag_job") not in before
        await start_demo_runs(h)
        failed = by_job("tron_runs_failed_total", "demo.failing_job")
        # The run shows `failed` a moment before its end is counted.
        await wait_until(lambda: _has(h, failed))
        after = await scrape(h)
    assert after[failed] == 1
    assert after[by_job("tron_runs_started_total", "demo.dag_job")] == 1
    assert after[by_job("tron_runs_succeeded_total", "demo.dag_job")] == 1
    assert by_job("tron_runs_failed_total", "demo.dag_job") not in after
    assert after[("tron_job_runs_completed_total", frozenset({("outcome", "success")}))] == 4


async def test_lateness_histogram_counts_scheduled_runs(tmp_path: Path) -> None:
    async with demo_harness(tmp_path).running() as h:
        count: tuple[str, frozenset[tuple[str, str]]] = (
            "tron_scheduler_lateness_seconds_count",
            frozenset(),
        )
        assert (await scrape(h))[count] == 0
        assert h.daemon is not None
        clock = h.clock
        await clock.set(START.replace(hour=0) + timedelta(days=1, hours=4, seconds=1))
        await h.wait_run_state("demo.dag_job.0", "succeeded")
        after = await scrape(h)
    assert after[count] >= 2  # MASTER.master_echo and demo.dag_job were due at 04:00
    within_5s = ("tron_scheduler_lateness_seconds_bucket", frozenset({("le", "5.0")}))
    assert after[within_5s] == after[count]


async def test_executor_errors_count_actions_a_node_could_not_start(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    write_config(h.config_dir, DEAD_NODE)
    async with h.running():
        await h.post("/api/jobs/MASTER.unreachable", command="start")
        errors = ("tron_executor_errors_total", frozenset({("node", "dead")}))
        await wait_until(lambda: _has(h, errors), limit=20)
        after = await scrape(h)
    assert after[errors] >= 1


async def test_tron_metrics_json_keeps_trons_five_lists(tmp_path: Path) -> None:
    async with demo_harness(tmp_path).running() as h:
        body = await h.get("/api/metrics")
    assert set(body) == {"counter", "gauge", "histogram", "meter", "timer"}
    assert all(isinstance(v, list) for v in body.values())
    assert all("name" in entry for entries in body.values() for entry in entries)


@pytest.fixture
def trond(tmp_path: Path) -> Iterator[TrondProcess]:
    config = tmp_path / "config"
    config.mkdir()
    (config / "MASTER.yaml").write_text(textwrap.dedent(MASTER), encoding="utf-8")
    process = TrondProcess(tmp_path / "work", config)
    process.start()
    yield process
    process.stop()


def read_events(
    url: str, until: str, seen: list[dict[str, Any]], ready: threading.Event, after: int = 0
) -> None:
    """Collect events until a job run reaches `until`."""
    headers = {"Last-Event-ID": str(after)} if after else {}
    with httpx.stream("GET", f"{url}/api/stream", headers=headers, timeout=20) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        ready.set()
        for line in response.iter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line.removeprefix("data: ")))
                if seen[-1]["type"] == "job_run" and seen[-1]["state"] == until:
                    return


@pytest.mark.slow
async def test_stream_sends_job_run_and_action_run_events_of_a_manual_start(
    trond: TrondProcess,
) -> None:
    seen: list[dict[str, Any]] = []
    ready = threading.Event()
    reader = threading.Thread(target=read_events, args=(trond.url, "succeeded", seen, ready))
    reader.start()
    await wait_until(ready.is_set)
    trond.post("/api/jobs/MASTER.master_echo", command="start")
    reader.join(20)
    assert not reader.is_alive()
    mine = [e for e in seen if e["id"].startswith("MASTER.master_echo.1")]
    assert [e["state"] for e in mine if e["type"] == "action_run"][-3:] == [
        "starting",
        "running",
        "succeeded",
    ]
    assert [e["state"] for e in mine if e["type"] == "job_run"][-1] == "succeeded"
    assert all(isinstance(e["id"], str) for e in seen)


@pytest.mark.slow
async def test_stream_resumes_after_last_event_id(trond: TrondProcess) -> None:
    trond.post("/api/jobs/MASTER.master_echo", command="start")
    first: list[dict[str, Any]] = []
    read_events(trond.url, "succeeded", first, threading.Event())
    last = max(e["seq"] for e in first)
    trond.post("/api/jobs/MASTER.master_echo", command="start")
    again: list[dict[str, Any]] = []
    read_events(trond.url, "succeeded", again, threading.Event(), after=last)
    assert min(e["seq"] for e in again) == last + 1
    assert {e["id"] for e in again if e["type"] == "job_run"} == {"MASTER.master_echo.2"}
