"""The composition root: builds every adapter from Settings inside one exit stack.

Nothing connects at import time. Each role (api, worker, scheduler, projector) opens a
Runtime, takes what it needs, and everything closes in reverse order on exit.
"""

from __future__ import annotations

import gc
import random
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from eventsourcing.domain import Aggregate
from redis.asyncio import Redis

from application.dependencies import Dependencies, JobDefaults
from infrastructure.eventstore.factory import build_application, postgres_env
from infrastructure.eventstore.store import EventsourcingStore
from infrastructure.modules.catalog import FilesystemModuleCatalog
from infrastructure.postgres.pool import open_pool
from infrastructure.settings import Settings


class SystemClock:
    """Implements application.ports.Clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    database_url: str
    redis_url: str
    pool: asyncpg.Pool
    redis: Redis
    store: EventsourcingStore
    catalog: FilesystemModuleCatalog
    deps: Dependencies


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    pool_size: int = 6,
    store_threads: int = 4,
    keep: tuple[type[Aggregate], ...] = (),
) -> AsyncIterator[Runtime]:
    """Connect to Postgres and Redis and build the write side; close all on exit. `keep`:
    aggregate kinds whose last saved state the store hands back (EventStore.load_recent)."""
    if settings.database_url is None or settings.redis_url is None:
        raise RuntimeError("servers must be started before a runtime opens")
    if settings.db_pool_size is not None:  # the operator's cap wins over the role's default
        pool_size = min(pool_size, settings.db_pool_size)
        store_threads = min(store_threads, settings.db_pool_size)
    async with AsyncExitStack() as stack:
        pool = await open_pool(settings.database_url, max_size=pool_size)
        stack.push_async_callback(pool.close)
        redis = redis_client(settings.redis_url)
        stack.push_async_callback(redis.aclose)
        app = build_application(postgres_env(settings.database_url, pool_size=store_threads))
        store = EventsourcingStore(app, threads=store_threads, keep=keep)
        stack.callback(store.close)
        defaults = JobDefaults(settings.default_timeout_ms, settings.default_retries)
        catalog = FilesystemModuleCatalog(settings.modules_path, defaults).load()
        deps = Dependencies(store, SystemClock(), catalog, random.random, defaults)
        yield Runtime(
            settings, settings.database_url, settings.redis_url, pool, redis, store, catalog, deps
        )


def redis_client(url: str) -> Redis:
    """The Redis client every role uses; live feeds block for less than its socket timeout."""
    return Redis.from_url(url, socket_timeout=10, health_check_interval=15)


def keep_out_of_collection() -> None:
    """What a role holds once started lives as long as the process: freezing it keeps the
    cyclic collector's full passes short (a 1,000-job scheduler paused ~200 ms every few
    seconds re-scanning its own directory)."""
    gc.collect()
    gc.freeze()
