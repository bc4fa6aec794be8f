"""Launch throughput: trivial actions through LocalExecutor against raw `sh -c true`, same run."""

from __future__ import annotations

import argparse
import asyncio
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


async def main(count: int, concurrency: int, rounds: int, base: str | None) -> None:
    raw: list[float] = []
    ours: list[float] = []
    for round_ in range(rounds):
        raw.append(await raw_rate(count, concurrency))
        with tempfile.TemporaryDirectory(prefix="tron-bench-", dir=base) as root:
            ours.append(await executor_rate(count, concurrency, Path(root)))
        print(f"round {round_ + 1}: raw {raw[-1]:.0f}/s  executor {ours[-1]:.0f}/s")
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
