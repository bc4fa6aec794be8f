"""A private PostgreSQL server for tests: initdb into a temp dir, pg_ctl on a free port.

Debian's `postgresql` package is enough (./scripts/test installs it). The server refuses to
run as root, so when the suite runs as root it runs as the `postgres` user. Each test gets
a database of its own from `PgServer.new_database()`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SHM = Path("/dev/shm")
USER = "tron"


def available() -> bool:
    return (PG_BIN / "pg_ctl").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PgServer:
    """One server; `url(db)` for its databases. `stop()` removes everything."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.data = root / "data"
        self._names = itertools.count(1)

    @classmethod
    def start(cls, *, fsync: bool = False) -> PgServer:
        # Not under pytest's tmp dirs: those are private to root, and the server is not root.
        # In memory (tmpfs) unless durability is asked for: each test's CREATE DATABASE copies
        # about 300 files, three to four times faster there than on this machine's disk, and
        # the files survive a crash of the server all the same.
        memory = None if fsync or not SHM.is_dir() else str(SHM)
        root = Path(tempfile.mkdtemp(prefix="tron-pg-", dir=memory))
        server = cls(root, _free_port())
        os.chmod(root, 0o755)
        if os.getuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(root, entry.pw_uid, entry.pw_gid)
        server._run("initdb", "-D", str(server.data), "-A", "trust", "-U", USER, "-E", "UTF8",
                    "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        server._options = f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1"
        # Tests need no durability across power loss (the benchmark asks for it), but they do
        # crash the server (`-m immediate`): commits still reach the OS before they return.
        if not fsync:
            server._options += " -c fsync=off -c full_page_writes=off"
        server._options += " -c max_connections=200"
        server.pg_ctl("start")
        return server

    def _run(self, tool: str, *args: str) -> None:
        command = [str(PG_BIN / tool), *args]
        if os.getuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.root)

    def pg_ctl(self, action: str, *extra: str) -> None:
        """`start`, `stop`, `restart` (with `-m immediate` for a crash) and so on."""
        log = str(self.root / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", self._options, "-w", action,
                  *extra)  # fmt: skip

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def new_database(self, prefix: str = "t") -> str:
        """A fresh, empty database; its URL."""
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        self.sql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run one statement with psql; its output (unaligned, tuples only)."""
        result = subprocess.run(
            [str(PG_BIN / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
             "-d", self.url(database), "-c", statement],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        return result.stdout.strip()

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)
