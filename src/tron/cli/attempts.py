"""The output of an action run with several attempts, each attempt headed (`tail`'s way)."""

from __future__ import annotations

from typing import Any

from tron.cli.client import ApiClient
from tron.cli.resolve import TronId

Json = dict[str, Any]
STREAMS = ("stdout", "stderr")


def attempt_header(attempt: Json) -> str:
    """`==> attempt 2, started ... on node <==`, as `tail` heads each file it shows."""
    title = f"attempt {attempt.get('number')}"
    if attempt.get("start_time"):
        title += f", started {attempt['start_time']}"
    if attempt.get("node"):
        title += f" on {attempt['node']}"
    return f"==> {title} <==\n"


def with_attempt_headers(client: ApiClient, target: TronId, body: Json, lines: int) -> Json:
    """`body` (an action run's JSON) with its stdout and stderr as the last `lines` lines of
    each attempt under that attempt's header, when it has several attempts and the server
    serves output by attempt; else `body` as it is (the API's tail runs across attempts)."""
    attempts = [a for a in body.get("attempts") or [] if isinstance(a, dict)]
    if len(attempts) < 2:
        return body
    job, run, action = target.job, str(target.run), str(target.action)
    shown = dict(body)
    for stream in STREAMS:
        text: list[str] = []
        for attempt in attempts:
            number = attempt.get("number")
            chunk = client.action_output(job, run, action, stream=stream, offset=0, attempt=number)
            if chunk is None:
                return body
            tail = chunk.data.splitlines()[-lines:] if lines > 0 else chunk.data.splitlines()
            text += [attempt_header(attempt).rstrip("\n"), *tail]
        shown[stream] = text
    return shown
