"""The config behind Tron's captured samples, adapted to our local node, and a daemon running it."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from tests.integration.conftest import Harness, write_config

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "api_samples"

MASTER = """
time_zone: UTC
command_context:
  GREETING: hello
jobs:
  master_echo:
    node: localhost
    schedule: "cron 0 4 * * *"
    actions:
      say:
        command: "echo master says {GREETING} run={runid}"
"""

DEMO = """
jobs:
  dag_job:
    node: localhost
    schedule: "cron 0 4 * * *"
    actions:
      extract:
        command: "echo extracting {runid}"
      transform:
        command: "echo transforming {runid} after extract"
        requires: [extract]
      report:
        command: "echo report needs extract only"
        requires: [extract]
      load:
        command: "echo loading; echo loaded"
        requires: [transform, report]
  cleanup_job:
    node: localhost
    schedule: "cron 0 5 * * *"
    actions:
      work:
        command: "echo working in {runid}"
    cleanup_action:
      command: "echo cleaning up {runid}"
  failing_job:
    node: localhost
    schedule: "cron 0 6 * * *"
    actions:
      boom:
        command: "echo about to fail; echo this goes to stderr >&2; exit 3"
      after_boom:
        command: "echo never runs"
        requires: [boom]
  uni_ünïcode_job:
    node: localhost
    schedule: "cron 0 7 * * *"
    actions:
      grüß:
        command: "echo 'héllo wörld ✓ 日本語 🚀'; printf 'ünïcode on stderr\\n' >&2"
"""

UNICODE_JOB = "demo.uni_ünïcode_job"
STARTED = ("MASTER.master_echo", "demo.dag_job", "demo.cleanup_job", UNICODE_JOB)

T = TypeVar("T")


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def demo_harness(root: Path) -> Harness:
    harness = Harness(root)
    write_config(harness.config_dir, MASTER, demo=DEMO)
    return harness


async def start_demo_runs(h: Harness) -> None:
    """Run .1 of every job to its end, as the captures did (failing_job ends failed)."""
    for job in (*STARTED, "demo.failing_job"):
        await h.post(f"/api/jobs/{job}", command="start")
    for job in STARTED:
        await h.wait_run_state(f"{job}.1", "succeeded")
    await h.wait_run_state("demo.failing_job.1", "failed")


def run_in_thread(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine on its own loop in a thread: module-scoped fixtures are synchronous."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(make())  # type: ignore[arg-type]
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value
