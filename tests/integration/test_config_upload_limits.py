"""Config uploads are checked off the event loop, within YAML limits and a time budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from tron.config.limits import YAML_LIMITS
from tron.engine.daemon import Daemon, DaemonSettings
from tron.errors import ConfigError

from .conftest import Harness, write_config

ALIAS_LIMIT = f"YAML aliases expand past {YAML_LIMITS.max_alias_nodes} nodes"
MASTER = "jobs: {}\n"


def bomb(levels: int) -> str:
    lines = ['a0: &a0 ["lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


async def test_a_bomb_upload_is_a_400_naming_the_limit(harness: Harness) -> None:
    write_config(harness.config_dir, MASTER)
    async with harness.running() as h:
        before = rss_kb()
        body = await h.post("/api/config", expect=400, name="team", config=bomb(9))
        assert rss_kb() - before < 50 * 1024
        assert body["problems"] == [
            {"file": "team.yaml", "line": 7, "key_path": "a6.6", "message": ALIAS_LIMIT}
        ]
        # Still answering, and nothing changed.
        assert "team" not in (await h.get("/api"))["namespaces"]
        assert not (h.config_dir / "team.yaml").exists()


async def test_a_check_past_its_budget_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    """With no time at all, even a tiny check is refused: it runs in a thread, not inline."""
    config_dir = write_config(tmp_path / "config", MASTER)
    settings = DaemonSettings(
        working_dir=tmp_path / "work",
        config_path=config_dir,
        default_time_zone="UTC",
        config_check_budget=0.0,
    )
    async with Daemon(settings) as daemon:
        with pytest.raises(ConfigError) as caught:
            await daemon.update_namespace("team", "jobs: {}\n", None)
        (problem,) = caught.value.problems
        assert problem.message == ("checking the config took longer than 0 s; nothing was changed")
        assert "team" not in daemon.config.namespaces
        assert not (config_dir / "team.yaml").exists()
        # The next check waits for the abandoned one, then is judged on its own.
        with pytest.raises(ConfigError):
            await daemon.update_namespace("team", "jobs: {}\n", None, check=True)


async def test_a_namespace_named_manifest_is_refused_and_trond_restarts(harness: Harness) -> None:
    write_config(harness.config_dir, MASTER)
    async with harness.running() as h:
        body = await h.post("/api/config", expect=400, name="_manifest", config="jobs: {}\n")
        assert body["problems"][0]["message"] == (
            "Namespace name '_manifest' is reserved for trond's own files"
        )
        assert not (h.config_dir / "_manifest.yaml").exists()
    async with harness.running() as h:
        assert (await h.get("/api"))["namespaces"] == ["MASTER"]
