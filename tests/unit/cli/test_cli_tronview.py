"""tronview against a sample-backed fake server: each view matches Tron's captured text."""

from __future__ import annotations

import os
import re
import sys

import pytest

from tron.cli import tronview

from .fake_tron import FakeTron, capture

SERVER = ["--server", "http://tron.test", "--nocolor"]


def run(tron: FakeTron, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = tronview.main([*SERVER, *argv], transport=tron.transport)
    out, err = capsys.readouterr()
    return code, out, err


def without_next_run(text: str) -> str:
    # Ours appends a `Next Run` column (22 cells) to the jobs table; Tron has none.
    lines = text.split("\n")
    return "\n".join(line[:-22] if len(line) > 100 else line for line in lines)


def test_all_jobs_view_matches_tron(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(tron, capsys)
    expected = capture("tronview_all.txt")
    assert code == expected.exit_code
    assert without_next_run(out.rstrip("\n")) == expected.text


def test_all_jobs_view_shows_next_run(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(tron, capsys)
    header = out.split("\n")[2]
    assert header.rstrip().endswith("Next Run")
    assert "2026-11-26 04:00:00" in out


@pytest.mark.parametrize(
    ("name", "sample"),
    [
        ("demo.dag_job", "tronview_job_dag.txt"),
        ("demo.dag_job.1", "tronview_jobrun_dag_1.txt"),
        ("demo.failing_job.1", "tronview_jobrun_failing_1.txt"),
        ("demo.cleanup_job.1", "tronview_jobrun_cleanup_1.txt"),
        ("demo.dag_job.1.load", "tronview_action_dag_1_load.txt"),
        ("demo.failing_job.1.boom", "tronview_action_failing_1_boom.txt"),
        ("demo.failing_job.1.after_boom", "tronview_action_failing_1_after_boom.txt"),
        ("demo.cleanup_job.1.cleanup", "tronview_action_cleanup_1_cleanup.txt"),
        ("demo.nope", "tronview_nonexistent.txt"),
    ],
)
def test_view_matches_tron_capture(
    tron: FakeTron, capsys: pytest.CaptureFixture[str], name: str, sample: str
) -> None:
    code, out, _ = run(tron, capsys, name)
    expected = capture(sample)
    assert code == expected.exit_code
    # print() adds the final newline the capture's `[exit N]` line starts after.
    assert out.removesuffix("\n") == expected.text


def test_job_view_asks_for_numshown_runs(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    run(tron, capsys, "-n", "1", "demo.dag_job")
    assert tron.requests[-1].url.params["num_runs"] == "1"


def test_unicode_job_name_is_percent_encoded(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(tron, capsys, "demo.uni_ünïcode_job")
    assert code == 0
    assert tron.requests[-1].url.raw_path.startswith(b"/api/jobs/demo.uni_%C3%BCn%C3%AFcode_job?")
    assert "Job                 : demo.uni_ünïcode_job" in out


def test_short_name_resolves_through_namespaces(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(tron, capsys, "dag_job")
    assert code == 0
    assert out.startswith("Job                 : demo.dag_job\n")


def test_unknown_name_suggests_close_matches(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(tron, capsys, "demo.dag_jbo")
    assert code == 1
    assert out == "Error: Unknown job identifier: demo.dag_jbo\nDid you mean: demo.dag_job?\n"


def test_stdout_flag_prints_only_stdout(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(tron, capsys, "-o", "demo.failing_job.1.boom")
    assert out == "about to fail\n"


def test_stderr_flag_prints_only_stderr(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(tron, capsys, "-e", "demo.failing_job.1.boom")
    assert out == "this goes to stderr\n"


def test_json_flag_prints_the_api_body(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(tron, capsys, "--json", "demo.failing_job.1.boom")
    assert '"exit_status": 3' in out


def test_color_flag_highlights_header(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    code = tronview.main(["--server", "http://tron.test", "--color"], transport=tron.transport)
    out = capsys.readouterr().out
    assert code == 0
    assert re.search(r"\x1b\[100mName +State", out)
    assert "\x1b[" not in out.split("\n")[3]


def test_piped_output_has_no_color_by_default(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    tronview.main(["--server", "http://tron.test", "demo.dag_job"], transport=tron.transport)
    assert "\x1b[" not in capsys.readouterr().out


def test_events_disabled_is_a_connection_error(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    tron.routes["/api/events"] = lambda _: __import__("httpx").Response(
        500, json={"error": "EventBus disabled"}
    )
    code, _, err = run(tron, capsys, "-E")
    assert code == 1
    assert err == "Error connecting to the tron server (http://tron.test): EventBus disabled\n"


def test_events_lists_event_ids(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    tron.routes["/api/events"] = {"response": {"a.b.c.d.e": {}, "f.g.h.i.j": {}}}
    code, out, _ = run(tron, capsys, "--events")
    assert (code, out) == (0, "a.b.c.d.e\nf.g.h.i.j\n")


def test_server_down_prints_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = tronview.main(["--server", "http://127.0.0.1:9"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err.startswith("Error connecting to the tron server (http://127.0.0.1:9): ")
    assert err.count("\n") == 1


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        tronview.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("tronview ")


def test_standby_says_who_answered_and_who_leads(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    tron.routes["/api/status"] = {
        "status": "I'm alive.",
        "role": "standby",
        "leader": "http://tron-a.example:8089",
        "epoch": 4,
        "lease_age": 2.123,
        "stale_seconds": 0.5,
    }
    code, out, _ = run(tron, capsys)
    assert code == 0
    first, _, rest = out.partition("\n")
    assert first == (
        "trond: standby (leader at http://tron-a.example:8089; epoch 4, lease 2.1 s old,"
        " view 0.5 s old)"
    )
    assert without_next_run(rest.rstrip("\n")) == capture("tronview_all.txt").text


def test_cluster_leader_says_its_epoch(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    tron.routes["/api/status"] = {
        "role": "leader",
        "leader": "http://tron-a.example:8089",
        "epoch": 7,
        "lease_age": 0.04,
    }
    _, out, _ = run(tron, capsys)
    assert out.split("\n")[0] == "trond: leader (epoch 7, lease 0.0 s old)"


@pytest.mark.parametrize(
    "status",
    [
        {"status": "I'm alive.", "role": "leader"},  # a lone trond
        {"status": "I'm alive.", "version": "3.10.5", "boot_time": 1795597390},  # Tron
    ],
)
def test_lone_trond_and_tron_print_no_cluster_line(
    tron: FakeTron, capsys: pytest.CaptureFixture[str], status: dict[str, object]
) -> None:
    tron.routes["/api/status"] = status
    _, out, _ = run(tron, capsys)
    assert without_next_run(out.rstrip("\n")) == capture("tronview_all.txt").text


def test_a_status_that_fails_prints_the_jobs_anyway(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    del tron.routes["/api/status"]
    code, out, _ = run(tron, capsys)
    assert code == 0
    assert without_next_run(out.rstrip("\n")) == capture("tronview_all.txt").text


def test_json_jobs_view_has_no_cluster_line(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    tron.routes["/api/status"] = {"role": "standby", "leader": "http://a:1", "epoch": 1}
    _, out, _ = run(tron, capsys, "--json")
    assert out.startswith("{")


class PagerRun:
    def __init__(self) -> None:
        self.commands: list[list[str]] = []
        self.inputs: list[bytes] = []

    def __call__(self, command: list[str], *, input: bytes, check: bool) -> None:
        self.commands.append(command)
        self.inputs.append(input)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> PagerRun:
    """A 5-line terminal (stdout says it is one: `emit_on_tty`), a recorded subprocess.run."""
    monkeypatch.setattr("shutil.get_terminal_size", lambda: os.terminal_size((80, 5)))
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/bin/{name}")
    pager = PagerRun()
    monkeypatch.setattr("subprocess.run", pager)
    return pager


def emit_on_tty(monkeypatch: pytest.MonkeyPatch, text: str, *, color: bool) -> None:
    # Here, not in the fixture: capsys's stdout is only in place once the test runs.
    from tron.cli import view
    from tron.cli.render import Style

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    view.emit(text, Style(color=color))


TALL = "\n".join(f"ünïcode line {i}" for i in range(20))


def test_tall_output_goes_through_less_frx_by_default(
    terminal: PagerRun, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PAGER", raising=False)
    emit_on_tty(monkeypatch, TALL, color=True)
    assert terminal.commands == [["/usr/bin/less", "-FRX"]]
    assert terminal.inputs == [TALL.encode("utf-8")]
    assert capsys.readouterr().out == ""


def test_without_color_less_chops_long_lines(
    terminal: PagerRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PAGER", raising=False)
    emit_on_tty(monkeypatch, TALL, color=False)
    assert terminal.commands == [["/usr/bin/less", "-FRXS"]]


def test_pager_env_is_used_with_its_arguments(
    terminal: PagerRun, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PAGER", "most -s")
    emit_on_tty(monkeypatch, TALL, color=False)
    assert terminal.commands == [["most", "-s"]]


def test_blank_pager_env_prints_directly(
    terminal: PagerRun, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PAGER", "")
    emit_on_tty(monkeypatch, TALL, color=False)
    assert terminal.commands == []
    assert capsys.readouterr().out == TALL + "\n"


def test_short_output_is_printed_without_pager(
    terminal: PagerRun, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PAGER", "most")
    emit_on_tty(monkeypatch, "one\ntwo", color=False)
    assert terminal.commands == []
    assert capsys.readouterr().out == "one\ntwo\n"


def test_a_pager_that_cannot_start_falls_back_to_printing(
    terminal: PagerRun, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def missing(command: list[str], *, input: bytes, check: bool) -> None:
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr("subprocess.run", missing)
    monkeypatch.setenv("PAGER", "no-such-pager")
    emit_on_tty(monkeypatch, TALL, color=False)
    out, err = capsys.readouterr()
    assert out == TALL + "\n"
    assert "no-such-pager" in err
