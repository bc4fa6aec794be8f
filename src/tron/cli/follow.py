"""`tronview -f`: say what an action run waits for until it starts, then print its output as it
grows, attempt by attempt, until the action run ends."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tron.cli.attempts import attempt_header
from tron.cli.client import ApiClient
from tron.cli.resolve import TronId
from tron.cli.waiting import waiting_reason

END_STATES = frozenset({"succeeded", "failed", "cancelled", "skipped", "unknown"})
OK_STATES = frozenset({"succeeded", "skipped"})
NOT_STARTED = frozenset({"scheduled", "queued", "waiting", "starting"})
# Enough lines per poll that a chatty action rarely outruns the fallback between polls.
FALLBACK_LINES = 1000

Json = dict[str, Any]


def _to_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass(slots=True, kw_only=True)
class Follower:
    """Polls one action run; `write` receives the output exactly as it should appear (with a
    header per attempt when there are several), `note` what it waits for."""

    client: ApiClient
    target: TronId
    write: Callable[[str], object]
    note: Callable[[str], object] = _to_stderr
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
        has_output_endpoint = (
            self.client.action_output(job, run, action, stream=self.stream, offset=0) is not None
        )
        body = self._wait_for_start()
        if not has_output_endpoint:
            return self._follow_lines()
        return self._follow_attempts(body)

    def _action(self) -> Json:
        job, run, action = self._where
        return self.client.action_run(job, run, action, output=False)

    def _wait_for_start(self) -> Json:
        """Poll until the action run has an attempt (or has ended), saying what it waits for
        each time that changes."""
        said = None
        while True:
            body = self._action()
            if body.get("attempts") or str(body.get("state")) not in NOT_STARTED:
                return body
            job, run, _ = self._where
            reason = waiting_reason(body, self.client.job_run(job, run))
            if reason != said:
                self.note(f"{self.target} has not started: {reason}")
                said = reason
            self.sleep(self.poll_interval)

    def _follow_attempts(self, body: Json) -> str:
        """Each attempt's output in turn; an attempt is over once a later one exists or the
        action run has ended, and is read once more then, for what it wrote meanwhile."""
        index, offset, announced = 0, 0, -1
        while True:
            attempts = _attempts(body)
            if index < len(attempts):
                if announced < index:
                    if _has_several(body, attempts):
                        self.write(attempt_header(attempts[index]))
                    announced = index
                offset = self._drain(attempts[index].get("number"), offset)
            body = self._action()
            state = str(body.get("state"))
            later = len(_attempts(body)) > index + 1
            if index < len(attempts) and (later or state in END_STATES):
                offset = self._drain(attempts[index].get("number"), offset)
            if later:
                index, offset = index + 1, 0
            elif state in END_STATES:
                return state
            else:
                self.sleep(self.poll_interval)

    def _drain(self, attempt: int | None, offset: int) -> int:
        """Print one attempt's output from `offset` up to what exists now; the next offset."""
        job, run, action = self._where
        while True:
            chunk = self.client.action_output(
                job, run, action, stream=self.stream, offset=offset, attempt=attempt
            )
            # No progress is the end too: a server must not make us print a chunk twice.
            if chunk is None or not chunk.data or chunk.offset <= offset:
                return offset
            self.write(chunk.data)
            offset = chunk.offset

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


def _attempts(body: Json) -> list[Json]:
    """The attempts of an action run's JSON; a server that does not list them (Yelp's Tron)
    has one, unnumbered, once the action has started."""
    if "attempts" not in body:
        return [{}] if str(body.get("state")) not in NOT_STARTED else []
    return [attempt for attempt in body["attempts"] or [] if isinstance(attempt, dict)]


def _has_several(body: Json, attempts: list[Json]) -> bool:
    """Whether the action run has, or may still have, more than one attempt: retries left, or
    one pending (the first attempt may be over by the time we look)."""
    return (
        len(attempts) > 1 or bool(body.get("retries_remaining")) or body.get("in_delay") is not None
    )


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
