"""Every job's runs as `/api/runs` pages through them, kept between requests.

Deriving a run's state walks its action runs, and at 10,000 jobs of 100 runs each, deriving
and sorting them all cost seconds a page. Here each job's runs are kept sorted with their
states and windows, and made again only for a job that changed since (the engine counts its
changes in `JobRuntime.version`, as the jobs' JSON cache does), and split by state. A page
then costs two bisections a job (a job whose runs overlap or run now is scanned instead) and
a merge of the jobs' sorted lists up to the page's end.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from tron.core import job_run as jr
from tron.core.records import JobRun
from tron.engine.facade import JobView


@dataclass(frozen=True, slots=True)
class Query:
    since: datetime | None
    until: datetime | None
    state: str  # "" for any
    now: datetime


def newest_first_key(run: JobRun) -> tuple[datetime, str, int]:
    """The order of `/api/runs`: by run_time, then job name and run number (descending)."""
    return run.run_time, run.job_name, run.run_num


@dataclass(frozen=True, slots=True)
class Slice:
    """Runs of one job (all, or those in one state), oldest first, with their windows."""

    runs: list[JobRun]
    states: list[str]
    starts: list[datetime]
    ends: list[datetime | None]  # None: running, its window ends now
    # Starts and ends both ascending, none running: the matches of a window are one range,
    # found by bisection (the usual history: each run starts and ends after the one before).
    sorted_windows: bool

    @classmethod
    def of(cls, runs: list[JobRun], states: list[str]) -> Slice:
        starts: list[datetime] = []
        ends: list[datetime | None] = []
        for run in runs:
            if run.start_time is None:
                starts.append(run.run_time)
                ends.append(run.run_time)
            else:
                starts.append(run.start_time)
                ends.append(run.end_time)
        finished = [end for end in ends if end is not None]
        in_order = len(finished) == len(ends) and _ascending(starts) and _ascending(finished)
        return cls(runs, states, starts, ends, in_order)

    def matching(self, query: Query) -> Sequence[int]:
        """The positions of the runs whose window meets the query's."""
        since, until = query.since, query.until
        if self.sorted_windows:
            ends = cast(list[datetime], self.ends)
            high = len(self.runs) if until is None else bisect.bisect_right(self.starts, until)
            low = 0 if since is None else bisect.bisect_left(ends, since)
            return range(low, max(low, high))
        now = query.now
        found = []
        for i, (start, end) in enumerate(zip(self.starts, self.ends, strict=True)):
            if end is None:
                end = max(now, start)
            if (until is None or start <= until) and (since is None or end >= since):
                found.append(i)
        return found

    def newest_first(self, positions: Sequence[int]) -> Iterator[tuple[JobRun, str]]:
        return ((self.runs[i], self.states[i]) for i in reversed(positions))


def _ascending(values: list[datetime]) -> bool:
    return all(a <= b for a, b in itertools.pairwise(values))


@dataclass(frozen=True, slots=True)
class JobRuns:
    """One job's runs as slices: all of them, and those of each state."""

    job: JobView  # by identity: reconfiguration and a standby's refresh make new objects
    version: int
    all: Slice
    by_state: dict[str, Slice]

    @classmethod
    def of(cls, job: JobView, version: int) -> JobRuns:
        runs = sorted(job.runs.values(), key=newest_first_key)
        states = [jr.job_run_state(run).value for run in runs]
        grouped: dict[str, list[JobRun]] = {}
        for run, state in zip(runs, states, strict=True):
            grouped.setdefault(state, []).append(run)
        by_state = {
            state: Slice.of(group, [state] * len(group)) for state, group in grouped.items()
        }
        return cls(job, version, Slice.of(runs, states), by_state)


class RunIndex:
    """Each job's `JobRuns`, made again when the job changed."""

    def __init__(self) -> None:
        self._jobs: dict[str, JobRuns] = {}

    def of(self, name: str, job: JobView) -> JobRuns:
        entry = self._jobs.get(name)
        if entry is None or entry.job is not job or entry.version != job.version:
            # The version before reading the runs: a change meanwhile shows next time.
            entry = self._jobs[name] = JobRuns.of(job, job.version)
        return entry

    def forget_others(self, jobs: Mapping[str, JobView]) -> None:
        """Drop the jobs no longer configured (then more are kept than there are jobs)."""
        if len(self._jobs) > len(jobs):
            self._jobs = {k: v for k, v in self._jobs.items() if k in jobs}


@dataclass(frozen=True, slots=True)
class Found:
    """A job's runs that match a query."""

    slice: Slice
    positions: Sequence[int]


def matching(entry: JobRuns, query: Query) -> Found | None:
    """The job's runs whose window meets the query's and whose state is its; None if none."""
    chosen = entry.by_state.get(query.state) if query.state else entry.all
    if chosen is None:
        return None
    positions = chosen.matching(query)
    return Found(chosen, positions) if positions else None


def page(found: list[Found], offset: int, limit: int) -> list[tuple[JobRun, str]]:
    """Items offset..offset+limit of the jobs' runs merged newest first."""
    merged: Iterator[tuple[JobRun, str]] = heapq.merge(
        *(f.slice.newest_first(f.positions) for f in found),
        key=lambda item: newest_first_key(item[0]),
        reverse=True,
    )
    # The API bounds offset and limit each to a 64-bit size, not their sum.
    return list(itertools.islice(merged, offset, min(offset + limit, sys.maxsize)))


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
