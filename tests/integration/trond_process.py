"""A real trond in a child process on an unused loopback port, for kill -9 tests and CLIs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class TrondProcess:
    """Starts `python -m tron` (or the `trond` given) and talks to it over HTTP."""

    def __init__(
        self,
        working_dir: Path,
        config_dir: Path,
        *,
        port: int | None = None,
        args: Sequence[str] = (),
        trond: Sequence[str] = (sys.executable, "-m", "tron"),
    ) -> None:
        self.trond = tuple(trond)
        self.working_dir = working_dir
        self.args = tuple(args)
        self.config_dir = config_dir
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = working_dir / "trond.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        self.spawn()
        self.wait_up(timeout)

    def spawn(self) -> None:
        """Start the process without waiting for it to answer (several start side by side)."""
        self.working_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "TZ": "UTC"}
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    *self.trond,
                    "--working-dir",
                    str(self.working_dir),
                    "--config-path",
                    str(self.config_dir),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    *self.args,
                ],
                stdout=log,
                stderr=log,
                env=env,
            )

    def wait_up(self, timeout: float = 20.0) -> None:
        """Until the spawned process answers `/api/status`."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"trond exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/api/status", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"trond did not come up:\n{self.log.read_text()}")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        self.terminate()
        self.wait_stopped()

    def terminate(self) -> None:
        """Ask it to stop (SIGTERM) without waiting, so several stop side by side."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait_stopped(self) -> None:
        """Until a terminated process has exited; killed if it takes more than 10 s."""
        if self.proc is not None:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def get(self, path: str, **params: Any) -> Any:
        response = httpx.get(f"{self.url}{path}", params=params, timeout=60)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, **form: str) -> Any:
        response = httpx.post(f"{self.url}{path}", data=form, timeout=60)
        response.raise_for_status()
        return response.json()
