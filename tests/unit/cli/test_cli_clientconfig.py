"""Client settings: flag, then environment, then ~/.tron, then $TRON_CONFIG, then defaults."""

from __future__ import annotations

from pathlib import Path

import yaml

from tron.cli.clientconfig import ClientConfig, load_client_config, save_client_config


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(tmp_path), "TRON_CONFIG": str(tmp_path / "system.yaml"), **extra}


def test_defaults(tmp_path: Path) -> None:
    assert load_client_config(env=env_for(tmp_path)) == ClientConfig()


def test_flag_beats_env_beats_file(tmp_path: Path) -> None:
    (tmp_path / ".tron").write_text("server: http://file:1\n")
    env = env_for(tmp_path, TRON_SERVER="http://env:2")
    assert load_client_config(env=env).server == "http://env:2"
    assert load_client_config(server="http://flag:3", env=env).server == "http://flag:3"
    assert load_client_config(env=env_for(tmp_path)).server == "http://file:1"


def test_user_file_beats_system_file(tmp_path: Path) -> None:
    (tmp_path / "system.yaml").write_text("server: http://system:1\ncluster_name: prod\n")
    assert load_client_config(env=env_for(tmp_path)).server == "http://system:1"
    (tmp_path / ".tron").write_text("server: http://user:2\n")
    config = load_client_config(env=env_for(tmp_path))
    assert (config.server, config.cluster_name) == ("http://user:2", "Unnamed Cluster")


def test_empty_or_broken_user_file_falls_through(tmp_path: Path) -> None:
    (tmp_path / "system.yaml").write_text("server: http://system:1\n")
    (tmp_path / ".tron").write_text("")
    assert load_client_config(env=env_for(tmp_path)).server == "http://system:1"
    (tmp_path / ".tron").write_text("[unclosed\n")
    assert load_client_config(env=env_for(tmp_path)).server == "http://system:1"


def test_token_from_flag_env_or_file(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    env = env_for(tmp_path, TRON_TOKEN_FILE=str(token_file))
    assert load_client_config(env=env).token == "from-file"
    env["TRON_TOKEN"] = "from-env"
    assert load_client_config(env=env).token == "from-env"
    assert load_client_config(token="from-flag", env=env).token == "from-flag"
    assert load_client_config(env=env_for(tmp_path, TRON_TOKEN_FILE="/no/such")).token is None


def test_display_color_from_file(tmp_path: Path) -> None:
    (tmp_path / ".tron").write_text("display_color: true\n")
    assert load_client_config(env=env_for(tmp_path)).display_color is True
    assert load_client_config(color=False, env=env_for(tmp_path)).display_color is False


def test_save_merges_into_user_file(tmp_path: Path) -> None:
    (tmp_path / ".tron").write_text("other: kept\n")
    config = ClientConfig(server="http://saved:9", display_color=True)
    save_client_config(config, include_color=False, env=env_for(tmp_path))
    saved = yaml.safe_load((tmp_path / ".tron").read_text())
    assert saved == {"other": "kept", "server": "http://saved:9", "cluster_name": "Unnamed Cluster"}
    save_client_config(config, include_color=True, env=env_for(tmp_path))
    assert yaml.safe_load((tmp_path / ".tron").read_text())["display_color"] is True
