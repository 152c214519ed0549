"""Follows the event store's notification log in order, from a position, forever.

Every save NOTIFYs the channel named after the events table; that only wakes us up early
(through the process's one shared LISTEN connection).
A poll every second is the fallback, so a lost notification or a dropped LISTEN connection
delays delivery by at most a second and never stalls it. Saves hold the table lock until
commit, so notification ids become visible in commit order and a reader never skips one.
A failed read (Postgres restarting) is retried from the same position: an outage delays a
follower, never ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from infrastructure.eventstore.mapper import decode_event
from infrastructure.postgres.listener import SharedListener

log = logging.getLogger(__name__)
EVENTS_TABLE = "almanac_events"
MIN_READ_INTERVAL = 0.01  # seconds; bounds a busy follower to 100 reads a second
READ_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)


@dataclass(frozen=True, slots=True)
class StoredRow:
    position: int
    originator_id: UUID
    version: int
    topic: str
    state: bytes

    def decode(self) -> Any:
        return decode_event(self.topic, self.state, self.originator_id, self.version)


async def let_commits_gather(read_at: float) -> None:
    """Under a stream of commits, read at most once per interval so that a few gather in one
    read; an idle log is read at once (the interval has long passed since `read_at`)."""
    await asyncio.sleep(max(0.0, read_at + MIN_READ_INTERVAL - time.monotonic()))


class LogTailer:
    """Yields batches of stored events after a position, waiting when caught up."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        database_url: str,
        *,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        topics: tuple[str, ...] = (),
    ) -> None:
        self._pool = pool
        self._url = database_url
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._topics = list(topics)
        self._wake = asyncio.Event()

    async def batches(self, after: int) -> AsyncIterator[list[StoredRow]]:
        unsubscribe = SharedListener.of(self._url).subscribe(EVENTS_TABLE, self._notified)
        try:
            position = after
            while True:
                # Clear before reading: a notification arriving during the read is not lost.
                self._wake.clear()
                read_at = time.monotonic()
                rows = await self._read_until_it_answers(position)
                if rows:
                    position = rows[-1].position
                    yield rows
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval)
                await let_commits_gather(read_at)
        finally:
            unsubscribe()

    async def _read_until_it_answers(self, after: int) -> list[StoredRow]:
        while True:
            try:
                return await self.read(after, self._batch_size)
            except READ_ERRORS as error:  # repeating a read is harmless: nothing was yielded
                log.warning("reading the event log failed (%s); retrying", error)
                await asyncio.sleep(self._poll_interval)

    async def read(self, after: int, limit: int) -> list[StoredRow]:
        """Stored events with position > after, in order (optionally only some topics)."""
        topic_filter = "AND topic = ANY($3::text[])" if self._topics else ""
        sql = (
            "SELECT notification_id, originator_id, originator_version, topic, state "
            f"FROM {EVENTS_TABLE} WHERE notification_id > $1 {topic_filter} "
            "ORDER BY notification_id LIMIT $2"
        )
        args: list[Any] = [after, limit] + ([self._topics] if self._topics else [])
        rows = await self._pool.fetch(sql, *args)
        return [StoredRow(r[0], r[1], r[2], r[3], bytes(r[4])) for r in rows]

    def _notified(self, _payload: str | None) -> None:
        self._wake.set()
