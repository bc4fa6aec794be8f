"""Real OpenSSH servers on loopback for the `ssh` tests: keys, sshd processes, configs."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import asyncssh

from tron.config.model import ActionRunnerConfig, Config, NodeConfig, SshOptions
from tron.executors.base import ActionSpec, ExitStatus, Handle

SSHD = Path("/usr/sbin/sshd")
USER = "root" if os.geteuid() == 0 else os.environ.get("USER", "root")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_key(path: Path) -> str:
    """Write a new ed25519 private key to `path`; return its public key line."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    key.write_private_key(str(path))
    path.chmod(0o600)
    public: str = key.export_public_key().decode("ascii").strip()
    return public


_SSHD_CONFIG = """\
Port {port}
ListenAddress 127.0.0.1
HostKey {dir}/host_key
PidFile {dir}/sshd.pid
AuthorizedKeysFile {authorized}
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
# Bash sources ~/.bashrc for commands run by sshd only at shell level 1; this machine's
# .bashrc runs `pyenv init` (0.3 s), which would dwarf everything the tests measure.
SetEnv SHLVL=1 TRON_TEST_NODE={name}
{subsystem}{extra}
"""


@dataclass(slots=True, kw_only=True)
class SshServer:
    """One sshd process: a node at 127.0.0.1:`port`."""

    name: str
    port: int
    directory: Path
    host_key: str
    proc: subprocess.Popen[bytes] | None = None

    @property
    def node(self) -> NodeConfig:
        return NodeConfig(name=self.name, hostname="127.0.0.1", username=USER, port=self.port)

    def session_pids(self) -> list[int]:
        """Pids of the per-connection sshd processes (children of the listener)."""
        assert self.proc is not None
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and _parent_of(entry) == self.proc.pid:
                found.append(int(entry.name))
        return found

    def kill_sessions(self) -> list[int]:
        """SIGKILL every per-connection sshd process: the client sees its connections drop."""
        pids = self.session_pids()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        return pids

    def go_down(self) -> None:
        """Stop listening and drop every open connection: the node becomes unreachable."""
        sessions = self.session_pids()
        self.stop()
        for pid in sessions:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def restart(self) -> None:
        """(Re)start the listener with the same port, config and host key."""
        self.stop()
        log = self.directory / "sshd.log"
        config = self.directory / "sshd_config"
        self.proc = subprocess.Popen(
            [str(SSHD), "-D", "-f", str(config), "-E", str(log)], stdin=subprocess.DEVNULL
        )
        _wait_listening(self, log)


def _parent_of(entry: Path) -> int | None:
    try:
        stat = (entry / "stat").read_bytes()
    except OSError:
        return None
    return int(stat.rsplit(b")", 1)[-1].split()[1])


def start_sshd(
    directory: Path,
    name: str,
    authorized: Path,
    *,
    extra: str = "",
    port: int | None = None,
    sftp: bool = False,
) -> SshServer:
    """Start sshd in the foreground (a child we can kill) and wait until it accepts.

    Like many hardened nodes (and NOTES.md's recipe), it has no `Subsystem` line, so no SFTP,
    unless `sftp`."""
    directory.mkdir(parents=True, exist_ok=True)
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)
    host_key = write_key(directory / "host_key")
    port = port or free_port()
    config = directory / "sshd_config"
    config.write_text(
        _SSHD_CONFIG.format(
            port=port,
            dir=directory,
            authorized=authorized,
            extra=extra,
            name=name,
            subsystem="Subsystem sftp internal-sftp\n" if sftp else "",
        )
    )
    server = SshServer(name=name, port=port, directory=directory, host_key=host_key)
    server.restart()
    return server


def _wait_listening(server: SshServer, log: Path) -> None:
    assert server.proc is not None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"sshd exited: {log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("sshd did not listen in time")


