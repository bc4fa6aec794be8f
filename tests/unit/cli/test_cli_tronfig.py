"""tronfig: offline validation of the sample configs, and upload/print/delete/edit flows."""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest

from tron.cli import tronfig

from .fake_tron import SAMPLES, FakeTron, capture

CONFIG = SAMPLES / "config"
SERVER = ["--server", "http://tron.test"]


def run(tron: FakeTron, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = tronfig.main([*SERVER, *argv], transport=tron.transport)
    out, err = capsys.readouterr()
    return code, out, err


NOTHING_BESIDE = (
    " (nodes and command context not checked: no MASTER given or found beside the file)"
)


@pytest.mark.parametrize(
    ("file", "summary"),
    [
        # MASTER.yaml is beside it: checked together, as with -m.
        ("demo.yaml", f"OK: 2 namespaces, 6 jobs (with {CONFIG / 'MASTER.yaml'})"),
        ("MASTER.yaml", "OK: 1 namespace, 1 job"),
    ],
)
def test_validate_accepts_good_files(
    capsys: pytest.CaptureFixture[str], file: str, summary: str
) -> None:
    assert tronfig.main(["-V", str(CONFIG / file)]) == 0
    assert capsys.readouterr().out == summary + "\n"


def test_validate_finds_master_beside_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    # As with -m: the MASTER beside it knows the nodes, so an unknown one is caught.
    file = str(CONFIG / "broken_unknown_node.yaml")
    assert tronfig.main(["-V", "-n", "broken", file]) == 1
    assert "no_such_node" in capsys.readouterr().err


def test_validate_alone_says_what_it_did_not_check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # As in Tron, a fragment checked without MASTER cannot know the nodes; it says so.
    file = tmp_path / "ünïcode.yaml"
    shutil.copy(CONFIG / "broken_unknown_node.yaml", file)
    assert tronfig.main(["-V", str(file)]) == 0
    assert capsys.readouterr().out == "OK: 1 namespace, 1 job" + NOTHING_BESIDE + "\n"


def test_validate_with_master_flag_needs_no_note(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    file = tmp_path / "demo.yaml"
    shutil.copy(CONFIG / "demo.yaml", file)
    assert tronfig.main(["-V", str(file), "-m", str(CONFIG / "MASTER.yaml")]) == 0
    assert capsys.readouterr().out == "OK: 2 namespaces, 6 jobs\n"


def test_validate_a_master_file_alone_is_full(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    shutil.copy(CONFIG / "MASTER.yaml", tmp_path / "MASTER.yaml")
    assert tronfig.main(["-V", str(tmp_path / "MASTER.yaml")]) == 0
    assert capsys.readouterr().out == "OK: 1 namespace, 1 job\n"


@pytest.mark.parametrize(
    ("file", "where"),
    [
        ("broken_bad_schedule.yaml", ":4: jobs.sched_job.schedule: "),
        ("broken_requires_cycle.yaml", ": jobs.cyc_job.actions.a.requires: Circular dependency"),
        ("broken_unicode_first_char.yaml", ":2: jobs.ünïcode_first: "),
        ("broken_yaml_syntax.yaml", ":3: Invalid config format"),
    ],
)
def test_validate_prints_problem_lines(
    capsys: pytest.CaptureFixture[str], file: str, where: str
) -> None:
    assert tronfig.main(["-V", str(CONFIG / file)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(str(CONFIG / file))
    assert where in err


def test_validate_with_master_catches_unknown_node(capsys: pytest.CaptureFixture[str]) -> None:
    file = str(CONFIG / "broken_unknown_node.yaml")
    code = tronfig.main(["-V", "-n", "broken", file, "-m", str(CONFIG / "MASTER.yaml")])
    assert code == 1
    assert "no_such_node" in capsys.readouterr().err


def test_validate_dir(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for name in ("MASTER.yaml", "demo.yaml"):
        shutil.copy(CONFIG / name, tmp_path / name)
    assert tronfig.main(["-D", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "OK: 2 namespaces, 6 jobs\n"


def test_validate_dir_with_a_broken_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    shutil.copy(CONFIG / "MASTER.yaml", tmp_path / "MASTER.yaml")
    shutil.copy(CONFIG / "broken_unknown_node.yaml", tmp_path / "broken.yaml")
    assert tronfig.main(["-D", str(tmp_path)]) == 1
    assert "broken.yaml:" in capsys.readouterr().err


def test_validate_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO((CONFIG / "demo.yaml").read_text()))
    assert tronfig.main(["-V", "-n", "demo", "-"]) == 0
    assert capsys.readouterr().out == (
        "OK: 1 namespace, 5 jobs (nodes and command context not checked: no MASTER given (-m))\n"
    )


def test_validate_stdin_with_master(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (CONFIG / "broken_unknown_node.yaml").read_text(encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    master = str(CONFIG / "MASTER.yaml")
    assert tronfig.main(["-V", "-n", "broken", "-", "-m", master]) == 1
    assert "no_such_node" in capsys.readouterr().err


class ConfigServer:
    """`/api/config`: GET answers text and hash; POST is recorded and answered by `answer`."""

    def __init__(self, tron: FakeTron, answer: httpx.Response | None = None) -> None:
        self.answer = answer or httpx.Response(200, json={"status": "Active"})
        self.posted: list[dict[str, str]] = []
        tron.routes["/api/config"] = lambda _r: httpx.Response(
            200, json={"config": "jobs:\n", "hash": "abc123"}
        )
        tron.posts["/api/config"] = self.post
        tron.routes["/api"] = {**tron.routes["/api"], "namespaces": ["MASTER", "demo", "extra"]}

    @property
    def applied(self) -> list[dict[str, str]]:
        return [form for form in self.posted if form["check"] == "0"]

    def post(self, request: httpx.Request) -> httpx.Response:
        self.posted.append(dict(parse_qsl(request.content.decode(), keep_blank_values=True)))
        return self.answer


def test_upload_sends_text_name_and_fresh_hash(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    server = ConfigServer(tron)
    code, out, err = run(tron, capsys, "-n", "extra", str(CONFIG / "extra_v2.yaml"))
    assert (code, out) == (
        0,
        "Namespace extra: 1 added, 0 removed, 0 changed jobs\n  + job extra.added_job\n",
    )
    assert err == capture("tronfig_upload_changed_namespace_extra_v2.txt").text + "\n"
    sent = {"name": "extra", "config": (CONFIG / "extra_v2.yaml").read_text(), "hash": "abc123"}
    assert server.posted == [{**sent, "check": "1"}, {**sent, "check": "0"}]


def test_namespace_defaults_to_file_name(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    server = ConfigServer(tron)
    run(tron, capsys, "-C", str(CONFIG / "extra_v1.yaml"))
    assert server.posted[0]["name"] == "extra_v1"
    assert server.posted[0]["check"] == "1"


def test_stdin_upload_goes_to_master(
    tron: FakeTron, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = ConfigServer(tron)
    monkeypatch.setattr(sys, "stdin", io.StringIO((CONFIG / "MASTER.yaml").read_text()))
    code, _, _ = run(tron, capsys, "-")
    assert code == 0
    assert server.applied[0]["name"] == "MASTER"


def test_local_problems_stop_the_upload(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    server = ConfigServer(tron)
    code, _, err = run(tron, capsys, "-n", "broken", str(CONFIG / "broken_requires_cycle.yaml"))
    assert code == 1
    assert "Circular dependency" in err
    assert server.posted == []


def test_server_rejection_prints_each_problem(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    problems = [
        {
            "file": "broken.yaml",
            "line": 5,
            "key_path": "jobs.bad_job.node",
            "message": "Unknown node name no_such_node",
        },
        {"file": "broken.yaml", "line": 9, "key_path": "jobs.other.node", "message": "Also bad"},
    ]
    body = {"status": "Active", "error": "Unknown node", "problems": problems}
    ConfigServer(tron, httpx.Response(500, json=body))
    code, out, err = run(tron, capsys, "-n", "broken", str(CONFIG / "broken_unknown_node.yaml"))
    assert (code, out) == (1, "")
    assert err == (
        "broken.yaml:5: jobs.bad_job.node: Unknown node name no_such_node\n"
        "broken.yaml:9: jobs.other.node: Also bad\n"
    )


def test_server_rejection_without_problems_prints_error(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {"status": "Active", "error": "Configuration has changed. Please try again."}
    ConfigServer(tron, httpx.Response(500, json=body))
    code, _, err = run(tron, capsys, "-n", "extra", str(CONFIG / "extra_v1.yaml"))
    assert (code, err) == (1, "Configuration has changed. Please try again.\n")


def test_missing_file_is_one_line(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(tron, capsys, "/no/such/file.yaml")
    assert code == 1
    assert err.startswith("Error: cannot read /no/such/file.yaml")


def test_print_writes_raw_config(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    tron.routes["/api/config"] = {"config": "jobs:\n  a: 1", "hash": "x"}
    code, out, _ = run(tron, capsys, "-p", "demo")
    assert (code, out) == (0, "jobs:\n  a: 1")
    assert tron.requests[-1].url.params["name"] == "demo"


def test_delete_after_confirmation(
    tron: FakeTron, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = ConfigServer(tron)
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    code, out, err = run(tron, capsys, "-d", "extra")
    assert code == 0
    # Tron's prompt and message, after what the deletion removes (nothing here).
    assert out.endswith(capture("tronfig_delete_extra.txt").text.split("Configuration")[0])
    assert err == "Configuration uploaded successfully\n"
    assert server.applied == [{"name": "extra", "config": "", "hash": "abc123", "check": "0"}]


def test_delete_declined_sends_nothing(
    tron: FakeTron, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = ConfigServer(tron)
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    code, _, err = run(tron, capsys, "-d", "extra")
    assert (code, err) == (1, "Not deleted: extra is unchanged.\n")
    assert server.applied == []


def test_delete_without_an_answer_is_refused_not_silent(
    tron: FakeTron, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = ConfigServer(tron)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, _, err = run(tron, capsys, "-d", "extra")
    assert code == 1
    assert "no answer on stdin; extra was not deleted. Pass --yes" in err
    assert server.applied == []
    assert run(tron, capsys, "-d", "--yes", "extra")[0] == 0
    assert len(server.applied) == 1


def test_print_or_delete_of_an_unknown_namespace_says_so(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    ConfigServer(tron)
    for flag in ("-p", "-d"):
        code, out, err = run(tron, capsys, flag, "NOSUCH")
        assert (code, out) == (1, "")
        assert err == "Error: namespace NOSUCH does not exist (namespaces: MASTER, demo, extra)\n"


def test_delete_master_is_refused(tron: FakeTron, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(tron, capsys, "-d", "MASTER")
    assert code == 1
    assert "Deleting MASTER namespace is not allowed" in err


def test_delete_failure(
    tron: FakeTron, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ConfigServer(tron, httpx.Response(500, json={"error": "boom"}))
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    code, _, err = run(tron, capsys, "-d", "extra")
    assert code == 1
    assert err.endswith("boom\ntronfig deletion failed\n")


def write_editor(tmp_path: Path, replacement: Path) -> str:
    """An $EDITOR that replaces the file with `replacement`'s text."""
    script = tmp_path / "editor.py"
    script.write_text(f"import shutil, sys\nshutil.copy({str(replacement)!r}, sys.argv[1])\n")
    return f"{sys.executable} {script}"


def test_edit_shows_diff_and_applies(
    tron: FakeTron,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    server = ConfigServer(tron)
    tron.routes["/api/config"] = {"config": (CONFIG / "extra_v1.yaml").read_text(), "hash": "h1"}
    monkeypatch.setenv("EDITOR", write_editor(tmp_path, CONFIG / "extra_v2.yaml"))
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    code, out, _ = run(tron, capsys, "--edit", "extra")
    assert code == 0
    assert "  ~ job extra.added_job: schedule, actions.hi.command" in out
    assert server.applied[0]["hash"] == "h1"
    assert server.applied[0]["config"] == (CONFIG / "extra_v2.yaml").read_text()


def test_edit_with_problems_offers_to_edit_again(
    tron: FakeTron,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    server = ConfigServer(tron)
    tron.routes["/api/config"] = {"config": (CONFIG / "extra_v1.yaml").read_text(), "hash": "h1"}
    monkeypatch.setenv("EDITOR", write_editor(tmp_path, CONFIG / "broken_requires_cycle.yaml"))
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    code, out, err = run(tron, capsys, "--edit", "extra")
    assert code == 1
    assert "Circular dependency" in err
    assert "Edit again? (y/n): " in out
    assert server.posted == []


def test_edit_without_change_does_nothing(
    tron: FakeTron,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    server = ConfigServer(tron)
    tron.routes["/api/config"] = {"config": (CONFIG / "extra_v1.yaml").read_text(), "hash": "h1"}
    monkeypatch.setenv("EDITOR", write_editor(tmp_path, CONFIG / "extra_v1.yaml"))
    monkeypatch.delenv("VISUAL", raising=False)
    code, out, _ = run(tron, capsys, "--edit", "extra")
    assert (code, out) == (0, "No changes.\n")
    assert server.posted == []


WIPES_MASTER = {
    "namespace": "MASTER",
    "added": [],
    "removed": ["MASTER.report", "MASTER.backup"],
    "changed": {"MASTER.nightly": ["schedule"]},
    "settings": {
        "time_zone": {"change": "removed", "lost": []},
        "command_context": {"change": "removed", "lost": []},
    },
    "removed_settings": ["time_zone", "command_context"],
    "notes": ["MASTER.nightly: the schedule changes but the pending run stays at 2026-03-02"],
    "version": None,
}


# A namespace file that is also a valid MASTER on its own (its node is the implicit one).
OPS = (CONFIG / "extra_v1.yaml").read_text().replace("node: local", "node: localhost")


def ops_file(tmp_path: Path) -> str:
    path = tmp_path / "ops.yaml"
    path.write_text(OPS, encoding="utf-8")
    return str(path)


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def wiping_server(tron: FakeTron) -> ConfigServer:
    """A server whose check says the upload removes MASTER jobs and settings."""
    server = ConfigServer(tron)

    def post(request: httpx.Request) -> httpx.Response:
        server.posted.append(dict(parse_qsl(request.content.decode(), keep_blank_values=True)))
        version = None if server.posted[-1]["check"] == "1" else 4
        return httpx.Response(
            200, json={"status": "Active", "changes": {**WIPES_MASTER, "version": version}}
        )

    tron.posts["/api/config"] = post
    return server


def test_piped_master_upload_that_removes_jobs_is_refused_without_a_terminal(
    tron: FakeTron, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = wiping_server(tron)
    monkeypatch.setattr(sys, "stdin", io.StringIO(OPS))
    code, out, err = run(tron, capsys, "-")
    assert code == 1
    assert out.splitlines()[:3] == [
        "Namespace MASTER: 0 added, 2 removed, 1 changed jobs, 2 MASTER settings changed",
        "  - job MASTER.report",
        "  - job MASTER.backup",
    ]
    assert "  - MASTER time_zone" in out
    assert "  note: MASTER.nightly: the schedule changes" in out
    assert err == (
        "Refused: this upload would remove jobs MASTER.report, MASTER.backup and MASTER "
        "settings time_zone, command_context; no terminal to confirm on. "
        "Pass --yes to upload anyway.\n"
    )
    assert [form["check"] for form in server.posted] == ["1"]


def test_yes_applies_and_prints_the_version(
    tron: FakeTron, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = wiping_server(tron)
    monkeypatch.setattr(sys, "stdin", io.StringIO(OPS))
    code, out, err = run(tron, capsys, "--yes", "-")
    assert code == 0
    assert out.endswith("Applied to namespace MASTER as config version 4\n")
    assert err == "Configuration uploaded successfully\n"
    assert [form["check"] for form in server.posted] == ["1", "0"]


def test_dry_run_shows_and_applies_nothing(
    tron: FakeTron, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    server = wiping_server(tron)
    code, out, _ = run(tron, capsys, "--dry-run", "-n", "MASTER", ops_file(tmp_path))
    assert code == 0
    assert out.startswith("Namespace MASTER: 0 added, 2 removed")
    assert out.endswith("Dry run: nothing was changed.\n")
    assert server.applied == []


@pytest.mark.parametrize(("answer", "code", "applied"), [("y\n", 0, 1), ("n\n", 1, 0)])
def test_on_a_terminal_removals_are_confirmed(
    tron: FakeTron,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    answer: str,
    code: int,
    applied: int,
) -> None:
    server = wiping_server(tron)
    monkeypatch.setattr(sys, "stdin", FakeTty(answer))
    result, _, err = run(tron, capsys, "-n", "MASTER", ops_file(tmp_path))
    assert result == code
    assert err.startswith(
        "This removes jobs MASTER.report, MASTER.backup and MASTER settings time_zone, "
        "command_context from the running config. Apply? [y/N] "
    )
    assert len(server.applied) == applied


def test_piped_config_is_confirmed_on_the_controlling_terminal(
    tron: FakeTron, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tron.cli import confirm

    server = wiping_server(tron)
    tty = FakeTty()
    tty.readline = lambda *_: "y\n"  # type: ignore[method-assign]
    asked: list[str] = []
    tty.close = lambda: asked.append(tty.getvalue())  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stdin", io.StringIO(OPS))
    monkeypatch.setattr(sys, "stderr", FakeTty())
    monkeypatch.setattr(confirm, "open_tty", lambda: tty)
    assert tronfig.main([*SERVER, "-"], transport=tron.transport) == 0
    assert len(server.applied) == 1
    assert asked[0].endswith("from the running config. Apply? [y/N] ")


def test_an_upload_that_removes_nothing_needs_no_confirmation(
    tron: FakeTron, capsys: pytest.CaptureFixture[str]
) -> None:
    server = ConfigServer(tron)
    code, out, _ = run(tron, capsys, "-n", "extra", str(CONFIG / "extra_v1.yaml"))
    assert code == 0
    assert len(server.applied) == 1
    assert "+ job extra.added_job" in out


def test_help_documents_exit_statuses_and_confirmation(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        tronfig.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "exit status: 0 done" in out
    assert "--dry-run" in out
    assert "--yes" in out
