"""Fixtures shared by every test: real Postgres and Redis, isolated per test run.

With DATABASE_URL and REDIS_URL set, tests use those servers; without, they start embedded
ones under a temporary directory. Each run gets its own database and its own Redis key
prefix, so runs never see each other's data.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from infrastructure.settings import Settings
from tests.support.databases import forget_redis_keys, new_prefix, own_database
from tests.support.system import MODULES


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
        # Every test's keys go with this process (before an embedded Redis stops).
        stack.callback(forget_redis_keys, redis)
        yield database, redis


@pytest.fixture(scope="session")
def database_url(servers: tuple[str, str]) -> Iterator[str]:
    """One migrated database for the whole run; tests keep apart by using fresh ids."""
    with own_database(servers[0]) as url:
        yield url


@pytest.fixture
def fresh_database_url(servers: tuple[str, str]) -> Iterator[str]:
    """A migrated database of its own, for tests that count everything in it."""
    with own_database(servers[0]) as url:
        yield url


@pytest.fixture(scope="session")
def redis_url(servers: tuple[str, str]) -> str:
    return servers[1]


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of this test's own: streams, queues and groups never collide."""
    return new_prefix()


@pytest.fixture
def settings(database_url: str, redis_url: str, redis_prefix: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        data_dir=tmp_path / "data",
        modules_path=MODULES,
        lease_timeout_ms=3000,
        shutdown_grace_ms=2000,
    )
