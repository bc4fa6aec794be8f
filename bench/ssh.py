"""SSH throughput and latency: trivial actions through SshExecutor to one loopback sshd, against
raw asyncssh `conn.run('true')` on one connection, in the same run."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncssh

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.sshd import SshKit, start_kit

from tron.executors.base import ActionSpec
from tron.executors.ssh import SshExecutor


async def _bounded(count: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> float:
    """Run `one(i)` for every i with at most `concurrency` at a time; return runs per second."""
    gate = asyncio.Semaphore(concurrency)

    async def guarded(index: int) -> None:
        async with gate:
            await one(index)

    began = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for index in range(count):
            group.create_task(guarded(index))
    return count / (time.perf_counter() - began)


async def _timed(one: Callable[[int], Awaitable[None]], count: int) -> float:
    samples = []
    for index in range(count):
        began = time.perf_counter()
        await one(index)
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


async def _raw(kit: SshKit) -> asyncssh.SSHClientConnection:
    server = kit.servers[0]
    return await asyncssh.connect(
        "127.0.0.1",
        port=server.port,
        username=server.node.username,
        client_keys=[str(kit.client_key)],
        known_hosts=str(kit.known_hosts),
        config=[],
    )


async def measure(kit: SshKit, out: Path, count: int, concurrency: int) -> dict[str, float]:
    ids = itertools.count()
    node = kit.servers[0].node
    executor = SshExecutor(kit.config())
    conn = await _raw(kit)

    async def action(_: int) -> None:
        number = next(ids)
        spec = ActionSpec(
            action_run_id=f"bench.job.{number}.act",
            attempt=0,
            command="true",
            output_dir=out / str(number),
            node=node,
        )
        await executor.wait(await executor.start(spec))

    async def raw(_: int) -> None:
        while True:
            try:
                await conn.run("true")
                return
            except asyncssh.ChannelOpenError:
                await asyncio.sleep(0.01)  # sshd frees closed sessions a moment later

    try:
        await action(0)  # connect and install the supervisor outside the measurement
        # One connection: below the server's 10 channels, which it frees a moment after each run.
        figures = {
            "raw_per_s": await _bounded(count, min(concurrency, 8), raw),
            "tron_per_s": await _bounded(count, concurrency, action),
            "raw_latency_ms": 1000 * await _timed(raw, 30),
            "tron_latency_ms": 1000 * await _timed(action, 30),
        }
    finally:
        conn.close()
        await executor.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        kit = start_kit(Path(tmp) / "ssh", ("node1",))
        try:
            figures = asyncio.run(measure(kit, Path(tmp) / "out", args.count, args.concurrency))
        finally:
            kit.stop()
    ratio = figures["tron_per_s"] / figures["raw_per_s"]
    added = figures["tron_latency_ms"] - figures["raw_latency_ms"]
    print(f"raw asyncssh run('true'), one connection: {figures['raw_per_s']:.0f}/s")
    print(f"SshExecutor actions (start+wait):         {figures['tron_per_s']:.0f}/s")
    print(f"ratio: {ratio:.2f} (goal >= 0.5)")
    print(
        f"median latency: raw {figures['raw_latency_ms']:.1f} ms, "
        f"action {figures['tron_latency_ms']:.1f} ms, supervisor adds {added:.1f} ms"
    )


if __name__ == "__main__":
    main()
