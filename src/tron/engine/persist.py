"""Writes what changed between two versions of a job run, and nothing else."""

from __future__ import annotations

import asyncio

from tron.core.records import JobRun
from tron.store.base import Store


def _header(run: JobRun) -> tuple[object, ...]:
    return (run.run_time, run.manual, run.node, run.start_time, run.end_time)


async def commit_run(store: Store, old: JobRun, new: JobRun) -> None:
    """Make `new` durable given that `old` already is; returns once every write committed."""
    before = {a.action_name: a for a in old.action_runs}
    writes = [
        store.save_action_run(action_run)
        for action_run in new.action_runs
        if before.get(action_run.action_name) != action_run
    ]
    if _header(old) != _header(new):
        writes.append(store.save_job_run(new))
    if writes:
        await asyncio.gather(*writes)
