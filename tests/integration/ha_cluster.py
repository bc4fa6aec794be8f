"""Several real trond processes on one PostgreSQL database, for failover tests and bench/ha.py.

Each trond has its own working dir (its lock file) and a port; they share the database and
the action output dir (`output_stream_dir`), as the local node needs. Every action appends
its run id to `launches` when its command really starts, so launches per run are counted
from outside the daemons; a long action appends it to `ends` too, just before it exits (after
`long_seconds`, or with `long_seconds=None` once the test calls `release(run_id)`).
With an `SshKit`, the long actions run on its sshd nodes (the supervisor's records there are
what a new leader reattaches to) and so do all the others; `due_jobs` jobs fall due every
minute.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.integration.trond_process import TrondProcess
from tests.sshd import SshKit
from tron.core import job_run as jr
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
    """`count` trond on `url`; jobs `ha.quick0..N` (exit 0) and `ha.long0..M` (wait, exit 3)
    started by hand, `ha.due0..K` (exit 0) due every minute; `master_extra` is appended to
    MASTER.yaml (notifications, jobs of its own)."""

    def __init__(
        self,
        root: Path,
        url: str,
        *,
        count: int = 3,
        quick_jobs: int = 5,
        long_jobs: int = 2,
        long_seconds: float | None = 4,
        lease_seconds: float = 3,
        renew_seconds: float = 1,
        master_extra: str = "",
        ssh_kit: SshKit | None = None,
        due_jobs: int = 0,
    ) -> None:
        self.root = root
        self.url = url
        self.shared = root / "shared"
        self.launches = self.shared / "launches"
        self.ends = self.shared / "ends"
        self.releases = self.shared / "release"
        self.config_dir = root / "config"
        self.quick = [f"ha.quick{i}" for i in range(quick_jobs)]
        self.long = [f"ha.long{i}" for i in range(long_jobs)]
        self.due = [f"ha.due{i}" for i in range(due_jobs)]
        self.ssh_kit = ssh_kit
        self._write_config(long_seconds, lease_seconds, renew_seconds, master_extra)
        self.nodes = [TrondProcess(root / f"trond{i}", self.config_dir) for i in range(count)]
        self.requested: list[tuple[str, str]] = []  # (job, request key) acknowledged

    def _write_config(
        self, long_seconds: float | None, lease: float, renew: float, extra: str
    ) -> None:
        (self.shared / "output").mkdir(parents=True, exist_ok=True)
        self.releases.mkdir(parents=True, exist_ok=True)
        self.config_dir.mkdir(parents=True, exist_ok=True)
        log, ends = self.launches, self.ends
        master = f"""\
            state_persistence:
              store_type: postgres
              connection: "{self.url}"
              lease_seconds: {lease}
              renew_seconds: {renew}
            output_stream_dir: "{self.shared / "output"}"
            """
        master = textwrap.dedent(master)
        if self.ssh_kit is not None:
            master += self.ssh_kit.master_yaml()
        # Without SSH nodes, the implicit `localhost` is the built-in local node; with them,
        # only they are nodes.
        nodes = [s.name for s in self.ssh_kit.servers] if self.ssh_kit else ["localhost"]
        jobs = "jobs:\n"
        quick = f"echo {{runid}} >> {log}"
        wait = f"sleep {long_seconds}"
        if long_seconds is None:  # the nodes are on this host: they see the release files
            wait = f"until [ -e {self.releases}/{{runid}} ]; do sleep 0.2; done"
        long = f"echo {{runid}} >> {log}; {wait}; echo {{runid}} >> {ends}; exit 3"
        # Quick and long jobs are never due in a test's lifetime: started by hand only.
        for i, name in enumerate(self.quick):
            jobs += _job(name, nodes[i % len(nodes)], "cron 0 0 1 1 *", quick)
        for i, name in enumerate(self.long):
            jobs += _job(name, nodes[i % len(nodes)], "cron 0 0 1 1 *", long)
        for i, name in enumerate(self.due):
            jobs += _job(name, nodes[i % len(nodes)], "cron * * * * *", quick)

        (self.config_dir / "MASTER.yaml").write_text(master + extra)
        (self.config_dir / "ha.yaml").write_text(jobs)

    # -- processes ------------------------------------------------------------------------

    def start(self) -> None:
        """All of them side by side; then one leads."""
        for node in self.nodes:
            node.spawn()
        self.wait_all_up()
        self.leader(limit=60)

    def wait_all_up(self) -> None:
        for node in self.nodes:
            node.wait_up(timeout=60)

    def stop(self) -> None:
        for node in self.nodes:
            node.terminate()
        for node in self.nodes:
            node.wait_stopped()

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

    def restart(self, node: TrondProcess, *, wait: bool = True) -> None:
        """Start a killed trond again; without `wait`, `wait_all_up` waits for it later."""
        node.spawn()
        if wait:
            node.wait_up(timeout=60)

    # -- load -----------------------------------------------------------------------------

    def start_run(self, job: str, key: str | None = None, limit: float = 60) -> str:
        """Start one run of `job` by request key, on whichever trond leads, retrying the same
        key until a leader acknowledges it (so it runs exactly once); the run's id."""
        key = key or uuid.uuid4().hex

        def send() -> str | None:
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
                    result: str = response.json()["result"]
                    return result.removeprefix("Created JobRun:")
            return None

        run_id: str = wait_for(send, limit, f"a leader takes the start of {job}", every=0.1)
        self.requested.append((job, key))
        return run_id

    def launch_counts(self) -> Counter[str]:
        return _count_lines(self.launches)

    def release(self, run_id: str) -> None:
        """Let a long action (of a cluster with `long_seconds=None`) go on to its end."""
        (self.releases / run_id).touch()

    def ended(self) -> Counter[str]:
        """The long actions whose command got to its end (its `exit 3`), by run id."""
        return _count_lines(self.ends)

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


