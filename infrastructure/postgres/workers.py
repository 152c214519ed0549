"""Worker liveness from the heartbeat table."""

from __future__ import annotations

import asyncpg


class PostgresWorkerLiveness:
    """Implements application.ports.WorkerLiveness."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def live_workers(self, within_seconds: float) -> set[str]:
        rows = await self._pool.fetch(
            "SELECT worker_id FROM almanac_workers "
            "WHERE last_seen > now() - make_interval(secs => $1)",
            within_seconds,
        )
        return {row["worker_id"] for row in rows}
