"""Figures for /metrics, read from the read models and the positions of the log's followers."""

from __future__ import annotations

from collections.abc import Mapping

import asyncpg

from application.ports import EventStore
from infrastructure.readmodels.positions import read_positions
from infrastructure.readmodels.registry import PROJECTION_NAMES


class PostgresMetrics:
    """Implements interfaces.http.services.MetricsSource with two small queries."""

    def __init__(self, pool: asyncpg.Pool, store: EventStore) -> None:
        self._pool = pool
        self._store = store

    async def execution_counts(self) -> Mapping[str, int]:
        rows = await self._pool.fetch(
            "SELECT status, count(*) AS n FROM rm_executions GROUP BY status"
        )
        return {row["status"]: row["n"] for row in rows}

    async def projection_lag(self) -> Mapping[str, int]:
        """Store events each projection has yet to apply (head minus its position)."""
        head = await self._store.head()
        positions = await read_positions(self._pool, PROJECTION_NAMES)
        return {name: max(head - positions.get(name, 0), 0) for name in PROJECTION_NAMES}
