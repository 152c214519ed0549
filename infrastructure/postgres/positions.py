"""Stored positions of followers of the event log that are not projections (relay, dispatcher).

Projections keep theirs in the same transaction as their rows; these followers are
at-least-once by design (re-sending is harmless), so a plain upsert after the work suffices.
"""

from __future__ import annotations

import asyncpg


class Positions:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def get(self, name: str) -> int:
        value = await self._pool.fetchval(
            "SELECT position FROM almanac_positions WHERE name = $1", name
        )
        return int(value or 0)

    async def advance(self, name: str, position: int) -> None:
        """Move forward only: a slow duplicate writer can never move the position back."""
        await self._pool.execute(
            """
            INSERT INTO almanac_positions (name, position, updated_at) VALUES ($1, $2, now())
            ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now()
            WHERE almanac_positions.position < EXCLUDED.position
            """,
            name,
            position,
        )
