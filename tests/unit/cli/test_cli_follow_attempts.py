"""`tronview -f` on an action that has not started (it says what it waits for), and on one that
runs several attempts (a header heads each attempt's output, as in `tronview ACTION_RUN`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tron.cli import tronview
from tron.cli.client import ApiClient
from tron.cli.follow import Follower
from tron.cli.resolve import IdKind, TronId
from tron.cli.waiting import waiting_reason

from .fake_tron import FakeTron

TARGET = TronId(kind=IdKind.ACTION_RUN, job="demo.dag_job", run="1", action="load")
RUN = "/api/jobs/demo.dag_job/1"
ACTION = RUN + "/load"
ATTEMPT_1 = {"number": 1, "start_time": "2026-03-01 04:00:00", "node": "localhost"}
ATTEMPT_2 = {"number": 2, "start_time": "2026-03-01 04:00:10", "node": "localhost"}


@dataclass
class Script:
    """A trond whose action run moves one step each time the follower sleeps: step i answers
    `actions[i]`, and each attempt's output is what `outputs` holds at that step."""

    actions: list[dict[str, Any]]
    outputs: list[dict[int, str]]
    job_run: dict[str, Any] = field(default_factory=dict)
    step: int = 0

    def sleep(self, _: float) -> None:
        self.step = min(self.step + 1, len(self.actions) - 1)

    def action(self, _: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=self.actions[self.step])

    def output(self, request: httpx.Request) -> httpx.Response:
        attempt = int(request.url.params.get("attempt", "0"))
        offset = int(request.url.params["offset"])
        data = self.outputs[self.step].get(attempt, "").encode()[offset:]
        return httpx.Response(200, json={"data": data.decode(), "offset": offset + len(data)})

    def follow(self, tron: FakeTron) -> tuple[str, list[str], list[str]]:
        tron.routes[ACTION] = self.action
        tron.routes[ACTION + "/output"] = self.output
        tron.routes[RUN] = self.job_run
        written: list[str] = []
        notes: list[str] = []
        client = ApiClient("http://tron.test", transport=tron.transport)
        follower = Follower(
            client=client, target=TARGET, write=written.append, note=notes.append, sleep=self.sleep
        )
        return follower.run(), written, notes


def action(state: str, attempts: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    return {"state": state, "attempts": attempts, "requirements": ["extract"], **more}


def test_follow_says_what_a_waiting_action_waits_for_then_follows(tron: FakeTron) -> None:
    script = Script(
        actions=[
            action("waiting", []),
            action("waiting", []),
            action("running", [ATTEMPT_1]),
            action("succeeded", [ATTEMPT_1]),
        ],
        outputs=[{}, {}, {1: "loading\n"}, {1: "loading\nloaded\n"}],
        job_run={
            "id": "demo.dag_job.1",
            "state": "running",
            "runs": [{"action_name": "extract", "state": "running"}],
        },
    )
    state, written, notes = script.follow(tron)
    assert state == "succeeded"
    assert notes == ["demo.dag_job.1.load has not started: waiting for extract (running) to finish"]
    assert "".join(written) == "loading\nloaded\n"


def test_follow_heads_each_attempt_and_reads_each_whole(tron: FakeTron) -> None:
    script = Script(
        actions=[
            action("running", [ATTEMPT_1], retries_remaining=1),
            # Attempt 1 ended with more output than was read, and attempt 2 began.
            action("running", [ATTEMPT_1, ATTEMPT_2], retries_remaining=0),
            action("succeeded", [ATTEMPT_1, ATTEMPT_2], retries_remaining=0),
        ],
        outputs=[{1: "first\n"}, {1: "first\nboom\n", 2: "second\n"}, {1: "", 2: "second\nok\n"}],
    )
    state, written, notes = script.follow(tron)
    assert state == "succeeded"
    assert notes == []
    assert "".join(written) == (
        "==> attempt 1, started 2026-03-01 04:00:00 on localhost <==\nfirst\nboom\n"
        "==> attempt 2, started 2026-03-01 04:00:10 on localhost <==\nsecond\nok\n"
    )


def test_a_single_attempt_has_no_header(tron: FakeTron) -> None:
    script = Script(
        actions=[action("running", [ATTEMPT_1]), action("failed", [ATTEMPT_1])],
        outputs=[{1: "a\n"}, {1: "a\nb\n"}],
    )
    state, written, _ = script.follow(tron)
    assert (state, "".join(written)) == ("failed", "a\nb\n")


RUN_JSON = {
    "id": "ns.j.4",
    "state": "running",
    "run_time": "2026-03-02 04:00:00",
    "runs": [
        {"action_name": "a", "state": "succeeded"},
        {"action_name": "b", "state": "failed"},
        {"action_name": "c", "state": "running"},
    ],
}


@pytest.mark.parametrize(
    ("action_json", "run_json", "reason"),
    [
        ({"state": "scheduled"}, {**RUN_JSON, "state": "scheduled"},
         "its run ns.j.4 is scheduled for 2026-03-02 04:00:00"),
        ({"state": "queued"}, {**RUN_JSON, "state": "queued"},
         "its run ns.j.4 is queued behind an earlier run still active"),
        ({"state": "waiting", "requirements": ["a", "b", "c"]}, RUN_JSON,
         "waiting for b (failed), c (running) to finish"),
        ({"state": "waiting", "triggered_by": "ns.up.x.shortdate.2026-03-02 (done), ns.up.y.k.v"},
         RUN_JSON, "waiting for trigger ns.up.y.k.v (tronctl publish EVENT sends one)"),
        ({"state": "scheduled", "in_delay": 29.6}, RUN_JSON,
         "its next attempt starts in 30 s (retries_delay)"),
        ({"state": "starting", "node": {"name": "batch1"}}, RUN_JSON, "starting on batch1"),
    ],
)  # fmt: skip
def test_waiting_reason(action_json: dict[str, Any], run_json: dict[str, Any], reason: str) -> None:
    assert waiting_reason(action_json, run_json) == reason


def test_tronview_shows_the_tail_of_each_attempt_under_its_header(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = {1: "one\ntwo\nboom\n", 2: "again\nok\n"}

    def output(request: httpx.Request) -> httpx.Response:
        data = outputs[int(request.url.params["attempt"])]
        if request.url.params["stream"] == "stderr":
            data = ""
        return httpx.Response(200, json={"data": data, "offset": len(data)})

    tron.routes[ACTION] = {
        **action("succeeded", [ATTEMPT_1, ATTEMPT_2]),
        "id": "demo.dag_job.1.load",
        "stdout": ["two", "boom", "again", "ok"],
        "stderr": [],
    }
    tron.routes[ACTION + "/output"] = output
    argv = ["--server", "http://tron.test", "-n", "2", "demo.dag_job.1.load"]
    assert tronview.main(argv, transport=tron.transport) == 0
    out = capsys.readouterr().out
    assert out.split("Stdout:\n", 1)[1].split("\n\nStderr:")[0] == (
        "==> attempt 1, started 2026-03-01 04:00:00 on localhost <==\ntwo\nboom\n"
        "==> attempt 2, started 2026-03-01 04:00:10 on localhost <==\nagain\nok"
    )
