"""Start-up (the config read, the stored runs loaded, the first runs made) runs without garbage
collections, which are back after."""

from __future__ import annotations

import gc

from tests.integration.conftest import Harness, write_config
from tron.core.records import JobRun
from tron.store.memory import MemoryStore


class WatchedStore(MemoryStore):
    """Notes whether the collector was on while the runs were loaded."""

    def __init__(self) -> None:
        super().__init__()
        self.collecting: list[bool] = []

    async def load_job_runs(self, job_name: str | None = None) -> list[JobRun]:
        self.collecting.append(gc.isenabled())
        return await super().load_job_runs(job_name)

    async def create_job_run(self, job_run: JobRun, *, slot: str | None = None) -> bool:
        self.collecting.append(gc.isenabled())
        return await super().create_job_run(job_run, slot=slot)


async def test_runs_load_without_collections_and_they_resume(harness: Harness) -> None:
    write_config(
        harness.config_dir,
        """
        jobs:
          j:
            node: localhost
            schedule: "cron 0 4 * * *"
            actions:
              a: {command: "true"}
        """,
    )
    store = WatchedStore()
    assert gc.isenabled()
    async with harness.running(store=store):
        # The stored runs were loaded, then the job's next run was made.
        assert store.collecting == [False, False]
        assert gc.isenabled()
