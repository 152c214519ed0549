"""Read models in Postgres: projections of the event log and the queries that read them.

`open_read_models` is the one entry point the composition root uses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from redis.asyncio import Redis

from application.ports import ReadModelSync
from application.queries import (
    EventQueries,
    EventRetention,
    ExecutionQueries,
    JobQueries,
    ModuleQueries,
    OverviewQueries,
)
from infrastructure.readmodels.event_queries import PostgresEventQueries
from infrastructure.readmodels.execution_queries import PostgresExecutionQueries
from infrastructure.readmodels.job_queries import PostgresJobQueries
from infrastructure.readmodels.module_queries import PostgresModuleQueries
from infrastructure.readmodels.overview_queries import PostgresOverviewQueries
from infrastructure.readmodels.registry import PROJECTION_NAMES
from infrastructure.readmodels.retention import PostgresEventRetention
from infrastructure.readmodels.sync import PostgresReadModelSync


@dataclass(frozen=True, slots=True)
class ReadModels:
    jobs: JobQueries
    executions: ExecutionQueries
    events: EventQueries
    modules: ModuleQueries
    overview: OverviewQueries
    retention: EventRetention
    sync: ReadModelSync


@asynccontextmanager
async def open_read_models(
    pool: asyncpg.Pool, database_url: str, redis: Redis, redis_prefix: str
) -> AsyncIterator[ReadModels]:
    """Queries over `pool`; `sync` listens for projection progress on its own connection."""
    sync = PostgresReadModelSync(pool, database_url, PROJECTION_NAMES)
    await sync.start()
    try:
        yield ReadModels(
            jobs=PostgresJobQueries(pool),
            executions=PostgresExecutionQueries(pool),
            events=PostgresEventQueries(pool),
            modules=PostgresModuleQueries(pool),
            overview=PostgresOverviewQueries(pool),
            retention=PostgresEventRetention(pool, redis, redis_prefix),
            sync=sync,
        )
    finally:
        await sync.close()
