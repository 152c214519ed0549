"""Stored positions of followers of the event log that are not projections (relay, dispatcher,
webhooks, triggers).

Projections keep theirs in the same transaction as their rows; these followers are
at-least-once by design (re-sending is harmless), so a plain upsert after the work suffices.
"""

from __future__ import annotations

import asyncio
import logging
import time

import asyncpg

log = logging.getLogger(__name__)


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


WRITE_INTERVAL = 0.25  # seconds


class ThrottledPosition:
    """One follower's position, written at most every WRITE_INTERVAL instead of per batch.

    The latest position is always written (a timer writes the tail of a burst), so a restart
    re-reads at most that much of the log; each of these followers is idempotent on re-reading
    (the stream drops ids it has, claims drop duplicate runs, triggered runs are keyed by
    their event, and a webhook sent again carries the same delivery id).
    """

    def __init__(self, positions: Positions, name: str, interval: float = WRITE_INTERVAL) -> None:
        self._positions = positions
        self._name = name
        self._interval = interval
        self._latest = 0
        self._written_at = 0.0
        self._flush: asyncio.Task[None] | None = None

    async def get(self) -> int:
        self._latest = await self._positions.get(self._name)
        return self._latest

    async def advance(self, position: int) -> None:
        self._latest = max(self._latest, position)
        wait = self._written_at + self._interval - time.monotonic()
        if wait <= 0:
            await self._write()
        elif self._flush is None or self._flush.done():
            self._flush = asyncio.create_task(self._write_after(wait))

    async def _write_after(self, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            await self._write()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.warning("position %s not written (%s); the next batch writes it", self._name, error)
            self._written_at = 0.0

    async def _write(self) -> None:
        self._written_at = time.monotonic()
        await self._positions.advance(self._name, self._latest)
