"""Run ids: `ns.job.N` for job runs and `ns.job.N.action` for action runs (spec 6)."""

from __future__ import annotations

from dataclasses import dataclass

from tron.errors import BadRequestError


@dataclass(frozen=True, slots=True)
class JobRunId:
    job_name: str
    run_num: int

    def __str__(self) -> str:
        return f"{self.job_name}.{self.run_num}"

    @classmethod
    def parse(cls, text: str) -> JobRunId:
        """Parse `ns.job.N`; raises BadRequestError when it is not of that form."""
        parts = text.split(".")
        if len(parts) != 3 or not parts[2].isdigit():
            raise BadRequestError(f"not a job run id: {text}")
        return cls(f"{parts[0]}.{parts[1]}", int(parts[2]))


@dataclass(frozen=True, slots=True)
class ActionRunId:
    job_name: str
    run_num: int
    action_name: str

    @property
    def job_run_id(self) -> JobRunId:
        return JobRunId(self.job_name, self.run_num)

    def __str__(self) -> str:
        return f"{self.job_name}.{self.run_num}.{self.action_name}"

    @classmethod
    def parse(cls, text: str) -> ActionRunId:
        """Parse `ns.job.N.action`; raises BadRequestError when it is not of that form."""
        parts = text.split(".")
        if len(parts) != 4 or not parts[2].isdigit():
            raise BadRequestError(f"not an action run id: {text}")
        return cls(f"{parts[0]}.{parts[1]}", int(parts[2]), parts[3])
