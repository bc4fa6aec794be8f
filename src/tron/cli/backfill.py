"""`tronctl backfill`: one manual run per date, a bounded number at once, then a summary."""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, timedelta
from pprint import pformat

from tron.cli.client import ApiClient, RequestError
from tron.cli.follow import END_STATES
from tron.cli.render import PLAIN, Column, Row, Style, table

MAX_PARALLEL = 10
OK_STATES = frozenset({"succeeded", "cancelled", "skipped"})
_CREATED = re.compile(r"^Created JobRun:([-.\w]+)$")


def date_range(start: date, end: date, *, descending: bool = False) -> list[date]:
    """Every date from `start` to `end` inclusive; empty when `end` is before `start`."""
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return days[::-1] if descending else days


def parse_date_list(text: str) -> list[date]:
    """`-d 2024-01-02,2024-01-01`: the dates in the order given."""
    return [date.fromisoformat(part.strip()) for part in text.split(",") if part.strip()]


def dry_run_text(job: str, dates: Sequence[date]) -> str:
    commands = [f"tronctl start {job} --run-date {day}" for day in dates]
    return "\n".join(
        [
            f"Please run the following {len(dates)} commands:",
            "",
            *commands,
            "",
            "Note that many jobs operate on the previous day's data.",
        ]
    )


def confirmation_text(job: str, dates: Sequence[date]) -> str:
    listing = pformat([str(day) for day in dates])
    return (
        f"To backfill for the job '{job}', a job run will be created for each of the "
        f"following {len(dates)} dates:\n{listing}\n"
    )


@dataclass(slots=True, kw_only=True)
class DateRun:
    """The outcome of one date: the run it created and the state it ended in."""

    day: date
    run_id: str | None = None
    state: str = "unknown"

    @property
    def is_ok(self) -> bool:
        return self.state in OK_STATES


@dataclass(slots=True, kw_only=True)
class Backfill:
    """Runs the dates of one job; `log` prints result lines, `progress` the progress line."""

    client: ApiClient
    job: str
    max_parallel: int = 3
    fail_on_error: bool = False
    poll_interval: float = 10.0
    log: Callable[[str], object] = print
    progress: Callable[[str], object] = lambda line: print(line, file=sys.stderr)
    sleep: Callable[[float], object] = time.sleep
    _stop: threading.Event = field(default_factory=threading.Event)
    _active: dict[date, str] = field(default_factory=dict)

    def start(self, run: DateRun) -> DateRun:
        try:
            body = self.client.command([self.job], "start", run_time=f"{run.day} 00:00:00")
        except RequestError as exc:
            self.log(f"Error: could not start a run for {run.day}: {exc.message}")
            return run
        found = _CREATED.match(str(body.get("result", "")))
        if found is None:
            self.log(f"Warning: could not tell which run was created for {run.day}: {body}")
            return run
        run.run_id = found.group(1)
        self.log(f"Job run '{run.run_id}' for {run.day} created")
        return self.watch(run)

    def watch(self, run: DateRun) -> DateRun:
        assert run.run_id is not None
        self._active[run.day] = run.run_id
        job, _, num = run.run_id.rpartition(".")
        while not self._stop.is_set():
            run.state = str(self.client.job_run(job, num, action_runs=False).get("state"))
            if run.state in END_STATES:
                break
            self.sleep(self.poll_interval)
        self._active.pop(run.day, None)
        self.log(f"Job run '{run.run_id}' for {run.day} finished with state: {run.state}")
        return run

    def cancel_active(self) -> None:
        self._stop.set()
        for run_id in list(self._active.values()):
            job, _, num = run_id.rpartition(".")
            try:
                self.client.command([job, num], "cancel")
            except RequestError as exc:
                self.log(f"Error: could not cancel {run_id}: {exc.message}")

    def report_progress(self, done: Sequence[DateRun], total: int) -> None:
        failed = sum(1 for run in done if not run.is_ok)
        running = len(self._active)
        self.progress(
            f"Backfill progress: {len(done)}/{total} done, {failed} failed, {running} running"
        )

    def run(self, dates: Sequence[date]) -> list[DateRun]:
        """Run every date, at most `max_parallel` at once; stops early on failure if asked."""
        queue = [DateRun(day=day) for day in dates]
        done: list[DateRun] = []
        with ThreadPoolExecutor(max_workers=max(1, self.max_parallel)) as pool:
            pending: set[Future[DateRun]] = set()
            try:
                while queue or pending:
                    while queue and len(pending) < self.max_parallel and not self._stop.is_set():
                        pending.add(pool.submit(self.start, queue.pop(0)))
                    if not pending:
                        break
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    self.collect(finished, done, len(dates))
            except KeyboardInterrupt:
                self.log("Error: SIGINT detected; aborting all in-progress runs and exiting")
                self.cancel_active()
        for run in queue:
            run.state = "not started"
        return done + queue

    def collect(self, finished: set[Future[DateRun]], done: list[DateRun], total: int) -> None:
        for future in finished:
            run = future.result()
            done.append(run)
            if self.fail_on_error and not run.is_ok and not self._stop.is_set():
                self.log(
                    "Error: encountered failing job run; cancelling all in-progress "
                    "runs and exiting."
                )
                self.cancel_active()
        self.report_progress(done, total)


def summary(runs: Sequence[DateRun], style: Style = PLAIN) -> str:
    columns = (
        Column(label="Date", width=15),
        Column(label="Job Run Name", width=60, resizable=True),
        Column(label="Final State", width=15),
    )
    ordered = sorted(runs, key=lambda run: run.day)
    rows = [Row(cells=(run.day, run.run_id or "-", run.state)) for run in ordered]
    text = table("Backfill job runs", columns, rows, style)
    failed = [str(run.day) for run in ordered if not run.is_ok]
    if failed:
        text += f"\n\nDates that did not succeed: {', '.join(failed)}"
    return text
