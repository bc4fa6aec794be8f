"""High availability on PostgreSQL (issue 12): failover time and launch throughput.

    python bench/ha.py failover   [--kills 20] [--jobs 200] [--lease 10] [--renew 3]
    python bench/ha.py throughput [--actions 1000]

Both start their own PostgreSQL server (Debian's, durable: fsync on). `failover` runs three
trond on it, with two loopback sshd nodes, `--jobs` one-action jobs due every minute and long
actions, and kill -9s the leader again and again (every fourth kill amid a minute's burst):
the time from the kill to the first launch by the next leader; then the whole proof of the
suite's failover test (0 slots run twice, 0 lost, 0 stuck, every long action running at a
kill ended with its own exit code). `throughput` launches trivial one-action jobs through a whole
daemon on PostgreSQL and on SQLite, in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.integration.ha_cluster import (
    Cluster,
    amid_a_burst,
    check_every_minute_once,
    check_exactly_once,
    wait_for,
)
from tests.pg import PgServer
from tests.sshd import start_kit

from tron.core import job_run as jr
from tron.engine.clock import SystemClock
from tron.engine.daemon import Daemon, DaemonSettings


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def failover(args: argparse.Namespace, server: PgServer) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        kit = start_kit(Path(tmp) / "ssh")
        cluster = Cluster(
            Path(tmp), server.new_database("bench"), lease_seconds=args.lease,
            renew_seconds=args.renew, long_seconds=30, ssh_kit=kit, due_jobs=args.jobs,
        )  # fmt: skip
        since = datetime.now(UTC)
        cluster.start()
        times = []
        try:
            for i in range(args.kills):
                leader = cluster.leader()
                long = cluster.start_run(cluster.long[i % len(cluster.long)])
                wait_for(lambda r=long: r in cluster.launch_counts(), 60, "the long one starts")
                if i % 4 == 3:
                    amid_a_burst(cluster)
                before = sum(cluster.launch_counts().values())
                killed = time.monotonic()
                cluster.kill9(leader)
                cluster.start_run(cluster.quick[i % len(cluster.quick)])
                wait_for(lambda n=before: sum(cluster.launch_counts().values()) > n, 120, "launch")
                times.append(time.monotonic() - killed)
                cluster.restart(leader)
                print(f"  kill {i + 1}: first launch by the next leader after {times[-1]:.2f} s")
            check_exactly_once(cluster)
            check_every_minute_once(cluster, since)
        finally:
            cluster.stop()
            kit.stop()
        twice = {k: n for k, n in cluster.launch_counts().items() if n > 1}
    print(f"failover over {len(times)} kill -9 of the leader (lease {args.lease:g} s,"
          f" renew {args.renew:g} s, {args.jobs} jobs due every minute): p50"
          f" {_percentile(times, 0.5):.2f} s, p99 {_percentile(times, 0.99):.2f} s,"
          f" max {max(times):.2f} s (goal p99 < 15 s); runs launched twice: {len(twice)};"
          " every slot ran once and every long action ended with its own exit code")  # fmt: skip


async def _rate(root: Path, count: int, persistence: str) -> float:
    config = root / "config"
    config.mkdir(parents=True)
    body = "\n".join(
        f'  j{i}:\n    node: localhost\n    schedule: "cron 0 4 1 1 *"\n'
        f'    actions:\n      a: {{command: "true"}}'
        for i in range(count)
    )
    (config / "MASTER.yaml").write_text(f"{persistence}jobs:\n{body}\n")
    names = [f"MASTER.j{i}" for i in range(count)]
    settings = DaemonSettings(
        working_dir=root / "work", config_path=config, default_time_zone="UTC"
    )
    async with Daemon(settings, clock=SystemClock()) as daemon:
        while daemon.role != "leader":  # noqa: ASYNC110 (a lone trond takes the lease at once)
            await asyncio.sleep(0.01)
        began = time.perf_counter()
        await asyncio.gather(*(daemon.commands.job(name, "start") for name in names))
        jobs = [daemon.registry.get_job(name) for name in names]
        while not all(jr.is_finished(job.runs[1]) for job in jobs):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        took = time.perf_counter() - began
    return count / took


def throughput(args: argparse.Namespace, server: PgServer) -> None:
    pg, lite = [], []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            lite.append(asyncio.run(_rate(Path(tmp), args.actions, "")))
        url = server.new_database(f"tp{i}")
        persistence = f'state_persistence: {{store_type: postgres, connection: "{url}"}}\n'
        with tempfile.TemporaryDirectory() as tmp:
            pg.append(asyncio.run(_rate(Path(tmp), args.actions, persistence)))
    p, s = statistics.median(pg), statistics.median(lite)
    print(f"throughput: {args.actions} one-action jobs started at once, medians of {args.repeat}")
    print(f"  SQLite (fsync):      {s:8.0f} launches/s")
    print(f"  PostgreSQL (fsync):  {p:8.0f} launches/s")
    print(f"  ratio: {p / s:.2f} (goal >= 0.5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    one = sub.add_parser("failover")
    one.add_argument("--kills", type=int, default=20)
    one.add_argument("--jobs", type=int, default=200)
    one.add_argument("--lease", type=float, default=10)
    one.add_argument("--renew", type=float, default=3)
    two = sub.add_parser("throughput")
    two.add_argument("--actions", type=int, default=1000)
    two.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    server = PgServer.start(fsync=True)
    try:
        (failover if args.what == "failover" else throughput)(args, server)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
