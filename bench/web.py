"""Web UI at scale (issue 16): the jobs list and a job's grid in headless Chromium, against a
trond whose SQLite store holds 10,000 jobs and about 1,000,000 action runs.

    python bench/web.py [--jobs 10000] [--runs 99] [--grid-runs 1000] [--repeat 3]

The store is seeded directly (rows built with the store's own encoders, one transaction), so
seeding takes a minute, not a day of running jobs. Goals (not asserted anywhere): the jobs
list interactive in under 1 s, the grid of a job with 1,000 runs drawn in under 500 ms.
Each figure is the median of --repeat tries; ratios are against an empty page (the
not-found page: the bundle loaded and run, no data fetched) measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.integration.trond_process import free_port
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS

from tron.core.records import ActionRun, Attempt, JobRun
from tron.core.states import ActionRunState
from tron.store.rows import action_run_rows, run_columns

NAMESPACES = 10
NEVER = "cron 0 0 1 1 *"
GRID_JOB = "wide.grid"
GRID_ACTIONS = ("extract", "transform", "load", "report")
START = datetime(2026, 1, 1, tzinfo=UTC)


def write_config(config: Path, jobs: int, runs: int, grid_runs: int) -> None:
    config.mkdir(parents=True)
    (config / "MASTER.yaml").write_text("time_zone: UTC\njobs: {}\n")
    per_ns = jobs // NAMESPACES
    for ns in range(NAMESPACES):
        lines = ["jobs:"]
        for i in range(per_ns):
            lines += [
                f"  job_{i:05d}:",
                "    node: localhost",
                f'    schedule: "{NEVER}"',
                f"    run_limit: {runs + 10}",
                "    actions:",
                '      work: {command: "true"}',
            ]
        (config / f"bench{ns}.yaml").write_text("\n".join(lines) + "\n")
    actions = "\n".join(f'      {a}: {{command: "true"}}' for a in GRID_ACTIONS)
    (config / "wide.yaml").write_text(
        f'jobs:\n  grid:\n    node: localhost\n    schedule: "{NEVER}"\n'
        f"    run_limit: {grid_runs + 10}\n    expected_runtime: 50s\n    actions:\n{actions}\n"
    )


def job_names(jobs: int) -> list[str]:
    per_ns = jobs // NAMESPACES
    return [f"bench{ns}.job_{i:05d}" for ns in range(NAMESPACES) for i in range(per_ns)]


def finished_action(job: str, num: int, action: str, start: datetime, seconds: int) -> ActionRun:
    failed = (num * 7 + len(job)) % 13 == 0
    end = start + timedelta(seconds=seconds)
    return ActionRun(
        job_name=job,
        run_num=num,
        action_name=action,
        state=ActionRunState.FAILED if failed else ActionRunState.SUCCEEDED,
        node="localhost",
        raw_command="true",
        original_command="true",
        command="true",
        attempts=(
            Attempt(number=1, command="true", node="localhost", start_time=start,
                    end_time=end, exit_status=1 if failed else 0),
        ),
        start_time=start,
        end_time=end,
        exit_status=1 if failed else 0,
    )  # fmt: skip


def finished_run(job: str, num: int, actions: tuple[str, ...]) -> JobRun:
    start = START + timedelta(hours=num)
    action_runs = tuple(
        finished_action(job, num, a, start + timedelta(seconds=60 * i), 30 + (num * 11 + i) % 40)
        for i, a in enumerate(actions)
    )
    return JobRun(
        job_name=job,
        run_num=num,
        run_time=start,
        manual=False,
        node="localhost",
        action_runs=action_runs,
        start_time=start,
        end_time=action_runs[-1].end_time,
    )


def seed(database: Path, jobs: int, runs: int, grid_runs: int) -> int:
    """Past runs numbered from 1 for every job; returns how many action runs were written."""
    plan = [(name, runs, ("work",)) for name in job_names(jobs)]
    plan.append((GRID_JOB, grid_runs, GRID_ACTIONS))
    written = 0
    conn = sqlite3.connect(database)
    with conn:
        for job, count, actions in plan:
            made = [finished_run(job, num, actions) for num in range(1, count + 1)]
            conn.executemany(
                "INSERT INTO job_runs (job_name, run_num, run_time, manual, node, start_time,"
                " end_time, record, slot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                [(r.job_name, r.run_num, *run_columns(r)) for r in made],
            )
            rows = [row for r in made for row in action_run_rows(r.action_runs)]
            conn.executemany(
                "INSERT INTO action_runs (job_name, run_num, action_name, position, state,"
                " attempt_count, exit_status, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            # The scheduled run trond made at its first start is number 0; new ones follow.
            conn.execute(
                "INSERT INTO job_state (job_name, next_run_num) VALUES (?, ?) ON CONFLICT"
                " (job_name) DO UPDATE SET next_run_num = excluded.next_run_num",
                (job, count + 1),
            )
            written += len(rows)
    conn.close()
    return written


@contextmanager
def trond(root: Path) -> Iterator[str]:
    with trond_process(root) as (url, _pid):
        yield url


@contextmanager
def trond_process(root: Path) -> Iterator[tuple[str, int]]:
    """A trond on `root`, once its API answers: its URL and process id."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "tron", "--working-dir", str(root / "work")]
    command += ["--config-path", str(root / "config"), "--port", str(port)]
    with (root / "trond.log").open("ab") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=log, env={**os.environ, "TZ": "UTC"})
    try:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/api/status", timeout=5).is_success:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError((root / "trond.log").read_text()[-3000:])
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(120)


def median_ms(tries: list[float]) -> float:
    return statistics.median(tries)


