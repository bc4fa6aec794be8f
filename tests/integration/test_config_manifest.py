"""`_manifest.yaml` is kept as Tron keeps it (namespace -> file), so a config dir trond has
written can go back to Tron, which refuses to start without one."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.integration.conftest import Harness, write_config
from tron.config import load_config

MASTER = """\
    time_zone: UTC
    jobs: {}
"""
JOBS = """\
jobs:
  j:
    node: localhost
    schedule: "cron 0 3 * * *"
    actions:
      a: {command: "echo a"}
"""


def manifest(config_dir: Path) -> dict[str, str]:
    data = yaml.safe_load((config_dir / "_manifest.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def all_listed_files_exist(config_dir: Path) -> bool:
    return all(Path(p).is_file() for p in manifest(config_dir).values())


async def test_manifest_lists_every_namespace_after_uploads_and_deletes(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    write_config(h.config_dir, MASTER)
    root = h.config_dir.resolve()
    async with h.running():
        await h.post("/api/config", name="extra", config=JOBS)
        assert manifest(h.config_dir) == {
            "MASTER": str(root / "MASTER.yaml"),
            "extra": str(root / "extra.yaml"),
        }
        await h.post("/api/config", name="team-etl", config=JOBS.replace("j:", "k:"))
        await h.post("/api/config", name="gone", config=JOBS.replace("j:", "g:"))
        await h.post("/api/config", name="gone", config="")
        await h.post("/api/config", name="MASTER", config=MASTER.replace("    ", ""))
    assert manifest(h.config_dir) == {
        "MASTER": str(root / "MASTER.yaml"),
        "extra": str(root / "extra.yaml"),
        "team-etl": str(root / "team-etl.yaml"),
    }
    assert not (root / "gone.yaml").exists()
    # Every listed file is there, and the manifest loads the same namespaces.
    assert all_listed_files_exist(h.config_dir)
    assert set(load_config(h.config_dir).namespaces) == {"MASTER", "extra", "team-etl"}


async def test_a_tron_manifest_keeps_its_entries(tmp_path: Path) -> None:
    # Tron's relative entries (resolved against its working dir) stay as they were.
    h = Harness(tmp_path)
    write_config(h.config_dir, MASTER, alpha=JOBS)
    entries = {"MASTER": "config/MASTER.yaml", "alpha": "config/alpha.yaml"}
    (h.config_dir / "_manifest.yaml").write_text(yaml.safe_dump(entries), encoding="utf-8")
    async with h.running():
        await h.post("/api/config", name="alpha", config=JOBS.replace("echo a", "echo b"))
        await h.post("/api/config", name="beta", config=JOBS)
    assert "echo b" in (h.config_dir / "alpha.yaml").read_text(encoding="utf-8")
    assert manifest(h.config_dir) == {
        **entries,
        "beta": str(h.config_dir.resolve() / "beta.yaml"),
    }
