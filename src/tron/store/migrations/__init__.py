"""SQLite schema migrations: the `NNNN_name.sql` files here, applied in order, each once."""

from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass
from importlib import resources

from tron.errors import StoreError

logger = logging.getLogger(__name__)

_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[A-Za-z0-9_-]+)\.sql$")

_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
)
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """The migrations shipped in this package, by version."""
    found = []
    for entry in resources.files(__name__).iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            version, name = int(match["version"]), match["name"]
            found.append(Migration(version=version, name=name, sql=entry.read_text("utf-8")))
    return sorted(found, key=lambda m: m.version)


def schema_version(conn: sqlite3.Connection) -> int:
    """The highest migration applied to this database (0 for a new one)."""
    conn.execute(_CREATE_LEDGER)
    row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)


def apply_migrations(
    conn: sqlite3.Connection, migrations: list[Migration] | None = None
) -> list[int]:
    """Apply every migration newer than the database, each in its own transaction.

    Returns the versions applied (empty when the schema was current). `conn` must be in
    autocommit mode (isolation_level=None). Raises StoreError, leaving the database at the
    last migration that completed, and before any change when the database is newer than
    every migration known here (written by a newer trond).
    """
    current = schema_version(conn)
    known = available_migrations() if migrations is None else migrations
    latest = max((m.version for m in known), default=0)
    if current > latest:
        raise StoreError(
            f"the state was written by a newer trond (schema version {current}; this trond"
            f" knows up to {latest}): upgrade trond to use it, or move it away to start fresh"
        )
    pending = [m for m in known if m.version > current]
    for migration in pending:
        _apply(conn, migration)
    return [m.version for m in pending]


def _apply(conn: sqlite3.Connection, migration: Migration) -> None:
    try:
        # The script leaves its transaction open so the ledger row commits with it.
        conn.executescript(f"BEGIN IMMEDIATE;\n{migration.sql}\n;")
        conn.execute(
            "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
            (migration.version, migration.name),
        )
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise StoreError(f"migration {migration.version:04d} failed: {exc}") from exc
    logger.info("applied store migration %04d_%s", migration.version, migration.name)
