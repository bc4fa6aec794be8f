"""tronview, tronctl and tronfig end to end against a real trond on an unused loopback port."""

from __future__ import annotations

import io
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import without_user_config
from tests.integration.trond_process import TrondProcess
from tron.cli import tronctl, tronfig, tronview

pytestmark = pytest.mark.slow

MASTER = """\
    time_zone: UTC
    eventbus_enabled: true
    jobs:
      hello:
        node: localhost
        schedule: "cron 0 4 * * *"
        actions:
          say: {command: "echo hello; echo oops >&2"}
          after: {command: "echo after", requires: [say]}
"""
DEMO = """\
    jobs:
      failing:
        node: localhost
        schedule: "cron 0 5 * * *"
        actions:
          boom: {command: "echo about to fail; exit 3"}
          after_boom: {command: "echo never runs", requires: [boom]}
      sleeper:
        node: localhost
        schedule: "cron 0 6 * * *"
        actions:
          nap: {command: "echo napping; sleep 30"}
      ticker:
        node: localhost
        schedule: "cron 0 6 * * *"
        actions:
          tick: {command: "for i in 1 2 3; do echo tick $i; sleep 0.3; done"}
      uni_ünïcode_job:
        node: localhost
        schedule: "cron 0 7 * * *"
        actions:
          grüß: {command: "echo 'héllo wörld ✓ 日本語 🚀'"}
      publisher:
        node: localhost
        schedule: "cron 0 7 * * *"
        actions:
          emit:
            command: "exit 1"
            trigger_downstreams: {batch: "{shortdate}"}
"""
EXTRA = """\
jobs:
  added_job:
    node: localhost
    schedule: "daily 03:00:00"
    actions:
      hi: {command: "echo added"}
"""


@pytest.fixture(scope="module")
def trond(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrondProcess]:
    root = tmp_path_factory.mktemp("cli")
    config = root / "config"
    config.mkdir()
    (config / "MASTER.yaml").write_text(textwrap.dedent(MASTER), encoding="utf-8")
    (config / "demo.yaml").write_text(textwrap.dedent(DEMO), encoding="utf-8")
    process = TrondProcess(root / "work", config)
    process.start()
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def _no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    without_user_config(monkeypatch, tmp_path)


