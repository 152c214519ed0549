"""Databases and Redis prefixes of a test's own, so no two runs or suites see each other's data."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from redis import Redis
from redis.exceptions import RedisError

from infrastructure.settings import Settings
from tests.support.system import MODULES


def create_database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = server_url.rpartition("/")
    return f"{base}/{name}"


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrated_database(server_url: str) -> tuple[str, str]:
    """A new, migrated database; returns (url, name)."""
    from infrastructure.postgres.migrations import migrate

    name = f"almanac_test_{uuid.uuid4().hex[:12]}"
    url = create_database(server_url, name)
    # On a thread of its own: the first test asking for a database may be async, with the
    # session's event loop already running in this thread.
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, migrate(url)).result()
    return url, name


@contextmanager
def own_database(server_url: str) -> Iterator[str]:
    """The URL of a new, migrated database, dropped on exit."""
    url, name = migrated_database(server_url)
    try:
        yield url
    finally:
        drop_database(server_url, name)


# Every prefix this test process hands out starts with this, so it can remove its keys.
PROCESS_PREFIX = f"almanac-{uuid.uuid4().hex[:6]}"


def new_prefix(label: str = "test") -> str:
    """A Redis key prefix nobody else uses: streams, queues and groups never collide."""
    return f"{PROCESS_PREFIX}-{label}-{uuid.uuid4().hex[:10]}"


def forget_redis_keys(redis_url: str) -> None:
    """Remove every key under this process's prefixes: the machine's Redis outlives the run."""
    client = Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(match=f"{PROCESS_PREFIX}-*", count=1000):
            client.delete(key)
    except RedisError:  # a Redis that is gone has nothing left to tidy; the run's result stands
        pass
    finally:
        client.close()


@contextmanager
def own_settings(
    servers: tuple[str, str], data_dir: Path, label: str, **fields: Any
) -> Iterator[Settings]:
    """Settings over a migrated database and a Redis prefix of their own, dropped on exit."""
    with own_database(servers[0]) as url:
        yield Settings(
            database_url=url,
            redis_url=servers[1],
            redis_prefix=new_prefix(label),
            data_dir=data_dir,
            modules_path=MODULES,
            **fields,
        )
