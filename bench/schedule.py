"""Schedule next_run latency: median and p99 in microseconds over random `after` times."""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from tron.schedule import Schedule, parse_schedule

CASES = (
    ("cron */10 * * * *", "UTC"),
    ("cron 30 4 1,15 * *", "America/Los_Angeles"),
    ("cron 0 0 29 2 *", "UTC"),
    ("daily 04:00:00 MWF", "Europe/London"),
    ("every monday at 09:00", "UTC"),
    ("1st,3rd fri of jan,jul at 12:00", "Australia/Lord_Howe"),
)


def _afters(count: int, seed: int) -> list[datetime]:
    rng = random.Random(seed)
    start = datetime(2000, 1, 1, tzinfo=UTC)
    span = int(timedelta(days=365 * 40).total_seconds())
    return [start + timedelta(seconds=rng.randrange(span)) for _ in range(count)]


def _measure(schedule: Schedule, afters: list[datetime]) -> list[float]:
    timings = []
    for after in afters:
        began = time.perf_counter_ns()
        schedule.next_run(after)
        timings.append((time.perf_counter_ns() - began) / 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20_000, help="next_run calls per schedule")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    afters = _afters(args.count, args.seed)
    print(f"{'schedule':<36} {'zone':<22} {'median us':>10} {'p99 us':>10}")
    for value, zone in CASES:
        timings = _measure(parse_schedule(value, zone), afters)
        median = statistics.median(timings)
        p99 = statistics.quantiles(timings, n=100)[98]
        print(f"{value:<36} {zone:<22} {median:>10.1f} {p99:>10.1f}")


if __name__ == "__main__":
    main()
