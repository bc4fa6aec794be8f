"""Writes what changed between two versions of a job run, and nothing else."""

from __future__ import annotations

import asyncio

from tron.core.records import ActionRun, JobRun
from tron.store.base import Store


def _header(run: JobRun) -> tuple[object, ...]:
    return (run.run_time, run.manual, run.node, run.start_time, run.end_time)


def changed_action_runs(old: JobRun, new: JobRun) -> list[ActionRun]:
    """Action runs of `new` that are not `old`'s. Unchanged records are the same objects
    (changes go through `replace`), so identity decides it in O(n), not a deep compare."""
    if len(old.action_runs) == len(new.action_runs):
        return [b for a, b in zip(old.action_runs, new.action_runs, strict=True) if a is not b]
    before = {a.action_name: a for a in old.action_runs}
    return [a for a in new.action_runs if before.get(a.action_name) is not a]


async def commit_run(store: Store, old: JobRun, new: JobRun) -> None:
    """Make `new` durable given that `old` already is; returns once every write committed."""
    writes = [store.save_action_run(a) for a in changed_action_runs(old, new)]
    if _header(old) != _header(new):
        writes.append(store.save_job_run(new))
    if writes:
        await asyncio.gather(*writes)
