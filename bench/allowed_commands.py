"""The cost of `commands` in the API: which manual commands a run and one action run accept,
worked out by trying each (core/allowed_commands.py), on runs of N chained actions, half done.

Printed against the cost of the run's own JSON shape in the same run (the rest of the answer),
as a ratio: the field should stay a small part of a run's or an action run's GET.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from tron.api.shapes import View, job_run_json
from tron.config.model import ActionConfig, JobConfig
from tron.core.allowed_commands import action_run_commands, job_run_commands
from tron.core.job_run import (
    action_exited,
    action_started,
    action_starting,
    create_job_run,
    start_job_run,
)
from tron.core.records import JobRun
from tron.schedule.parse import parse_schedule

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def chained_run(size: int) -> JobRun:
    actions = {
        f"a{i}": ActionConfig(name=f"a{i}", command="echo x", requires=(f"a{i - 1}",) if i else ())
        for i in range(size)
    }
    job = JobConfig(
        name="chain", namespace="bench", node="n", schedule=parse_schedule("daily"), actions=actions
    )
    run = create_job_run(job, run_num=1, run_time=NOW, manual=True, node="n", context={})
    run, _ = start_job_run(run, now=NOW)
    for i in range(size // 2):
        run = action_started(action_starting(run, f"a{i}", now=NOW, node="n"), f"a{i}", now=NOW)
        run, _ = action_exited(run, f"a{i}", exit_status=0, now=NOW)
    return run


def median_ms(work: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    view = View(now=NOW, zone=None, nodes={})
    for size in (10, 50, 200, 1000):
        run = chained_run(size)
        middle = f"a{size // 2}"
        shape = median_ms(partial(job_run_json, run, view, action_runs=True), args.repeats)
        of_run = median_ms(partial(job_run_commands, run, now=NOW), args.repeats)
        of_action = median_ms(partial(action_run_commands, run, middle, now=NOW), args.repeats)
        print(
            f"{size:5d} actions: run JSON {shape:7.2f} ms | run commands {of_run:7.2f} ms "
            f"({of_run / shape:5.2f}x) | one action's {of_action:7.2f} ms "
            f"({of_action / shape:5.2f}x)"
        )


if __name__ == "__main__":
    main()
