"""Take over a Yelp Tron working dir: its job states, run history and published events
become ours, once, into an empty store. Tron's files are only read (a user can go back).

Entry points: `import_working_dir` (trond's first start over a Tron working dir, and
`trond migrate-state --from-tron DIR`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from tron.config.model import Config, StatePersistence
from tron.core.job_run import slot_name
from tron.core.records import JobRun
from tron.store.base import Store
from tron.store.tron_import import convert
from tron.store.tron_import.source import TronFiles, read_events, read_state, state_path

__all__ = ["ImportSummary", "import_working_dir", "is_empty", "tron_state_file"]

logger = logging.getLogger(__name__)

TRON_STORE_TYPES = frozenset({"shelve", "yaml"})


@dataclass(frozen=True, slots=True)
class ImportSummary:
    source: Path
    jobs: int
    runs: int
    action_runs: int
    events: int

    def __str__(self) -> str:
        return (
            f"imported Tron's state from {self.source}: {self.jobs} jobs, {self.runs} runs,"
            f" {self.action_runs} action runs, {self.events} events"
        )


def tron_state_file(persistence: StatePersistence, working_dir: Path) -> Path | None:
    """Tron's state file of this working dir, if the config names one and it is there."""
    if persistence.store_type not in TRON_STORE_TYPES:
        return None
    path = state_path(working_dir, persistence.name)
    return path if path.is_file() else None


async def is_empty(store: Store) -> bool:
    """Nothing imported or run yet: no job state, no run, no event."""
    return not (
        await store.load_job_states() or await store.load_job_runs() or await store.events()
    )


async def import_working_dir(
    store: Store, working_dir: Path, persistence: StatePersistence, config: Config | None
) -> ImportSummary | None:
    """Import Tron's state of `working_dir` into `store` (open) if the store is empty and
    Tron's state file is there; None when there was nothing to do. Raises StoreError when
    Tron's state cannot be read (the store is then left as it was)."""
    path = tron_state_file(persistence, working_dir)
    if path is None:
        return None
    if not await is_empty(store):
        logger.debug("the store already holds state: Tron's %s is not imported again", path)
        return None
    # A subprocess and file reads: off the event loop.
    files = await asyncio.to_thread(_read_all, path, persistence.store_type, working_dir)
    summary = await _write(store, files, config, path)
    logger.info("%s", summary)
    return summary


def _read_all(path: Path, store_type: str, working_dir: Path) -> TronFiles:
    files = read_state(path, store_type)
    files.events = read_events(working_dir)
    return files


async def _write(
    store: Store, files: TronFiles, config: Config | None, path: Path
) -> ImportSummary:
    # Everything is converted before the first write: a file that cannot be read leaves the
    # store empty, and the next start tries again.
    events = set(files.events)
    jobs = {name: convert.job_state(name, value) for name, value in files.jobs.items()}
    runs = sorted(
        (convert.job_run(value, config, events) for value in files.runs),
        key=lambda r: (r.job_name, r.run_num),
    )
    for run in runs:
        await store.create_job_run(run, slot=_slot(run, config))
    for job in jobs.values():
        await store.set_job_enabled(job.name, job.enabled)
    for event in files.events:
        await store.add_event(event)
    return ImportSummary(
        source=path,
        jobs=len(jobs),
        runs=len(runs),
        action_runs=sum(len(r.action_runs) for r in runs),
        events=len(files.events),
    )


def _slot(run: JobRun, config: Config | None) -> str | None:
    """A scheduled run takes its slot as our scheduler names it, so it is not made twice."""
    if run.manual:
        return None
    job = config.jobs.get(run.job_name) if config else None
    if job is None:
        stamp: str = run.run_time.isoformat()
        return stamp
    return slot_name(job, run.run_time, run.node)
