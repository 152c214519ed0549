"""Worker liveness: a row per worker, refreshed every few seconds.

An attempt whose worker stopped refreshing for longer than the lease is recorded as lost by
the reaper and retried. A worker that cannot refresh its own row for most of a lease stops
its handlers itself, so an attempt is never running in two places at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable

import asyncpg

log = logging.getLogger(__name__)


class WorkerHeartbeat:
    def __init__(
        self, pool: asyncpg.Pool, worker_id: str, concurrency: int, lease_seconds: float
    ) -> None:
        self._pool = pool
        self.worker_id = worker_id
        self._concurrency = concurrency
        self._lease = lease_seconds
        self.interval = max(0.5, lease_seconds / 6)

    async def register(self) -> None:
        await self._pool.execute(
            """
            INSERT INTO almanac_workers (worker_id, hostname, pid, concurrency)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT (worker_id) DO UPDATE SET last_seen = now(), stopping = false
            """,
            self.worker_id,
            socket.gethostname(),
            os.getpid(),
            self._concurrency,
        )

    async def run(self, busy: Callable[[], int], fence: Callable[[], None]) -> None:
        """Refresh forever; call `fence` if the lease is about to lapse unrefreshed."""
        last_success = asyncio.get_running_loop().time()
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self._beat(busy())
                last_success = asyncio.get_running_loop().time()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                silent_for = asyncio.get_running_loop().time() - last_success
                log.warning("heartbeat failed (%s), silent for %.1f s", error, silent_for)
                if silent_for > self._lease * 0.8:
                    fence()

    async def stopping(self) -> None:
        await self._pool.execute(
            "UPDATE almanac_workers SET stopping = true WHERE worker_id = $1", self.worker_id
        )

    async def deregister(self) -> None:
        await self._pool.execute("DELETE FROM almanac_workers WHERE worker_id = $1", self.worker_id)

    async def _beat(self, busy: int) -> None:
        await self._pool.execute(
            "UPDATE almanac_workers SET last_seen = now(), busy = $2 WHERE worker_id = $1",
            self.worker_id,
            busy,
        )
