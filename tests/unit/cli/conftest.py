"""Fixtures for the CLI tests: a fake trond and a client config isolated from the machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from .fake_tron import FakeTron


@pytest.fixture
def tron() -> FakeTron:
    return FakeTron()


@pytest.fixture(autouse=True)
def _isolated_client_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The developer's ~/.tron or /etc/tron must not leak into tests.
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("TRON_CONFIG", str(tmp_path / "no-such-tron.yaml"))
    for name in ("TRON_SERVER", "TRON_TOKEN", "TRON_TOKEN_FILE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
