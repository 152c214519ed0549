"""Fixtures shared by every test: real Postgres and Redis, isolated per test run.

With DATABASE_URL and REDIS_URL set, tests use those servers; without, they start embedded
ones under a temporary directory. Each run gets its own database and its own Redis key
prefix, so runs never see each other's data.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import psycopg
import pytest

from infrastructure.settings import Settings

REPO = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by folder, so `-m "not integration"` is the fast lane."""
    for item in items:
        path = str(item.path)
        if "/integration/" in path:
            item.add_marker(pytest.mark.integration)
        elif "/e2e/" in path:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def servers() -> Iterator[tuple[str, str]]:
    """(postgres server URL, redis URL): the machine's, or embedded ones for this run."""
    database = os.environ.get("DATABASE_URL")
    redis = os.environ.get("REDIS_URL")
    with ExitStack() as stack:
        if not database or not redis:
            from infrastructure.embedded import EmbeddedPostgres, EmbeddedRedis

            # Outside pytest's temporary root: every xdist worker re-tightens that root's mode,
            # and the embedded PostgreSQL runs as another user who must traverse the path.
            data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="almanac-test-")))
            data.chmod(0o755)
            if not database:
                database = stack.enter_context(EmbeddedPostgres(data / "postgres")).url
            if not redis:
                redis = stack.enter_context(EmbeddedRedis(data / "redis")).url
        yield database, redis


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


@pytest.fixture(scope="session")
def database_url(servers: tuple[str, str]) -> Iterator[str]:
    """One migrated database for the whole run; tests keep apart by using fresh ids."""
    url, name = migrated_database(servers[0])
    yield url
    drop_database(servers[0], name)


@pytest.fixture
def fresh_database_url(servers: tuple[str, str]) -> Iterator[str]:
    """A migrated database of its own, for tests that count everything in it."""
    url, name = migrated_database(servers[0])
    yield url
    drop_database(servers[0], name)


@pytest.fixture(scope="session")
def redis_url(servers: tuple[str, str]) -> str:
    return servers[1]


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of this test's own: streams, queues and groups never collide."""
    return f"almanac-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def settings(database_url: str, redis_url: str, redis_prefix: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        data_dir=tmp_path / "data",
        modules_path=(REPO / "tests" / "fixtures" / "modules",),
        lease_timeout_ms=3000,
        shutdown_grace_ms=2000,
    )
