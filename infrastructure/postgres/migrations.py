"""`almanac migrate`: the library's event tables, then numbered SQL files, each applied once.

Files are named NNNN_description.sql; numbers are grouped by owner (0100 read models,
0200 execution engine, 0300 module services) so parallel work never collides.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import asyncpg

from infrastructure.eventstore.factory import create_event_tables

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
LOCK_KEY = 7_220_001  # one migrator at a time, whichever process runs it

_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS almanac_schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


async def migrate(database_url: str) -> list[str]:
    """Apply what is missing; returns the names applied. Safe to run concurrently."""
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
        await asyncio.to_thread(create_event_tables, database_url)
        await connection.execute(_BOOKKEEPING)
        applied = {
            row["version"]
            for row in await connection.fetch("SELECT version FROM almanac_schema_migrations")
        }
        done = []
        for version, path in pending_files(applied):
            async with connection.transaction():
                await connection.execute(path.read_text())
                await connection.execute(
                    "INSERT INTO almanac_schema_migrations (version, name) VALUES ($1, $2)",
                    version,
                    path.stem,
                )
            log.info("applied migration %s", path.name)
            done.append(path.stem)
        return done
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
        await connection.close()


def pending_files(applied: set[int]) -> list[tuple[int, Path]]:
    files = sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql"))
    numbered = [(int(path.name[:4]), path) for path in files]
    return [(version, path) for version, path in numbered if version not in applied]
