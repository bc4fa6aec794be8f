"""`tronview -f`: print an action run's output as it grows, until the action run ends."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tron.cli.client import ApiClient, OutputChunk
from tron.cli.resolve import TronId

END_STATES = frozenset({"succeeded", "failed", "cancelled", "skipped", "unknown"})
OK_STATES = frozenset({"succeeded", "skipped"})
# Enough lines per poll that a chatty action rarely outruns the fallback between polls.
FALLBACK_LINES = 1000


@dataclass(slots=True, kw_only=True)
class Follower:
    """Polls one action run; `write` receives text exactly as it should appear."""

    client: ApiClient
    target: TronId
    write: Callable[[str], object]
    stream: str = "stdout"
    poll_interval: float = 1.0
    sleep: Callable[[float], object] = time.sleep
    _seen: list[str] = field(default_factory=list)

    @property
    def _where(self) -> tuple[str, str, str]:
        return (self.target.job, str(self.target.run), str(self.target.action))

    def run(self) -> str:
        """Follow until the end; returns the action run's final state."""
        job, run, action = self._where
        chunk = self.client.action_output(job, run, action, stream=self.stream, offset=0)
        if chunk is None:
            return self._follow_lines()
        return self._follow_chunks(chunk)

    def _next_chunk(self, offset: int) -> OutputChunk | None:
        job, run, action = self._where
        return self.client.action_output(job, run, action, stream=self.stream, offset=offset)

    def _follow_chunks(self, chunk: OutputChunk | None) -> str:
        while chunk is not None:
            self.write(chunk.data)
            if chunk.done:
                break
            self.sleep(self.poll_interval)
            chunk = self._next_chunk(chunk.offset)
        return self._state()

    def _state(self) -> str:
        job, run, action = self._where
        return str(self.client.action_run(job, run, action, num_lines=1).get("state"))

    def _follow_lines(self) -> str:
        job, run, action = self._where
        while True:
            body = self.client.action_run(job, run, action, num_lines=FALLBACK_LINES)
            for line in new_lines(self._seen, list(body.get(self.stream) or [])):
                self.write(line + "\n")
            state = str(body.get("state"))
            if state in END_STATES:
                return state
            self.sleep(self.poll_interval)


def new_lines(seen: list[str], tail: Sequence[str]) -> list[str]:
    """Lines of `tail` not printed yet; updates `seen`.

    The tail is a window over the output, so the new part starts after the longest
    suffix of what was printed that is also a prefix of the window.
    """
    overlap = 0
    for size in range(min(len(seen), len(tail)), 0, -1):
        if seen[-size:] == list(tail[:size]):
            overlap = size
            break
    fresh = list(tail[overlap:])
    seen.extend(fresh)
    return fresh
