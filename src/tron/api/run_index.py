"""Every job's runs as `/api/runs` pages through them, kept between requests.

Deriving a run's state walks its action runs, and at 10,000 jobs of 100 runs each, deriving
and sorting them all cost seconds a page. Here each job's runs are kept sorted newest first
with their states, and made again only for a job that changed since (the engine counts its
changes in `JobRuntime.version`, as the jobs' JSON cache does). A page then costs a pass of
comparisons over the runs and a merge of the jobs' sorted lists up to the page's end.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from tron.core import job_run as jr
from tron.core.records import JobRun
from tron.engine.facade import JobView


@dataclass(frozen=True, slots=True)
class JobRuns:
    """One job's runs, newest first (run_time, then run number, descending), and states."""

    job: JobView  # by identity: reconfiguration and a standby's refresh make new objects
    version: int
    runs: tuple[JobRun, ...]
    states: tuple[str, ...]


def newest_first_key(run: JobRun) -> tuple[datetime, str, int]:
    """The order of `/api/runs`: by run_time, then job name and run number (descending)."""
    return run.run_time, run.job_name, run.run_num


def window(run: JobRun, now: datetime) -> tuple[datetime, datetime]:
    """A run's window: start_time..end_time once started (..now while running), else its
    run_time alone."""
    if run.start_time is None:
        return run.run_time, run.run_time
    return run.start_time, run.end_time or max(now, run.start_time)


class RunIndex:
    """Each job's `JobRuns`, made again when the job changed."""

    def __init__(self) -> None:
        self._jobs: dict[str, JobRuns] = {}

    def of(self, name: str, job: JobView) -> JobRuns:
        entry = self._jobs.get(name)
        if entry is None or entry.job is not job or entry.version != job.version:
            version = job.version  # before reading the runs: a change meanwhile shows next time
            runs = sorted(job.runs.values(), key=newest_first_key, reverse=True)
            states = tuple(jr.job_run_state(run).value for run in runs)
            entry = self._jobs[name] = JobRuns(job, version, tuple(runs), states)
        return entry

    def forget_others(self, jobs: Mapping[str, JobView]) -> None:
        """Drop the jobs no longer configured (then more are kept than there are jobs)."""
        if len(self._jobs) > len(jobs):
            self._jobs = {k: v for k, v in self._jobs.items() if k in jobs}


@dataclass(frozen=True, slots=True)
class Query:
    since: datetime | None
    until: datetime | None
    state: str  # "" for any
    now: datetime


def matching(entry: JobRuns, query: Query) -> list[tuple[JobRun, str]]:
    """The job's runs (newest first) whose window meets the query's and whose state is its."""
    pairs: Iterable[tuple[JobRun, str]] = zip(entry.runs, entry.states, strict=True)
    if query.state:
        pairs = ((run, state) for run, state in pairs if state == query.state)
    if query.since is None and query.until is None:
        return list(pairs)
    meets = _meets(query)
    return [(run, state) for run, state in pairs if meets(run)]


def _meets(query: Query) -> Callable[[JobRun], bool]:
    since, until, now = query.since, query.until, query.now

    def meets(run: JobRun) -> bool:
        start, end = window(run, now)
        return not ((until is not None and start > until) or (since is not None and end < since))

    return meets


def page(
    found: list[list[tuple[JobRun, str]]], offset: int, limit: int
) -> list[tuple[JobRun, str]]:
    """Items offset..offset+limit of the jobs' lists merged newest first (each list is)."""
    merged: Iterator[tuple[JobRun, str]] = heapq.merge(
        *found, key=lambda item: newest_first_key(item[0]), reverse=True
    )
    return list(itertools.islice(merged, offset, offset + limit))


def select(jobs: Mapping[str, JobView], job_name: str, namespace: str) -> list[tuple[str, JobView]]:
    """The jobs a query names: one job, one namespace's, or all."""
    if job_name:
        job = jobs.get(job_name)
        if job is None or (namespace and job.config.namespace != namespace):
            return []
        return [(job_name, job)]
    if namespace:
        return [(name, job) for name, job in jobs.items() if job.config.namespace == namespace]
    return list(jobs.items())
