"""Tron's captured CLI transcripts, replayed with our CLIs against a real trond.

The captures (`tests/unit/cli/samples/tron*.txt`, from Yelp Tron 3.10.5) are replayed in the
order they were recorded, on the same config (its SSH node replaced by the built-in local
one). Each must give Tron's text and exit status, once times, durations, node names and
versions are set aside, unless `docs/differences.md` names it as a deliberate difference:
then it must still differ, so the page stays true both ways.
"""

from __future__ import annotations

import io
import re
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.api_demo import MASTER
from tests.integration.conftest import without_user_config
from tests.integration.trond_process import TrondProcess
from tests.unit.cli.fake_tron import capture
from tron.cli import tronctl, tronfig, tronview

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DIFFERENCES = ROOT / "docs" / "differences.md"
# The capture's namespace, whose one SSH node `local` becomes our built-in local node.
DEMO = ROOT / "tests" / "unit" / "cli" / "samples" / "config" / "demo.yaml"
# Tron's client logs each HTTP error on stderr before its message; ours says it once.
_TRON_LOG = re.compile(r"^tron\.commands\.client ERROR .*\n", re.MULTILINE)
_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
_DURATION = re.compile(r"\b\d+:\d\d:\d\d(\.\d+)?\b")
_NODE = re.compile(r"\S+@(localhost|127\.0\.0\.1)\b")
_VERSION = re.compile(r"\b\d+\.\d+\.\d+\S*")


@dataclass(frozen=True, slots=True)
class Outcome:
    sample: str
    ours: str
    tron: str

    @property
    def same(self) -> bool:
        return self.ours == self.tron


def normalize(text: str, peer: str = "<peer>") -> str:
    """Set aside what differs between two runs of the same commands, and column widths."""
    text = _TRON_LOG.sub("", text).replace(peer, "<peer>")
    text = _TIME.sub("<time>", text)
    text = _DURATION.sub("<duration>", text)
    text = _NODE.sub("<node>", text)
    text = _VERSION.sub("<version>", text)
    lines = [re.sub(r"[ \t]+", " ", line).rstrip() for line in text.split("\n")]
    lines = [
        line.replace("Node Pool : localhost (", "Node Pool : local (").replace(
            "node: localhost", "node: local"
        )
        for line in lines
    ]
    # Tron lists these two from sets: their order changes from one trond to the next.
    for title in ("List of Actions:", "Requirements:"):
        lines = _sorted_block(lines, title)
    return "\n".join(lines).strip("\n")


def _sorted_block(lines: list[str], title: str) -> list[str]:
    if title not in lines:
        return lines
    start = lines.index(title) + 1
    end = lines.index("", start)
    return [*lines[:start], *sorted(lines[start:end]), *lines[end:]]


