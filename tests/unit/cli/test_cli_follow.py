"""`tronview -f`: output from the output endpoint, or by polling tails when there is none."""

from __future__ import annotations

from urllib.parse import unquote

import httpx
import pytest

from tron.cli import tronview
from tron.cli.client import ApiClient
from tron.cli.durations import format_span, parse_run_date, parse_span
from tron.cli.follow import Follower, new_lines
from tron.cli.resolve import IdKind, TronId

from .fake_tron import FakeTron

TARGET = TronId(kind=IdKind.ACTION_RUN, job="demo.dag_job", run="1", action="load")
ACTION = "/api/jobs/demo.dag_job/1/load"


def test_new_lines_skips_what_was_printed() -> None:
    seen: list[str] = []
    assert new_lines(seen, ["a", "b"]) == ["a", "b"]
    assert new_lines(seen, ["a", "b", "c"]) == ["c"]
    assert new_lines(seen, ["c", "d"]) == ["d"]
    assert new_lines(seen, ["x"]) == ["x"]
    assert seen == ["a", "b", "c", "d", "x"]


def test_follow_uses_the_output_endpoint(tron: FakeTron) -> None:
    chunks = {0: ("line 1\n", 7, False), 7: ("line 2\n", 14, False), 14: ("", 14, True)}

    def output(request: httpx.Request) -> httpx.Response:
        data, offset, done = chunks[int(request.url.params["offset"])]
        return httpx.Response(200, json={"data": data, "offset": offset, "done": done})

    tron.routes[ACTION + "/output"] = output
    written: list[str] = []
    client = ApiClient("http://tron.test", transport=tron.transport)
    state = Follower(client=client, target=TARGET, write=written.append, sleep=lambda _: None).run()
    assert "".join(written) == "line 1\nline 2\n"
    assert state == "succeeded"


def test_follow_falls_back_to_polling_tails(tron: FakeTron) -> None:
    bodies = iter(
        [
            {"state": "running", "stdout": ["a"]},
            {"state": "running", "stdout": ["a", "b"]},
            {"state": "failed", "stdout": ["b", "c"]},
        ]
    )
    tron.routes[ACTION] = lambda _r: httpx.Response(200, json=next(bodies))
    written: list[str] = []
    client = ApiClient("http://tron.test", transport=tron.transport)
    state = Follower(client=client, target=TARGET, write=written.append, sleep=lambda _: None).run()
    assert "".join(written) == "a\nb\nc\n"
    assert state == "failed"
    assert all(
        unquote(r.url.path) != ACTION + "/output" or r.method == "GET" for r in tron.requests
    )


def test_tronview_follow_exit_status(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    tron.routes[ACTION + "/output"] = {"data": "done\n", "offset": 5, "done": True}
    code = tronview.main(
        ["--server", "http://tron.test", "-f", "demo.dag_job.1.load"], transport=tron.transport
    )
    out, err = capsys.readouterr()
    assert (code, out) == (0, "done\n")
    assert err == "demo.dag_job.1.load finished in state succeeded\n"


def test_tronview_follow_needs_an_action_run(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    code = tronview.main(
        ["--server", "http://tron.test", "-f", "demo.dag_job"], transport=tron.transport
    )
    assert code == 1
    assert "needs an action run" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30", 30), ("10m", 600), ("1h30m", 5400), ("2d 4h", 187200), ("1.5s", 1.5)],
)
def test_parse_span(text: str, seconds: float) -> None:
    assert parse_span(text) == seconds


def test_parse_span_infinity_and_format() -> None:
    assert format_span(parse_span("infinity")) == "forever"
    assert format_span(3725) == "1:02:05"
    with pytest.raises(ValueError, match="not a duration"):
        parse_span("10 parsecs")


@pytest.mark.parametrize(
    "text", ["2024-03-05", "2024-03-05 04:30", "2024-03-05 04:30:00", "2024-03-05T04:30:00"]
)
def test_parse_run_date_forms(text: str) -> None:
    assert parse_run_date(text).date().isoformat() == "2024-03-05"
