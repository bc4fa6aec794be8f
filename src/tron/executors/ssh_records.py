"""Reading attempts' records and output on a node over exec channels only (no SFTP: hardened
sshd configs often have no `Subsystem sftp` line, and Tron needs none either).

Reads due at the same time on one node share one channel: a small POSIX sh loop reads one
request line per attempt from stdin and answers each with its records (builtins only) and the
new bytes of its output, each framed by its length, so one channel serves many attempts.
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from tron import tasks
from tron.errors import NodeError
from tron.executors.ssh_connections import NodeConnections
from tron.executors.supervisor import STDERR_FILE, STDOUT_FILE, Record

STREAMS = (STDOUT_FILE, STDERR_FILE)
# The records a read returns (each is one line, read with the `read` builtin).
RECORDS = (Record.EXIT, Record.SIGNAL, Record.PID, Record.SUPERVISOR)
# Bytes of one stream copied per read: the rest comes with the next one.
CHUNK_MOST = 1 << 20
# Attempts answered on one channel; more wait for the next batch.
BATCH_MOST = 64
# How long a batch waits for more reads to join it: polls are 50 ms apart at the least, so
# followers of attempts started together share channels rather than each opening one.
GATHER = 0.01


class Liveness(StrEnum):
    """What a liveness check found of an attempt's processes."""

    NOT_CHECKED = "-"
    GONE = "gone"  # neither its supervisor nor its pid record exists
    ALIVE = "alive"
    DEAD = "dead"  # both recorded processes are gone (Linux nodes: /proc)
    UNKNOWN = "unknown"  # nothing to tell by (no /proc, or no complete pid record)


# Request lines: `CHECK OUT ERR PREFIX` (CHECK 1 for a liveness check; OUT and ERR the local
# sizes of stdout and stderr; PREFIX last, as `read` gives the last name the rest of the line).
# Answer per request: `a`, the liveness line, one line per record (`+TEXT` for a complete
# record, `~TEXT` for one without its final newline yet, `-` for none), then per stream `-` or
# `SIZE N` and N bytes from the local size on. The liveness check comes before the exit record,
# and the exit record before the output: an attempt found dead without an exit record vanished,
# and output read after its exit record is complete.
_SCRIPT = """\
r() {
    x=
    if { IFS= read -r x <"$1"; } 2>/dev/null; then
        printf '+%s\\n' "$x"
    elif [ -f "$1" ]; then
        printf '~%s\\n' "$x"
    else
        echo -
    fi
}
c() {
    # An empty stream (stderr, mostly) costs no process; wc only when there is output.
    if [ -f "$1" ] && [ ! -s "$1" ]; then
        echo "0 0"
    elif [ -f "$1" ] && s=$(wc -c <"$1") 2>/dev/null; then
        s=${s##* }
        n=$((s - $2))
        [ "$n" -gt @MOST@ ] && n=@MOST@
        [ "$n" -lt 0 ] && n=0
        echo "$s $n"
        if [ "$n" -gt 0 ]; then
            tail -c "+$(($2 + 1))" "$1" | head -c "$n"
        fi
    else
        echo -
    fi
}
v() {
    if [ ! -e "$1supervisor" ] && [ ! -e "$1pid" ]; then
        echo gone
        return
    fi
    w=
    for f in supervisor pid; do
        x=
        if { IFS= read -r x <"$1$f"; } 2>/dev/null; then
            case $x in '' | *[!0-9]*) ;; *) w="$w $x" ;; esac
        fi
    done
    if [ -z "$w" ] || [ ! -d /proc/self ]; then
        echo unknown
        return
    fi
    for x in $w; do
        if [ -d "/proc/$x" ]; then
            echo alive
            return
        fi
    done
    echo dead
}
while read -r k o e p; do
    echo a
    if [ "$k" = 1 ]; then v "$p"; else echo -; fi
    for f in @RECORDS@; do r "$p$f"; done
    for f in @STREAMS@; do
        if [ "$f" = stdout ]; then c "$p$f" "$o"; else c "$p$f" "$e"; fi
    done
done
"""
_SCRIPT = (
    _SCRIPT.replace("@MOST@", str(CHUNK_MOST))
    .replace("@RECORDS@", " ".join(RECORDS))
    .replace("@STREAMS@", " ".join(STREAMS))
)
COMMAND = f"exec /bin/sh -c {shlex.quote(_SCRIPT)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Query:
    """What to read of one attempt: its records, its output from the local sizes on."""

    prefix: str
    offsets: tuple[int, int] = (0, 0)
    check: bool = False

    def line(self) -> bytes:
        if "\n" in self.prefix:
            raise NodeError(f"invalid remote path: {self.prefix!r}")
        out, err = self.offsets
        text = f"{int(self.check)} {out} {err} {self.prefix}\n"
        return text.encode("utf-8", "surrogateescape")


