"""Launch throughput: trivial actions through LocalExecutor against raw `sh -c true`, same run.

Besides actions per second it prints the CPU time per action of this process and of the
children it reaped (raw: the shell; LocalExecutor: the supervisor, which reaps the command),
a figure that other load on the machine disturbs far less than throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from tron.executors.base import ActionSpec
from tron.executors.local import LocalExecutor


async def _bounded(count: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> float:
    """Run `one(i)` for every i with at most `concurrency` at a time; return actions per second."""
    gate = asyncio.Semaphore(concurrency)

    async def guarded(index: int) -> None:
        async with gate:
            await one(index)

    began = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for index in range(count):
            group.create_task(guarded(index))
    return count / (time.perf_counter() - began)


async def raw_rate(count: int, concurrency: int) -> float:
    async def one(_index: int) -> None:
        proc = await asyncio.create_subprocess_exec("sh", "-c", "true")
        await proc.wait()

    return await _bounded(count, concurrency, one)


async def executor_rate(count: int, concurrency: int, root: Path) -> float:
    executor = LocalExecutor()

    async def one(index: int) -> None:
        spec = ActionSpec(
            action_run_id=f"bench.launch.{index}.true",
            attempt=0,
            command="true",
            output_dir=root / str(index),
        )
        status = await executor.wait(await executor.start(spec))
        if status.exit_code != 0:
            raise RuntimeError(f"action {index} ended with {status}")

    try:
        return await _bounded(count, concurrency, one)
    finally:
        await executor.close()


def _cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, reaped.ru_utime + reaped.ru_stime


async def _measured(count: int, rate: Awaitable[float]) -> tuple[float, str]:
    before = _cpu()
    result = await rate
    after = _cpu()
    own, reaped = ((a - b) / count * 1e6 for a, b in zip(after, before, strict=True))
    return result, f"{result:.0f}/s (cpu/action: self {own:.0f} us, children {reaped:.0f} us)"


async def main(count: int, concurrency: int, rounds: int, base: str | None) -> None:
    raw: list[float] = []
    ours: list[float] = []
    for round_ in range(rounds):
        rate, raw_text = await _measured(count, raw_rate(count, concurrency))
        raw.append(rate)
        with tempfile.TemporaryDirectory(prefix="tron-bench-", dir=base) as root:
            rate, our_text = await _measured(count, executor_rate(count, concurrency, Path(root)))
        ours.append(rate)
        print(f"round {round_ + 1}: raw {raw_text}  executor {our_text}")
    raw_median, our_median = statistics.median(raw), statistics.median(ours)
    print(f"raw sh -c true:  {raw_median:.0f} actions/s (median of {rounds})")
    print(f"LocalExecutor:   {our_median:.0f} actions/s (median of {rounds})")
    print(f"ratio:           {our_median / raw_median:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--count", type=int, default=2000)
    parser.add_argument("-c", "--concurrency", type=int, default=32)
    parser.add_argument("-r", "--rounds", type=int, default=3)
    parser.add_argument(
        "-d",
        "--dir",
        default="/dev/shm" if Path("/dev/shm").is_dir() else None,
        help="where attempt directories go (default: a tmpfs if there is one)",
    )
    args = parser.parse_args()
    asyncio.run(main(args.count, args.concurrency, args.rounds, args.dir))
