"""trond with a long history (issue 16): start-up, memory and the history pages' API against a
SQLite store seeded with many past runs, each figure beside a baseline measured in the same run.

    python bench/history.py [--jobs 2000] [--runs 99] [--dir DIR]

Two working dirs share one config (--jobs jobs of one action, plus bench/web.py's grid job):
one keeps an empty history, the other is seeded (bench/web.py's seeding: --runs finished runs
a job, about jobs x runs action runs). Printed: start-up time (until /api/status answers) and
trond's peak memory with each store, and the time of `/api/runs`, `/api/jobs` and `/api` with
the large store against `/api/status` (an answer that does no work). Start-up is also given
in CPU seconds of trond, which other work on a busy machine changes far less than wall time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from web import api_ms, seed, trond_process, write_config  # type: ignore[import-not-found]


def peak_memory_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """The process's CPU time so far (user and system, all threads): unlike the wall-clock
    time, little changed by other work on a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def started(root: Path) -> tuple[float, float, float]:
    """Seconds until a fresh trond on `root` answers, its CPU seconds and peak memory then."""
    began = time.perf_counter()
    with trond_process(root) as (_url, pid):
        return time.perf_counter() - began, cpu_seconds(pid), peak_memory_mb(pid)


def median_api(url: str, path: str, repeat: int, **params: object) -> tuple[float, float]:
    """The first answer's milliseconds, then the median of `repeat` more."""
    first, _ = api_ms(url, path, **params)
    return first, statistics.median(api_ms(url, path, **params)[0] for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=99, help="past runs per job")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    top = Path(tempfile.mkdtemp(prefix="tron-bench-history-", dir=args.dir))
    empty, large = top / "empty", top / "large"
    for root in (empty, large):
        write_config(root / "config", args.jobs, args.runs, 100)
        with trond_process(root):
            pass  # the first start makes the store and each job's scheduled run
    database = next((large / "work").glob("*.sqlite"), None) or next((large / "work").glob("*.db"))
    began = time.perf_counter()
    written = seed(database, args.jobs, args.runs, 100)
    print(f"seeded {written:,} action runs in {time.perf_counter() - began:.0f} s")

    base_start, base_cpu, base_mem = started(empty)
    start, cpu, mem = started(large)
    print(f"start-up: {start:.1f} s with the large store, {base_start:.1f} s with an empty one"
          f" ({start / base_start:.1f}x)")  # fmt: skip
    print(f"  CPU time: {cpu:.1f} s with the large store, {base_cpu:.1f} s with an empty one"
          f" ({cpu / base_cpu:.1f}x)")  # fmt: skip
    print(f"peak memory: {mem:.0f} MB with the large store, {base_mem:.0f} MB with an empty one"
          f" ({mem / base_mem:.1f}x)")  # fmt: skip

    with trond_process(large) as (url, _pid):
        time.sleep(5)  # let background work after start-up (cache warming) finish
        _, base = median_api(url, "/api/status", args.repeat)
        print(f"API with the large store (first answer, then median of {args.repeat}),"
              f" against /api/status ({base:.1f} ms):")  # fmt: skip
        for path, params in [
            ("/api/jobs", {"include_job_runs": 0, "include_action_graph": 0}),
            ("/api", {}),
            ("/api/runs", {"since": "2026-01-01", "limit": 100}),
            ("/api/runs", {"since": "2026-01-01", "limit": 100, "offset": 50_000}),
            ("/api/runs", {"state": "failed", "limit": 100}),
            ("/api/runs", {"job": "bench3.job_00007", "limit": 100}),
        ]:
            first, typical = median_api(url, path, args.repeat, **params)
            query = "&".join(f"{k}={v}" for k, v in params.items())
            print(f"  GET {path}?{query:<48} {first:7.0f} ms, then {typical:7.1f} ms"
                  f" ({typical / base:.0f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