@dataclass(frozen=True, slots=True, kw_only=True)
class Chunk:
    """New bytes of one stream, from the query's offset; `size` is the remote file's size."""

    size: int
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """One attempt as the node showed it: record texts (absent ones missing), output chunks."""

    liveness: Liveness
    texts: dict[str, str] = field(default_factory=dict)
    chunks: dict[str, Chunk] = field(default_factory=dict)

    def copied_all(self, offsets: tuple[int, int]) -> bool:
        """Whether the chunks reach the end of the remote streams (nothing left to copy)."""
        for stream, offset in zip(STREAMS, offsets, strict=True):
            chunk = self.chunks.get(stream)
            if chunk is not None and offset + len(chunk.data) < chunk.size:
                return False
        return True

    @property
    def has_trace(self) -> bool:
        """Whether the node holds any file of the attempt."""
        return bool(self.texts) or bool(self.chunks)


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def line(self) -> bytes:
        end = self._data.find(b"\n", self._at)
        if end < 0:
            raise NodeError("the node's answer ended early")
        line, self._at = self._data[self._at : end], end + 1
        return line

    def take(self, count: int) -> bytes:
        data = self._data[self._at : self._at + count]
        if len(data) != count:
            raise NodeError("the node's answer ended early")
        self._at += count
        return data


def parse_answers(data: bytes, count: int) -> list[Answer]:
    """The answers to `count` queries from the script's output; NodeError when it is short."""
    cursor = _Cursor(data)
    answers = []
    for _ in range(count):
        if cursor.line() != b"a":
            raise NodeError("the node's answer is garbled")
        try:
            liveness = Liveness(cursor.line().decode("ascii"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise NodeError("the node's answer is garbled") from exc
        texts = {}
        for record in RECORDS:
            line = cursor.line().decode("utf-8", "replace")
            if line[:1] == "+":
                texts[str(record)] = line[1:] + "\n"
            elif line[:1] == "~":
                texts[str(record)] = line[1:]
        chunks = {}
        for stream in STREAMS:
            words = cursor.line().split()
            if words == [b"-"]:
                continue
            if len(words) != 2 or not all(word.isdigit() for word in words):
                raise NodeError("the node's answer is garbled")
            size, length = (int(word) for word in words)
            chunks[stream] = Chunk(size=size, data=cursor.take(length))
        answers.append(Answer(liveness=liveness, texts=texts, chunks=chunks))
    return answers


async def read_batch(pool: NodeConnections, queries: list[Query]) -> list[Answer]:
    """Answer `queries` over one exec channel of `pool` (NodeError when it cannot)."""
    stdin = b"".join(query.line() for query in queries)
    done = await pool.run(COMMAND, stdin=stdin)
    stdout = done.stdout if isinstance(done.stdout, bytes) else b""
    try:
        return parse_answers(stdout, len(queries))
    except NodeError as exc:
        stderr = done.stderr if isinstance(done.stderr, bytes) else b""
        said = stderr.decode("utf-8", "replace").strip()[:200]
        raise NodeError(f"{pool.settings.where}: cannot read records: {exc} {said}") from None


_Waiting = tuple[Query, asyncio.Future[Answer]]


class RecordReader:
    """Gathers the reads of one node's attempts into batches, one channel per batch, one batch
    at a time: reads asked while one runs go together in the next."""

    def __init__(self, pool: Callable[[], NodeConnections]) -> None:
        self._pool = pool
        self._waiting: list[_Waiting] = []
        self._task: asyncio.Task[None] | None = None

    async def read(self, query: Query) -> Answer:
        """The attempt's answer; NodeError (or the connection's own error) when it cannot."""
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiting.append((query, future))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                await asyncio.sleep(GATHER)  # reads due about now join the batch
                batch = [item for item in self._waiting[:BATCH_MOST] if not item[1].done()]
                del self._waiting[:BATCH_MOST]
                if batch:
                    await self._answer(batch)
        finally:
            # Cancelled (the executor closes): nobody is left waiting forever.
            waiting, self._waiting = self._waiting, []
            for _, future in waiting:
                if not future.done():
                    future.set_exception(NodeError("the node's connections are closed"))

    async def _answer(self, batch: list[_Waiting]) -> None:
        pool = self._pool()
        # A silent (not closed) connection must not hold every reader until keepalive gives up.
        timeout = 2 * pool.settings.connect_timeout + 0.1 * len(batch)
        try:
            async with asyncio.timeout(timeout):
                answers = await read_batch(pool, [q for q, _ in batch])
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:  # every reader must hear of it
            for _, future in batch:
                if not future.done():
                    future.set_exception(_as_node_error(pool, exc))
            return
        for (_, future), answer in zip(batch, answers, strict=True):
            if not future.done():
                future.set_result(answer)

    async def close(self) -> None:
        task, self._task = self._task, None
        await tasks.stop(task)


def _as_node_error(pool: NodeConnections, exc: BaseException) -> NodeError:
    if isinstance(exc, NodeError):
        return NodeError(str(exc))
    if isinstance(exc, TimeoutError):
        return NodeError(f"{pool.settings.where}: no answer in time")
    return NodeError(f"{pool.settings.where}: {exc or type(exc).__name__}")
