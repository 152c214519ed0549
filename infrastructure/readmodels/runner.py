"""Runs one projection: read a batch, apply it and move the position in ONE transaction.

The position row is moved compare-and-set as the transaction's first statement, which also
locks it: a second instance (or a rebuild swapping tables) waits, then finds the row moved
and rolls back. A crash at any point either commits rows and position together or neither,
so every event takes effect exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import asyncpg

from infrastructure.postgres.log_cache import SharedLogReader
from infrastructure.postgres.log_rows import LogSlice, read_log
from infrastructure.postgres.log_tailer import let_commits_gather
from infrastructure.readmodels.positions import (
    SharedAnnouncer,
    advance,
    announce,
    load_position,
)
from infrastructure.readmodels.projection import LoggedEvent, Projection

log = logging.getLogger(__name__)
BATCH_SIZE = 500
MAX_BACKOFF = 10.0
IDLE_WRITE_INTERVAL = 1.0  # seconds between position writes that carry no rows


class PositionMoved(Exception):
    """Another instance (or a rebuild) moved the position since we read it."""


class ProjectionRunner:
    """Follows the log for one projection until cancelled; failures back off and resume."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        projection: Projection,
        wake: asyncio.Event | None = None,
        *,
        batch_size: int = BATCH_SIZE,
        poll_interval: float = 1.0,
        shared: SharedLogReader | None = None,
        announcer: SharedAnnouncer | None = None,
    ) -> None:
        self.projection = projection
        self._pool = pool
        self._shared = shared  # the process's shared read of the log's head, if any
        # Shared with the process's other projections, so that one NOTIFY carries them all.
        self._announcer = announcer or SharedAnnouncer(pool)
        self._topics = frozenset(projection.topics)
        self._wake = wake or asyncio.Event()
        self._batch_size = batch_size
        self._poll = poll_interval
        self._committed = 0  # the position row's value as of our last read or write
        self.position = 0  # how far we have read; beyond `_committed` only non-matching events
        self._failures = 0
        self._written_at = 0.0

    async def run(self) -> None:
        while True:
            try:
                await self._follow()
            except PositionMoved:
                log.info("projection %s: position moved elsewhere; re-reading", self.name)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("projection %s: %s; retrying", self.name, error)
                await self._back_off()
            except Exception:
                log.exception("projection %s failed; retrying", self.name)
                await self._back_off()

    async def _back_off(self) -> None:
        self._failures += 1
        await asyncio.sleep(min(0.25 * 2**self._failures, MAX_BACKOFF))

    @property
    def name(self) -> str:
        return self.projection.name

    async def catch_up(self) -> None:
        """Apply everything up to the store's head, then return (tests, tools)."""
        self._committed = self.position = await load_position(self._pool, self.name)
        while await self.step():
            pass
        await self._commit_idle_position(force=True)

    async def step(self) -> bool:
        """Read and apply one batch; True when more may be waiting right away: the batch was
        full, or it had rows (a shared read may hand out what it holds while newer commits
        are announced, and the wake-up for them was used by this step)."""
        self._wake.clear()
        part = await self._read()
        self._failures = 0
        if part.rows:
            await self._commit(part)
        elif part.end > self.position:
            # Nothing of ours in there: pass it without a transaction, and say so.
            self.position = part.end
            await self._announcer.announce(self.name, self.position)
        if part.full or part.rows:
            return True
        await self._commit_idle_position()
        return False

    async def _read(self) -> LogSlice:
        if self._shared is not None:  # the process's one read of the log's head
            return await self._shared.answer(self.position, self._batch_size, self._topics)
        return await read_log(self._pool, self.position, self._topics, self._batch_size)

    async def _follow(self) -> None:
        self._committed = self.position = await load_position(self._pool, self.name)
        detach = self._shared.attach() if self._shared is not None else None
        try:
            while True:
                read_at = time.monotonic()
                if await self.step():
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll)
                await let_commits_gather(read_at)
        finally:
            if detach is not None:
                detach()

    async def _commit(self, part: LogSlice) -> None:
        events = [LoggedEvent(row.position, row.decode()) for row in part.rows]
        started = time.perf_counter()
        async with self._pool.acquire() as connection, connection.transaction():
            if not await advance(connection, self.name, self._committed, part.end):
                raise PositionMoved
            await self.projection.apply(connection, events)
            await announce(connection, self.name, part.end)
        self._committed = self.position = part.end
        self._written_at = time.monotonic()
        log.debug(
            "projection %s applied %d events up to %d in %.1f ms",
            self.name,
            len(events),
            part.end,
            (time.perf_counter() - started) * 1000,
        )

    async def _commit_idle_position(self, force: bool = False) -> None:
        """Record positions passed without a transaction, at most once a second: listeners
        already heard of them, and a restart merely re-reads events it does not consume."""
        if self.position <= self._committed:
            return
        if not force and time.monotonic() - self._written_at < IDLE_WRITE_INTERVAL:
            return
        if not await advance(self._pool, self.name, self._committed, self.position):
            raise PositionMoved
        self._committed, self._written_at = self.position, time.monotonic()