def page_load(page: Page, url: str, ready: str) -> float:
    """Milliseconds from navigation start until `ready` (a JS condition) holds."""
    page.goto("about:blank")
    page.goto(url)
    page.wait_for_function(ready, timeout=120_000, polling="raf")
    return float(page.evaluate("performance.now()"))


def hash_change(page: Page, target: str, ready: str) -> float:
    """Milliseconds from a route change in the loaded app until `ready` holds."""
    script = f"() => {{ const t0 = performance.now(); location.hash = {target!r}; return t0; }}"
    began = float(page.evaluate(script))
    page.wait_for_function(ready, timeout=120_000, polling="raf")
    return float(page.evaluate("performance.now()")) - began


def api_ms(url: str, path: str, **params: Any) -> tuple[float, int]:
    began = time.perf_counter()
    response = httpx.get(f"{url}{path}", params=params, timeout=120)
    response.raise_for_status()
    return (time.perf_counter() - began) * 1000, len(response.content)


def measure(label: str, repeat: int, once: Callable[[], float]) -> float:
    once()  # a warm-up: caches (the browser's, trond's) as an operator's second visit finds them
    tries = [once() for _ in range(repeat)]
    figure = median_ms(tries)
    print(f"  {label:<52} {figure:6.0f} ms   (tries: {', '.join(f'{t:.0f}' for t in tries)})")
    return figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=99, help="past runs per job")
    parser.add_argument("--grid-runs", type=int, default=1000, choices=[100, 500, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="tron-bench-web-", dir=args.dir))
    write_config(root / "config", args.jobs, args.runs, args.grid_runs)

    began = time.perf_counter()
    with trond(root):
        pass  # the first start makes the store and each job's scheduled run
    database = next((root / "work").glob("*.sqlite"), None) or next((root / "work").glob("*.db"))
    written = seed(database, args.jobs, args.runs, args.grid_runs)
    took = time.perf_counter() - began
    print(f"seeded {args.jobs + 1} jobs, {written:,} action runs in {took:.0f} s")

    began = time.perf_counter()
    with trond(root) as url:
        print(f"trond start-up with that store: {time.perf_counter() - began:.1f} s")
        print("API (the first request, then a second: trond caches idle jobs' JSON):")
        for path, params in [
            ("/api/jobs", {"include_job_runs": 0, "include_action_graph": 0}),
            ("/api/recent", {"num_runs": 10}),
            ("/api/grid", {"job": GRID_JOB, "num_runs": args.grid_runs}),
            ("/api", {}),  # quick find's index of names
            ("/api/runs", {"since": "2026-01-01", "limit": 1000}),  # a timeline page
        ]:
            first, size = api_ms(url, path, **params)
            second, _ = api_ms(url, path, **params)
            print(f"  GET {path:<14} {first:6.0f} ms, then {second:6.0f} ms  {size / 1e6:6.2f} MB")
        browse(url, args)


def browse(url: str, args: argparse.Namespace) -> None:
    total = args.jobs + 1
    jobs_ready = (
        f"document.querySelector('.count')?.textContent === '{total} of {total} jobs'"
        " && document.querySelectorAll('.vrow .strip .tick').length > 0"
    )
    grid_ready = f"Number(document.querySelector('.glance-grid')?.dataset.runs) >= {args.grid_runs}"
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        print("Browser (headless Chromium, median of tries):")
        empty = "document.querySelector('.not-found') !== null"
        base = measure(
            "baseline: empty page (not-found route)",
            args.repeat,
            lambda: page_load(page, f"{url}/web/#/nowhere", empty),
        )
        jobs = measure(
            f"jobs list of {total} jobs interactive (page load)",
            args.repeat,
            lambda: page_load(page, f"{url}/web/#/jobs", jobs_ready),
        )
        count = "document.querySelector('.count').textContent"
        filtered = f"{count} === '{NAMESPACES} of {total} jobs'"

        def filter_once() -> float:
            page.goto(f"{url}/web/#/jobs")
            page.wait_for_function(jobs_ready, timeout=120_000)
            began = float(page.evaluate("performance.now()"))
            page.fill("[data-filter]", "job_00001")
            page.wait_for_function(filtered, polling="raf")
            return float(page.evaluate("performance.now()")) - began

        typed = measure("  then a filter keystroke answered", args.repeat, filter_once)
        grid_url = f"{url}/web/#/grid/{GRID_JOB}?runs={args.grid_runs}"
        grid = measure(
            f"grid of a job with {args.grid_runs} runs (page load)",
            args.repeat,
            lambda: page_load(page, grid_url, grid_ready),
        )

        def grid_warm() -> float:
            page.goto(f"{url}/web/#/jobs")
            page.wait_for_function(jobs_ready, timeout=120_000)
            return hash_change(page, f"#/grid/{GRID_JOB}?runs={args.grid_runs}", grid_ready)

        warm = measure("  the same from the jobs list (route change)", args.repeat, grid_warm)
        drawn = "document.querySelector('.region.chart')?.childElementCount > 0"
        measure(
            "timeline, auto window (reads /api/runs)",
            args.repeat,
            lambda: page_load(page, f"{url}/web/#/timeline", drawn),
        )
        browser.close()
    print("Against the goals and the baseline:")
    print(f"  jobs list {jobs:.0f} ms (goal < 1000 ms; {jobs / base:.1f}x the empty page)")
    print(f"  a filter keystroke {typed:.0f} ms")
    print(f"  grid {grid:.0f} ms on a page load ({grid / base:.1f}x the empty page), {warm:.0f} ms")
    print("  from the loaded app (goal < 500 ms)")


if __name__ == "__main__":
    main()
