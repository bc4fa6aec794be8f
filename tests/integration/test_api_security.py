"""Off loopback, trond requires a bearer token (a 0600 file it creates); the CLIs send it;
the event stream takes a one-use ticket instead; foreign Host names are refused."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import without_user_config
from tests.integration.trond_process import free_port
from tron.__main__ import api_token, parse_args
from tron.cli import tronctl, tronview

pytestmark = pytest.mark.slow

MASTER = """\
    time_zone: UTC
    jobs:
      hello:
        node: localhost
        schedule: "cron 0 4 * * *"
        actions:
          say: {command: "echo hello"}
"""


class ExposedTrond:
    """trond bound to every address (0.0.0.0), reached through loopback."""

    def __init__(self, root: Path) -> None:
        self.working_dir = root / "work"
        self.config_dir = root / "config"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.config_dir.mkdir(parents=True)
        (self.config_dir / "MASTER.yaml").write_text(textwrap.dedent(MASTER), encoding="utf-8")
        self.working_dir.mkdir()
        argv = [sys.executable, "-m", "tron", "--working-dir", str(self.working_dir)]
        argv += ["--config-path", str(self.config_dir), "--host", "0.0.0.0"]
        argv += ["--port", str(self.port)]
        env = {k: v for k, v in os.environ.items() if k != "TRON_API_TOKEN"}
        log = (self.working_dir / "trond.log").open("ab")
        self.proc = subprocess.Popen(argv, stdout=log, stderr=log, env=env)
        log.close()
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError((self.working_dir / "trond.log").read_text())
            try:
                httpx.get(f"{self.url}/api/status", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("trond did not come up")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)

    @property
    def token_file(self) -> Path:
        return self.working_dir / "api_token"


@pytest.fixture(scope="module")
def exposed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExposedTrond]:
    trond = ExposedTrond(tmp_path_factory.mktemp("exposed"))
    trond.start()
    yield trond
    trond.stop()


@pytest.fixture(autouse=True)
def _no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    without_user_config(monkeypatch, tmp_path)


def test_token_file_is_created_private(exposed: ExposedTrond) -> None:
    mode = stat.S_IMODE(exposed.token_file.stat().st_mode)
    assert mode == 0o600
    assert len(exposed.token_file.read_text().strip()) >= 32


@pytest.mark.parametrize("path", ["/api/status", "/api/jobs", "/metrics", "/openapi.json"])
def test_request_without_token_gets_401(exposed: ExposedTrond, path: str) -> None:
    response = httpx.get(exposed.url + path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "error" in response.json()


def test_request_with_wrong_token_gets_401(exposed: ExposedTrond) -> None:
    headers = {"Authorization": "Bearer not-the-token"}
    assert httpx.get(f"{exposed.url}/api/status", headers=headers).status_code == 401


def test_request_with_token_gets_200(exposed: ExposedTrond) -> None:
    token = exposed.token_file.read_text().strip()
    headers = {"Authorization": f"Bearer {token}"}
    response = httpx.get(f"{exposed.url}/api/jobs", headers=headers)
    assert response.status_code == 200
    assert [j["name"] for j in response.json()["jobs"]] == ["MASTER.hello"]


def test_tronview_without_token_fails_clearly(
    exposed: ExposedTrond, capsys: pytest.CaptureFixture[str]
) -> None:
    code = tronview.main(["--server", exposed.url])
    out, err = capsys.readouterr()
    assert code == 1
    assert "Authentication required" in out + err


def test_clis_read_the_token_file_named_by_tron_token_file(
    exposed: ExposedTrond, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRON_TOKEN_FILE", str(exposed.token_file))
    assert tronview.main(["--server", exposed.url]) == 0
    assert "MASTER.hello" in capsys.readouterr().out
    assert tronctl.main(["--server", exposed.url, "disable", "hello"]) == 0
    assert capsys.readouterr().out.startswith("Job:MASTER.hello is disabled")


def test_clis_send_the_token_from_tron_token(
    exposed: ExposedTrond, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRON_TOKEN", exposed.token_file.read_text().strip())
    assert tronctl.main(["--server", exposed.url, "enable", "hello"]) == 0
    assert capsys.readouterr().out.strip() == "Job:MASTER.hello is enabled"


def test_no_token_is_needed_or_created_on_loopback(tmp_path: Path) -> None:
    assert api_token(parse_args(["--host", "127.0.0.1"]), tmp_path) is None
    assert api_token(parse_args(["--host", "::1"]), tmp_path) is None
    assert not (tmp_path / "api_token").exists()


def test_given_token_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRON_API_TOKEN", raising=False)
    assert api_token(parse_args(["--host", "0.0.0.0", "--token", "t0k"]), tmp_path) == "t0k"
    monkeypatch.setenv("TRON_API_TOKEN", "fromenv")
    assert api_token(parse_args(["--host", "10.1.2.3"]), tmp_path) == "fromenv"
    assert not (tmp_path / "api_token").exists()


def test_token_file_is_kept_across_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRON_API_TOKEN", raising=False)
    args = parse_args(["--host", "0.0.0.0"])
    first = api_token(args, tmp_path)
    assert first
    assert api_token(args, tmp_path) == first


def _bearer(exposed: ExposedTrond) -> dict[str, str]:
    return {"Authorization": f"Bearer {exposed.token_file.read_text().strip()}"}


def test_event_stream_opens_with_a_one_use_ticket_not_the_token(exposed: ExposedTrond) -> None:
    token = exposed.token_file.read_text().strip()
    assert httpx.get(f"{exposed.url}/api/stream", params={"token": token}).status_code == 401
    ticket = httpx.post(f"{exposed.url}/api/stream/ticket", headers=_bearer(exposed)).json()
    url = f"{exposed.url}/api/stream?ticket={ticket['ticket']}"
    with httpx.stream("GET", url, timeout=20) as stream:
        assert stream.status_code == 200
        assert next(stream.iter_lines()) == ": connected"
    assert httpx.get(url).status_code == 401


def test_foreign_host_header_is_refused_by_a_running_trond(exposed: ExposedTrond) -> None:
    """DNS rebinding: the page's own name arrives in Host, on trond's port."""
    headers = {**_bearer(exposed), "Host": f"evil.example:{exposed.port}"}
    response = httpx.post(
        f"{exposed.url}/api/jobs/MASTER.hello", data={"command": "start"}, headers=headers
    )
    assert response.status_code == 403
    assert "evil.example" in response.json()["error"]
    jobs = httpx.get(f"{exposed.url}/api/jobs/MASTER.hello", headers=_bearer(exposed)).json()
    assert not [run for run in jobs["runs"] if run["manual"]]


def test_site_flags_are_validated() -> None:
    args = parse_args(["--allowed-host", "tron.example.com", "--cors-origin", "https://ui.x"])
    assert args.site.trusts_origin("https://ui.x:443")
    for bad in (["--cors-origin", "*"], ["--allowed-host", "a:b"], ["--cors-origin", "ui.x"]):
        with pytest.raises(SystemExit):
            parse_args(bad)