def settled(cluster: Cluster) -> bool:
    """Every run started by request has finished."""
    manual = [r for r in cluster.runs() if r.manual]
    return len(manual) == len(cluster.requested) and not any(jr.is_active(r) for r in manual)


def check_exactly_once(cluster: Cluster) -> None:
    wait_for(lambda: settled(cluster), 120, "every requested run finishes", every=0.5)
    runs = [r for r in cluster.runs() if r.manual]
    launches = cluster.launch_counts()
    assert len(runs) == len(cluster.requested), summary(runs)  # 0 lost
    twice = {run: n for run, n in launches.items() if n > 1}
    assert twice == {}  # 0 run twice
    for run in runs:
        (action,) = run.action_runs
        assert launches[str(run.id)] == 1, summary(runs)
        expected = ("failed", 3) if run.job_name in cluster.long else ("succeeded", 0)
        # A long action the killed leader started ends with its real exit code.
        assert (action.state.value, action.exit_status) == expected, summary(runs)


def check_every_minute_once(cluster: Cluster, since: datetime) -> None:
    """Each job due every minute ran each minute from its first slot to the last one due
    before now, exactly once, and succeeded: 0 slots lost, 0 run twice, 0 stuck."""
    last = datetime.now(UTC).replace(second=0, microsecond=0)

    def done() -> list[JobRun] | None:
        runs = [r for r in cluster.runs() if r.job_name in cluster.due and r.run_time <= last]
        ends = {r.job_name for r in runs if r.run_time == last and jr.is_finished(r)}
        return runs if ends == set(cluster.due) and all(map(jr.is_finished, runs)) else None

    runs = wait_for(done, 120, "every slot due so far finishes", every=0.5)
    launches = cluster.launch_counts()
    first = (since + timedelta(minutes=1)).replace(second=0, microsecond=0)
    for job in cluster.due:
        slots = sorted(r.run_time for r in runs if r.job_name == job)
        assert slots[0] <= first + timedelta(minutes=1), (job, slots)
        expected = [slots[0] + timedelta(minutes=i) for i in range(len(slots))]
        assert slots == expected, (job, slots)
        assert slots[-1] == last, (job, slots)
    for run in runs:
        (action,) = run.action_runs
        assert launches[str(run.id)] == 1, summary(runs)
        assert (action.state.value, action.exit_status) == ("succeeded", 0), summary(runs)


def amid_a_burst(cluster: Cluster) -> None:
    """Wait for the next minute's burst of due jobs to begin (the first of them launched)."""
    seen = set(cluster.launch_counts())
    wait_for(
        lambda: any(r.startswith("ha.due") for r in set(cluster.launch_counts()) - seen),
        90,
        "the next minute's burst begins",
        every=0.02,
    )


def due_launches(cluster: Cluster, launched: Counter[str] | None = None) -> int:
    """How many runs of the jobs due every minute have launched (so far, or in `launched`)."""
    counts = cluster.launch_counts() if launched is None else launched
    return sum(n for run, n in counts.items() if run.startswith("ha.due"))


def in_a_burst(cluster: Cluster, launched: Counter[str] | None = None) -> bool:
    """Some, not all, of a minute's due jobs have launched (so far, or in `launched`): each
    slot launches once, so a count that is not a whole number of bursts is a burst under way."""
    return due_launches(cluster, launched) % len(cluster.due) != 0


def seconds_to_next_minute() -> float:
    now = datetime.now(UTC)
    return 60 - now.second - now.microsecond / 1e6


def amid_bursts(cluster: Cluster, snapshots: list[Counter[str]]) -> int:
    """How many of these snapshots of the launches (each taken just before a kill) caught a
    minute's burst under way: some, not all, of that minute's slots launched. Read from the
    database's run times, once every run has settled."""
    slot = {str(r.id): r.run_time for r in cluster.runs() if r.job_name in cluster.due}
    count = 0
    for launched in snapshots:
        times = [slot[run] for run in launched if run in slot]
        if times and 0 < times.count(max(times)) < len(cluster.due):
            count += 1
    return count


def _count_lines(path: Path) -> Counter[str]:
    if not path.exists():
        return Counter()
    return Counter(line for line in path.read_text().split() if line)


def _job(name: str, node: str, schedule: str, command: str) -> str:
    return (
        f'  {name.split(".")[1]}:\n    node: {node}\n    schedule: "{schedule}"\n'
        f'    actions:\n      a:\n        command: "{command}"\n'
    )


def summary(runs: list[JobRun]) -> str:
    return json.dumps(
        {str(r.id): [(a.state.value, a.exit_status) for a in r.action_runs] for r in runs},
        indent=1,
    )
