"""The exec-channel record reader's shell loop, run by hand with /bin/sh (dash on Debian) on
files in a temporary directory, and its answers parsed as the SSH executor parses them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tron.errors import NodeError
from tron.executors.ssh_records import (
    _SCRIPT,
    CHUNK_MOST,
    Answer,
    Liveness,
    Query,
    parse_answers,
)
from tron.executors.supervisor import EXIT_PLACEHOLDER


def _ask(*queries: Query) -> list[Answer]:
    stdin = b"".join(query.line() for query in queries)
    done = subprocess.run(["/bin/sh", "-c", _SCRIPT], input=stdin, capture_output=True, check=True)
    return parse_answers(done.stdout, len(queries))


def test_an_attempt_with_no_files_has_no_trace(tmp_path: Path) -> None:
    (answer,) = _ask(Query(prefix=f"{tmp_path}/a.0.x.", check=True))
    assert answer == Answer(liveness=Liveness.GONE)
    assert not answer.has_trace


def test_records_complete_partial_and_absent(tmp_path: Path) -> None:
    prefix = f"{tmp_path}/job with space.0.x."
    Path(prefix + "exit").write_text(EXIT_PLACEHOLDER)
    Path(prefix + "pid").write_text("123\n")
    Path(prefix + "supervisor").write_text("45")  # still being written
    (answer,) = _ask(Query(prefix=prefix))
    assert answer.liveness is Liveness.NOT_CHECKED
    assert answer.texts == {"exit": EXIT_PLACEHOLDER, "pid": "123\n", "supervisor": "45"}
    assert answer.has_trace


def test_output_from_the_local_size_on_in_bounded_chunks(tmp_path: Path) -> None:
    prefix = f"{tmp_path}/a.1.x."
    data = bytes(range(256)) * (CHUNK_MOST // 256) + b"\n\x00tail"
    Path(prefix + "stdout").write_bytes(data)
    Path(prefix + "stderr").write_bytes(b"")
    first, later = _ask(Query(prefix=prefix), Query(prefix=prefix, offsets=(CHUNK_MOST, 0)))
    assert first.chunks["stdout"].size == len(data)
    assert first.chunks["stdout"].data == data[:CHUNK_MOST]
    assert not first.copied_all((0, 0))
    assert later.chunks["stdout"].data == data[CHUNK_MOST:]
    assert later.chunks["stderr"].data == b""
    assert later.copied_all((CHUNK_MOST, 0))


def test_liveness_of_live_and_dead_processes(tmp_path: Path) -> None:
    live, dead = f"{tmp_path}/live.", f"{tmp_path}/dead."
    Path(live + "pid").write_text(f"{os.getpid()}\n")
    sleeper = subprocess.Popen(["true"])
    sleeper.wait()
    Path(dead + "pid").write_text(f"{sleeper.pid}\n")
    Path(dead + "supervisor").write_text(f"{sleeper.pid}\n")
    answers = _ask(Query(prefix=live, check=True), Query(prefix=dead, check=True))
    assert [answer.liveness for answer in answers] == [Liveness.ALIVE, Liveness.DEAD]


def test_a_short_answer_is_a_node_error() -> None:
    with pytest.raises(NodeError):
        parse_answers(b"a\n-\n", 1)
    with pytest.raises(NodeError):
        parse_answers(b"a\n-\n-\n-\n-\n-\n10 5\nabc", 1)


def test_a_prefix_with_a_newline_is_refused() -> None:
    with pytest.raises(NodeError):
        Query(prefix="/tmp/a\nb.").line()
