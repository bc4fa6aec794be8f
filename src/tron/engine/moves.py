"""`tronctl move OLD NEW`: rename a job with its history, as Tron's JobCollection.move does.

Tron's rules: the job must exist, the new name must be free, and the job must not be running
(its scheduled runs move with it and keep their numbers and times). The config is not
changed: the operator renames the job in its namespace next, and that upload updates the
moved job in place (see Reconfigurer). Until then trond runs it under its new name with the
config it had; a restart before the upload brings the old name back from the config, with
no history, and keeps the moved history for when the config names the job.

Order: the store renames first (one transaction, fenced like every leader write), then the
engine follows, so memory never runs ahead of disk.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

from tron.config.naming import namespace_name_problem
from tron.config.values import BadValueError, check_identifier
from tron.core import job_run as jr
from tron.core.records import JobRun
from tron.engine.alerting.evaluator import Evaluator
from tron.engine.events import EventHub
from tron.engine.recovery import Recovery, restore_job
from tron.engine.registry import JobRuntime, Registry
from tron.engine.timers import Timers
from tron.errors import BadRequestError, ConflictError, NotFoundError
from tron.private import make_dir_like_parent
from tron.store.base import Store

logger = logging.getLogger(__name__)


class Mover:
    def __init__(
        self,
        *,
        registry: Registry,
        store: Store,
        timers: Timers,
        recovery: Recovery,
        evaluator: Evaluator,
        events: EventHub,
        output_root: Path,
    ) -> None:
        self._registry = registry
        self._store = store
        self._timers = timers
        self._recovery = recovery
        self._evaluator = evaluator
        self._events = events
        self._output_root = output_root

    async def move(self, old: str, new: str) -> str:
        """Rename job `old` to `new`; Tron's answer. Raises NotFoundError, ConflictError
        (Tron's texts) or BadRequestError for a name no job can have; nothing changes then."""
        job = self._registry.jobs.get(old)
        if job is None:
            raise NotFoundError(f"{old} doesn't exist")
        if new in self._registry.jobs or new in self._registry.retired:
            raise ConflictError(f"{new} exists already")
        if any(_busy(run) for run in job.runs.values()):
            raise ConflictError(f"Moving {old} to {new} failed. Job is still running.")
        namespace, name = _job_name(new)
        # Out of the registry and its timers off before the first await: nothing starts,
        # fires or is commanded under the old name while the store renames.
        del self._registry.jobs[old]
        for run in job.runs.values():
            self._timers.cancel_all(old, run.run_num)
        try:
            await self._evaluator.job_moving(old, new, lambda: self._store.rename_job(old, new))
        except BaseException:
            self._registry.jobs[old] = job
            await self._recovery.recover_job(job, {})  # its pending runs' timers again
            raise
        config = dataclasses.replace(job.config, namespace=namespace, name=name)
        moved = JobRuntime(config=config, enabled=config.enabled)
        restore_job(
            moved,
            (await self._store.load_job_states()).get(new),
            await self._store.load_job_runs(new),
        )
        moved.enabled = job.enabled  # a switch never stored (the config's) moves too
        self._registry.jobs[new] = moved
        self._move_output(old, new)
        await self._recovery.recover_job(moved, {})
        logger.info("moved job %s to %s with %d runs", old, new, len(moved.runs))
        for changed in dict.fromkeys((old.partition(".")[0], namespace)):
            self._events.publish("config", namespace=changed)
        return f"Moving {old} to {new} succeeded."

    def _move_output(self, old: str, new: str) -> None:
        """The runs' output directories follow the job (the API finds them by its name)."""
        source = self._output_root.joinpath(*old.split(".", 1))
        target = self._output_root.joinpath(*new.split(".", 1))
        if not source.is_dir():
            return
        try:
            if not target.parent.exists():
                make_dir_like_parent(target.parent)
            if not target.exists():
                os.rename(source, target)
                return
            for run_dir in source.iterdir():  # output left by an earlier job of that name
                if not (target / run_dir.name).exists():
                    os.rename(run_dir, target / run_dir.name)
        except OSError as exc:
            logger.warning("moved %s to %s, but not all its output: %s", old, new, exc)


def _busy(run: JobRun) -> bool:
    """Started and not over, or an attempt still open: Tron's "still running"."""
    if jr.is_pending(run):
        return False
    return jr.is_active(run) or jr.has_open_attempt(run)


def _job_name(full: str) -> tuple[str, str]:
    """`namespace.job` split; BadRequestError when no config could name a job so."""
    namespace, dot, name = full.partition(".")
    problem = namespace_name_problem(namespace) if dot else "it has no namespace (NS.JOB)"
    if problem is None:
        try:
            check_identifier(name, "new_name")
        except BadValueError as exc:
            problem = str(exc)
    if problem is not None:
        raise BadRequestError(f"{full} cannot name a job: {problem}")
    return namespace, name
