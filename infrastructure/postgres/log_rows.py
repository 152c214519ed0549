"""Rows of the store's notification log as its followers read them, and the direct read.

Saves hold the events table's lock until they commit, so once an id is visible every lower id
is final. A read therefore passes the head it saw even when no event there matched its topics,
which lets every follower's position reach every store position (read-your-writes).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from infrastructure.eventstore.mapper import decode_event

EVENTS_TABLE = "almanac_events"
MIN_READ_INTERVAL = 0.01  # seconds; bounds a busy follower to 100 reads a second


@dataclass(frozen=True, slots=True)
class StoredRow:
    position: int
    originator_id: UUID
    version: int
    topic: str
    state: bytes

    def decode(self) -> Any:
        return decode_event(self.topic, self.state, self.originator_id, self.version)


def stored_rows(records: Iterable[asyncpg.Record]) -> list[StoredRow]:
    """Rows from records of (notification_id, originator_id, originator_version, topic, state)."""
    return [StoredRow(r[0], r[1], r[2], r[3], bytes(r[4])) for r in records]


@dataclass(frozen=True, slots=True)
class LogSlice:
    """Matching rows after a position; `end` is the position passed (no later row is missed)."""

    rows: list[StoredRow]
    end: int
    full: bool


Executor = asyncpg.Pool | asyncpg.Connection | PoolConnectionProxy
# No topics means every topic.
_READ = f"""
WITH head AS (SELECT coalesce(max(notification_id), 0) AS id FROM {EVENTS_TABLE})
SELECT head.id, e.notification_id, e.originator_id, e.originator_version, e.topic, e.state
FROM head LEFT JOIN LATERAL (
    SELECT notification_id, originator_id, originator_version, topic, state
    FROM {EVENTS_TABLE}
    WHERE notification_id > $1 AND notification_id <= head.id
      AND (cardinality($2::text[]) = 0 OR topic = ANY($2::text[]))
    ORDER BY notification_id LIMIT $3
) e ON true
ORDER BY e.notification_id
"""


async def read_log(executor: Executor, after: int, topics: Collection[str], limit: int) -> LogSlice:
    """Rows after `after` (of `topics`, or all) from the table, and how far the read got."""
    records = await executor.fetch(_READ, after, list(topics), limit)
    head = int(records[0][0]) if records else after
    rows = [StoredRow(r[1], r[2], r[3], r[4], bytes(r[5])) for r in records if r[1] is not None]
    full = len(rows) >= limit
    end = rows[-1].position if full else max(head, after)
    return LogSlice(rows, end, full)
