"""State stores by name, imported lazily so a backend's driver loads only when chosen."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

from tron.config.model import StatePersistence
from tron.errors import StoreError
from tron.store.base import ConfigVersion, JobState, Store, Transition
from tron.store.dsn import resolve

__all__ = [
    "BACKENDS",
    "ConfigVersion",
    "JobState",
    "Store",
    "Transition",
    "create_store",
    "open_store",
    "state_files",
    "store_class",
]

BACKENDS: dict[str, str] = {
    "memory": "tron.store.memory:MemoryStore",
    "sqlite": "tron.store.sqlite:SqliteStore",
    # Tron's store types: their state moves into SQLite, see _location.
    "shelve": "tron.store.sqlite:SqliteStore",
    "yaml": "tron.store.sqlite:SqliteStore",
    "postgres": "tron.store.postgres:PostgresStore",
}

logger = logging.getLogger(__name__)

_TRON_KINDS = frozenset({"shelve", "yaml"})
_SQLITE_KINDS = frozenset({"sqlite", *_TRON_KINDS})
_SQLITE_SUFFIXES = frozenset({".sqlite", ".sqlite3", ".db"})


def store_class(name: str) -> type[Any]:
    """The class of store `name` (a BACKENDS key); raises StoreError for an unknown name."""
    try:
        module_name, _, class_name = BACKENDS[name].partition(":")
    except KeyError:
        known = ", ".join(sorted(BACKENDS))
        raise StoreError(f"unknown store type {name!r} (known: {known})") from None
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise StoreError(f"store type {name!r} is not available: {exc}") from exc
    cls: type[Any] = getattr(module, class_name)
    return cls


def create_store(kind: str, location: str | Path | None = None, *, file_mode: int = 0o600) -> Store:
    """A store of `kind` at `location` (a path, a DSN; ignored by memory), not yet opened.

    `file_mode` is the mode of the files a store creates on this machine (SQLite's).
    """
    cls = store_class(kind)
    if kind == "memory":
        store: Store = cls()
    elif location is None:
        raise StoreError(f"store type {kind!r} needs a location")
    elif kind in _SQLITE_KINDS:
        store = cls(_location(kind, location), file_mode=file_mode)
    else:
        store = cls(str(location))
    return store


def state_files(store: Store) -> list[Path]:
    """The files `store` keeps on this machine: SQLite's database, WAL and shared memory."""
    # Imported here: the backends load lazily, by name.
    from tron.store.sqlite import SqliteStore

    if not isinstance(store, SqliteStore):
        return []
    return [store.path, *(store.path.with_name(store.path.name + s) for s in ("-wal", "-shm"))]


def open_store(
    persistence: StatePersistence, working_dir: str | Path, *, file_mode: int = 0o600
) -> Store:
    """The store MASTER's `state_persistence` names, not yet opened (the caller awaits open()).

    A relative `name` is taken from the working directory; postgres takes its server from
    `connection` (or Tron's `connection_details`), else $TRON_DATABASE_URL. `file_mode` is as
    for `create_store`.
    """
    kind = persistence.store_type
    if kind == "postgres":
        return create_store(kind, resolve(persistence.connection or persistence.connection_details))
    if kind in _TRON_KINDS:
        logger.info(
            "state_persistence store_type %r is Tron's; tron keeps its state in SQLite at %s",
            kind,
            _location(kind, Path(working_dir) / persistence.name),
        )
    return create_store(kind, Path(working_dir) / persistence.name, file_mode=file_mode)


def _location(kind: str, location: str | Path) -> str | Path:
    # A Tron `shelve` file of the same name may still be there: never open it as SQLite.
    if kind in _TRON_KINDS and Path(location).suffix not in _SQLITE_SUFFIXES:
        return f"{location}.sqlite"
    return location
