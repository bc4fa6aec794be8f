"""Suite-wide fixtures: real sshd servers on loopback (session-scoped, started on first use)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sshd import SSHD, SshKit, start_kit


@pytest.fixture(scope="session")
def ssh_kit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshKit]:
    """Two sshd nodes (`node1`, `node2`) with a stock config, a client key and known_hosts."""
    if not SSHD.exists():
        pytest.skip("openssh-server is not installed (./scripts/test installs it)")
    kit = start_kit(tmp_path_factory.mktemp("ssh"))
    yield kit
    kit.stop()
