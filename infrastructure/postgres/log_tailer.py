"""Follows the event store's notification log in order, from a position, forever.

Every save NOTIFYs the channel named after the events table; that only wakes us up early
(through the process's one shared LISTEN connection).
A poll every second is the fallback, so a lost notification or a dropped LISTEN connection
delays delivery by at most a second and never stalls it. Saves hold the table lock until
commit, so notification ids become visible in commit order and a reader never skips one.
A failed read (Postgres restarting) is retried from the same position: an outage delays a
follower, never ends it. A follower near the head is answered from its process's one shared
read (log_cache.SharedLogReader); one further behind reads the table itself. Either way a
follower passes the events of other topics, so it never reads them twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import asyncpg

from infrastructure.postgres.listener import SharedListener
from infrastructure.postgres.log_cache import SharedLogReader
from infrastructure.postgres.log_rows import EVENTS_TABLE, MIN_READ_INTERVAL, StoredRow

__all__ = ["EVENTS_TABLE", "LogTailer", "StoredRow", "let_commits_gather"]
log = logging.getLogger(__name__)
READ_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)


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
        self._topics = frozenset(topics)
        self._wake = asyncio.Event()

    async def batches(self, after: int) -> AsyncIterator[list[StoredRow]]:
        unsubscribe = SharedListener.of(self._url).subscribe(EVENTS_TABLE, self._notified)
        shared = SharedLogReader.of(self._pool, self._url)
        detach = shared.attach()
        try:
            position = after
            while True:
                # Clear before reading: a notification arriving during the read is not lost.
                self._wake.clear()
                read_at = time.monotonic()
                rows, position = await self._read_until_it_answers(shared, position)
                if rows:
                    yield rows
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval)
                await let_commits_gather(read_at)
        finally:
            detach()
            unsubscribe()

    async def _read_until_it_answers(
        self, shared: SharedLogReader, after: int
    ) -> tuple[list[StoredRow], int]:
        """Rows after `after`, and the position they take the follower to."""
        while True:
            try:
                return await self._next(shared, after)
            except READ_ERRORS as error:  # repeating a read is harmless: nothing was yielded
                log.warning("reading the event log failed (%s); retrying", error)
                await asyncio.sleep(self._poll_interval)

    async def _next(self, shared: SharedLogReader, after: int) -> tuple[list[StoredRow], int]:
        part = await shared.answer(after, self._batch_size, self._topics)
        return part.rows, part.end

    def _notified(self, _payload: str | None) -> None:
        self._wake.set()
