"""`tronctl retry`: check an action run's dependencies (waiting if asked), then retry it."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pprint import pformat

from tron.cli.client import ApiClient, RequestError
from tron.cli.durations import format_span
from tron.cli.render import PLAIN, Column, Row, Style, table
from tron.cli.resolve import TronId

DONE_REQUIREMENT_STATES = frozenset({"succeeded", "skipped", "cancelled"})
DONE_SUFFIX = " (done)"


class RetryStatus(StrEnum):
    TRIGGERS_MISSING = "Upstream triggers not all published"
    REQUIRES_MISSING = "Required actions not all successfully completed"
    NOT_ISSUED = "Retry request not issued, but dependencies done"
    ISSUED = "Retry request issued successfully"
    FAILED = "Failed to issue retry request"
    REFUSED = "Retry request refused"


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryOptions:
    """How to retry: which command, how long to wait for dependencies, how often to look."""

    use_latest_command: bool = False
    wait_seconds: float = 0.0
    poll_interval: float = 10.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], object] = time.sleep


@dataclass(frozen=True, slots=True, kw_only=True)
class Missing:
    triggers: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()

    @property
    def status(self) -> RetryStatus | None:
        if self.triggers:
            return RetryStatus.TRIGGERS_MISSING
        if self.requirements:
            return RetryStatus.REQUIRES_MISSING
        return None


def pending_triggers(triggered_by: str) -> tuple[str, ...]:
    """Triggers in `"a (done), b"` not yet published: `("b",)`."""
    entries = [entry.strip() for entry in triggered_by.split(",") if entry.strip()]
    return tuple(entry for entry in entries if not entry.endswith(DONE_SUFFIX))


def missing_dependencies(client: ApiClient, target: TronId) -> Missing:
    job, run, action = target.job, str(target.run), str(target.action)
    body = client.action_run(job, run, action, num_lines=1)
    requirements = set(body.get("requirements") or [])
    states = {}
    if requirements:
        actions = client.job_run(job, run).get("runs") or []
        states = {a.get("action_name"): a.get("state") for a in actions}
    return Missing(
        triggers=pending_triggers(str(body.get("triggered_by") or "")),
        requirements=tuple(
            sorted(r for r in requirements if states.get(r) not in DONE_REQUIREMENT_STATES)
        ),
    )


@dataclass(slots=True, kw_only=True)
class Retrier:
    """Retries one action run, logging `[H:MM:SS] <id>: <message>` lines through `log`."""

    client: ApiClient
    target: TronId
    options: RetryOptions
    log: Callable[[str], object]
    started: float = 0.0

    def say(self, message: str) -> None:
        elapsed = format_span(self.options.clock() - self.started)
        self.log(f"[{elapsed}] {self.target}: {message}")

    def run(self) -> RetryStatus:
        self.started = self.options.clock()
        missing = self.wait_for_dependencies()
        if missing.status is not None:
            prefix = ""
            if self.options.wait_seconds:
                waited = format_span(self.options.wait_seconds)
                prefix = f"Not all dependencies completed after waiting for {waited}. "
            self.say(f"{prefix}Action will not be retried.")
            return missing.status
        return self.issue()

    def wait_for_dependencies(self) -> Missing:
        deadline = self.started + self.options.wait_seconds
        while True:
            missing = self.check()
            remaining = deadline - self.options.clock()
            if missing.status is None or remaining <= 0:
                return missing
            self.options.sleep(min(self.options.poll_interval, remaining))

    def check(self) -> Missing:
        missing = missing_dependencies(self.client, self.target)
        if missing.triggers:
            self.say(f"Upstream triggers not yet published: {list(missing.triggers)}")
        elif missing.requirements:
            self.say(f"Required actions not yet succeeded: {list(missing.requirements)}")
        elif self.options.wait_seconds:
            self.say("All upstream triggers published")
            self.say("All required actions finished")
        return missing

    def issue(self) -> RetryStatus:
        self.say("Issuing retry request")
        latest = "1" if self.options.use_latest_command else "0"
        try:
            body = self.client.command(self.target.parts, "retry", use_latest_command=latest)
        except RequestError as exc:
            self.say(f"Error: couldn't issue retry request: {exc.message}")
            return RetryStatus.FAILED
        self.say(f"Got result: {body.get('result', 'OK')}")
        if body.get("refused") is True:  # e.g. the run's cleanup ran: Tron's 200, exit 0
            return RetryStatus.REFUSED
        self.say(f"Check the status of the retry run using: `tronview {self.target}`")
        return RetryStatus.ISSUED


def preamble(targets: Sequence[TronId], wait_seconds: float) -> str:
    return (
        f"We will wait up to {format_span(wait_seconds)} for all upstream triggers to be "
        "published and required actions to finish successfully before issuing retries for "
        f"the following actions:\n\n{pformat([str(t) for t in targets])}\n"
    )


def retry_all(
    client: ApiClient,
    targets: Sequence[TronId],
    options: RetryOptions,
    *,
    log: Callable[[str], object] = print,
    style: Style = PLAIN,
) -> int:
    """Retry every target (concurrently); print the `Retries` table; 0 if all were issued."""
    if options.wait_seconds:
        log(preamble(targets, options.wait_seconds))

    def one(target: TronId) -> RetryStatus:
        return Retrier(client=client, target=target, options=options, log=log).run()

    workers = max(1, min(len(targets), 8)) if options.wait_seconds else 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        statuses = list(pool.map(one, targets))
    columns = (
        Column(label="Action Name", width=60, resizable=True),
        Column(label="Final Status", width=60, resizable=True),
    )
    rows = [Row(cells=(str(t), s)) for t, s in zip(targets, statuses, strict=True)]
    log(table("Retries", columns, rows, style))
    return 0 if all(s is RetryStatus.ISSUED for s in statuses) else 1
