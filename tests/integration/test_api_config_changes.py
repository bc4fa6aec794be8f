"""`POST /api/config` says what an upload changes: with check=1 before anything happens, and
once applied with its config version (also in trond's log)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.integration.conftest import Harness, write_config

MASTER = """\
    time_zone: UTC
    command_context: {GREETING: hello}
    jobs:
      backup:
        node: localhost
        schedule: "cron 0 3 * * *"
        actions:
          dump: {command: "echo {GREETING}"}
      report:
        node: localhost
        schedule: "cron 0 4 * * *"
        actions:
          mail: {command: "echo mail"}
"""
# What `cat ops.yaml | tronfig -` sends to MASTER: a fragment's jobs, nothing else.
OPS = """\
jobs:
  backup:
    node: localhost
    schedule: "cron 30 5 * * *"
    actions:
      dump: {command: "echo dump"}
"""


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    h = Harness(tmp_path)
    write_config(h.config_dir, MASTER)
    return h


async def test_check_names_removals_and_the_pending_run(harness: Harness) -> None:
    async with harness.running() as h:
        before = await h.get("/api/config", name="MASTER")
        body = await h.post("/api/config", name="MASTER", config=OPS, check="1")
        changes = body["changes"]
        assert body["status"] == "Active"
        assert changes["namespace"] == "MASTER"
        assert changes["removed"] == ["MASTER.report"]
        assert changes["changed"] == {"MASTER.backup": ["schedule", "actions.dump.command"]}
        assert changes["removed_settings"] == ["time_zone", "command_context"]
        assert changes["version"] is None
        (note,) = changes["notes"]
        assert "the pending run stays at 2026-03-02 03:00:00" in note
        # Nothing was applied.
        assert await h.get("/api/config", name="MASTER") == before


async def test_applied_upload_returns_and_logs_its_version(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tron.engine.daemon")
    async with harness.running() as h:
        extra = OPS.replace("backup", "j")
        body = await h.post("/api/config", name="extra", config=extra)
        changes = body["changes"]
        assert changes["added"] == ["extra.j"]
        assert isinstance(changes["version"], int)
    logged = [r.getMessage() for r in caplog.records if "applied as version" in r.getMessage()]
    assert logged == [
        f"config of namespace extra applied as version {changes['version']}: "
        "Namespace extra: 1 added, 0 removed, 0 changed jobs; + job extra.j"
    ]
