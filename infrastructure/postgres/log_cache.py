"""One read of the event log per process, shared by every follower in it.

A process runs several followers of the log (the projector six, the scheduler four). Each
used to query the log on every wake-up, so one commit cost as many queries as followers.
Here the newest events are read once into a window of recent rows, and a follower near the
head is answered from it; a follower behind the window reads the database itself.

Freshness (no follower may miss a commit it was woken for): a NOTIFY bumps `generation`.
A refresh remembers the generation it started at; the window answers "nothing new" only if no
notification arrived since its last complete refresh started and that refresh is younger than
the poll interval (so a lost notification delays a follower by at most a second, as before).
While the LISTEN connection is down, only a refresh begun after the question will do.
Saves hold the table lock until commit, so the window never skips a row: once an id is
visible every lower id is final.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from bisect import bisect_right
from collections.abc import Callable, Collection
from typing import ClassVar

import asyncpg

from infrastructure.postgres.listener import SharedListener
from infrastructure.postgres.log_rows import (
    EVENTS_TABLE,
    MIN_READ_INTERVAL,
    LogSlice,
    StoredRow,
    read_log,
    stored_rows,
)

REFRESH_LIMIT = 1000  # rows per refresh
CAPACITY = 5000  # rows kept; the oldest half goes when it is full
MAX_STALENESS = 1.0  # seconds: the poll interval of every follower
_READ = (
    "SELECT notification_id, originator_id, originator_version, topic, state "
    f"FROM {EVENTS_TABLE} WHERE notification_id > $1 ORDER BY notification_id LIMIT $2"
)


class SharedLogReader:
    """Recent rows of the log for the followers of one process (one per pool and loop)."""

    _instances: ClassVar[weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SharedLogReader]]
    _instances = weakref.WeakKeyDictionary()

    def __init__(self, pool: asyncpg.Pool, database_url: str) -> None:
        self.pool = pool
        self._listener = SharedListener.of(database_url)
        self._rows: list[StoredRow] = []
        self._positions: list[int] = []
        self._low = self._high = -1  # the window holds every row in (low, high]; -1: empty
        self._generation = 0
        self._fresh: tuple[int, float] = (-1, 0.0)  # generation and time of the last refresh
        self._refreshing: asyncio.Task[None] | None = None
        self._started_at = 0.0
        self._users = 0
        self._unsubscribe: Callable[[], None] | None = None

    @classmethod
    def of(cls, pool: asyncpg.Pool, database_url: str) -> SharedLogReader:
        """The reader of this event loop for this pool (created on first use)."""
        loop = asyncio.get_running_loop()
        reader = cls._instances.get(loop)
        if reader is None or reader.pool is not pool:
            reader = cls._instances[loop] = cls(pool, database_url)
        return reader

    def attach(self) -> Callable[[], None]:
        """A follower starts: listen while anyone follows; returns the function to detach."""
        self._generation += 1  # commits made while nobody listened must be read
        if self._users == 0:
            self._low = self._high = -1  # possibly long stale: the next read seats it afresh
        self._users += 1
        if self._unsubscribe is None:
            self._unsubscribe = self._listener.subscribe(EVENTS_TABLE, self._notified)

        def detach() -> None:
            self._users -= 1
            if self._users == 0 and self._unsubscribe is not None:
                self._unsubscribe()
                self._unsubscribe = None

        return detach

    async def read(self, after: int, limit: int, topics: Collection[str] = ()) -> LogSlice | None:
        """Rows after `after` (of `topics`, or all); None when `after` is behind the window."""
        if self._low < 0 or after - self._high > CAPACITY:
            # Unseated, or seated by a laggard: the window belongs near the head, the laggard
            # reads the table itself.
            self._seat(after)
        asked_at = time.monotonic()
        while after >= self._low:
            window = self._matching(after, limit, topics)
            # Rows at hand go out at once: their reader asks again straight after applying
            # them. Only a fresh window may answer "nothing new".
            if window.rows or self._is_fresh(asked_at):
                return window
            await self._refresh()
        return None

    async def answer(self, after: int, limit: int, topics: Collection[str] = ()) -> LogSlice:
        """From the window when `after` is in it, else from the table."""
        window = await self.read(after, limit, topics)
        return window if window is not None else await read_log(self.pool, after, topics, limit)

    def _notified(self, _payload: str | None) -> None:
        self._generation += 1

    def _seat(self, after: int) -> None:
        """Start the window at the first reader's position; readers behind it read directly."""
        self._rows, self._positions = [], []
        self._low = self._high = after
        self._fresh = (-1, 0.0)

    def _matching(self, after: int, limit: int, topics: Collection[str]) -> LogSlice:
        rows: list[StoredRow] = []
        for row in self._rows[bisect_right(self._positions, after) :]:
            if not topics or row.topic in topics:
                rows.append(row)
                if len(rows) >= limit:
                    return LogSlice(rows, row.position, True)
        return LogSlice(rows, max(after, self._high), False)

    def _is_fresh(self, asked_at: float) -> bool:
        generation, at = self._fresh
        if not self._listener.listening:  # notifications may be lost: read after the question
            return at >= asked_at
        return generation >= self._generation and time.monotonic() - at < MAX_STALENESS

    async def _refresh(self) -> None:
        """Join the refresh under way, or start one (at most one every MIN_READ_INTERVAL)."""
        if self._refreshing is None:
            self._refreshing = asyncio.create_task(self._read_newer())
        # Shielded: a follower cancelled while waiting must not cancel the others' read.
        await asyncio.shield(self._refreshing)

    async def _read_newer(self) -> None:
        try:
            await asyncio.sleep(max(0.0, self._started_at + MIN_READ_INTERVAL - time.monotonic()))
            generation, started, high = self._generation, time.monotonic(), self._high
            self._started_at = started
            records = await self.pool.fetch(_READ, high, REFRESH_LIMIT)
            if self._high != high:
                return  # emptied meanwhile (every follower left and one came back)
            self._append(stored_rows(records))
            if len(records) < REFRESH_LIMIT:
                self._fresh = (generation, started)
        finally:
            self._refreshing = None

    def _append(self, rows: list[StoredRow]) -> None:
        if not rows:
            return
        self._rows += rows
        self._positions += [row.position for row in rows]
        self._high = rows[-1].position
        if len(self._rows) > CAPACITY:
            keep = CAPACITY // 2
            self._low = self._positions[-keep - 1]
            self._rows, self._positions = self._rows[-keep:], self._positions[-keep:]
