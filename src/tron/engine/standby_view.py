"""A standby's copy of the stored runs, patched with the changes it reads from the database
(so a refresh costs what changed, not the whole history)."""

from __future__ import annotations

from collections.abc import Iterable

from tron.core.records import JobRun
from tron.store.lease import RunChanges


class StoredRuns:
    """Every stored run by job and run number, as of the last changes applied."""

    def __init__(self) -> None:
        self._runs: dict[str, dict[int, JobRun]] = {}

    def apply(self, changes: RunChanges) -> None:
        """Deletions first: a run both deleted and written since the mark and still listed
        in `changes.runs` exists now (the runs are as of the changes' snapshot)."""
        if changes.full:
            self._runs.clear()
        for job_name, run_num in changes.deleted:
            self._runs.get(job_name, {}).pop(run_num, None)
        for run in changes.runs:
            self._runs.setdefault(run.job_name, {})[run.run_num] = run

    def of(self, job_name: str) -> Iterable[JobRun]:
        """The job's runs, oldest first."""
        runs = self._runs.get(job_name, {})
        return [runs[num] for num in sorted(runs)]
