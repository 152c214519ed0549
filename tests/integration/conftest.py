"""Pools and real event stores over the run's database, or over a database of the test's own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import asyncpg
import pytest

from infrastructure.eventstore.factory import build_application, postgres_env
from infrastructure.eventstore.store import EventsourcingStore
from infrastructure.postgres.pool import open_pool


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    async with _pool(database_url) as opened:
        yield opened


@pytest.fixture
def store(database_url: str) -> Iterator[EventsourcingStore]:
    with _store(database_url) as opened:
        yield opened


@pytest.fixture
async def fresh_pool(fresh_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    async with _pool(fresh_database_url) as opened:
        yield opened


@pytest.fixture
def fresh_store(fresh_database_url: str) -> Iterator[EventsourcingStore]:
    with _store(fresh_database_url) as opened:
        yield opened


@asynccontextmanager
async def _pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await open_pool(database_url, max_size=8)
    try:
        yield pool
    finally:
        await pool.close()


@contextmanager
def _store(database_url: str) -> Iterator[EventsourcingStore]:
    store = EventsourcingStore(build_application(postgres_env(database_url, pool_size=4)), 4)
    try:
        yield store
    finally:
        store.close()