def cli(
    main: object, trond: TrondProcess, capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, str, str]:
    assert callable(main)
    code = main(["--server", trond.url, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def wait_state(trond: TrondProcess, run_id: str, states: set[str], timeout: float = 20) -> str:
    job, num = run_id.rsplit(".", 1)
    state = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = str(trond.get(f"/api/jobs/{job}/{num}")["state"])
        if state in states:
            return state
        time.sleep(0.1)
    raise AssertionError(f"{run_id} stayed {state}, never {states}")


def start(trond: TrondProcess, capsys: pytest.CaptureFixture[str], job: str) -> str:
    code, out, _ = cli(tronctl.main, trond, capsys, "start", job)
    assert code == 0, out
    assert out.startswith("Created JobRun:")
    return out.strip().removeprefix("Created JobRun:")


def test_start_a_job_and_view_every_level(
    trond: TrondProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = start(trond, capsys, "hello")
    assert run_id.startswith("MASTER.hello.")
    assert wait_state(trond, run_id, {"succeeded", "failed"}) == "succeeded"

    code, out, _ = cli(tronview.main, trond, capsys)
    assert code == 0
    assert out.startswith("\nJobs:\nName ")
    assert "MASTER.hello" in out

    code, out, _ = cli(tronview.main, trond, capsys, "hello")
    assert code == 0
    assert out.startswith("Job                 : MASTER.hello\n")
    assert f".{run_id.rsplit('.', 1)[1]}        succeeded" in out

    code, out, _ = cli(tronview.main, trond, capsys, run_id)
    assert code == 0
    assert "State               : succeeded" in out
    assert ".say " in out
    assert ".after " in out

    code, out, _ = cli(tronview.main, trond, capsys, f"{run_id}.say")
    assert code == 0
    assert "Stdout:\nhello\n" in out
    assert "Stderr:\noops\n" in out

    code, out, _ = cli(tronview.main, trond, capsys, "-o", f"{run_id}.say")
    assert (code, out) == (0, "hello\n")


def test_failed_run_then_retry_then_skip(
    trond: TrondProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = start(trond, capsys, "demo.failing")
    assert wait_state(trond, run_id, {"failed", "succeeded"}) == "failed"
    code, out, _ = cli(tronview.main, trond, capsys, f"{run_id}.boom")
    assert "Final exit status   : 3" in out

    code, out, _ = cli(tronctl.main, trond, capsys, "retry", f"{run_id}.boom")
    assert code == 0, out
    assert "Retry request issued successfully" in out
    assert wait_state(trond, run_id, {"failed"}) == "failed"

    code, out, _ = cli(tronctl.main, trond, capsys, "retry", f"{run_id}.after_boom")
    assert code == 1
    assert "Required actions not yet succeeded: ['boom']" in out

    code, out, _ = cli(tronctl.main, trond, capsys, "skip", f"{run_id}.boom")
    assert (code, out) == (0, f"ActionRun: {run_id}.boom now in state skipped\n")
    assert wait_state(trond, run_id, {"succeeded"}) == "succeeded"


def test_cancel_and_kill(trond: TrondProcess, capsys: pytest.CaptureFixture[str]) -> None:
    run_id = start(trond, capsys, "sleeper")
    wait_state(trond, run_id, {"running"})
    code, out, _ = cli(tronctl.main, trond, capsys, "kill", f"{run_id}.nap")
    assert code == 0, out
    assert out.startswith(f"Attempting to kill ActionRun: {run_id}.nap")
    assert wait_state(trond, run_id, {"failed", "cancelled", "unknown"}) != "running"

    # The run has ended: cancelling it is refused, and the exit status says so (Tron's: 0).
    code, out, _ = cli(tronctl.main, trond, capsys, "cancel", run_id)
    assert code == 1
    assert out.startswith(f"Failed to cancel, JobRun:{run_id} in state ")


def test_skip_and_publish_publishes_the_event_once_named(
    trond: TrondProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = start(trond, capsys, "demo.publisher")
    assert wait_state(trond, run_id, {"failed"}) == "failed"
    action = trond.get(f"/api/jobs/demo.publisher/{run_id.rsplit('.', 1)[1]}/emit")
    batch = str(action["trigger_downstreams"])
    assert batch.startswith("batch.")  # Tron's key.value, which Tron's tronctl prefixes too
    code, out, _ = cli(tronctl.main, trond, capsys, "skip-and-publish", f"{run_id}.emit")
    assert code == 0, out
    assert f"    * demo.publisher.emit.{batch}\n" in out
    assert list(trond.get("/api/events")["response"]) == [f"demo.publisher.emit.{batch}"]


def test_follow_prints_output_until_the_end(
    trond: TrondProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = start(trond, capsys, "ticker")
    code = tronview.main(["--server", trond.url, "--poll-interval", "0.1", "-f", f"{run_id}.tick"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out == "tick 1\ntick 2\ntick 3\n"
    assert err.endswith("finished in state succeeded\n")


def test_unicode_job_names(trond: TrondProcess, capsys: pytest.CaptureFixture[str]) -> None:
    run_id = start(trond, capsys, "uni_ünïcode_job")
    assert run_id.startswith("demo.uni_ünïcode_job.")
    assert wait_state(trond, run_id, {"succeeded", "failed"}) == "succeeded"
    code, out, _ = cli(tronview.main, trond, capsys, f"{run_id}.grüß")
    assert code == 0
    assert "héllo wörld ✓ 日本語 🚀" in out


def test_unknown_job(trond: TrondProcess, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(tronctl.main, trond, capsys, "start", "demo.nope")
    assert (code, out) == (1, "Error: Unknown job identifier: demo.nope\n")


def test_version(trond: TrondProcess, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(tronctl.main, trond, capsys, "version")
    assert code == 0
    assert out.startswith("Tron client version: ")


def test_tronfig_upload_print_reject_delete(
    trond: TrondProcess,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text(EXTRA, encoding="utf-8")
    code, _, err = cli(tronfig.main, trond, capsys, str(extra))
    assert (code, err) == (0, "Configuration uploaded successfully\n")

    code, out, _ = cli(tronfig.main, trond, capsys, "-p", "extra")
    assert (code, out) == (0, EXTRA)
    code, out, _ = cli(tronview.main, trond, capsys)
    assert "extra.added_job" in out

    broken = tmp_path / "broken.yaml"
    broken.write_text(EXTRA.replace("localhost", "no_such_node"), encoding="utf-8")
    code, _, err = cli(tronfig.main, trond, capsys, "-n", "extra", str(broken))
    assert code == 1
    assert "no_such_node" in err
    assert "Traceback" not in err

    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    code, out, err = cli(tronfig.main, trond, capsys, "-d", "extra")
    assert code == 0
    assert err == "Configuration uploaded successfully\n"
    code, out, _ = cli(tronview.main, trond, capsys)
    assert "extra.added_job" not in out


def test_server_down(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.integration.trond_process import free_port

    url = f"http://127.0.0.1:{free_port()}"
    assert tronview.main(["--server", url]) == 1
    assert capsys.readouterr().err.startswith(f"Error connecting to the tron server ({url}): ")


def test_piped_fragment_cannot_quietly_replace_master(
    trond: TrondProcess, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = trond.get("/api/config", name="MASTER")
    monkeypatch.setattr(sys, "stdin", io.StringIO(EXTRA))
    code, out, err = cli(tronfig.main, trond, capsys, "-")
    assert code == 1
    assert out.startswith("Namespace MASTER: 1 added, 1 removed, 0 changed jobs")
    assert "  - job MASTER.hello" in out
    assert "  - MASTER time_zone" in out
    assert err.startswith("Refused: this upload would remove jobs MASTER.hello and MASTER")
    assert trond.get("/api/config", name="MASTER") == before

    monkeypatch.setattr(sys, "stdin", io.StringIO(EXTRA))
    code, out, _ = cli(tronfig.main, trond, capsys, "--dry-run", "-")
    assert (code, out.splitlines()[-1]) == (0, "Dry run: nothing was changed.")
    assert trond.get("/api/config", name="MASTER") == before


MOVABLE = """\
jobs:
  {name}:
    node: localhost
    schedule: "cron 0 8 * * *"
    actions:
      step: {{command: "echo still me ✓"}}
"""


def test_move_then_rename_in_the_config_keeps_the_history(
    trond: TrondProcess,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Tron's way to rename a job: `tronctl move OLD NEW`, then the config names it NEW."""
    source = tmp_path / "moves.yaml"
    source.write_text(MOVABLE.format(name="old_name"), encoding="utf-8")
    assert cli(tronfig.main, trond, capsys, "-n", "moves", str(source))[0] == 0
    run_id = start(trond, capsys, "moves.old_name")
    assert wait_state(trond, run_id, {"succeeded", "failed"}) == "succeeded"
    num = run_id.rsplit(".", 1)[1]

    code, out, _ = cli(tronctl.main, trond, capsys, "move", "moves.old_name", "moves.nouveau_ü")
    assert (code, out) == (0, "Moving moves.old_name to moves.nouveau_ü succeeded.\n")
    code, out, _ = cli(tronctl.main, trond, capsys, "move", "moves.old_name", "moves.x")
    assert (code, out) == (1, "Error: moves.old_name doesn't exist\n")
    code, out, _ = cli(tronview.main, trond, capsys, f"moves.nouveau_ü.{num}.step")
    assert code == 0
    assert "still me ✓" in out  # its output moved with it

    source.write_text(MOVABLE.format(name="nouveau_ü"), encoding="utf-8")
    code, out, err = cli(tronfig.main, trond, capsys, "-n", "moves", str(source))
    assert code == 0, (out, err)
    job = trond.get("/api/jobs/moves.nouveau_ü")
    assert f"moves.nouveau_ü.{num}" in [r["id"] for r in job["runs"]]
    code, out, _ = cli(tronview.main, trond, capsys)
    assert "moves.old_name" not in out
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    assert cli(tronfig.main, trond, capsys, "-d", "moves")[0] == 0
