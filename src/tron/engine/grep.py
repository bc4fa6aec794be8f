"""Searching action output with a regular expression, bounded in bytes, matches and time.

A pattern such as `(a+)+$` backtracks exponentially, and CPython's `re` holds the GIL while
it matches, so a search never runs in the daemon: each one runs in a short-lived child
process (`python -m tron.engine.grep`), which stops itself with a timer signal (`re` checks
for signals while matching) and is killed by the daemon should it outlive its budget.

The child reads a JSON request on stdin and writes one JSON object per line on stdout:
`{"file": i, "line": n, "text": t}` per match (line mode only), `{"file": i, "count": c,
"next_offset": o, "truncated": b}` when a file is done, then `{"timed_out": b}`.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

MAX_PATTERN_CHARS = 200
MAX_SCAN_BYTES = 8 * 1024 * 1024  # per request, over all the files it reads
MAX_TEXT_CHARS = 2000  # a matching line is returned cut to this many characters
TIME_BUDGET = 2.0  # seconds of matching per request
_KILL_GRACE = 5.0  # the child stops itself at the budget; it is killed this much later
_CHUNK = 1024 * 1024
# At most this many searches at once: each is a process.
_SLOTS = asyncio.Semaphore(4)


@dataclass(frozen=True, slots=True)
class Match:
    line: int
    text: str


@dataclass(slots=True)
class FileResult:
    """What one file gave: its matches (line mode) or their count, and where to resume."""

    offset: int
    count: int = 0
    matches: list[Match] = field(default_factory=list)
    next_offset: int = 0
    truncated: bool = False
    timed_out: bool = False


class _TimeUp(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _TimeUp


def _count_lines_before(handle: IO[bytes], offset: int) -> int:
    lines = 0
    position = 0
    while position < offset:
        data = handle.read(min(_CHUNK, offset - position))
        if not data:
            break
        lines += data.count(b"\n")
        position += len(data)
    return lines


def _lines(data: bytes, at_eof: bool) -> Iterator[tuple[bytes, int]]:
    """The lines of `data` and the offset (within `data`) just past each one. A last line
    without a newline counts only at the end of the file, or when it is the only one."""
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        if end < 0:
            if at_eof or start == 0:
                yield data[start:], len(data)
            return
        yield data[start:end], end + 1
        start = end + 1


def _scan_file(
    pattern: re.Pattern[str],
    path: str,
    offset: int,
    budget: list[int],
    limit: int,
    report_lines: bool,
    out: IO[str],
    index: int,
) -> bool:
    """Scan one file from `offset`; False once the time is up."""
    result: dict[str, Any] = {"file": index, "count": 0, "next_offset": offset, "truncated": False}
    timed_out = False
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(0)
            offset = min(offset, size)
            result["next_offset"] = offset
            line_number = _count_lines_before(handle, offset)
            handle.seek(offset)
            data = handle.read(max(budget[0], 0))
            budget[0] -= len(data)
            at_eof = offset + len(data) >= size
            position = offset
            for raw, end in _lines(data, at_eof):
                line_number += 1
                text = raw.decode("utf-8", errors="replace")
                try:
                    found = pattern.search(text) is not None
                except _TimeUp:
                    # Past the line that used the time up, so a retry does not stall on it.
                    result["next_offset"] = offset + end
                    result["truncated"] = True
                    timed_out = True
                    break
                position = offset + end
                result["next_offset"] = position
                if found:
                    result["count"] += 1
                    if report_lines:
                        match = {"file": index, "line": line_number, "text": text[:MAX_TEXT_CHARS]}
                        out.write(json.dumps(match) + "\n")
                    if result["count"] >= limit:
                        result["truncated"] = position < size
                        break
            else:
                result["truncated"] = position < size
    except OSError:
        pass
    except _TimeUp:
        result["truncated"] = True
        timed_out = True
    out.write(json.dumps(result) + "\n")
    return not timed_out


def run(request: dict[str, Any], out: IO[str]) -> None:
    """Serve one request (in the child): scan its files in order within its budgets."""
    pattern = re.compile(request["pattern"])
    budget = [int(request["max_bytes"])]
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, float(request["budget"]))
    timed_out = False
    try:
        for index, (path, offset) in enumerate(request["files"]):
            if timed_out or budget[0] <= 0:
                untouched = {"file": index, "count": 0, "next_offset": offset, "truncated": True}
                out.write(json.dumps(untouched) + "\n")
                continue
            timed_out = not _scan_file(
                pattern, path, offset, budget, int(request["limit"]), request["lines"], out, index
            )
    except _TimeUp:
        timed_out = True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    out.write(json.dumps({"timed_out": timed_out}) + "\n")
    out.flush()


def main() -> None:
    run(json.loads(sys.stdin.read()), sys.stdout)


async def search(
    pattern: str,
    files: Sequence[tuple[Path, int]],
    *,
    limit: int,
    lines: bool,
    max_bytes: int = MAX_SCAN_BYTES,
    budget: float = TIME_BUDGET,
) -> list[FileResult]:
    """Search `files` (path, byte offset) for `pattern` (already checked to compile) in a
    child process; one result per file. Files not reached in time are marked truncated."""
    results = [FileResult(offset=offset, next_offset=offset) for _, offset in files]
    if not files:
        return results
    request = {
        "pattern": pattern,
        "files": [(str(path), offset) for path, offset in files],
        "limit": limit,
        "lines": lines,
        "max_bytes": max_bytes,
        "budget": budget,
    }
    async with _SLOTS:
        output = await _run_child(json.dumps(request).encode(), budget + _KILL_GRACE)
    done: set[int] = set()
    for line in output.decode("utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            break  # the child was killed mid-line
        if "line" in record:
            results[record["file"]].matches.append(Match(record["line"], record["text"]))
        elif "file" in record:
            result = results[record["file"]]
            result.count = record["count"]
            result.next_offset = record["next_offset"]
            result.truncated = record["truncated"]
            done.add(record["file"])
        elif record.get("timed_out"):
            for result in results:
                result.timed_out = result.truncated
    for index, result in enumerate(results):
        if index not in done:  # killed, or failed, before it finished this file
            result.truncated = result.timed_out = True
            result.next_offset = max(result.next_offset, result.offset)
    return results


async def _run_child(request: bytes, limit: float) -> bytes:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tron.engine.grep",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with asyncio.timeout(limit):
            stdout, _ = await process.communicate(request)
    except TimeoutError:
        return b""
    finally:
        if process.returncode is None:  # out of time, or the request was cancelled
            process.kill()
            await asyncio.shield(process.wait())
    return stdout


if __name__ == "__main__":
    main()
