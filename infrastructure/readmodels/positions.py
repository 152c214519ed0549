"""Projection positions in almanac_positions: one row per projection, moved compare-and-set.

Progress is announced on the channel `almanac_projections` as `<name>:<position>`.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from infrastructure.readmodels.projection import Connection

CHANNEL = "almanac_projections"
Executor = Connection | asyncpg.Pool

_ENSURE = (
    "INSERT INTO almanac_positions (name, position) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING"
)
# Compare-and-set: it matches only while nobody else moved the row since we read it.
_ADVANCE = (
    "UPDATE almanac_positions SET position = $3, updated_at = now() "
    "WHERE name = $1 AND position = $2 RETURNING position"
)


async def load_position(executor: Executor, name: str) -> int:
    """The committed position of `name`, creating its row at 0 if absent."""
    await executor.execute(_ENSURE, name)
    position = await executor.fetchval(
        "SELECT position FROM almanac_positions WHERE name = $1", name
    )
    return int(position)


async def advance(executor: Executor, name: str, expected: int, new: int) -> bool:
    """Move from `expected` to `new`; False when another instance moved it first."""
    return await executor.fetchval(_ADVANCE, name, expected, new) is not None


async def announce(executor: Executor, name: str, position: int) -> None:
    """NOTIFY listeners; inside a transaction it is delivered only if and when it commits."""
    await executor.execute("SELECT pg_notify($1, $2)", CHANNEL, f"{name}:{position}")


async def read_positions(executor: Executor, names: Sequence[str]) -> dict[str, int]:
    rows = await executor.fetch(
        "SELECT name, position FROM almanac_positions WHERE name = ANY($1::text[])", list(names)
    )
    return {row["name"]: int(row["position"]) for row in rows}
