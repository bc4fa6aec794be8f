"""PostgreSQL schema migrations, applied at start-up by whichever trond gets there first.

Several trond may start at once against one database, so migrating happens under a
transaction-level advisory lock: the others wait for it, then find the schema current.
"""

from __future__ import annotations

import logging
import re
from importlib import resources
from typing import Any

from psycopg import AsyncConnection

from tron.errors import StoreError
from tron.store.migrations import Migration

logger = logging.getLogger(__name__)

_PACKAGE = "tron.store.migrations.postgres"
_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[A-Za-z0-9_-]+)\.sql$")
# The advisory lock's key: any constant the other users of the database do not take.
MIGRATION_LOCK = 0x7472_6F6E_0001  # "tron" 1

_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


def available_migrations() -> list[Migration]:
    found = []
    for entry in resources.files(_PACKAGE).iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            version, name = int(match["version"]), match["name"]
            found.append(Migration(version=version, name=name, sql=entry.read_text("utf-8")))
    return sorted(found, key=lambda m: m.version)


async def apply_migrations(conn: AsyncConnection[Any]) -> list[int]:
    """Bring the schema up to date (all in one transaction); the versions applied.

    Raises StoreError before any change when the database is newer than this trond.
    """
    known = available_migrations()
    latest = max((m.version for m in known), default=0)
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        await conn.execute(_CREATE_LEDGER)
        cur = await conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations")
        row = await cur.fetchone()
        current = int(row[0]) if row else 0
        if current > latest:
            raise StoreError(
                f"the state was written by a newer trond (schema version {current}; this trond"
                f" knows up to {latest}): upgrade trond to use it"
            )
        pending = [m for m in known if m.version > current]
        for migration in pending:
            await conn.execute(migration.sql.encode("utf-8"))
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            logger.info("applied store migration %04d_%s", migration.version, migration.name)
    return [m.version for m in pending]