@dataclass(slots=True, kw_only=True)
class SshKit:
    """A client key, servers that accept it, and a known_hosts file naming them."""

    directory: Path
    client_key: Path
    known_hosts: Path
    servers: list[SshServer] = field(default_factory=list)

    @property
    def remote_root(self) -> Path:
        return self.directory / "remote"

    def ssh_options(self, **overrides: Any) -> SshOptions:
        options = SshOptions(
            identities=(str(self.client_key),),
            known_hosts_file=str(self.known_hosts),
            connect_timeout=5,
            jitter_max_delay=0,
        )
        return replace(options, **overrides)

    def config(self, **overrides: Any) -> Config:
        """A Config with every server as a node (named after the server)."""
        return Config(
            namespaces=MappingProxyType({}),
            nodes=MappingProxyType({s.name: s.node for s in self.servers}),
            ssh_options=self.ssh_options(**overrides),
            action_runner=ActionRunnerConfig(remote_status_path=str(self.remote_root)),
        )

    def master_yaml(self, *, extra_nodes: str = "", **ssh: Any) -> str:
        """MASTER.yaml text with every server as a node, plus `extra_nodes` lines."""
        options = {
            "identities": f"[{self.client_key}]",
            "known_hosts_file": str(self.known_hosts),
            "connect_timeout": 5,
            "jitter_max_delay": 0,
            **ssh,
        }
        lines = ["ssh_options:", *(f"  {key}: {value}" for key, value in options.items())]
        lines += ["action_runner:", f"  remote_status_path: {self.remote_root}", "nodes:"]
        for server in self.servers:
            lines.append(
                f"  - {{name: {server.name}, hostname: 127.0.0.1, port: {server.port}, "
                f"username: {USER}}}"
            )
        return "\n".join(lines) + "\n" + extra_nodes

    def extra_server(self, name: str, *, extra: str = "", sftp: bool = False) -> SshServer:
        """Start another sshd that accepts the kit's key and is in its known_hosts, but is not
        one of `servers` (so other tests never see it); stopping it is the caller's job."""
        authorized = self.directory / "authorized_keys"
        server = start_sshd(self.directory / name, name, authorized, extra=extra, sftp=sftp)
        with self.known_hosts.open("a") as known:
            known.write(f"[127.0.0.1]:{server.port} {server.host_key}\n")
        return server

    def config_for(self, servers: list[SshServer], **overrides: Any) -> Config:
        """Like `config`, with `servers` as the nodes."""
        nodes = MappingProxyType({server.name: server.node for server in servers})
        return replace(self.config(**overrides), nodes=nodes)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def start_kit(directory: Path, names: tuple[str, ...] = ("node1", "node2")) -> SshKit:
    directory.mkdir(parents=True, exist_ok=True)
    client_key = directory / "id_ed25519"
    authorized = directory / "authorized_keys"
    authorized.write_text(write_key(client_key) + "\n")
    kit = SshKit(directory=directory, client_key=client_key, known_hosts=directory / "known_hosts")
    for name in names:
        kit.servers.append(start_sshd(directory / name, name, authorized))
    lines = [f"[127.0.0.1]:{s.port} {s.host_key}" for s in kit.servers]
    kit.known_hosts.write_text("\n".join(lines) + "\n")
    return kit


class NodeBound:
    """An SshExecutor that runs node-less specs on one node, for the executor contract suite."""

    def __init__(self, executor: Any, node: NodeConfig) -> None:
        self._executor = executor
        self._node = node

    async def start(self, spec: ActionSpec) -> Handle:
        handle: Handle = await self._executor.start(replace(spec, node=self._node))
        return handle

    async def wait(self, handle: Handle) -> ExitStatus:
        status: ExitStatus = await self._executor.wait(handle)
        return status

    async def signal(self, handle: Handle, signum: int) -> None:
        await self._executor.signal(handle, signum)

    async def reattach(self, handle: Handle) -> Handle:
        reattached: Handle = await self._executor.reattach(handle)
        return reattached

    async def close(self) -> None:
        await self._executor.close()


KIT_ENV = "TRON_TEST_SSH_KIT"


def build_from_env() -> NodeBound:
    """For child processes of the contract suite: an executor on the kit named in the env."""
    from tron.executors.ssh import SshExecutor

    directory = Path(os.environ[KIT_ENV])
    kit = SshKit(
        directory=directory,
        client_key=directory / "id_ed25519",
        known_hosts=directory / "known_hosts",
    )
    port = int((directory / "node1" / "sshd_config").read_text().split()[1])
    kit.servers.append(SshServer(name="node1", port=port, directory=directory, host_key=""))
    return NodeBound(SshExecutor(kit.config()), kit.servers[0].node)
