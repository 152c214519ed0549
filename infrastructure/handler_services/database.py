"""`context.services.database`: SQL with `$1` parameters, as the module's own database role."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg


class DatabaseService:
    """A small pool opened on first use; rows come back as dicts."""

    def __init__(self, database_url: str | None) -> None:
        self._url = database_url
        self._pool: asyncpg.Pool | None = None

    async def query(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        rows = await (await self._ready()).fetch(sql, *(params or ()))
        return [dict(row) for row in rows]

    async def query_one(
        self, sql: str, params: Sequence[Any] | None = None
    ) -> dict[str, Any] | None:
        row = await (await self._ready()).fetchrow(sql, *(params or ()))
        return None if row is None else dict(row)

    async def execute(self, sql: str, params: Sequence[Any] | None = None) -> str:
        """Returns the command status, e.g. 'INSERT 0 1'."""
        status: str = await (await self._ready()).execute(sql, *(params or ()))
        return status

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _ready(self) -> asyncpg.Pool:
        if self._url is None:
            raise RuntimeError("no database is configured for this module")
        if self._pool is None:
            self._pool = await asyncpg.create_pool(self._url, min_size=0, max_size=4)
        if self._pool is None:
            raise RuntimeError("could not open a database pool")
        return self._pool
