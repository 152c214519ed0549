"""Rebuild a read model from the log into twin tables, then swap them in atomically.

Reads keep using the live tables until the swap. The swap transaction first locks the
projection's position row (SELECT ... FOR UPDATE): the live projector's next transaction
waits on it, then finds the position moved and carries on from the rebuilt position.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import asyncpg

from infrastructure.postgres.leadership import lock_key
from infrastructure.postgres.log_rows import read_log
from infrastructure.readmodels.positions import announce, load_position
from infrastructure.readmodels.projection import Connection, LoggedEvent, Projection

log = logging.getLogger(__name__)
SUFFIX = "__rebuild"
REBUILD_BATCH = 5000


@dataclass(frozen=True, slots=True)
class RebuildReport:
    name: str
    events: int
    seconds: float
    position: int

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


async def rebuild_projections(
    pool: asyncpg.Pool, kinds: Sequence[type[Projection]], batch_size: int = REBUILD_BATCH
) -> list[RebuildReport]:
    """Rebuild several projections side by side, each on its own connection."""
    return list(await asyncio.gather(*(rebuild_projection(pool, k, batch_size) for k in kinds)))


async def rebuild_projection(
    pool: asyncpg.Pool, kind: type[Projection], batch_size: int = REBUILD_BATCH
) -> RebuildReport:
    fresh = kind(SUFFIX)
    started = time.perf_counter()
    async with pool.acquire() as connection, rebuilding(connection, kind.name):
        await _create_twins(connection, kind.tables)
        position, applied = await _catch_up(connection, fresh, 0, batch_size)
        for table in kind.tables:  # fresh tables have no statistics: plan well from the start
            await connection.execute(f"ANALYZE {table}{SUFFIX}")
        position, late = await _swap_in(connection, fresh, position, batch_size)
    report = RebuildReport(kind.name, applied + late, time.perf_counter() - started, position)
    log.info(
        "rebuilt %s: %d events in %.2f s (%.0f events/s), position %d",
        report.name,
        report.events,
        report.seconds,
        report.events_per_second,
        report.position,
    )
    return report


async def _swap_in(
    connection: Connection, fresh: Projection, position: int, batch_size: int
) -> tuple[int, int]:
    """In one transaction: lock the position, apply what arrived meanwhile, swap, move the
    position on. Returns (new position, events applied late)."""
    async with connection.transaction():
        # Lock first: from here on the live projector cannot commit past us.
        live = await _lock_position(connection, fresh.name)
        position, late = await _catch_up(connection, fresh, position, batch_size)
        position = max(position, live)
        await _swap(connection, fresh.tables)
        await connection.execute(
            "UPDATE almanac_positions SET position = $2, updated_at = now() WHERE name = $1",
            fresh.name,
            position,
        )
        await announce(connection, fresh.name, position)
    return position, late


@contextlib.asynccontextmanager
async def rebuilding(connection: Connection, name: str) -> AsyncIterator[None]:
    """One rebuild of a projection at a time (they share twin tables); retention waits too."""
    key = rebuild_lock_key(name)
    await connection.execute("SELECT pg_advisory_lock($1)", key)
    try:
        yield
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", key)


def rebuild_lock_key(name: str) -> int:
    return lock_key(f"rebuild:{name}")


async def _create_twins(connection: Connection, tables: Sequence[str]) -> None:
    for table in tables:
        await connection.execute(
            f"DROP TABLE IF EXISTS {table}{SUFFIX}; "
            f"CREATE TABLE {table}{SUFFIX} (LIKE {table} INCLUDING ALL)"
        )


async def _catch_up(
    connection: Connection, projection: Projection, position: int, batch_size: int
) -> tuple[int, int]:
    """Apply everything after `position` to the twins; returns (new position, events applied)."""
    applied = 0
    while True:
        part = await read_log(connection, position, projection.topics, batch_size)
        if part.rows:
            events = [LoggedEvent(row.position, row.decode()) for row in part.rows]
            async with connection.transaction():
                await projection.apply(connection, events)
            applied += len(events)
        position = part.end
        if not part.full:
            return position, applied


async def _lock_position(connection: Connection, name: str) -> int:
    await load_position(connection, name)
    position = await connection.fetchval(
        "SELECT position FROM almanac_positions WHERE name = $1 FOR UPDATE", name
    )
    return int(position)


async def _swap(connection: Connection, tables: Sequence[str]) -> None:
    """Replace each live table by its twin, keeping the live tables' index names."""
    for table in tables:
        wanted = {
            _shape(name, definition): name for name, definition in await _indexes(connection, table)
        }
        await connection.execute(f"DROP TABLE {table}")
        await connection.execute(f"ALTER TABLE {table}{SUFFIX} RENAME TO {table}")
        for name, definition in await _indexes(connection, table):
            target = wanted.get(_shape(name, definition))
            if target is not None and target != name:
                await connection.execute(f'ALTER INDEX "{name}" RENAME TO "{target}"')


async def _indexes(connection: Connection, table: str) -> list[tuple[str, str]]:
    rows = await connection.fetch(
        "SELECT indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = current_schema() AND tablename = $1",
        table,
    )
    return [(row["indexname"], row["indexdef"]) for row in rows]


def _shape(name: str, definition: str) -> str:
    """An index definition without its own name, to pair a twin's index with the live one."""
    return definition.replace(f" {name} ", " ", 1)
