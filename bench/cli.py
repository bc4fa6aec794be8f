"""CLI start-up: median wall time of `tronview/tronctl/tronfig --help` over N runs, against
`python -c pass` measured in the same run (the machine's own interpreter start-up), with ratios.

The goal is under 150 ms per `--help`: the entry modules import argparse and our flags only;
httpx, yaml and the rest load once a command runs. Runs are interleaved so that other load on
the machine falls on every command alike.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
COMMANDS: dict[str, list[str]] = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "tronview --help": [str(BIN / "tronview"), "--help"],
    "tronctl --help": [str(BIN / "tronctl"), "--help"],
    "tronfig --help": [str(BIN / "tronfig"), "--help"],
}
GOAL_MS = 150.0


def once(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--runs", type=int, default=20)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for command in COMMANDS.values():
        once(command)  # warm the file cache and .pyc files
    for _ in range(args.runs):
        for name, command in COMMANDS.items():
            times[name].append(once(command))
    base = statistics.median(times["python -c pass"])
    print(f"median of {args.runs} runs (goal: under {GOAL_MS:.0f} ms)")
    for name, samples in times.items():
        median = statistics.median(samples)
        verdict = "" if name.startswith("python") else ("  ok" if median < GOAL_MS else "  SLOW")
        print(f"{name:18} {median:7.1f} ms  x{median / base:4.2f} of python -c pass{verdict}")


if __name__ == "__main__":
    main()