class Replay:
    """Runs a capture's command line with our CLI against `trond` and keeps both texts."""

    def __init__(
        self,
        trond: TrondProcess,
        capsys: pytest.CaptureFixture[str],
        peer: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        self.trond = trond
        self.peer = str(peer)
        self.capsys = capsys
        self.monkeypatch = monkeypatch
        self.outcomes: list[Outcome] = []

    def __call__(self, sample: str) -> str:
        expected = capture(sample)
        command = expected.command
        if command.startswith("echo y | "):
            command = command.removeprefix("echo y | ")
            self.monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
        program, *argv = command.split()
        main: Callable[[list[str]], int] = {
            "tronctl": tronctl.main,
            "tronview": tronview.main,
            "tronfig": tronfig.main,
        }[program]
        argv = [self.trond.url if a == "http://127.0.0.1:8089" else a for a in argv]
        code = main(argv)
        out, err = self.capsys.readouterr()
        ours = normalize(f"{out}{err}", self.peer) + f"\n[exit {code}]"
        tron = normalize(expected.text) + f"\n[exit {expected.exit_code}]"
        self.outcomes.append(Outcome(sample, ours, tron))
        return out

    def wait(self, run_id: str, *states: str) -> None:
        job, num = run_id.rsplit(".", 1)
        deadline = time.monotonic() + 60
        state = ""
        while time.monotonic() < deadline:
            state = str(self.trond.get(f"/api/jobs/{job}/{num}")["state"])
            if state in states:
                return
            time.sleep(0.05)
        raise AssertionError(f"{run_id} stayed {state}, never {states}")


@pytest.fixture(scope="module")
def trond(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrondProcess]:
    root = tmp_path_factory.mktemp("transcripts")
    config = root / "config"
    config.mkdir()
    (config / "MASTER.yaml").write_text(textwrap.dedent(MASTER), encoding="utf-8")
    demo = DEMO.read_text(encoding="utf-8").replace("node: local\n", "node: localhost\n")
    (config / "demo.yaml").write_text(demo.replace("<peer>", str(root)), encoding="utf-8")
    (root / "run").mkdir()
    # The capture's tronfig commands name their files relative to its directory.
    peers = root / "peers" / "tron" / "config"
    peers.mkdir(parents=True)
    for source in DEMO.parent.glob("*.yaml"):
        text = source.read_text(encoding="utf-8")
        if source.name != "MASTER.yaml":  # which defines `local`, for `tronfig -V`
            text = text.replace("node: local\n", "node: localhost\n")
        (peers / source.name).write_text(text, encoding="utf-8")
    process = TrondProcess(root / "work", config)
    process.start()
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def _no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    without_user_config(monkeypatch, tmp_path)


def replay_the_capture(play: Replay) -> None:
    """The capture's commands in its order (run numbers depend on it)."""
    play("tronctl_start_job_dag.txt")
    play("tronctl_start_job_cleanup.txt")
    play("tronctl_start_job_failing.txt")
    play("tronctl_start_job_master.txt")
    play("tronctl_start_job_unicode.txt")
    for run in ("demo.dag_job.1", "demo.cleanup_job.1", "MASTER.master_echo.1"):
        play.wait(run, "succeeded")
    play.wait("demo.failing_job.1", "failed")
    play.wait("demo.uni_ünïcode_job.1", "succeeded")
    for sample in (
        "tronview_all.txt",
        "tronview_job_dag.txt",
        "tronview_job_cleanup.txt",
        "tronview_job_failing.txt",
        "tronview_job_unicode.txt",
        "tronview_jobrun_dag_1.txt",
        "tronview_jobrun_cleanup_1.txt",
        "tronview_jobrun_failing_1.txt",
        "tronview_action_dag_1_load.txt",
        "tronview_action_dag_1_load_stdout.txt",
        "tronview_action_cleanup_1_cleanup.txt",
        "tronview_action_failing_1_boom.txt",
        "tronview_action_failing_1_boom_stdout.txt",
        "tronview_action_failing_1_boom_stderr.txt",
        "tronview_action_failing_1_after_boom.txt",
        "tronview_nonexistent.txt",
        "tronview_events.txt",
        "tronctl_start_unknown.txt",
        "tronctl_start_action_in_run.txt",
        "tronctl_cancel_finished_run.txt",
        "tronctl_version.txt",
    ):
        play(sample)
    play("tronctl_rerun_jobrun.txt")
    play("tronctl_retry_action_failed.txt")
    play.wait("demo.failing_job.1", "failed")
    play("tronview_jobrun_failing_1_after_retry.txt")
    play("tronctl_skip_action_failed.txt")
    play.wait("demo.failing_job.1", "succeeded")
    play("tronview_jobrun_failing_1_after_skip.txt")
    play("tronctl_cancel_scheduled_run.txt")
    play("tronctl_disable_job.txt")
    play("tronctl_enable_job.txt")
    play("tronctl_start_long_job.txt")
    play.wait("demo.long_job.1", "running")
    play("tronctl_cancel_running_run.txt")
    play("tronctl_stop_action.txt")
    play("tronctl_start_long_job_2.txt")
    play.wait("demo.long_job.2", "running")
    play("tronctl_kill_action.txt")
    play.wait("demo.long_job.2", "failed")
    play("tronctl_success_on_failed.txt")
    play("tronfig_upload_new_namespace_extra_v1.txt")
    play("tronfig_print_extra_v1.txt")
    play("tronfig_upload_changed_namespace_extra_v2.txt")
    play("tronfig_check_extra_v2.txt")
    play("tronfig_print_extra_v2.txt")
    for broken in (
        "tronfig_upload_broken_bad_schedule.txt",
        "tronfig_upload_broken_requires_cycle.txt",
        "tronfig_upload_broken_unicode_first_char.txt",
        "tronfig_upload_broken_unknown_node.txt",
        "tronfig_upload_broken_yaml_syntax.txt",
        "tronfig_validate_local_broken_unknown_node.txt",
    ):
        play(broken)
    play("tronfig_delete_extra.txt")


def documented_differences() -> set[str]:
    return set(re.findall(r"`(tron(?:ctl|view|fig)_[\w.]+\.txt)`", DIFFERENCES.read_text()))


def test_trons_transcripts_match_ours_but_where_the_differences_page_says(
    trond: TrondProcess, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = trond.config_dir.parent
    monkeypatch.chdir(root)
    play = Replay(trond, capsys, root, monkeypatch)
    replay_the_capture(play)
    documented = documented_differences()
    wrong = [
        f"{o.sample}: {'documented as a difference but matches' if o.same else 'differs'}\n"
        f"--- Tron\n{o.tron}\n--- ours\n{o.ours}"
        for o in play.outcomes
        if o.same == (o.sample in documented)
    ]
    assert not wrong, "\n\n".join(wrong)
    # Every transcript the page names was replayed.
    assert documented <= {o.sample for o in play.outcomes}
