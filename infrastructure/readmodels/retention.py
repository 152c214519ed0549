"""Event retention: old bus events leave the read model, the statistics, the store and the stream.

Only `event.emitted` rows are ever deleted from the store; job, execution and module events
are history and stay. Each chunk is one transaction that holds the `events` projection's
position row, so the projector never commits between our read-model and store deletes.
"""

from __future__ import annotations

import logging
from datetime import datetime

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError

from infrastructure.envelope import BUS_EVENT_TOPIC
from infrastructure.postgres.log_tailer import EVENTS_TABLE
from infrastructure.readmodels.events_projection import EventCounts, EventsProjection, add_counts
from infrastructure.readmodels.rebuild import rebuild_lock_key
from infrastructure.redis.keys import RedisKeys

log = logging.getLogger(__name__)
CHUNK = 10_000
_REBUILD_LOCK = rebuild_lock_key(EventsProjection.name)
_DELETE = """
DELETE FROM rm_events WHERE position IN (
    SELECT position FROM rm_events WHERE created_at < $1 ORDER BY position LIMIT $2
) RETURNING position, id, name, source, created_at"""


class PostgresEventRetention:
    """Implements application.queries.EventRetention."""

    def __init__(self, pool: asyncpg.Pool, redis: Redis, redis_prefix: str) -> None:
        self._pool = pool
        self._redis = redis
        self._stream = RedisKeys(redis_prefix).events

    async def delete_events_before(self, cutoff: datetime) -> int:
        deleted, last = 0, 0
        while True:
            count, chunk_last = await self._delete_chunk(cutoff)
            deleted, last = deleted + count, max(last, chunk_last)
            if count < CHUNK:
                break
        if deleted:
            await self._trim_stream(last)
            async with self._pool.acquire() as connection:
                await connection.execute(f"VACUUM {EVENTS_TABLE}")  # outside any transaction
        log.info("retention removed %d bus events older than %s", deleted, cutoff.isoformat())
        return deleted

    async def _delete_chunk(self, cutoff: datetime) -> tuple[int, int]:
        """Delete up to CHUNK old events everywhere in Postgres; (count, highest position)."""
        async with self._pool.acquire() as connection, connection.transaction():
            # A rebuild of `events` would bring deleted events back from its twin tables: wait.
            await connection.execute("SELECT pg_advisory_xact_lock($1)", _REBUILD_LOCK)
            await connection.execute(
                "SELECT position FROM almanac_positions WHERE name = 'events' FOR UPDATE"
            )
            rows = await connection.fetch(_DELETE, cutoff, CHUNK)
            if not rows:
                return 0, 0
            counts = EventCounts()
            for row in rows:
                counts.add(row["name"], row["source"], row["created_at"])
            await add_counts(connection, "", counts, sign=-1)
            await connection.execute(
                f"DELETE FROM {EVENTS_TABLE} WHERE topic = $1 AND originator_id = ANY($2::uuid[])",
                BUS_EVENT_TOPIC,
                [row["id"] for row in rows],
            )
            return len(rows), max(row["position"] for row in rows)

    async def _trim_stream(self, last_deleted: int) -> None:
        """Drop stream entries older than the oldest bus event kept."""
        oldest = await self._pool.fetchval("SELECT min(position) FROM rm_events")
        minimum = oldest if oldest is not None else last_deleted + 1
        try:
            await self._redis.xtrim(self._stream, minid=f"{minimum}-0", approximate=False)
        except RedisError as error:
            log.warning("could not trim %s: %s (the next cleanup will)", self._stream, error)
