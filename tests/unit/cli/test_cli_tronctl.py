"""tronctl against a fake trond: requests sent, Tron's one-line results and exit codes."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date
from urllib.parse import parse_qsl

import httpx
import pytest

from tron import __version__
from tron.cli import tronctl

from .fake_tron import FakeTron, capture

SERVER = ["--server", "http://tron.test"]
ANSI = re.compile(r"\x1b\[\d+m")


def run(tron: FakeTron, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = tronctl.main([*SERVER, *argv], transport=tron.transport)
    out, err = capsys.readouterr()
    return code, out, err


def reply(status: int, body: dict[str, object]) -> Callable[[httpx.Request], httpx.Response]:
    return lambda _request: httpx.Response(status, json=body)


@pytest.mark.parametrize(
    ("argv", "path", "body", "sample"),
    [
        (
            ["start", "demo.dag_job"],
            "/api/jobs/demo.dag_job",
            {"result": "Created JobRun:demo.dag_job.1"},
            "tronctl_start_job_dag.txt",
        ),
        (
            ["cancel", "demo.dag_job.1"],
            "/api/jobs/demo.dag_job/1",
            {"result": "Failed to cancel, JobRun:demo.dag_job.1 in state succeeded"},
            "tronctl_cancel_finished_run.txt",
        ),
        (
            ["rerun", "demo.dag_job.1"],
            "/api/jobs/demo.dag_job/1",
            {"result": "Created JobRun:demo.dag_job.2"},
            "tronctl_rerun_jobrun.txt",
        ),
        (
            ["skip", "demo.failing_job.1.boom"],
            "/api/jobs/demo.failing_job/1/boom",
            {"result": "ActionRun: demo.failing_job.1.boom now in state skipped"},
            "tronctl_skip_action_failed.txt",
        ),
        (
            ["enable", "demo.cleanup_job"],
            "/api/jobs/demo.cleanup_job",
            {"result": "Job:demo.cleanup_job is enabled"},
            "tronctl_enable_job.txt",
        ),
        (
            ["disable", "demo.cleanup_job"],
            "/api/jobs/demo.cleanup_job",
            {"result": "Job:demo.cleanup_job is disabled"},
            "tronctl_disable_job.txt",
        ),
        (
            ["kill", "demo.long_job.2.sleeper"],
            "/api/jobs/demo.long_job/2/sleeper",
            {"result": "Attempting to kill ActionRun: demo.long_job.2.sleeper"},
            "tronctl_kill_action.txt",
        ),
    ],
)
def test_command_prints_the_server_result(
    tron: FakeTron,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    path: str,
    body: dict[str, object],
    sample: str,
) -> None:
    tron.posts[path] = reply(200, body)
    code, out, _ = run(tron, capsys, *argv)
    expected = capture(sample)
    # Ours exits 1 on Tron's 200 refusals ("Failed to ..."), where Tron's exits 0.
    assert code == (1 if expected.text.startswith("Failed to") else expected.exit_code)
    assert tron.form() == {"command": argv[0]}
    # Tron paints the disable warning red even when piped; ours only on a terminal,
    # and names the job's config rather than Yelp's yelpsoa-configs.
    assert out.split("\n")[0] == ANSI.sub("", expected.text).split("\n")[0]


def test_disable_warns_the_job_may_be_reenabled(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    tron.posts["/api/jobs/demo.cleanup_job"] = reply(200, {"result": "Job:x is disabled"})
    _, out, _ = run(tron, capsys, "disable", "demo.cleanup_job")
    assert "*NOT* guaranteed to stay disabled" in out


def test_conflict_prints_error_and_exits_1(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    tron.posts["/api/jobs/demo.dag_job/1/report"] = reply(
        409, {"error": "Failed to start on report. State is succeeded."}
    )
    code, out, _ = run(tron, capsys, "start", "demo.dag_job.1.report")
    assert (code, out) == (1, "Error: Failed to start on report. State is succeeded.\n")


def test_start_with_run_date_sends_run_time(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    tron.posts["/api/jobs/demo.dag_job"] = reply(200, {"result": "Created JobRun:demo.dag_job.3"})
    run(tron, capsys, "start", "demo.dag_job", "--run-date", "2024-03-05T04:30")
    assert tron.form() == {"command": "start", "run_time": "2024-03-05 04:30:00"}


def test_bad_run_date_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        tronctl.main([*SERVER, "start", "demo.dag_job", "--run-date", "tomorrow"])
    assert exit_info.value.code == 2


def test_unknown_identifier(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(tron, capsys, "start", "demo.nope")
    expected = capture("tronctl_start_unknown.txt")
    assert (code, out.rstrip("\n")) == (expected.exit_code, expected.text)


def test_unicode_job_is_started_with_a_percent_encoded_path(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    tron.posts["/api/jobs/demo.uni_ünïcode_job"] = reply(
        200, {"result": "Created JobRun:demo.uni_ünïcode_job.1"}
    )
    code, out, _ = run(tron, capsys, "start", "uni_ünïcode_job")
    assert (code, out) == (0, "Created JobRun:demo.uni_ünïcode_job.1\n")
    assert tron.requests[-1].url.raw_path == b"/api/jobs/demo.uni_%C3%BCn%C3%AFcode_job"


def test_command_on_wrong_kind_of_target_is_refused(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(tron, capsys, "skip", "demo.dag_job")
    assert code == 2
    assert out == "Error: skip needs an action run, but demo.dag_job is a job\n"
    assert not [r for r in tron.requests if r.method == "POST"]


def test_missing_id_is_an_error(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(tron, capsys, "start")
    assert (code, out) == (2, "Error: must provide at least one id argument\n")


def test_user_agent_names_the_user(
    tron: FakeTron, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "alice")
    tron.posts["/api/jobs/demo.dag_job"] = reply(200, {"result": "ok"})
    run(tron, capsys, "start", "demo.dag_job")
    agent = tron.requests[-1].headers["user-agent"]
    assert agent.startswith("Tron Command/")
    assert agent.endswith(" (alice)")


def test_token_is_sent_as_bearer(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    tron.posts["/api/jobs/demo.dag_job"] = reply(200, {"result": "ok"})
    run(tron, capsys, "--token", "s3cret", "start", "demo.dag_job")
    assert tron.requests[-1].headers["authorization"] == "Bearer s3cret"


# retry


def test_retry_matches_tron_capture(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    tron.posts["/api/jobs/demo.failing_job/1/boom"] = reply(
        200, {"result": "Retrying ActionRun: demo.failing_job.1.boom"}
    )
    code, out, _ = run(tron, capsys, "retry", "demo.failing_job.1.boom")
    expected = capture("tronctl_retry_action_failed.txt")
    assert code == expected.exit_code
    assert out.rstrip("\n") == ANSI.sub("", expected.text)
    assert tron.form() == {"command": "retry", "use_latest_command": "0"}


def test_retry_refused_with_200_exits_1(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    # Tron answers a retry after the run's cleanup with 200 and its tronctl says "issued".
    text = "JobRun has run a cleanup action, use rerun instead"
    tron.posts["/api/jobs/demo.failing_job/1/boom"] = reply(200, {"result": text, "refused": True})
    code, out, _ = run(tron, capsys, "retry", "demo.failing_job.1.boom")
    assert code == 1
    assert f"Got result: {text}" in out
    assert "Retry request refused" in out
    assert "Check the status" not in out


def test_retry_with_unfinished_requirement_is_not_sent(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        tron, capsys, "retry", "--use-latest-command", "demo.failing_job.1.after_boom"
    )
    assert code == 1
    assert "Required actions not yet succeeded: ['boom']" in out
    assert "Action will not be retried." in out
    assert "Required actions not all successfully completed" in out
    assert not [r for r in tron.requests if r.method == "POST"]


def test_retry_waits_for_dependencies_until_they_finish(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    states = iter(["failed", "failed", "succeeded"])
    run_path = "/api/jobs/demo.failing_job/1"
    base = dict(tron.routes[run_path])

    def job_run(_request: httpx.Request) -> httpx.Response:
        actions = [
            dict(a, state=next(states)) if a["action_name"] == "boom" else a for a in base["runs"]
        ]
        return httpx.Response(200, json=dict(base, runs=actions))

    tron.routes[run_path] = job_run
    tron.posts[run_path + "/after_boom"] = reply(200, {"result": "Retrying"})
    code, out, _ = run(
        tron,
        capsys,
        "retry",
        "--wait-for-deps",
        "1m",
        "--poll-interval",
        "0.01",
        "demo.failing_job.1.after_boom",
    )
    assert code == 0, out
    assert "We will wait up to 0:01:00" in out
    assert "All required actions finished" in out
    assert "Retry request issued successfully" in out


def test_retry_with_pending_trigger_reports_it(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    path = "/api/jobs/demo.failing_job/1/boom"
    tron.routes[path] = dict(tron.routes[path], triggered_by="a.b.c.d.e (done), f.g.h.i.j")
    code, out, _ = run(tron, capsys, "retry", "demo.failing_job.1.boom")
    assert code == 1
    assert "Upstream triggers not yet published: ['f.g.h.i.j']" in out


@pytest.mark.parametrize("value", ["-5", "soon", "10x"])
def test_retry_rejects_bad_wait(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        tronctl.main([*SERVER, "retry", "--wait-for-deps", value, "a.b.1.c"])
    assert exit_info.value.code == 2


# skip-and-publish, publish, discard


def test_skip_and_publish_publishes_each_trigger(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    # The API lists Tron's `key.value`s; the event id is prefixed with the action's name.
    path = "/api/jobs/demo.failing_job/1/boom"
    tron.routes[path] = dict(tron.routes[path], trigger_downstreams="k.v1, k.v2")
    tron.posts[path] = reply(
        200, {"result": "ActionRun: demo.failing_job.1.boom now in state skipped"}
    )
    tron.posts["/api/events"] = reply(200, {"response": "OK"})
    code, out, _ = run(tron, capsys, "skip-and-publish", "demo.failing_job.1.boom")
    assert code == 0
    assert "Successfully skipped demo.failing_job.1.boom." in out
    assert "    * demo.failing_job.boom.k.v1\n    * demo.failing_job.boom.k.v2" in out
    assert tron.form() == {"command": "publish", "event": "demo.failing_job.boom.k.v2"}


def test_skip_and_publish_without_triggers_just_skips(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    tron.posts["/api/jobs/demo.failing_job/1/boom"] = reply(200, {"result": "skipped"})
    code, out, _ = run(tron, capsys, "skip-and-publish", "demo.failing_job.1.boom")
    assert code == 0
    assert "has no triggers to publish - just skipping instead." in out


def test_skip_and_publish_reports_failed_skip(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    tron.posts["/api/jobs/demo.failing_job/1/boom"] = reply(409, {"error": "nope"})
    code, out, _ = run(tron, capsys, "skip-and-publish", "demo.failing_job.1.boom")
    assert code == 1
    assert "Failed to skip demo.failing_job.1.boom!" in out


@pytest.mark.parametrize(
    ("event", "warned"),
    [("ns.job.action.shortdate.2024-01-01", False), ("ns.job.3.k.v", True), ("a.b", True)],
)
def test_publish_warns_on_odd_event_ids_but_sends_them(
    tron: FakeTron, capsys: pytest.CaptureFixture[str], event: str, warned: bool
) -> None:
    tron.posts["/api/events"] = reply(200, {"response": "OK"})
    code, out, err = run(tron, capsys, "publish", event)
    assert (code, out) == (0, "OK\n")
    assert err.startswith("Warning: ") is warned
    assert tron.form() == {"command": "publish", "event": event}


def test_discard_failure_exits_1(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    tron.posts["/api/events"] = reply(500, {"error": "could not discard a.b.c.d.e"})
    code, out, _ = run(tron, capsys, "discard", "a.b.c.d.e")
    assert (code, out) == (1, "Error: could not discard a.b.c.d.e\n")


# move, version


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (["demo.dag_job"], "Error: Move command needs two arguments.\ndemo.dag_job"),
        (["demo.nope", "demo.new"], "Error: demo.nope doesn't exist"),
        (["demo.dag_job", "demo.long_job"], "Error: demo.long_job exists already"),
    ],
)
def test_move_checks_names_first(
    tron: FakeTron, capsys: pytest.CaptureFixture[str], ids: list[str], message: str
) -> None:
    code, out, _ = run(tron, capsys, "move", *ids)
    assert (code, out) == (1, message + "\n")


def test_move_posts_to_jobs(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    tron.posts["/api/jobs"] = reply(200, {"result": "Moving demo.dag_job to demo.dag2 succeeded."})
    code, out, _ = run(tron, capsys, "move", "demo.dag_job", "demo.dag2")
    assert (code, out) == (0, "Moving demo.dag_job to demo.dag2 succeeded.\n")
    assert tron.form() == {"command": "move", "old_name": "demo.dag_job", "new_name": "demo.dag2"}


def test_version_matching(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    tron.routes["/api/status"] = {"status": "I'm alive.", "version": __version__}
    code, out, _ = run(tron, capsys, "version")
    assert code == 0
    assert out == f"Tron client version: {__version__}\nTron server version: {__version__}\n"


def test_version_mismatch_warns(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(tron, capsys, "version")
    assert code == 1
    assert out.endswith(
        "Tron server version: 3.10.5\nWarning: client and server versions should match\n"
    )


# backfill


def test_backfill_dry_run(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        tron,
        capsys,
        "backfill",
        "dag_job",
        "--start-date",
        "2024-02-28",
        "--end-date",
        "2024-03-01",
        "--dry-run",
    )
    assert code == 0
    assert out == (
        "Please run the following 3 commands:\n\n"
        "tronctl start demo.dag_job --run-date 2024-02-28\n"
        "tronctl start demo.dag_job --run-date 2024-02-29\n"
        "tronctl start demo.dag_job --run-date 2024-03-01\n\n"
        "Note that many jobs operate on the previous day's data.\n"
    )


def test_backfill_dry_run_keeps_listed_dates_in_order(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        tron, capsys, "backfill", "demo.dag_job", "-d", "2024-01-05,2024-01-03", "--dry-run"
    )
    assert code == 0
    assert out.index("2024-01-05") < out.index("2024-01-03")


def test_backfill_descending_reverses_the_range(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        tron,
        capsys,
        "backfill",
        "demo.dag_job",
        "--start-date",
        "2024-01-01",
        "--end-date",
        "2024-01-02",
        "--descending",
        "--dry-run",
    )
    assert code == 0
    assert out.index("2024-01-02") < out.index("2024-01-01")


def test_backfill_end_date_defaults_to_today(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    start = date.today().isoformat()
    code, out, _ = run(tron, capsys, "backfill", "demo.dag_job", "--start-date", start, "--dry-run")
    assert code == 0
    assert (
        f"Please run the following 1 commands:\n\ntronctl start demo.dag_job --run-date {start}"
        in out
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-P", "11", "--start-date", "2024-01-01"], "The flag --max-parallel exceeds"),
        (["--start-date", "2024-01-01"], "Error: must provide at least one id argument"),
        (["demo.dag_job"], "Error: one of --start-date or --dates is required"),
        (["demo.dag_job", "--start-date", "01/02/2024"], "Error: Invalid isoformat"),
    ],
)
def test_backfill_argument_errors(
    tron: FakeTron, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, _ = run(tron, capsys, "backfill", *argv)
    # Usage errors exit 2 (Tron: 1); the -P limit stays Tron's refusal, exit 1.
    assert code == (1 if argv[0] == "-P" else 2)
    assert out.startswith(message)


def test_backfill_help_lists_tron_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        tronctl.main(["backfill", "--help"])
    out = capsys.readouterr().out
    for flag in (
        "--start-date",
        "--end-date",
        "--descending",
        "--dates",
        "--max-parallel",
        "--fail-on-error",
        "--dry-run",
    ):
        assert flag in out


def test_backfill_aborts_unless_confirmed(
    tron: FakeTron, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    code, out, _ = run(tron, capsys, "backfill", "demo.dag_job", "-d", "2024-01-01")
    assert code == 1
    assert "a job run will be created for each of the following 1 dates:" in out
    assert out.endswith("Confirm? [y/n] Aborted.\n")


class BackfillServer:
    """Starts a run per POST; each run ends in the state given for its date."""

    def __init__(self, tron: FakeTron, outcomes: dict[str, str]) -> None:
        self.outcomes = outcomes
        self.created: dict[str, str] = {}
        self.cancelled: list[str] = []
        tron.posts["/api/jobs/demo.dag_job"] = self.start
        for num in range(1, 10):
            tron.routes[f"/api/jobs/demo.dag_job/{num}"] = self.state
            tron.posts[f"/api/jobs/demo.dag_job/{num}"] = self.cancel

    def start(self, request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode()))
        num = str(len(self.created) + 1)
        self.created[num] = form["run_time"][:10]
        return httpx.Response(200, json={"result": f"Created JobRun:demo.dag_job.{num}"})

    def state(self, request: httpx.Request) -> httpx.Response:
        num = request.url.path.rsplit("/", 1)[1]
        state = "cancelled" if num in self.cancelled else self.outcomes[self.created[num]]
        return httpx.Response(200, json={"id": f"demo.dag_job.{num}", "state": state})

    def cancel(self, request: httpx.Request) -> httpx.Response:
        self.cancelled.append(request.url.path.rsplit("/", 1)[1])
        return httpx.Response(200, json={"result": "cancelled"})


def test_backfill_runs_every_date_and_summarises(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    server = BackfillServer(
        tron, {"2024-01-01": "succeeded", "2024-01-02": "failed", "2024-01-03": "succeeded"}
    )
    code, out, err = run(
        tron,
        capsys,
        "backfill",
        "demo.dag_job",
        "--start-date",
        "2024-01-01",
        "--end-date",
        "2024-01-03",
        "-P",
        "2",
        "--yes",
        "--poll-interval",
        "0",
    )
    assert code == 1
    assert sorted(server.created.values()) == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert "\nBackfill job runs:\nDate           Job Run Name" in out
    assert re.search(r"2024-01-02 +demo\.dag_job\.\d +failed", out)
    assert out.rstrip().endswith("Dates that did not succeed: 2024-01-02")
    assert "Backfill progress: 3/3 done, 1 failed, 0 running" in err


def test_backfill_fail_on_error_stops_early(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    BackfillServer(
        tron, {"2024-01-01": "failed", "2024-01-02": "succeeded", "2024-01-03": "succeeded"}
    )
    code, out, _ = run(
        tron,
        capsys,
        "backfill",
        "demo.dag_job",
        "-d",
        "2024-01-01,2024-01-02,2024-01-03",
        "-P",
        "1",
        "--fail-on-error",
        "--yes",
        "--poll-interval",
        "0",
    )
    assert code == 1
    assert "Error: encountered failing job run; cancelling all in-progress runs" in out
    assert re.search(r"2024-01-03 +- +not started", out)


def test_server_down(capsys: pytest.CaptureFixture[str]) -> None:
    code = tronctl.main(["--server", "http://127.0.0.1:9", "start", "x.y"])
    _, err = capsys.readouterr()
    assert code == 1
    assert err.startswith("Error connecting to the tron server (http://127.0.0.1:9): ")


@pytest.mark.parametrize(
    ("argv", "path", "result"),
    [
        (
            ["cancel", "demo.dag_job.1"],
            "/api/jobs/demo.dag_job/1",
            "Failed to cancel, JobRun:demo.dag_job.1 in state succeeded",
        ),
        (
            ["kill", "demo.dag_job.1.load"],
            "/api/jobs/demo.dag_job/1/load",
            "Failed to kill: An action_runner is required to kill.",
        ),
    ],
)
def test_a_refusal_answered_with_200_exits_1(
    tron: FakeTron, capsys: pytest.CaptureFixture[str], argv: list[str], path: str, result: str
) -> None:
    # Tron's own tronctl exits 0 here (tronctl_cancel_finished_run.txt): a script could not tell.
    assert capture("tronctl_cancel_finished_run.txt").exit_code == 0
    tron.posts[path] = reply(200, {"result": result})
    code, out, _ = run(tron, capsys, *argv)
    assert (code, out) == (1, result + "\n")


@pytest.mark.parametrize(
    ("argv", "path", "result"),
    [
        (
            ["start", "demo.dag_job.0.extract"],
            "/api/jobs/demo.dag_job/0/extract",
            "Action run cannot be started if its job run is still scheduled.",
        ),
        (
            ["recover", "demo.dag_job.1.load"],
            "/api/jobs/demo.dag_job/1/load",
            "Action run cannot be recovered if its state is not unknown.",
        ),
    ],
)
def test_the_refused_field_decides_the_exit_status(
    tron: FakeTron, capsys: pytest.CaptureFixture[str], argv: list[str], path: str, result: str
) -> None:
    # Tron's text gives no hint that nothing was done; our trond says so beside it.
    tron.posts[path] = reply(200, {"result": result, "refused": True})
    code, out, _ = run(tron, capsys, *argv)
    assert (code, out) == (1, result + "\n")
    tron.posts[path] = reply(200, {"result": "Failed to, but fine", "refused": False})
    code, _, _ = run(tron, capsys, *argv)
    assert code == 0


def test_first_refusal_stops_the_remaining_ids(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    tron.posts["/api/jobs/demo.dag_job/1"] = reply(200, {"result": "Failed to cancel, nope"})
    code, _, _ = run(tron, capsys, "cancel", "demo.dag_job.1", "demo.failing_job.1")
    assert code == 1
    assert len([r for r in tron.requests if r.method == "POST"]) == 1


def test_json_results_for_scripts(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    tron.posts["/api/jobs/demo.dag_job"] = reply(200, {"result": "Created JobRun:demo.dag_job.3"})
    tron.posts["/api/jobs/demo.dag_job/1/report"] = reply(
        409, {"error": "Failed to skip on report. State is succeeded."}
    )
    code, out, _ = run(tron, capsys, "start", "--json", "demo.dag_job")
    assert code == 0
    assert json.loads(out) == [
        {
            "id": "demo.dag_job",
            "command": "start",
            "ok": True,
            "result": "Created JobRun:demo.dag_job.3",
        }
    ]
    code, out, _ = run(tron, capsys, "skip", "--json", "demo.dag_job.1.report")
    assert code == 1
    assert json.loads(out)[0]["ok"] is False
    assert json.loads(out)[0]["result"] == "Error: Failed to skip on report. State is succeeded."


@pytest.mark.parametrize("command", [[], ["cancel"]])
def test_help_documents_exit_statuses(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        tronctl.main([*command, "--help"])
    assert info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "exit status: 0 when every command did what was asked; 1 when" in out
    assert "2 for usage errors" in out
