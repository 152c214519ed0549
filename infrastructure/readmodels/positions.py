"""Projection positions in almanac_positions: one row per projection, moved compare-and-set.

Progress is announced on the channel `almanac_projections` as `<name>:<position>`, several
separated by commas when projections that passed positions without a transaction share one
NOTIFY (each NOTIFY wakes every listening process).
"""

from __future__ import annotations

import asyncio
import contextlib
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


def parse_announcement(payload: str) -> list[tuple[str, int]]:
    """The (projection, position) pairs of one NOTIFY; malformed parts are skipped."""
    found: list[tuple[str, int]] = []
    for part in payload.split(","):
        name, _, text = part.rpartition(":")
        with contextlib.suppress(ValueError):
            found.append((name, int(text)))
    return found


class SharedAnnouncer:
    """Announces positions passed outside a transaction: those of one loop turn share a NOTIFY."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._pending: dict[str, int] = {}
        self._sending: asyncio.Task[None] | None = None

    async def announce(self, name: str, position: int) -> None:
        self._pending[name] = max(position, self._pending.get(name, position))
        if self._sending is None:
            self._sending = asyncio.create_task(self._send())
        await asyncio.shield(self._sending)  # one caller giving up must not drop the others'

    async def _send(self) -> None:
        await asyncio.sleep(0)  # the other projections woken by the same read add theirs
        pending, self._pending, self._sending = self._pending, {}, None
        payload = ",".join(f"{name}:{position}" for name, position in pending.items())
        await self._pool.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)


async def read_positions(executor: Executor, names: Sequence[str]) -> dict[str, int]:
    rows = await executor.fetch(
        "SELECT name, position FROM almanac_positions WHERE name = ANY($1::text[])", list(names)
    )
    return {row["name"]: int(row["position"]) for row in rows}
