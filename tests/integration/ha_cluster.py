"""Several real trond processes on one PostgreSQL database, for failover tests and bench/ha.py.

Each trond has its own working dir (its lock file) and a port; they share the database and
the action output dir (`output_stream_dir`), as the local node needs. Every action appends
its run id to `launches` when its command really starts, so launches per run are counted
from outside the daemons.
"""

from __future__ import annotations

import asyncio
import json
import signal
import textwrap
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.integration.trond_process import TrondProcess
from tron.core.records import JobRun
from tron.store.postgres import PostgresStore


def wait_for(predicate: Callable[[], Any], limit: float, what: str, every: float = 0.05) -> Any:
    """Poll until `predicate` gives something true; its value. Generous limits: no timing."""
    deadline = time.monotonic() + limit
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not in {limit:g} s: {what}")
        time.sleep(every)


class Cluster:
    """`count` trond on `url`; jobs `ha.quick0..N` (exit 0) and `ha.long0..M` (sleep, exit 3);
    `master_extra` is appended to MASTER.yaml (notifications, jobs of its own)."""

    def __init__(
        self,
        root: Path,
        url: str,
        *,
        count: int = 3,
        quick_jobs: int = 5,
        long_jobs: int = 2,
        long_seconds: float = 4,
        lease_seconds: float = 3,
        renew_seconds: float = 1,
        master_extra: str = "",
    ) -> None:
        self.root = root
        self.url = url
        self.shared = root / "shared"
        self.launches = self.shared / "launches"
        self.config_dir = root / "config"
        self.quick = [f"ha.quick{i}" for i in range(quick_jobs)]
        self.long = [f"ha.long{i}" for i in range(long_jobs)]
        self._write_config(long_seconds, lease_seconds, renew_seconds, master_extra)
        self.nodes = [TrondProcess(root / f"trond{i}", self.config_dir) for i in range(count)]
        self.requested: list[tuple[str, str]] = []  # (job, request key) acknowledged

    def _write_config(self, long_seconds: float, lease: float, renew: float, extra: str) -> None:
        (self.shared / "output").mkdir(parents=True, exist_ok=True)
        self.config_dir.mkdir(parents=True, exist_ok=True)
        log = self.launches
        master = f"""\
            state_persistence:
              store_type: postgres
              connection: "{self.url}"
              lease_seconds: {lease}
              renew_seconds: {renew}
            output_stream_dir: "{self.shared / "output"}"
            """
        # Never due in a test's lifetime: runs come from manual starts only.
        head = '    node: localhost\n    schedule: "cron 0 0 1 1 *"\n    actions:\n      a:\n'
        jobs = "jobs:\n"
        for name in self.quick:
            jobs += f'  {name.split(".")[1]}:\n{head}        command: "echo {{runid}} >> {log}"\n'
        for name in self.long:
            command = f"echo {{runid}} >> {log}; sleep {long_seconds}; exit 3"
            jobs += f'  {name.split(".")[1]}:\n{head}        command: "{command}"\n'

        (self.config_dir / "MASTER.yaml").write_text(textwrap.dedent(master) + extra)
        (self.config_dir / "ha.yaml").write_text(jobs)

    # -- processes ------------------------------------------------------------------------

    def start(self) -> None:
        for node in self.nodes:
            node.start(timeout=60)
        self.leader(limit=60)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def status(self, node: TrondProcess) -> dict[str, Any] | None:
        if node.proc is None or node.proc.poll() is not None:
            return None
        try:
            response = httpx.get(f"{node.url}/api/status", timeout=2)
            body: dict[str, Any] = response.json()
            return body
        except (httpx.HTTPError, ValueError):
            return None

    def leader(self, limit: float = 60, besides: TrondProcess | None = None) -> TrondProcess:
        """The one trond that says it leads (waiting for one)."""

        def find() -> TrondProcess | None:
            leaders = [
                n for n in self.nodes
                if n is not besides and (s := self.status(n)) and s.get("role") == "leader"
            ]  # fmt: skip
            return leaders[0] if len(leaders) == 1 else None

        found: TrondProcess = wait_for(find, limit, "one trond leads")
        return found

    def restart(self, node: TrondProcess) -> None:
        node.start(timeout=60)

    # -- load -----------------------------------------------------------------------------

    def start_run(self, job: str, key: str | None = None, limit: float = 60) -> None:
        """Start one run of `job` by request key, on whichever trond leads, retrying the same
        key until a leader acknowledges it (so it runs exactly once)."""
        key = key or uuid.uuid4().hex

        def send() -> bool:
            for node in self.nodes:
                status = self.status(node)
                if not status or status.get("role") != "leader":
                    continue
                try:
                    response = httpx.post(
                        f"{node.url}/api/jobs/{job}",
                        data={"command": "start", "request_id": key},
                        timeout=10,
                    )
                except httpx.HTTPError:
                    continue
                if response.status_code == 200:
                    return True
            return False

        wait_for(send, limit, f"a leader takes the start of {job}", every=0.1)
        self.requested.append((job, key))

    def launch_counts(self) -> Counter[str]:
        if not self.launches.exists():
            return Counter()
        return Counter(line for line in self.launches.read_text().split() if line)

    # -- the database, read from outside --------------------------------------------------

    def runs(self) -> list[JobRun]:
        async def load() -> list[JobRun]:
            store = PostgresStore(self.url)
            await store.open()
            try:
                return await store.load_job_runs()
            finally:
                await store.close()

        return asyncio.run(load())

    def kill9(self, node: TrondProcess) -> None:
        node.kill9()

    def pause(self, node: TrondProcess) -> None:
        assert node.proc is not None
        node.proc.send_signal(signal.SIGSTOP)

    def resume(self, node: TrondProcess) -> None:
        assert node.proc is not None
        node.proc.send_signal(signal.SIGCONT)


def summary(runs: list[JobRun]) -> str:
    return json.dumps(
        {str(r.id): [(a.state.value, a.exit_status) for a in r.action_runs] for r in runs},
        indent=1,
    )
