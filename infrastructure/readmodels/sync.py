"""Read-your-writes: wait until every projection has passed a store position.

The process's shared LISTEN connection, on `almanac_projections`, keeps the latest positions
in memory; the positions table is read on start, when that connection drops or comes back and
when a wait times out, so a missed notification costs a little latency, never a wrong answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

import asyncpg

from infrastructure.postgres.listener import SharedListener
from infrastructure.readmodels.positions import CHANNEL, parse_announcement, read_positions

log = logging.getLogger(__name__)
POLL_INTERVAL = 0.05  # while the LISTEN connection is down, waits poll the table this often
LISTENING_POLL_INTERVAL = 0.25  # while listening, in case a position moved silently


class PostgresReadModelSync:
    """Implements application.ports.ReadModelSync."""

    def __init__(self, pool: asyncpg.Pool, database_url: str, names: Sequence[str]) -> None:
        self._pool = pool
        self._url = database_url
        self._positions = dict.fromkeys(names, 0)
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._listener: SharedListener | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._refreshing: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._listener = SharedListener.of(self._url)
        self._unsubscribe = self._listener.subscribe(CHANNEL, self._notified)
        self._refresh_soon()

    async def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._refreshing is not None:
            self._refreshing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refreshing
        for _, future in self._waiters:
            future.cancel()

    @property
    def reached(self) -> int:
        """The position every projection has passed."""
        return min(self._positions.values(), default=0)

    async def wait_for(self, position: int, within: float = 2.0) -> bool:
        """True once every projection passed `position`; False after `within` s (never raises)."""
        if self.reached >= position:
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(within, 0.0)
        budget = min(0.25, within / 4)  # kept back for reading the table on timeout
        future: asyncio.Future[None] = loop.create_future()
        entry = (position, future)
        self._waiters.append(entry)
        try:
            await self._wait(position, future, deadline - budget, budget)
            if self.reached < position:
                await self._refresh(max(deadline - loop.time(), 0.001))
            return self.reached >= position
        except Exception:  # a read model that cannot be asked has not caught up
            log.debug("wait_for(%d) failed", position, exc_info=True)
            return self.reached >= position
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(entry)

    async def _wait(
        self, position: int, future: asyncio.Future[None], until: float, budget: float
    ) -> None:
        """Wait for notifications; while not listening, poll the table instead."""
        loop = asyncio.get_running_loop()
        while self.reached < position and loop.time() < until:
            # Idle projections write their position at most once a second and announce it
            # only when it moves, so a waiter also re-reads the table now and then.
            listening = self._listener is not None and self._listener.listening
            interval = LISTENING_POLL_INTERVAL if listening else POLL_INTERVAL
            step = min(until - loop.time(), interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(future), step)
            if self.reached < position:
                await self._refresh(budget)

    def _notified(self, payload: str | None) -> None:
        if payload is None:  # the connection dropped or listens afresh: the table has the rest
            self._refresh_soon()
            return
        for name, position in parse_announcement(payload):
            self._advance(name, position)

    def _refresh_soon(self) -> None:
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.create_task(self._refresh(5.0))

    async def _refresh(self, within: float) -> None:
        with contextlib.suppress(Exception):
            found = await asyncio.wait_for(
                read_positions(self._pool, list(self._positions)), within
            )
            for name, position in found.items():
                self._advance(name, position)

    def _advance(self, name: str, position: int) -> None:
        if name not in self._positions or position <= self._positions[name]:
            return
        self._positions[name] = position
        reached = self.reached
        for wanted, future in self._waiters:
            if wanted <= reached and not future.done():
                future.set_result(None)
