"""Daemon benchmarks (issue 4): launch throughput, lateness under load, scale with many jobs.

    python bench/daemon.py launch   [--actions 2000] [--concurrency 64] [--cpu]
    python bench/daemon.py engine   [--actions 2000] [--repeat 3]
    python bench/daemon.py lateness [--jobs 1000]
    python bench/daemon.py scale    [--jobs 10000] [--idle 60]   (baseline: yaml.load of its config)
    python bench/daemon.py upload   [--jobs 10000]

Temporary state goes under --dir (default: the system's temp dir; on these machines that is
the real disk, not tmpfs, so every commit pays an fsync).

Each prints its figures; ratios are against a baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fake_executor import ScriptedExecutor

from tron.api.app import create_app
from tron.core import job_run as jr
from tron.engine.clock import ManualClock, SystemClock
from tron.engine.daemon import Daemon, DaemonSettings


def _settings(root: Path) -> DaemonSettings:
    return DaemonSettings(
        working_dir=root / "work", config_path=root / "config", default_time_zone="UTC"
    )


def _write(root: Path, text: str) -> None:
    (root / "config").mkdir(parents=True, exist_ok=True)
    (root / "config" / "MASTER.yaml").write_text(text)


async def _raw_rate(count: int, concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            proc = await asyncio.create_subprocess_exec("sh", "-c", "true")
            await proc.wait()

    began = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    return count / (time.perf_counter() - began)


class _Cpu:
    """CPU time spent between two points, per action: trond's whole process (event loop, store
    worker, launch threads), the part of it spent in the kernel, its event loop's thread alone,
    and the children it reaped.

    Unlike throughput, CPU time is barely disturbed by other load on the machine, so it shows
    what a change to the engine's own work per launch gains. The kernel's part is the exception:
    on a file system without a journal it grows for minutes after many files were deleted."""

    def __init__(self) -> None:
        self.began = self._now()

    @staticmethod
    def _now() -> tuple[float, float, float, float]:
        own = resource.getrusage(resource.RUSAGE_SELF)
        reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (
            own.ru_utime + own.ru_stime,
            own.ru_stime,
            time.thread_time(),
            reaped.ru_utime + reaped.ru_stime,
        )

    def per_action(self, count: int) -> tuple[float, float, float, float]:
        """Microseconds per action since this was made: process, of which kernel, event loop,
        children."""
        now = self._now()
        process, kernel, loop, children = (
            (b - a) / count * 1e6 for a, b in zip(self.began, now, strict=True)
        )
        return process, kernel, loop, children


async def _first_runs_finished(daemon: Daemon, names: list[str], *, poll: float) -> None:
    """Wait until run 1 of each job finished. Each run is looked at until it finished, not
    again: a scan of every run each time cost this loop (on trond's own event loop) as much
    as a tenth of the launches."""
    jobs = [daemon.registry.get_job(name) for name in names]
    done = 0
    while done < len(jobs):
        if jr.is_finished(jobs[done].runs[1]):
            done += 1
        else:
            await asyncio.sleep(poll)


async def _daemon_rate(
    root: Path,
    count: int,
    shape: str = "jobs",
    cpu: list[tuple[float, float, float, float]] | None = None,
) -> float:
    """Start `count` trivial actions, as `count` one-action jobs or as one job of `count`
    independent actions; return actions per second until every exit is recorded.

    When `cpu` is given, the CPU per action of the same interval is appended to it."""
    if shape == "jobs":
        body = "\n".join(
            f'  j{i}:\n    node: localhost\n    schedule: "cron 0 4 * * *"\n'
            f'    actions:\n      a: {{command: "true"}}'
            for i in range(count)
        )
        names = [f"MASTER.j{i}" for i in range(count)]
    else:
        actions = "\n".join(f'      a{i}: {{command: "true"}}' for i in range(count))
        body = (
            f'  many:\n    node: localhost\n    schedule: "cron 0 4 * * *"\n    actions:\n{actions}'
        )
        names = ["MASTER.many"]
    _write(root, f"jobs:\n{body}\n")
    async with Daemon(_settings(root), clock=SystemClock()) as daemon:
        began, spent = time.perf_counter(), _Cpu()
        await asyncio.gather(*(daemon.commands.job(name, "start") for name in names))
        await _first_runs_finished(daemon, names, poll=0.01)
        took = time.perf_counter() - began
        if cpu is not None:
            cpu.append(spent.per_action(count))
        stored = await daemon.store.load_job_runs()
        recorded = [a for r in stored if r.run_num == 1 for a in r.action_runs]
        assert len(recorded) == count
        assert all(a.exit_status == 0 for a in recorded)
    return count / took


async def launch(args: argparse.Namespace) -> None:
    raws, ours = [], []
    raw_cpu: list[tuple[float, float, float, float]] = []
    cpu: list[tuple[float, float, float, float]] = []
    # Every repeat's state is kept until the end: on a file system without a journal (ext4 here)
    # each new inode is checked against recent deletions, so deleting one repeat's thousands of
    # files just before the next would charge that cleanup to the next repeat's launches.
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for repeat in range(args.repeat):
            spent = _Cpu()
            raws.append(await _raw_rate(args.actions, args.concurrency))
            raw_cpu.append(spent.per_action(args.actions))
            root = Path(tmp) / str(repeat)
            ours.append(await _daemon_rate(root, args.actions, args.shape, cpu))
    raw, mine = statistics.median(raws), statistics.median(ours)
    shape = "one-action jobs" if args.shape == "jobs" else "actions of one job"
    print(f"launch: {args.actions} trivial actions as {shape}, medians of {args.repeat}")
    print(f"  raw sh -c true from asyncio (concurrency {args.concurrency}): {raw:8.0f} /s")
    print(f"  trond start+supervise+record (SQLite, fsync):      {mine:8.0f} /s")
    print(f"  ratio: {mine / raw:.2f} (goal >= 0.5)")
    if args.cpu:
        _print_cpu("raw", raw_cpu)
        _print_cpu("trond", cpu)


def _print_cpu(label: str, figures: list[tuple[float, float, float, float]]) -> None:
    process, kernel, loop, children = (
        statistics.median(column) for column in zip(*figures, strict=True)
    )
    print(
        f"  cpu/action {label:5}: process {process:5.0f} us (kernel {kernel:5.0f} us, "
        f"event loop {loop:5.0f} us), children {children:5.0f} us (medians of {len(figures)})"
    )


async def _engine_cpu(root: Path, count: int) -> tuple[float, float]:
    """CPU per action (process, event loop) of `count` one-action jobs started at once on the
    scripted executor, whose attempts end with 0 as soon as they are launched: the engine's
    own work per launch (decisions, the four durable changes, the store), no process or disk
    directory, so other load on the machine hardly moves it."""
    body = "\n".join(
        f'  j{i}:\n    node: localhost\n    schedule: "cron 0 4 * * *"\n'
        f'    actions:\n      a: {{command: "true"}}'
        for i in range(count)
    )
    names = [f"MASTER.j{i}" for i in range(count)]
    _write(root, f"jobs:\n{body}\n")
    executor = ScriptedExecutor(exit_codes=lambda _spec: 0)
    executors = {"local": executor}
    async with Daemon(_settings(root), clock=SystemClock(), executors=executors) as daemon:
        spent = _Cpu()
        await asyncio.gather(*(daemon.commands.job(name, "start") for name in names))
        await _first_runs_finished(daemon, names, poll=0.001)
        process, _kernel, loop, _children = spent.per_action(count)
    return process, loop


async def engine(args: argparse.Namespace) -> None:
    """The engine's own CPU per launch, SQLite on disk; compare runs of two versions
    alternately (the figure hardly moves with load, unlike throughput)."""
    figures: list[tuple[float, float]] = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
            figures.append(await _engine_cpu(Path(tmp), args.actions))
    print(f"engine: {args.actions} one-action jobs started at once, scripted executor (exit 0)")
    process, loop = (statistics.median(column) for column in zip(*figures, strict=True))
    spread = max(f[0] for f in figures) - min(f[0] for f in figures)
    print(
        f"  cpu/action (SQLite on disk): process {process:5.0f} us (spread {spread:.0f}), "
        f"event loop {loop:5.0f} us (medians of {len(figures)})"
    )


async def lateness(args: argparse.Namespace) -> None:
    jobs = "\n".join(
        f'  j{i}:\n    node: localhost\n    schedule: "cron * * * * *"\n'
        f'    actions:\n      a: {{command: "true"}}'
        for i in range(args.jobs)
    )
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        _write(root, f"jobs:\n{jobs}\n")
        start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        clock = ManualClock(start - timedelta(seconds=1))
        async with Daemon(_settings(root), clock=clock) as daemon:
            fire_wall = time.perf_counter()
            await clock.set(start)
            # ManualClock stands still at the due second, so lateness is measured in wall time
            # from the moment the second arrived to each action run's launch being recorded.
            started: dict[str, float] = {}
            while len(started) < args.jobs:
                for name, job in daemon.registry.jobs.items():
                    run = job.runs.get(0)
                    if (
                        name not in started
                        and run
                        and run.start_time is not None
                        and all(a.attempts for a in run.action_runs)
                    ):
                        started[name] = time.perf_counter() - fire_wall
                await asyncio.sleep(0.002)
            await daemon.timers.drain()
    delays = sorted(started.values())
    p50 = delays[len(delays) // 2] * 1000
    p99 = delays[int(len(delays) * 0.99) - 1] * 1000
    print(f"lateness: {args.jobs} jobs due in the same second (one action each)")
    print(
        f"  started - scheduled: p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {delays[-1] * 1000:.0f} ms"
    )
    print(f"  per job at that load: {delays[-1] / args.jobs * 1000:.2f} ms (goal p99 < 20 ms/job)")


def _rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def scale(args: argparse.Namespace) -> None:
    jobs = "\n".join(
        f'  job_{i}:\n    node: localhost\n    schedule: "cron {i % 60} {i % 24} * * *"\n'
        f'    actions:\n      extract: {{command: "echo {{shortdate}}"}}\n'
        f'      load: {{command: "echo load", requires: [extract]}}'
        for i in range(args.jobs)
    )
    text = f"jobs:\n{jobs}\n"
    baseline = _yaml_load_seconds(text)
    print(
        f"scale: {args.jobs} jobs; baseline: PyYAML's C loader reads the config in "
        f"{baseline:.2f} s (median of 3)"
    )
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        _write(root, text)
        for label in ("first start (empty store)", "restart (store holds runs)"):
            began = time.perf_counter()
            async with Daemon(_settings(root)) as daemon:
                took = time.perf_counter() - began
                print(
                    f"  {label}: start-up {took:.2f} s ({took / baseline:.1f}x baseline), "
                    f"RSS {_rss_mb():.0f} MB"
                )
                if label.startswith("restart"):
                    await _idle_and_api(daemon, args)


def _yaml_load_seconds(text: str) -> float:
    """What reading the config alone costs on this machine now: `yaml.load` with the C loader,
    as a scheduler that did nothing else with it would. Start-up is shown as a multiple of it,
    which moves far less with the machine's speed than the start-up's seconds do."""
    times = []
    for _ in range(3):
        began = time.perf_counter()
        yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        times.append(time.perf_counter() - began)
    return statistics.median(times)


async def _idle_and_api(daemon: Daemon, args: argparse.Namespace) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu0, wall0 = usage.ru_utime + usage.ru_stime, time.perf_counter()
    await asyncio.sleep(args.idle)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu0
    print(f"  idle CPU over {args.idle:.0f} s: {cpu / (time.perf_counter() - wall0) * 100:.2f} %")
    transport = httpx.ASGITransport(app=create_app(daemon))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        began = time.perf_counter()
        await client.get("/api/jobs")
        # trond renders this once in the background at start; here nothing did yet.
        print(
            f"  GET /api/jobs, first (cold) request: {(time.perf_counter() - began) * 1000:.0f} ms"
        )
        times = []
        for _ in range(args.requests):
            began = time.perf_counter()
            response = await client.get("/api/jobs")
            times.append(time.perf_counter() - began)
            assert response.status_code == 200
        times.sort()
        print(
            f"  GET /api/jobs ({len(response.content) / 1e6:.1f} MB): "
            f"p50 {times[len(times) // 2] * 1000:.0f} ms, "
            f"p99 {times[int(len(times) * 0.99) - 1] * 1000:.0f} ms over {len(times)} requests"
        )


async def upload(args: argparse.Namespace) -> None:
    """Upload a namespace of N jobs through the daemon, then delete it; the baseline is
    validating the same text (what any upload costs before anything is applied)."""
    count = args.jobs or 10_000
    text = "jobs:\n" + "\n".join(
        f'  job_{i}:\n    node: localhost\n    schedule: "cron {i % 60} {i % 24} * * *"\n'
        f'    actions:\n      a: {{command: "echo {{shortdate}}"}}'
        for i in range(count)
    )
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        _write(root, "jobs: {}\n")
        async with Daemon(_settings(root)) as daemon:
            began = time.perf_counter()
            await daemon.update_namespace("big", text, None, check=True)
            validate = time.perf_counter() - began
            began = time.perf_counter()
            await daemon.update_namespace("big", text, None)
            added = time.perf_counter() - began
            assert len(daemon.registry.jobs) == count
            began = time.perf_counter()
            await daemon.update_namespace("big", "", None)
            removed = time.perf_counter() - began
            assert not daemon.registry.jobs
    print(f"upload: a namespace of {count} jobs (SQLite on disk)")
    print(f"  validate only (baseline): {validate:6.2f} s")
    print(
        f"  upload and apply:         {added:6.2f} s ({added / validate:.1f}x validate; goal < 5 s)"
    )
    print(f"  delete the namespace:     {removed:6.2f} s (goal < 5 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("bench", choices=["launch", "engine", "lateness", "scale", "upload"])
    parser.add_argument("--actions", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--cpu", action="store_true", help="launch: also print CPU time per action (stable)"
    )
    parser.add_argument("--shape", choices=["jobs", "dag"], default="jobs")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--dir", default=None, help="where temporary state goes")
    args = parser.parse_args()
    if args.jobs is None:
        args.jobs = 1000 if args.bench == "lateness" else 10_000
    benches = {
        "launch": launch,
        "engine": engine,
        "lateness": lateness,
        "scale": scale,
        "upload": upload,
    }
    asyncio.run(benches[args.bench](args))


if __name__ == "__main__":
    main()
