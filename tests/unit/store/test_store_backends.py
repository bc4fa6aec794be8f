"""Choosing a store by name, as the config's state_persistence names it."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from tron.config.model import StatePersistence
from tron.errors import StoreError
from tron.store import create_store, open_store, store_class
from tron.store.memory import MemoryStore
from tron.store.postgres import PostgresStore
from tron.store.sqlite import SqliteStore


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("memory", MemoryStore),
        ("sqlite", SqliteStore),
        ("shelve", SqliteStore),
        ("yaml", SqliteStore),
    ],
)
def test_store_class_maps_names_to_backends(name: str, cls: type) -> None:
    assert store_class(name) is cls


def test_store_class_raises_store_error_for_unknown_name() -> None:
    with pytest.raises(StoreError, match="dynamodb"):
        store_class("dynamodb")


def test_tron_store_types_get_their_own_sqlite_file(tmp_path: Path) -> None:
    store = create_store("shelve", tmp_path / "tron_state")
    assert isinstance(store, SqliteStore)
    assert store.path == tmp_path / "tron_state.sqlite"


@pytest.mark.parametrize("name", ["state.db", "state.sqlite", "state.sqlite3"])
def test_sqlite_file_names_are_kept(tmp_path: Path, name: str) -> None:
    store = create_store("yaml", tmp_path / name)
    assert isinstance(store, SqliteStore)
    assert store.path == tmp_path / name


def test_create_store_raises_store_error_without_location() -> None:
    with pytest.raises(StoreError, match="location"):
        create_store("sqlite")


async def test_open_store_builds_the_configured_store_in_the_working_dir(
    tmp_path: Path,
) -> None:
    store = open_store(StatePersistence(name="tron_state", store_type="shelve"), tmp_path)
    assert isinstance(store, SqliteStore)
    assert store.path == tmp_path / "tron_state.sqlite"
    await store.open()
    try:
        assert await store.add_event("e")
    finally:
        await store.close()
    assert (tmp_path / "tron_state.sqlite").exists()


def test_open_store_keeps_an_absolute_name(tmp_path: Path) -> None:
    persistence = StatePersistence(name=str(tmp_path / "abs.db"), store_type="sqlite")
    store = open_store(persistence, "/elsewhere")
    assert isinstance(store, SqliteStore)
    assert store.path == tmp_path / "abs.db"


def test_open_store_builds_memory_store() -> None:
    assert isinstance(open_store(StatePersistence(store_type="memory"), "."), MemoryStore)


def test_postgres_takes_its_server_from_the_config_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRON_DATABASE_URL", raising=False)
    persistence = StatePersistence(store_type="postgres", connection_details="dbname=tron")
    assert isinstance(store := open_store(persistence, tmp_path), PostgresStore)
    assert store.dsn == "dbname=tron"
    given = StatePersistence(store_type="postgres", connection="postgresql://u:pw@h/db")
    assert cast(PostgresStore, open_store(given, tmp_path)).where == "postgresql://u:***@h/db"
    with pytest.raises(StoreError, match="TRON_DATABASE_URL"):
        open_store(StatePersistence(store_type="postgres"), tmp_path)
    monkeypatch.setenv("TRON_DATABASE_URL", "postgresql://env/db")
    from_env = open_store(StatePersistence(store_type="postgres"), tmp_path)
    assert cast(PostgresStore, from_env).dsn == "postgresql://env/db"
    assert store_class("postgres") is PostgresStore
