"""The engine's live view of jobs and their runs: the one place in-memory state is held."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tron.config.model import JobConfig
from tron.core.records import ActionRun, JobRun
from tron.core.run_state import job_run_state
from tron.core.states import ActionRunState
from tron.errors import NotFoundError


@dataclass(slots=True, kw_only=True)
class JobRuntime:
    """A job as the engine runs it: its config, its runtime enabled flag and its runs."""

    config: JobConfig
    enabled: bool
    runs: dict[int, JobRun] = field(default_factory=dict)
    next_run_num: int = 0
    # Bumped on every change the API can show, so it may cache what it renders per job.
    version: int = 0

    def touch(self) -> None:
        self.version += 1

    @property
    def name(self) -> str:
        return self.config.full_name

    def runs_newest_first(self) -> list[JobRun]:
        return sorted(self.runs.values(), key=lambda r: r.run_num, reverse=True)

    def last_success(self) -> datetime | None:
        """The run time of the newest succeeded run (`{last_success#...}`), None if none."""
        for run in self.runs_newest_first():
            if job_run_state(run) is ActionRunState.SUCCEEDED:
                return run.run_time
        return None

    def take_run_num(self) -> int:
        num = max(self.next_run_num, max(self.runs, default=-1) + 1)
        self.next_run_num = num + 1
        return num

    def give_back_run_num(self, num: int) -> None:
        """The run `num` was not created after all: the next one takes its number."""
        if self.next_run_num == num + 1:
            self.next_run_num = num


class JobNotFoundError(NotFoundError):
    def __init__(self, name: str) -> None:
        super().__init__(f"Cannot find child '{name}'")


class JobRunNotFoundError(NotFoundError):
    def __init__(self, job_name: str, ref: str) -> None:
        super().__init__(f"Cannot find job run '{ref}' for 'Job:{job_name}'")


class ActionRunNotFoundError(NotFoundError):
    def __init__(self, run: JobRun, action_name: str) -> None:
        super().__init__(f"Cannot find action '{action_name}' for 'JobRun:{run.id}'")


class Registry:
    """Jobs by full name. Runs are replaced whole (records are immutable).

    `retired` holds jobs removed from the config whose runs may still be running: their
    changes are still recorded, and a job added back under the same name takes them up.
    """

    def __init__(self) -> None:
        self.jobs: dict[str, JobRuntime] = {}
        self.retired: dict[str, JobRuntime] = {}

    def owner(self, job_name: str) -> JobRuntime | None:
        return self.jobs.get(job_name) or self.retired.get(job_name)

    def get_job(self, name: str) -> JobRuntime:
        job = self.jobs.get(name)
        if job is None:
            raise JobNotFoundError(name)
        return job

    def get_run(self, job_name: str, ref: str | int) -> JobRun:
        """A run by number, `HEAD` (newest) or a negative index (-1 = newest)."""
        job = self.get_job(job_name)
        text = str(ref)
        if text.upper() == "HEAD":
            text = "-1"
        try:
            num = int(text)
        except ValueError:
            raise JobRunNotFoundError(job_name, text) from None
        if num < 0:
            newest = job.runs_newest_first()
            if -num > len(newest):
                raise JobRunNotFoundError(job_name, text)
            return newest[-num - 1]
        run = job.runs.get(num)
        if run is None:
            raise JobRunNotFoundError(job_name, text)
        return run

    def get_action_run(self, run: JobRun, action_name: str) -> ActionRun:
        action_run = run.find_action_run(action_name)
        if action_run is None:
            raise ActionRunNotFoundError(run, action_name)
        return action_run

    def put_run(self, run: JobRun) -> None:
        job = self.owner(run.job_name)
        if job is not None:
            job.runs[run.run_num] = run
            job.touch()

    def find(self, run: JobRun) -> JobRun | None:
        """The newest version of `run`, None once it was deleted."""
        job = self.owner(run.job_name)
        return job.runs.get(run.run_num) if job is not None else None

    def current(self, run: JobRun) -> JobRun:
        """The newest version of `run` (it may have changed while we awaited), or `run`
        itself once deleted."""
        return self.find(run) or run
