"""Reading the store's log for projections: matching events after a position, and how far
the read got, from one snapshot.

Saves hold the events table's lock until they commit, so once an id is visible every lower id
is final. A read therefore passes the head it saw even when no event there matched its topics,
which lets every projection's position reach every store position (read-your-writes).
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from infrastructure.postgres.log_rows import EVENTS_TABLE, LogSlice, StoredRow
from infrastructure.readmodels.projection import Connection

__all__ = ["LogSlice", "read_log"]
Executor = Connection | asyncpg.Pool

_READ = f"""
WITH head AS (SELECT coalesce(max(notification_id), 0) AS id FROM {EVENTS_TABLE})
SELECT head.id, e.notification_id, e.originator_id, e.originator_version, e.topic, e.state
FROM head LEFT JOIN LATERAL (
    SELECT notification_id, originator_id, originator_version, topic, state
    FROM {EVENTS_TABLE}
    WHERE notification_id > $1 AND notification_id <= head.id AND topic = ANY($2::text[])
    ORDER BY notification_id LIMIT $3
) e ON true
ORDER BY e.notification_id
"""


async def read_log(executor: Executor, after: int, topics: Sequence[str], limit: int) -> LogSlice:
    records = await executor.fetch(_READ, after, list(topics), limit)
    head = int(records[0][0]) if records else after
    rows = [StoredRow(r[1], r[2], r[3], r[4], bytes(r[5])) for r in records if r[1] is not None]
    full = len(rows) >= limit
    end = rows[-1].position if full else max(head, after)
    return LogSlice(rows, end, full)
